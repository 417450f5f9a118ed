package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Listen is host:port, e.g. "127.0.0.1:9108" (port 0 picks a free one).
	// Required: the wiring leaves the server out when the config's
	// metrics.listen is empty.
	Listen string
	// Health reports the main loop's health for /healthz: nil means healthy
	// (200 "ok"), an error means 503 with the error's text as the reason.
	// Called per request from the HTTP goroutine; must be quick. A nil
	// Health func always answers 200.
	Health func() error
	// Ready lists what keeps the dock from launching now, for /readyz
	// (Readiness of the dock's state fits): none means 200, any means 503;
	// an unhealthy Health is one more blocker, "health". Called per request
	// from the HTTP goroutine; must be quick. Nil means only Health counts.
	Ready func() []Blocker
	// Page, when set, serves every path but /metrics, /healthz and /readyz
	// (the dock page of http.page). Nil answers 404 there.
	Page http.Handler
	// ShutdownTimeout bounds the graceful shutdown when Run's ctx ends; zero
	// means 2 s.
	ShutdownTimeout time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Clock drives the shutdown deadline; nil means the real clock.
	Clock clockwork.Clock
}

// Server serves /metrics, /healthz and /readyz over HTTP, and the dock page
// when ServerOptions.Page is set.
type Server struct {
	o   ServerOptions
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// NewServer listens on o.Listen at once, so that a taken port fails at
// start-up rather than later, and prepares the handlers; Run serves.
func NewServer(o ServerOptions, m *Metrics) (*Server, error) {
	if o.Listen == "" {
		return nil, errors.New("metrics server: listen address empty (metrics.listen in the config)")
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s (is another agent or exporter using the port?): %w", o.Listen, err)
	}
	s := &Server{o: o, ln: ln, log: o.Logger.With("component", "metrics")}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Registry().Handler(s.log))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Page != nil {
		mux.Handle("/", o.Page)
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var err error
	if s.o.Health != nil {
		err = s.o.Health()
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err.Error())
		return
	}
	fmt.Fprintln(w, "ok")
}

// readiness is the /readyz body.
type readiness struct {
	Ready    bool      `json:"ready"`
	Blocking []Blocker `json:"blocking"`
}

// readyz answers 200 {"ready":true,"blocking":[]} when the dock could
// launch now, else 503 with every blocker named.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	r := readiness{Blocking: []Blocker{}}
	if s.o.Health != nil {
		if err := s.o.Health(); err != nil {
			r.Blocking = append(r.Blocking, Blocker{Check: "health", Detail: err.Error()})
		}
	}
	if s.o.Ready != nil {
		r.Blocking = append(r.Blocking, s.o.Ready()...)
	}
	r.Ready = len(r.Blocking) == 0
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !r.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if err := json.NewEncoder(w).Encode(r); err != nil {
		s.log.Debug("write /readyz reply", "err", err)
	}
}

// Run serves until ctx ends, then shuts down gracefully within
// ShutdownTimeout and returns nil; it returns the error when serving
// fails. It returns only after the serving goroutine has. Run may be called
// once; it closes the listener.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("metrics listening", "addr", s.ln.Addr().String())
	served := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() { served <- s.srv.Serve(s.ln) })
	defer wg.Wait()
	select {
	case err := <-served:
		return fmt.Errorf("serve metrics on %s: %w", s.ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := clockwork.WithTimeout(context.WithoutCancel(ctx), s.o.Clock, s.o.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
		s.log.Warn("metrics server closed without a graceful shutdown", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics on %s: %w", s.ln.Addr(), err)
	}
	return nil
}

// Close releases the listener of a Server whose Run was never called.
func (s *Server) Close() error { return s.srv.Close() }
