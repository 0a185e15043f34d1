package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/skillvault/skillvault/internal/egress"
)

// maxResponseBytes bounds how much of an answer is read: 64 texts of a
// few thousand dimensions as JSON is a few MiB; anything far larger is a
// misbehaving server.
const maxResponseBytes = 64 << 20

// remote is an Embedder that calls an HTTP embeddings API. The two wire
// formats differ only in the request path, the response shape and the
// auth header, so one type serves both.
type remote struct {
	provider string // "ollama" or "openai"
	endpoint string
	model    string
	apiKey   string
	timeout  time.Duration
	want     int // configured dimensions, 0 if not configured
	hc       *egress.Client

	mu   sync.Mutex
	seen int // dimensions of the first answer, 0 until then
}

func newRemote(provider string, cfg Config, hc *egress.Client) (*remote, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, fmt.Errorf("embed: %s provider needs a URL", provider)
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("embed: %s provider needs a model", provider)
	}
	endpoint, err := Endpoint(provider, cfg.URL)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if hc == nil {
		if hc, err = egress.New(egress.Options{}); err != nil {
			return nil, err
		}
	}
	return &remote{
		provider: provider,
		endpoint: endpoint,
		model:    cfg.Model,
		apiKey:   cfg.APIKey,
		timeout:  timeout,
		want:     cfg.Dimensions,
		hc:       hc,
	}, nil
}

// Endpoint is where a provider at base URL u is asked for embeddings.
func Endpoint(provider, u string) (string, error) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("embed: %s provider: URL %q is not an absolute http(s) URL", provider, u)
	}
	base := strings.TrimRight(p.String(), "/")
	switch provider {
	case "ollama":
		return base + "/api/embed", nil
	case "openai":
		// Users paste either the server root or the documented base URL
		// that already ends in /v1; accept both without doubling it.
		if strings.HasSuffix(base, "/v1") {
			return base + "/embeddings", nil
		}
		return base + "/v1/embeddings", nil
	}
	return "", fmt.Errorf("embed: unknown provider %q (want ollama or openai)", provider)
}

func (r *remote) Model() string { return r.model }

func (r *remote) Dimensions() int {
	if r.want != 0 {
		return r.want
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}

func (r *remote) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += MaxBatch {
		end := min(start+MaxBatch, len(texts))
		vecs, err := r.embedBatch(ctx, texts[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embedBatch sends one request and validates its answer.
func (r *remote) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	raw, err := r.post(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(raw) != len(texts) {
		return nil, r.errorf("%w", egress.InvalidResponse("sent %d texts, got %d vectors", len(texts), len(raw)))
	}
	vecs := make([][]float32, len(raw))
	for i, rv := range raw {
		v, err := r.check(rv)
		if err != nil {
			return nil, r.errorf("%w", egress.InvalidResponse("vector %d: %w", i, err))
		}
		vecs[i] = v
	}
	return vecs, nil
}

// check converts one vector, rejecting values a float32 cannot hold and
// dimensions that disagree with the configuration or earlier answers:
// mixing dimensions in one index would silently make every cosine zero.
func (r *remote) check(rv []float64) ([]float32, error) {
	if len(rv) == 0 {
		return nil, errors.New("empty vector")
	}
	if r.want != 0 && len(rv) != r.want {
		return nil, fmt.Errorf("got %d dimensions, configured %d", len(rv), r.want)
	}
	r.mu.Lock()
	if r.seen == 0 {
		r.seen = len(rv)
	}
	seen := r.seen
	r.mu.Unlock()
	if len(rv) != seen {
		return nil, fmt.Errorf("got %d dimensions, earlier answers had %d", len(rv), seen)
	}
	v := make([]float32, len(rv))
	var sum float64
	for i, x := range rv {
		f := float32(x)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("value %d is not a finite float32 (%v)", i, x)
		}
		v[i] = f
		sum += float64(f) * float64(f)
	}
	if sum == 0 {
		return nil, errZeroVector
	}
	Normalize(v)
	return v, nil
}

// post sends texts and returns the raw vectors in input order.
func (r *remote) post(ctx context.Context, texts []string) ([][]float64, error) {
	body, err := json.Marshal(struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{r.model, texts})
	if err != nil {
		return nil, r.errorf("encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	data, err := r.hc.PostJSON(ctx, r.endpoint, r.apiKey, body, maxResponseBytes)
	if egress.Category(err) == egress.TimedOut {
		// "context deadline exceeded" alone does not tell an operator
		// which knob to turn.
		return nil, r.errorf("POST %s: timed out after %v: %w", r.endpoint, r.timeout, err)
	}
	if err != nil {
		return nil, r.errorf("POST %s: %w", r.endpoint, err)
	}
	var vecs [][]float64
	if r.provider == "ollama" {
		vecs, err = decodeOllama(data)
	} else {
		vecs, err = decodeOpenAI(data)
	}
	if err != nil {
		return nil, r.errorf("POST %s: %w", r.endpoint, egress.InvalidResponse("%w", err))
	}
	return vecs, nil
}

func (r *remote) errorf(format string, args ...any) error {
	return fmt.Errorf("embed: %s model %q: %w", r.provider, r.model, fmt.Errorf(format, args...))
}

func decodeOllama(data []byte) ([][]float64, error) {
	var resp struct {
		Embeddings [][]float64 `json:"embeddings"`
		Error      string      `json:"error"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w (body: %s)", err, egress.TrimBody(data))
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("server error: %s", resp.Error)
	}
	if resp.Embeddings == nil {
		return nil, fmt.Errorf("response has no \"embeddings\" (body: %s)", egress.TrimBody(data))
	}
	return resp.Embeddings, nil
}

func decodeOpenAI(data []byte) ([][]float64, error) {
	var resp struct {
		Data []struct {
			Index     *int      `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w (body: %s)", err, egress.TrimBody(data))
	}
	if resp.Data == nil {
		return nil, fmt.Errorf("response has no \"data\" (body: %s)", egress.TrimBody(data))
	}
	// The API documents that data is ordered by index, but says so
	// explicitly with the field; trust the field, and insist each index
	// appears once.
	out := make([][]float64, len(resp.Data))
	for i, d := range resp.Data {
		idx := i
		if d.Index != nil {
			idx = *d.Index
		}
		if idx < 0 || idx >= len(out) {
			return nil, fmt.Errorf("data[%d] has index %d, outside 0..%d", i, idx, len(out)-1)
		}
		if out[idx] != nil {
			return nil, fmt.Errorf("index %d appears twice", idx)
		}
		if d.Embedding == nil {
			return nil, fmt.Errorf("data[%d] has no embedding", i)
		}
		out[idx] = d.Embedding
	}
	return out, nil
}
