package warehouse

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
)

// Writer is a pool of one connection to the configured database, for one
// table's writes (see OpenWriter), that can fail its inserts in flight
// from another goroutine (Interrupt).
//
// Why not by context, as the driver offers: a batch sent a second time
// reconnects inside Send, and the driver's watchdog of the batch's
// context reads the batch's connection while that step replaces it. A
// context ending then is a data race inside the driver, which the race
// detector caught at an engine's shutdown. A writer's inserts run with
// contexts that never end, and Interrupt closes the sockets under them
// instead: a closed socket fails the driver's reads and writes at once,
// and closing one is safe from any goroutine.
type Writer struct {
	driver.Conn
	socks *sockets
}

// OpenWriter returns a pool of one connection to the configured
// database, for one table's writes. It dials on the first write.
//
// The driver keeps a buffer in each connection that grows, a copy at a
// time, to the largest block encoded on it, and a pool hands its idle
// connections out in turn. Sharing one pool, every table's inserts
// went out on every connection, so that each grew to the largest insert
// of any table and grew again whenever another table's went past it. On
// a catch-up at 100,000 users those copies took 5% of the engine's CPU,
// and the buffers 174 of the 1,414 MB it allocated (70 since). A table
// on its own connection grows its buffer once, to its own largest insert.
func OpenWriter(c config.ClickHouse) (*Writer, error) {
	s := &sockets{open: map[*socket]struct{}{}}
	opts := options(c, c.Database, 1, 1)
	opts.DialContext = s.dial
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", c.Addr, err)
	}
	return &Writer{Conn: conn, socks: s}, nil
}

// Interrupt closes the writer's open sockets: an insert in flight, or in
// its handshake, fails at once (a dial still connecting ends at the dial
// timeout). The pool dials anew for the next.
func (w *Writer) Interrupt() { w.socks.closeAll() }

// sockets are the open sockets a writer's pool dialled.
type sockets struct {
	mu   sync.Mutex
	open map[*socket]struct{}
}

// dial is the pool's dialer; ctx bounds the dial (the driver gives it
// the dial timeout).
func (s *sockets) dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	sk := &socket{Conn: c, owner: s}
	s.mu.Lock()
	s.open[sk] = struct{}{}
	s.mu.Unlock()
	return sk, nil
}

func (s *sockets) closeAll() {
	s.mu.Lock()
	open := make([]*socket, 0, len(s.open))
	for sk := range s.open {
		open = append(open, sk)
	}
	s.mu.Unlock()
	for _, sk := range open {
		_ = sk.Close()
	}
}

// socket is a dialled connection that leaves its writer's set when closed.
type socket struct {
	net.Conn
	owner *sockets
}

func (sk *socket) Close() error {
	sk.owner.mu.Lock()
	delete(sk.owner.open, sk)
	sk.owner.mu.Unlock()
	return sk.Conn.Close()
}
