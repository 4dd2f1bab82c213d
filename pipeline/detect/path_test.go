package detect

import (
	"reflect"
	"testing"

	"everywhere/models/fraud"
)

func TestPathRecordsRoundTrip(t *testing.T) {
	var d pathDecoder
	want := fraud.Path{To: "c", Users: []string{"a", "b"}, TxnIDs: []string{"t1", "t2"}, FirstMS: 10, LastMS: 20, Amount: 700}
	var got fraud.Path
	notice, err := d.decode(AppendPath(nil, &want), &got)
	if err != nil || notice || !reflect.DeepEqual(got, want) {
		t.Fatalf("path: %+v notice %v err %v, want %+v", got, notice, err, want)
	}
	notice, err = d.decode([]byte(`{"to":"b","alert_ts":30}`), &got)
	if err != nil || !notice || got.To != "b" || got.LastMS != 30 {
		t.Fatalf("notice: %+v notice %v err %v", got, notice, err)
	}
	for _, bad := range []string{`{"to":"b","alert_ts":0}`, `{"alert_ts":5}`, `{"to":"b","alert_ts":"5"}`, `{"to":"b","users":[]}`, `[`} {
		if _, err := d.decode([]byte(bad), &got); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
