// Package embed turns text into vectors for semantic search. It offers a
// built-in offline embedder (the default, no network) and clients for
// Ollama and any OpenAI-compatible embeddings endpoint.
//
// Every Embedder returns L2-normalised vectors, so the cosine of two
// vectors from the same embedder is their dot product. Vectors from
// different models (or dimensions) are not comparable: callers store the
// Model and Dimensions next to each vector and re-embed when they change.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/egress"
)

// Embedder turns texts into vectors, one per text, in order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the model, e.g. "builtin-v1" or the remote model name.
	Model() string
	// Dimensions is the vector length, or 0 while a remote provider has
	// not answered yet and no dimension was configured.
	Dimensions() int
}

// Config selects and configures an Embedder.
type Config struct {
	Provider   string        // "builtin" (default when empty), "ollama" or "openai"
	URL        string        // base URL of the remote server, e.g. http://localhost:11434
	Model      string        // remote model name
	APIKey     string        // sent as a Bearer token when set
	Timeout    time.Duration // per request; DefaultTimeout when zero
	Dimensions int           // expected vector length; 0 accepts what the first answer gives
}

// DefaultTimeout bounds one request to a remote provider when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxBatch is the most texts sent to a remote provider in one request;
// longer inputs are split. Servers commonly cap batch sizes, and smaller
// requests keep each one inside its timeout.
const MaxBatch = 64

// New returns the Embedder that cfg describes. Remote providers call
// through hc; nil means an egress client that reaches public addresses
// only. Each request is bounded by cfg.Timeout.
func New(cfg Config, hc *egress.Client) (Embedder, error) {
	provider := strings.ToLower(strings.TrimSpace(cfg.Provider))
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("embed: negative timeout %v", cfg.Timeout)
	}
	if cfg.Dimensions < 0 {
		return nil, fmt.Errorf("embed: negative dimensions %d", cfg.Dimensions)
	}
	switch provider {
	case "", "builtin":
		if cfg.Dimensions != 0 && cfg.Dimensions != BuiltinDimensions {
			return nil, fmt.Errorf("embed: builtin embedder has %d dimensions, not %d", BuiltinDimensions, cfg.Dimensions)
		}
		return NewBuiltin(), nil
	case "ollama", "openai":
		return newRemote(provider, cfg, hc)
	default:
		return nil, fmt.Errorf("embed: unknown provider %q (want builtin, ollama or openai)", cfg.Provider)
	}
}

// Cosine returns the cosine similarity of a and b, or 0 when either is a
// zero vector or their lengths differ (vectors of different models must
// never be compared, and a panic in a ranking loop helps nobody).
func Cosine(a, b []float32) float32 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / (math.Sqrt(na) * math.Sqrt(nb)))
}

// Normalize scales v in place to unit L2 length. A zero vector is left
// unchanged.
func Normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := 1 / math.Sqrt(sum)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
}

// errZeroVector is returned for vectors that cannot be normalised.
var errZeroVector = errors.New("zero vector")
