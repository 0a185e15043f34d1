package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
)

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestAccessLogSampling: with AccessLogSample 10, one in ten successful
// requests is logged (marked as sampled) and every failed one is.
func TestAccessLogSampling(t *testing.T) {
	t.Parallel()
	env := dbtest.New(t)
	var out lockedBuffer
	s := server.New(service.New(env.DB, service.Options{}), server.Config{
		Logger: slog.New(slog.NewJSONHandler(&out, nil)), AccessLogSample: 10})
	get := func(path string, want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost"+path, nil))
		if rec.Code != want {
			t.Fatalf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	for range 20 {
		get("/healthz", http.StatusOK)
	}
	for range 3 {
		get("/no-such-page", http.StatusNotFound)
	}
	counts := map[int]int{}
	dec := json.NewDecoder(bytes.NewReader(out.b.Bytes()))
	for dec.More() {
		var rec struct {
			Msg     string `json:"msg"`
			Status  int    `json:"status"`
			Sampled int    `json:"sampled_one_in"`
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.Msg != "request" {
			continue
		}
		counts[rec.Status]++
		if rec.Status == 200 && rec.Sampled != 10 {
			t.Errorf("a sampled record does not say it is sampled: %+v", rec)
		}
	}
	if counts[200] != 2 || counts[404] != 3 {
		t.Fatalf("logged %v, want 2 of the 20 successes and all 3 failures", counts)
	}
}
