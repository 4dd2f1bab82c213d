package events

import (
	"encoding/json"
	"testing"
)

var benchTxn = []byte(`{"txn_id":"t918273","user_id":"u4242","ts":1764000000500,"amount":128800,"currency":"CNY","kind":"purchase","counterparty_id":"m17","counterparty_kind":"merchant","lat":30.27,"lng":120.15}`)
var benchPing = []byte(`{"user_id":"u4242","ts":1764000000123,"lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`)

// BenchmarkDecodePingOtherLayout: the same ping with its keys in another
// order, which the full parse reads (BenchmarkDecodePing takes the
// layout AppendJSON writes, field by field).
func BenchmarkDecodePingOtherLayout(b *testing.B) {
	d := NewDecoder("CNY")
	var p Ping
	ping := []byte(`{"ts":1764000000123,"user_id":"u4242","lat":30.2741,"lng":120.1551,"accuracy_m":12.5,"available":true}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(ping)))
	for b.Loop() {
		if err := d.Ping(ping, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePing(b *testing.B) {
	d := NewDecoder("CNY")
	var p Ping
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPing)))
	for b.Loop() {
		if err := d.Ping(benchPing, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTransactionFastjson: the same transaction read by the
// full parse, the decoder chosen over encoding/json
// (BenchmarkDecodeTransactionStdlib) for any layout;
// BenchmarkDecodeTransaction takes it field by field.
func BenchmarkDecodeTransactionFastjson(b *testing.B) {
	d := NewDecoder("CNY")
	var t Transaction
	b.ReportAllocs()
	b.SetBytes(int64(len(benchTxn)))
	for b.Loop() {
		if err := d.transactionFull(benchTxn, &t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTransaction(b *testing.B) {
	d := NewDecoder("CNY")
	var t Transaction
	b.ReportAllocs()
	b.SetBytes(int64(len(benchTxn)))
	for b.Loop() {
		if err := d.Transaction(benchTxn, &t); err != nil {
			b.Fatal(err)
		}
	}
}

// stdTxn is what encoding/json needs to decode the same message; the
// benchmark below is the baseline the fastjson decoder was chosen against.
type stdTxn struct {
	TxnID            string   `json:"txn_id"`
	UserID           string   `json:"user_id"`
	TS               int64    `json:"ts"`
	Amount           int64    `json:"amount"`
	Currency         string   `json:"currency"`
	Kind             string   `json:"kind"`
	CounterpartyID   string   `json:"counterparty_id"`
	CounterpartyKind string   `json:"counterparty_kind"`
	Lat              *float64 `json:"lat"`
	Lng              *float64 `json:"lng"`
}

func BenchmarkDecodeTransactionStdlib(b *testing.B) {
	var t stdTxn
	b.ReportAllocs()
	b.SetBytes(int64(len(benchTxn)))
	for b.Loop() {
		t = stdTxn{}
		if err := json.Unmarshal(benchTxn, &t); err != nil {
			b.Fatal(err)
		}
	}
}

// benchNeed is an opening as the contract's example writes it.
var benchNeed = []byte(`{"need_id":"n7","user_id":"u9","ts":1764000001000,"category":"errand","lat":30.27,"lng":120.16,"radius_m":3000,"reward":2000,"currency":"CNY","expires_at":1764003601000,"status":"open"}`)

// BenchmarkDecodeNeed reads it field by field, BenchmarkDecodeNeedFull
// by the full parse.
func BenchmarkDecodeNeed(b *testing.B) { benchmarkDecodeNeed(b, NewDecoder("CNY").Need) }

func BenchmarkDecodeNeedFull(b *testing.B) { benchmarkDecodeNeed(b, NewDecoder("CNY").needFull) }

func benchmarkDecodeNeed(b *testing.B, decode func([]byte, *Need) error) {
	var n Need
	b.ReportAllocs()
	b.SetBytes(int64(len(benchNeed)))
	for b.Loop() {
		if err := decode(benchNeed, &n); err != nil {
			b.Fatal(err)
		}
	}
}
