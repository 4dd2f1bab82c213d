package deadline

import (
	"context"
	"testing"
	"time"
)

func TestContextsKeepAtLeastMinLeft(t *testing.T) {
	l := NewLease(time.Hour, 50*time.Millisecond)
	parent := context.Background()
	first := l.Context(parent)
	if l.Context(parent) != first {
		t.Fatal("a second request within the slack got a new context")
	}
	if d, ok := first.Deadline(); !ok || time.Until(d) < time.Hour {
		t.Fatalf("deadline %v is less than an hour away", d)
	}
	time.Sleep(60 * time.Millisecond)
	second := l.Context(parent)
	if second == first {
		t.Fatal("a context with less than min left was handed out again")
	}
	if first.Err() == nil {
		t.Fatal("the replaced context was not ended")
	}
	if d, _ := second.Deadline(); time.Until(d) < time.Hour {
		t.Fatalf("renewed deadline %v is less than an hour away", d)
	}
}

func TestAnotherParentGetsItsOwnContext(t *testing.T) {
	l := NewLease(time.Hour, time.Hour)
	a := l.Context(context.Background())
	parent, cancel := context.WithCancel(context.Background())
	b := l.Context(parent)
	if a == b {
		t.Fatal("a context of another parent was handed out")
	}
	cancel()
	if b.Err() == nil {
		t.Fatal("the context outlived its parent")
	}
	l.Release()
	if b.Err() == nil {
		t.Fatal("Release did not end the context")
	}
}

func BenchmarkContext(b *testing.B) {
	b.ReportAllocs()
	l := NewLease(30*time.Second, time.Second)
	parent := context.Background()
	for b.Loop() {
		_ = l.Context(parent)
	}
}
