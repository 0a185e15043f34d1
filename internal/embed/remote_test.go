package embed

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/egress"
)

// fakeVector is what the test servers return for a text: distinct per
// text, not normalised, so the client's normalisation shows.
func fakeVector(text string, dims int) []float64 {
	v := make([]float64, dims)
	for i := range v {
		v[i] = float64(len(text)+1) * float64(i+1)
	}
	return v
}

type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

// server runs an httptest server whose handler sees the decoded request;
// it records every request.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []embedRequest
	headers  []http.Header
	paths    []string
}

func newServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, req embedRequest)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req embedRequest
		if r.Method != http.MethodPost {
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			http.Error(w, "want JSON, got "+ct, http.StatusUnsupportedMediaType)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.headers = append(s.headers, r.Header.Clone())
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		handle(w, r, req)
	}))
	t.Cleanup(s.Close)
	return s
}

func ollamaOK(dims int) func(http.ResponseWriter, *http.Request, embedRequest) {
	return func(w http.ResponseWriter, r *http.Request, req embedRequest) {
		if r.URL.Path != "/api/embed" {
			http.NotFound(w, r)
			return
		}
		resp := map[string]any{"model": req.Model}
		var embs [][]float64
		for _, in := range req.Input {
			embs = append(embs, fakeVector(in, dims))
		}
		resp["embeddings"] = embs
		json.NewEncoder(w).Encode(resp)
	}
}

type openAIItem struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float64 `json:"embedding"`
}

// openAIOK answers in reverse order, which the API allows; the client
// must order by index.
func openAIOK(dims int) func(http.ResponseWriter, *http.Request, embedRequest) {
	return func(w http.ResponseWriter, r *http.Request, req embedRequest) {
		if r.URL.Path != "/v1/embeddings" {
			http.NotFound(w, r)
			return
		}
		var data []openAIItem
		for i := len(req.Input) - 1; i >= 0; i-- {
			data = append(data, openAIItem{"embedding", i, fakeVector(req.Input[i], dims)})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data})
	}
}

// loopback is the client of these tests: their servers listen on
// 127.0.0.1, which a provider URL reaches only when the operator allows it.
var loopback = egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}})

func mustNew(t *testing.T, cfg Config) Embedder {
	t.Helper()
	e, err := New(cfg, loopback)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return e
}

// checkVectors asserts out holds the normalised fake vectors of texts.
func checkVectors(t *testing.T, texts []string, out [][]float32, dims int) {
	t.Helper()
	if len(out) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(out), len(texts))
	}
	for i, v := range out {
		if len(v) != dims {
			t.Fatalf("vector %d has %d dims, want %d", i, len(v), dims)
		}
		want := fakeVector(texts[i], dims)
		w32 := make([]float32, dims)
		for j := range want {
			w32[j] = float32(want[j])
		}
		Normalize(w32)
		for j := range v {
			if math.Abs(float64(v[j]-w32[j])) > 1e-6 {
				t.Fatalf("vector %d = %v, want %v (text %q)", i, v, w32, texts[i])
			}
		}
	}
}

func TestOllama(t *testing.T) {
	s := newServer(t, ollamaOK(4))
	e := mustNew(t, Config{Provider: "ollama", URL: s.URL + "/", Model: "nomic-embed-text"})
	if e.Model() != "nomic-embed-text" {
		t.Errorf("Model() = %q", e.Model())
	}
	if d := e.Dimensions(); d != 0 {
		t.Errorf("Dimensions() before any call = %d, want 0", d)
	}
	texts := []string{"a", "bb", "ccc"}
	out, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, texts, out, 4)
	if d := e.Dimensions(); d != 4 {
		t.Errorf("Dimensions() after a call = %d, want 4", d)
	}
	if got := s.requests[0]; got.Model != "nomic-embed-text" || len(got.Input) != 3 {
		t.Errorf("request = %+v", got)
	}
	if h := s.headers[0].Get("Authorization"); h != "" {
		t.Errorf("ollama request sent Authorization %q", h)
	}
	// No texts, no request.
	out, err = e.Embed(context.Background(), nil)
	if err != nil || len(out) != 0 || len(s.requests) != 1 {
		t.Errorf("Embed(nil) = %v, %v after %d requests", out, err, len(s.requests))
	}
}

