package events

import "fmt"

// Error is a rejection: the field at fault and what the contract allows.
// Its text is what the dead-letter topic carries as "error".
type Error struct {
	Field  string // empty when the message as a whole is at fault
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func reject(field, format string, args ...any) error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}
