package ack

import "testing"

func TestTicketDoneOnlyWhenArmedAndWritten(t *testing.T) {
	tk := New(10)
	tk.Add()
	tk.Add()
	tk.Done()
	if tk.IsDone() {
		t.Fatal("done with a chunk pending")
	}
	tk.Done()
	if tk.IsDone() {
		t.Fatal("done before armed")
	}
	tk.Arm()
	if !tk.IsDone() {
		t.Fatal("not done after arming with nothing pending")
	}
	empty := New(3)
	empty.Arm()
	if !empty.IsDone() {
		t.Fatal("empty armed ticket not done")
	}
}