func TestOpenAI(t *testing.T) {
	s := newServer(t, openAIOK(3))
	for _, base := range []string{s.URL, s.URL + "/", s.URL + "/v1", s.URL + "/v1/"} {
		e := mustNew(t, Config{Provider: "openai", URL: base, Model: "text-embedding-3-small", APIKey: "sk-test"})
		texts := []string{"first", "second text", "3"}
		out, err := e.Embed(context.Background(), texts)
		if err != nil {
			t.Fatalf("URL %s: %v", base, err)
		}
		checkVectors(t, texts, out, 3)
	}
	for i, p := range s.paths {
		if p != "/v1/embeddings" {
			t.Errorf("request %d went to %s", i, p)
		}
		if h := s.headers[i].Get("Authorization"); h != "Bearer sk-test" {
			t.Errorf("request %d: Authorization = %q, want Bearer sk-test", i, h)
		}
	}
	// Without a key, no header.
	e := mustNew(t, Config{Provider: "openai", URL: s.URL, Model: "m"})
	if _, err := e.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if h := s.headers[len(s.headers)-1].Get("Authorization"); h != "" {
		t.Errorf("request without key sent Authorization %q", h)
	}
}

func TestRemoteBatches(t *testing.T) {
	for _, p := range []struct {
		provider string
		handle   func(http.ResponseWriter, *http.Request, embedRequest)
	}{{"ollama", ollamaOK(5)}, {"openai", openAIOK(5)}} {
		s := newServer(t, p.handle)
		e := mustNew(t, Config{Provider: p.provider, URL: s.URL, Model: "m"})
		texts := make([]string, 2*MaxBatch+7)
		for i := range texts {
			texts[i] = strings.Repeat("x", i)
		}
		out, err := e.Embed(context.Background(), texts)
		if err != nil {
			t.Fatalf("%s: %v", p.provider, err)
		}
		checkVectors(t, texts, out, 5)
		var sizes []int
		for _, r := range s.requests {
			sizes = append(sizes, len(r.Input))
		}
		if fmt.Sprint(sizes) != fmt.Sprint([]int{MaxBatch, MaxBatch, 7}) {
			t.Errorf("%s: batch sizes %v", p.provider, sizes)
		}
	}
}

// TestRemoteErrors runs each provider against servers that misbehave in
// one way each, and checks the error says what went wrong.
func TestRemoteErrors(t *testing.T) {
	type handler = func(http.ResponseWriter, *http.Request, embedRequest)
	reply := func(status int, body string) handler {
		return func(w http.ResponseWriter, r *http.Request, req embedRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	ollamaWith := func(embs [][]float64) handler {
		return func(w http.ResponseWriter, r *http.Request, req embedRequest) {
			json.NewEncoder(w).Encode(map[string]any{"embeddings": embs})
		}
	}
	openAIWith := func(items []openAIItem) handler {
		return func(w http.ResponseWriter, r *http.Request, req embedRequest) {
			json.NewEncoder(w).Encode(map[string]any{"data": items})
		}
	}
	sleep := func(w http.ResponseWriter, r *http.Request, req embedRequest) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}
	cases := []struct {
		name     string
		provider string
		dims     int
		handle   handler
		want     []string // substrings of the error
		category string   // all a tenant may see of it
	}{
		{"ollama 500", "ollama", 0, reply(500, `{"error":"model \"m\" not found, try pulling it first"}`), []string{"500", "not found, try pulling"}, "provider answered 500"},
		{"openai 401", "openai", 0, reply(401, `{"error":{"message":"Incorrect API key provided"}}`), []string{"401", "Incorrect API key"}, "provider answered 401"},
		{"openai 500 long body", "openai", 0, reply(500, strings.Repeat("overloaded ", 500)), []string{"500", "overloaded", "…"}, "provider answered 500"},
		{"ollama bad JSON", "ollama", 0, reply(200, `{"embeddings": [[1, 2,`), []string{"decode response"}, egress.Invalid},
		{"openai bad JSON", "openai", 0, reply(200, `<html>proxy error</html>`), []string{"decode response", "proxy error"}, egress.Invalid},
		{"ollama no embeddings", "ollama", 0, reply(200, `{}`), []string{`no "embeddings"`}, egress.Invalid},
		{"openai no data", "openai", 0, reply(200, `{"object":"list"}`), []string{`no "data"`}, egress.Invalid},
		{"ollama wrong count", "ollama", 0, ollamaWith([][]float64{{1, 2}}), []string{"sent 2 texts, got 1 vectors"}, egress.Invalid},
		{"openai wrong count", "openai", 0, openAIWith([]openAIItem{{Index: 0, Embedding: []float64{1}}, {Index: 1, Embedding: []float64{1}}, {Index: 2, Embedding: []float64{1}}}), []string{"sent 2 texts, got 3 vectors"}, egress.Invalid},
		{"openai index out of range", "openai", 0, openAIWith([]openAIItem{{Index: 0, Embedding: []float64{1}}, {Index: 5, Embedding: []float64{1}}}), []string{"index 5", "outside 0..1"}, egress.Invalid},
		{"openai duplicate index", "openai", 0, openAIWith([]openAIItem{{Index: 1, Embedding: []float64{1}}, {Index: 1, Embedding: []float64{1}}}), []string{"index 1 appears twice"}, egress.Invalid},
		{"ollama configured dims", "ollama", 8, ollamaOK(4), []string{"got 4 dimensions, configured 8"}, egress.Invalid},
		{"openai configured dims", "openai", 8, openAIOK(4), []string{"got 4 dimensions, configured 8"}, egress.Invalid},
		{"ollama ragged", "ollama", 0, ollamaWith([][]float64{{1, 2, 3}, {1, 2}}), []string{"vector 1", "got 2 dimensions, earlier answers had 3"}, egress.Invalid},
		{"ollama overflow", "ollama", 0, ollamaWith([][]float64{{1, 2}, {1e39, 1}}), []string{"vector 1", "not a finite float32"}, egress.Invalid},
		{"ollama zero vector", "ollama", 0, ollamaWith([][]float64{{1, 2}, {0, 0}}), []string{"vector 1", "zero vector"}, egress.Invalid},
		{"ollama empty vector", "ollama", 0, ollamaWith([][]float64{{1, 2}, {}}), []string{"vector 1", "empty vector"}, egress.Invalid},
		{"ollama server error field", "ollama", 0, reply(200, `{"error":"input too long"}`), []string{"input too long"}, egress.Invalid},
		{"ollama timeout", "ollama", 0, sleep, []string{"timed out after 100ms"}, egress.TimedOut},
		{"openai timeout", "openai", 0, sleep, []string{"timed out after 100ms"}, egress.TimedOut},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, c.handle)
			e := mustNew(t, Config{Provider: c.provider, URL: s.URL, Model: "m", Dimensions: c.dims, Timeout: 100 * time.Millisecond})
			start := time.Now()
			out, err := e.Embed(context.Background(), []string{"one", "two"})
			if err == nil {
				t.Fatalf("no error; got %v", out)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v: timeout not applied", time.Since(start))
			}
			msg := err.Error()
			for _, w := range append(c.want, c.provider) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if len(msg) > 700 {
				t.Errorf("error is %d bytes long; bodies must be trimmed", len(msg))
			}
			if got := egress.Public(err).Error(); got != c.category {
				t.Errorf("tenant sees %q, want %q", got, c.category)
			}
		})
	}
}

