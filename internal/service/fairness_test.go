package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// provider is a loopback stand-in for an OpenAI-compatible provider: it
// answers /v1/embeddings (with toyVector) and /v1/chat/completions (with
// a fixed review), and records the Authorization header of every request.
// With a hold it is a tarpit instead: it keeps every request open for that
// long, or until let go, and then fails, as a slow or hostile endpoint a
// tenant admin configured would.
type provider struct {
	*httptest.Server
	mu      sync.Mutex
	auths   []string
	hold    time.Duration
	held    atomic.Int64 // requests held open now
	release chan struct{}
	once    sync.Once
}

func newProvider(t *testing.T, hold time.Duration) *provider {
	p := &provider{hold: hold, release: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() { p.letGo(); p.Close() })
	return p
}

// letGo ends every held request, and every later one at once.
func (p *provider) letGo() { p.once.Do(func() { close(p.release) }) }

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.auths = append(p.auths, r.Header.Get("Authorization"))
	p.mu.Unlock()
	if p.hold > 0 {
		p.held.Add(1)
		defer p.held.Add(-1)
		select {
		case <-p.release:
		case <-r.Context().Done():
		case <-time.After(p.hold):
		}
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/v1/embeddings":
		var in struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeOpenAIEmbeddings(w, in.Input)
	case "/v1/chat/completions":
		content, _ := json.Marshal(map[string]any{"quality": 7, "clarity": 8, "completeness": 6, "safety": 9,
			"findings":    []map[string]any{{"severity": "low", "category": "completeness", "file": "SKILL.md", "line": 5, "message": "add an example"}},
			"suggestions": []string{"Add an example."}, "summary": "Solid, short skill."})
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]any{"role": "assistant", "content": string(content)}, "finish_reason": "stop"}}})
	default:
		http.NotFound(w, r)
	}
}

// fairnessService is the service of the fairness test, built in this one
// place: its providers are loopback servers, which an outbound address
// allow list has to admit here.
func fairnessService(env *dbtest.Env) *service.Service {
	return service.New(env.DB, service.Options{Egress: loopback})
}

// useProvider points a tenant's embeddings and LLM reviewer at url.
func useProvider(t *testing.T, svc *service.Service, admin service.Actor, url string) {
	t.Helper()
	prov, model, reviewer := "openai", "toy", "reviewer-1"
	_, err := svc.UpdateSettings(context.Background(), admin, service.SettingsPatch{EmbeddingProvider: &prov, EmbeddingURL: &url,
		EmbeddingModel: &model, LLMReviewURL: &url, LLMReviewModel: &reviewer})
	if err != nil {
		t.Fatal(err)
	}
}

// latency is how long tenant A waited in one round.
type latency struct{ searchable, review time.Duration }

