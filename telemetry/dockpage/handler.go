package dockpage

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// contentSecurity keeps the page to what it is served with: no outside
// script, style, font, image or connection, nothing inline.
const contentSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves, all with GET:
//
//	/                   the page
//	/page/page.js       its script
//	/page/page.css      its style
//	/page/view.json     the whole view now (dock id, map, state, vehicle, events)
//	/page/stream        server-sent events: init (the view), then state,
//	                    vehicle and event messages as they happen
//
// and 404 for anything else.
func (p *Page) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.serveIndex)
	mux.HandleFunc("GET /page/page.js", p.asset("assets/page.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /page/page.css", p.asset("assets/page.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /page/view.json", p.serveView)
	mux.HandleFunc("GET /page/stream", p.serveStream)
	return mux
}

func (p *Page) serveIndex(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", contentSecurity)
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(p.index)
}

func (p *Page) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			// The names are constants of this file; a miss is a build bug.
			panic("dockpage: embedded " + name + " missing: " + err.Error())
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	}
}

func (p *Page) serveView(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	v := p.viewLocked()
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		p.log.Debug("write /page/view.json", "err", err)
	}
}

// serveStream holds one server-sent event stream until the client goes,
// falls behind or Run ends.
func (p *Page) serveStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's WriteTimeout, meant for /metrics, would end the stream
	// after a few seconds: a stream has no deadline, except the one in the
	// past that cut sets to end a write stuck on a client that stopped
	// reading.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		http.Error(w, "dock page stream: this server cannot hold a stream open: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c, first, err := p.join(func() { _ = rc.SetWriteDeadline(time.Unix(1, 0)) })
	if err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, ErrTooManyClients) {
			w.Header().Set("Retry-After", "10")
		}
		http.Error(w, "dock page stream: "+err.Error(), code)
		return
	}
	defer p.leave(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a reverse proxy must not hold messages back
	w.WriteHeader(http.StatusOK)
	// retry: the browser reconnects after 2 s when the stream ends.
	if !p.write(w, rc, []byte("retry: 2000\n\n"), first) {
		return
	}
	ka := p.o.Clock.NewTicker(p.o.Keepalive)
	defer ka.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			return
		case f := <-c.ch:
			if !p.write(w, rc, f) {
				return
			}
		case <-ka.Chan():
			if !p.write(w, rc, []byte(": keepalive\n\n")) {
				return
			}
		}
	}
}

// write sends frames and flushes them; false when the client is gone.
func (p *Page) write(w http.ResponseWriter, rc *http.ResponseController, frames ...[]byte) bool {
	for _, f := range frames {
		if _, err := w.Write(f); err != nil {
			p.log.Debug("dock page stream ended", "err", err)
			return false
		}
	}
	if err := rc.Flush(); err != nil {
		p.log.Debug("dock page stream ended", "err", err)
		return false
	}
	return true
}
