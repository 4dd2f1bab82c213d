package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
	"everywhere/metrics"
)

type healthySink interface{ Healthy() bool }

// health answers /readyz from checks made in the background every two
// seconds, so a probe never waits on a slow dependency.
type health struct {
	cfg      *config.Config
	m        *metrics.Metrics
	conn     driver.Conn
	sinks    []healthySink
	stopping atomic.Bool

	mu     sync.Mutex
	reason error
}

func newHealth(cfg *config.Config, m *metrics.Metrics) *health {
	return &health{cfg: cfg, m: m, reason: fmt.Errorf("%w: starting", errNotReady)}
}

func (h *health) run(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		h.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *health) check(ctx context.Context) {
	err := h.probe(ctx)
	h.mu.Lock()
	h.reason = err
	h.mu.Unlock()
	if err == nil {
		h.m.Ready.Set(1)
	} else {
		h.m.Ready.Set(0)
	}
}

func (h *health) probe(ctx context.Context) error {
	if h.stopping.Load() {
		return fmt.Errorf("%w: shutting down", errNotReady)
	}
	if h.conn == nil {
		return fmt.Errorf("%w: waiting for ClickHouse at %s", errNotReady, h.cfg.ClickHouse.Addr)
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.conn.Ping(pctx); err != nil {
		return fmt.Errorf("%w: ClickHouse at %s: %v", errNotReady, h.cfg.ClickHouse.Addr, err)
	}
	var errs []error
	for _, b := range h.cfg.Kafka.Brokers {
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(pctx, "tcp", b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Close()
		errs = nil
		break
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: no Kafka broker answers: %v", errNotReady, errors.Join(errs...))
	}
	for _, s := range h.sinks {
		if !s.Healthy() {
			return fmt.Errorf("%w: a sink's last write failed; retrying", errNotReady)
		}
	}
	return nil
}

func (h *health) ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reason
}