// measureRound publishes a skill as admin and measures (a) the time from
// the publish until a semantic search finds it, which needs its vector
// from the tenant's provider, and (b) a ReviewAgain request, which waits
// for the tenant's LLM reviewer.
func measureRound(t *testing.T, svc *service.Service, admin service.Actor, name string) latency {
	t.Helper()
	ctx := context.Background()
	var l latency
	start := time.Now()
	if _, err := svc.CreateSkill(ctx, admin, skillFiles(name, "Rotates the "+name+" logs. Use when log files grow.", "## Steps\n\nRotate."),
		service.PublishOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	for {
		hits, err := svc.Search(ctx, admin, service.SearchQuery{Text: "rotate logs " + name, Mode: "semantic", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names(hits), name) {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("%s was not searchable by vector %s after its publish", name, time.Since(start).Round(time.Millisecond))
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	l.searchable = time.Since(start)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start = time.Now()
	rs, err := svc.ReviewAgain(rctx, admin, name, "latest")
	l.review = time.Since(start)
	if err != nil {
		t.Fatalf("ReviewAgain %s: %v", name, err)
	}
	// The request must have waited for the LLM reviewer's answer: that is
	// the work being timed.
	if !slices.ContainsFunc(rs, func(r store.Review) bool { return strings.HasPrefix(r.Reviewer, "llm:") }) {
		t.Fatalf("ReviewAgain %s returned no LLM review: %+v", name, rs)
	}
	return l
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestSlowTenantDoesNotSlowOthers: while tenant B's provider (embeddings
// and LLM reviewer) holds every request open, tenant A's new skill becomes
// searchable by vector, and A's review request returns, about as fast as
// without B's load, measured in this one run.
func TestSlowTenantDoesNotSlowOthers(t *testing.T) {
	env := dbtest.New(t)
	svc := fairnessService(env)
	f := &fixture{env: env, svc: svc}
	alpha, _ := f.tenant(t, "alpha")
	beta, _ := f.tenant(t, "beta")
	fast, tarpit := newProvider(t, 0), newProvider(t, 30*time.Second)
	useProvider(t, svc, alpha, fast.URL)
	// B has skills (embedded by the builtin provider) before it turns slow.
	for i := range 3 {
		f.publish(t, beta, skillFiles(fmt.Sprintf("beta-skill-%d", i), "Does beta things. Use for beta.", "Beta."), "tenant")
	}

	// The worker runs as in serve, every 2 s and whenever a publish wakes it.
	wctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { svc.RunEmbedder(wctx, 2*time.Second); close(stopped) }()
	defer func() { tarpit.letGo(); stop(); <-stopped; svc.Wait() }()

	measureRound(t, svc, alpha, "alpha-warm-up") // connections, caches
	svc.Wait()                                   // B's skills are embedded: B is idle
	const rounds = 5
	var quiet, busy []latency
	for i := range rounds {
		quiet = append(quiet, measureRound(t, svc, alpha, fmt.Sprintf("alpha-quiet-%d", i)))
	}
	// B switches to the tarpit (every skill is queued for a new vector) and
	// publishes new versions (each queues an LLM review): all of it waits
	// on B's provider.
	useProvider(t, svc, beta, tarpit.URL)
	for i := range 3 {
		name := fmt.Sprintf("beta-skill-%d", i)
		if _, err := svc.AddVersion(context.Background(), beta, name, skillFiles(name, "Does beta things. Use for beta.", "Beta, again."),
			service.PublishOptions{Publish: true}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for tarpit.held.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("tenant B's provider holds %d requests, want 3 or more (its embedding job and reviews)", tarpit.held.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Rounds count as busy only while B's provider still holds them all.
	for i := 0; i < rounds && tarpit.held.Load() >= 3; i++ {
		busy = append(busy, measureRound(t, svc, alpha, fmt.Sprintf("alpha-busy-%d", i)))
	}
	if len(busy) < rounds {
		t.Errorf("tenant B's provider let go of its requests after %d of %d rounds: the measurement took too long", len(busy), rounds)
	}

	// A latency below the floor counts as the floor. A round is a few
	// database round trips and loopback calls (tens of milliseconds), and
	// on a shared machine its median moves by as much again from
	// scheduling alone; the unfairness this test catches costs seconds
	// (the tarpit holds for 30, the worker's interval is 2).
	const floor = 200 * time.Millisecond
	for _, m := range []struct {
		what        string
		quiet, busy time.Duration
	}{
		{"publish → searchable by vector", median(pick(quiet, func(l latency) time.Duration { return l.searchable })),
			median(pick(busy, func(l latency) time.Duration { return l.searchable }))},
		{"ReviewAgain request", median(pick(quiet, func(l latency) time.Duration { return l.review })),
			median(pick(busy, func(l latency) time.Duration { return l.review }))},
	} {
		ratio := float64(max(m.busy, floor)) / float64(max(m.quiet, floor))
		t.Logf("%s: %v without tenant B's load, %v with it (ratio %.2f)", m.what, m.quiet, m.busy, ratio)
		if ratio > 1.5 {
			t.Errorf("%s: tenant B's slow provider slowed tenant A from %v to %v (ratio %.2f > 1.5)", m.what, m.quiet, m.busy, ratio)
		}
	}
}

func pick(ls []latency, f func(latency) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ls))
	for i, l := range ls {
		out[i] = f(l)
	}
	return out
}