// TestRemoteDimensionsChange catches a server whose model changed under
// us: vectors of two sizes must never end up in one index.
func TestRemoteDimensionsChange(t *testing.T) {
	var mu sync.Mutex
	dims := 3
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, req embedRequest) {
		mu.Lock()
		d := dims
		mu.Unlock()
		ollamaOK(d)(w, r, req)
	})
	e := mustNew(t, Config{Provider: "ollama", URL: s.URL, Model: "m"})
	if _, err := e.Embed(context.Background(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	dims = 5
	mu.Unlock()
	_, err := e.Embed(context.Background(), []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "got 5 dimensions, earlier answers had 3") {
		t.Fatalf("err = %v, want a dimension mismatch", err)
	}
	if d := e.Dimensions(); d != 3 {
		t.Errorf("Dimensions() = %d after a mismatch, want 3", d)
	}
}

func TestRemoteParentContext(t *testing.T) {
	s := newServer(t, ollamaOK(2))
	e := mustNew(t, Config{Provider: "ollama", URL: s.URL, Model: "m"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Embed(ctx, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want context canceled", err)
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Provider: "cohere"}, `unknown provider "cohere"`},
		{Config{Provider: "ollama", Model: "m"}, "needs a URL"},
		{Config{Provider: "openai", URL: "http://localhost:1"}, "needs a model"},
		{Config{Provider: "openai", URL: "localhost:8080", Model: "m"}, "not an absolute http(s) URL"},
		{Config{Provider: "ollama", URL: "ftp://host", Model: "m"}, "not an absolute http(s) URL"},
		{Config{Provider: "builtin", Dimensions: 384}, "builtin embedder has"},
		{Config{Provider: "ollama", URL: "http://h", Model: "m", Timeout: -time.Second}, "negative timeout"},
	}
	for _, c := range cases {
		_, err := New(c.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) error = %v, want %q", c.cfg, err, c.want)
		}
	}
	for _, p := range []string{"", "builtin", " Builtin "} {
		e, err := New(Config{Provider: p}, nil)
		if err != nil || e.Model() != BuiltinModel {
			t.Errorf("New(provider %q) = %v, %v", p, e, err)
		}
	}
}

// TestRemoteRefusesInternalByDefault: without an allow entry, a provider
// URL on loopback is refused before any request is sent.
func TestRemoteRefusesInternalByDefault(t *testing.T) {
	s := newServer(t, ollamaOK(2))
	for _, base := range []string{s.URL, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)} {
		e, err := New(Config{Provider: "ollama", URL: base, Model: "m"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Embed(context.Background(), []string{"a"})
		if egress.Category(err) != egress.NotAllowed {
			t.Errorf("%s: err %v, want %q", base, err, egress.NotAllowed)
		}
	}
	if len(s.requests) != 0 {
		t.Fatalf("the loopback server got %d requests", len(s.requests))
	}
}
