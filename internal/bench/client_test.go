package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClient: the load generator's client reads answers with a length,
// chunked answers and answers that close the connection, sends bodies and
// the key, and reports an unexpected status with the answer.
func TestClient(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sv_test" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/length":
			io.WriteString(w, "short answer")
		case "/chunked":
			for i := range 3 {
				io.WriteString(w, strings.Repeat(string(rune('a'+i)), 5000))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/echo":
			if r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "not json", http.StatusUnsupportedMediaType)
				return
			}
			io.Copy(w, r.Body)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	c := newClient(srv.URL, "sv_test", 2)
	for range 3 {
		if data, err := c.do(ctx, "GET", "/length", nil, 200); err != nil || string(data) != "short answer" {
			t.Fatalf("length: %q %v", data, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("three sequential requests opened %d connections, want 1 kept alive", n)
	}
	data, err := c.do(ctx, "GET", "/chunked", nil, 200)
	if err != nil || len(data) != 15000 || data[0] != 'a' || data[14999] != 'c' {
		t.Fatalf("chunked: %d bytes %v", len(data), err)
	}
	if data, err := c.do(ctx, "GET", "/length", nil, 200); err != nil || string(data) != "short answer" {
		t.Fatalf("after a chunked answer: %q %v", data, err)
	}
	if data, err := c.do(ctx, "GET", "/close", nil, 200); err != nil || string(data) != "bye" {
		t.Fatalf("close: %q %v", data, err)
	}
	if data, err := c.do(ctx, "POST", "/echo", strings.NewReader(`{"a":1}`), 200); err != nil || string(data) != `{"a":1}` {
		t.Fatalf("echo: %q %v", data, err)
	}
	if _, err := c.do(ctx, "DELETE", "/empty", nil, 204); err != nil {
		t.Fatalf("no content: %v", err)
	}
	if _, err := c.do(ctx, "GET", "/missing", nil, 200); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("missing: %v, want a status 404 error", err)
	}
	// Cancelling the run interrupts a request in flight.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.do(cctx, "GET", "/slow", nil, 200); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled request: %v after %v, want an error at once", err, time.Since(start))
	}
	if data, err := c.do(ctx, "GET", "/length", nil, 200); err != nil || string(data) != "short answer" {
		t.Fatalf("after a cancelled request: %q %v", data, err)
	}
	if _, err := newClient(srv.URL, "sv_wrong", 1).do(ctx, "GET", "/length", nil, 200); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key: %v", err)
	}
}
