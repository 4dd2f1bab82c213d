package consumers

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestDeadLetterKeepsEveryByte(t *testing.T) {
	f := func(key, payload []byte) {
		t.Helper()
		d := DeadLetter{Topic: "everywhere.pings", Partition: 3, Offset: 1234, Key: key, Error: `amount: is "x"`, Payload: payload}
		var got struct {
			Topic         string `json:"topic"`
			Partition     int    `json:"partition"`
			Offset        int64  `json:"offset"`
			Key           string `json:"key"`
			Error         string `json:"error"`
			Payload       string `json:"payload"`
			PayloadBase64 string `json:"payload_base64"`
		}
		if err := json.Unmarshal(d.AppendJSON(nil), &got); err != nil {
			t.Fatalf("not JSON: %v: %s", err, d.AppendJSON(nil))
		}
		if got.Topic != d.Topic || got.Partition != 3 || got.Offset != 1234 || got.Error != d.Error {
			t.Fatalf("fields: %+v", got)
		}
		raw := []byte(got.Payload)
		if got.PayloadBase64 != "" {
			raw, _ = base64.StdEncoding.DecodeString(got.PayloadBase64)
		}
		if string(raw) != string(payload) {
			t.Fatalf("payload %q came back as %q", payload, raw)
		}
	}
	f([]byte("u42"), []byte(`{"user_id":5}`))
	f([]byte("k"), []byte("line\nbreak\ttab \"quote\" \\ é"))
	f([]byte{0xff}, []byte{0x00, 0xff, 0xfe, 'x'})
	f(nil, nil)
}
