package simulator

import (
	"encoding/json"
	"io"
)

// Label is one line of the labels file: an injected fraud episode (Fraud
// true) or an honest look-alike of a pattern (Fraud false, Lookalike says
// which), for one user. A ring or a burst spanning several users has a label
// per user.
type Label struct {
	UserID    string   `json:"user_id"`
	Pattern   string   `json:"pattern"`
	Fraud     bool     `json:"fraud"`
	Lookalike string   `json:"lookalike,omitempty"`
	FromTS    int64    `json:"from_ts"`
	ToTS      int64    `json:"to_ts"`
	TxnIDs    []string `json:"txn_ids,omitempty"`
}

// WriteLabels writes labels as JSON lines.
func WriteLabels(w io.Writer, labels []Label) error {
	enc := json.NewEncoder(w)
	for i := range labels {
		if err := enc.Encode(&labels[i]); err != nil {
			return err
		}
	}
	return nil
}

// ReadLabels reads a labels file.
func ReadLabels(r io.Reader) ([]Label, error) {
	dec := json.NewDecoder(r)
	var out []Label
	for dec.More() {
		var l Label
		if err := dec.Decode(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
