package devbroker

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A broker without a data directory keeps its log in tmpfs, serves it,
// and removes it on Close; a directory left by a process that is gone is
// removed by the next broker, one whose process runs is left alone.
func TestLogInMemory(t *testing.T) {
	if _, err := os.Stat(shm); err != nil {
		t.Fatalf("%s is needed: %v", shm, err)
	}
	// pid_max is at most 2^22: no process has this pid.
	orphan := filepath.Join(shm, scratchPrefix+"4194305-test")
	live := filepath.Join(shm, scratchPrefix+strconv.Itoa(os.Getppid())+"-test")
	for _, d := range []string{orphan, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(live)

	b, err := Start("127.0.0.1:0", 2, []string{"t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.scratch, filepath.Join(shm, scratchPrefix+strconv.Itoa(os.Getpid())+"-")) {
		t.Fatalf("log kept in %q, want a directory of this process in %s", b.scratch, shm)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("the directory of a process that is gone is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the directory of a running process was removed: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Topic: "t", RequiredAcks: kafka.RequireAll,
		BatchSize: 10, BatchTimeout: time.Millisecond, Balancer: &kafka.RoundRobin{}}
	for i := range 10 {
		if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("m" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	var size int64
	filepath.Walk(b.scratch, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	if size == 0 {
		t.Errorf("nothing written to %s", b.scratch)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: b.Addrs(), Topic: "t", Partition: 0, MaxWait: 100 * time.Millisecond})
	m, err := r.ReadMessage(ctx)
	r.Close()
	if err != nil || !strings.HasPrefix(string(m.Value), "m") {
		t.Fatalf("read back %q, %v", m.Value, err)
	}

	b.Close()
	if _, err := os.Stat(b.scratch); !os.IsNotExist(err) {
		t.Errorf("%s left after Close (%v)", b.scratch, err)
	}
}
