package sink

import "testing"

func TestPackKeepsEachMessage(t *testing.T) {
	p := NewPack()
	p.Begin(3, "need-1")
	p.Buf = append(p.Buf, `{"v":1}`...)
	p.End()
	p.Begin(1, "dropped")
	p.Buf = append(p.Buf, "never sent"...)
	p.Drop()
	p.Begin(0, "") // a watermark: no key
	p.Buf = append(p.Buf, `{"w":2}`...)
	p.End()
	if p.Len() != 2 || p.Keyed() != 1 {
		t.Fatalf("%d messages, %d keyed; want 2 and 1", p.Len(), p.Keyed())
	}
	ms := p.Messages()
	if ms[0].Partition != 3 || string(ms[0].Key) != "need-1" || string(ms[0].Value) != `{"v":1}` {
		t.Fatalf("first message %d %q %q", ms[0].Partition, ms[0].Key, ms[0].Value)
	}
	if ms[1].Partition != 0 || ms[1].Key != nil || string(ms[1].Value) != `{"w":2}` {
		t.Fatalf("second message %d %q %q", ms[1].Partition, ms[1].Key, ms[1].Value)
	}
	// A value appended to cannot run into the next message's bytes.
	if cap(ms[0].Value) != len(ms[0].Value) || cap(ms[0].Key) != len(ms[0].Key) {
		t.Fatal("a message's key or value has room past its end")
	}
	p.Release()
	if q := NewPack(); q.Len() != 0 || len(q.Buf) != 0 {
		t.Fatal("a pack from the pool is not empty")
	}
}

func BenchmarkPack(b *testing.B) {
	b.ReportAllocs()
	value := []byte(`{"k":"h","src":3,"wm":1700000000000,"ts":1700000000000,"user_id":"u-000123"}`)
	for b.Loop() {
		p := NewPack()
		for range 64 {
			p.Begin(1, "u-000123")
			p.Buf = append(p.Buf, value...)
			p.End()
		}
		_ = p.Messages()
		p.Release()
	}
}
