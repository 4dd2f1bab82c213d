package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof starts the profiler on its own listener (http.pprof_addr),
// apart from /metrics: profiles expose internals and cost CPU while taken,
// so they are off unless asked for and never on the address scraped.
func (e *Engine) servePprof() (*server, error) {
	addr := e.cfg.HTTP.PprofAddr
	if addr == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.pprof_addr %s: %w", addr, err)
	}
	s := &server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("pprof listener stopped", "err", err)
		}
	}()
	slog.Info("profiler listening", "addr", addr)
	return s, nil
}
