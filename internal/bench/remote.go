package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
)

// runRemote measures a running server: the read endpoints of the API
// scenario with the skills the key can list. Nothing is written to it, and
// the database scenarios (which need the database itself) are skipped.
func runRemote(ctx context.Context, cfg *Config, rep *Report) error {
	if cfg.Key == "" {
		return errors.New("bench: --url needs --key (an API key with the read scope)")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bench: --url %q is not a URL", cfg.URL)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("bench: --url %q: give the server's plain http:// address on loopback (the load generator speaks HTTP/1.1 without TLS)", cfg.URL)
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("bench: --url must be a loopback address (127.0.0.1, ::1 or localhost): a benchmark is a load test, and it runs only against a server on this machine")
	}
	c := newClient(cfg.URL, cfg.Key, 1)
	data, err := c.do(ctx, "GET", "/api/v1/skills?limit=200", nil, 200)
	if err != nil {
		return fmt.Errorf("bench: list skills with the key: %w", err)
	}
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		return fmt.Errorf("bench: list skills: %w", err)
	}
	if len(page.Items) == 0 {
		return errors.New("bench: the key sees no skills to read")
	}
	var names []string
	for _, it := range page.Items {
		names = append(names, it.Name)
	}
	for _, n := range cfg.Clients {
		c := newClient(cfg.URL, cfg.Key, n)
		cfg.progress("API: %d client(s)", n)
		rep.add(measure(ctx, ScenarioAPI, "GET /api/v1/skills/{name}", n, cfg.Duration, 20, func(ctx context.Context, w, i int) error {
			_, err := c.do(ctx, "GET", "/api/v1/skills/"+url.PathEscape(names[(i+w)%len(names)]), nil, 200)
			return err
		}))
		rep.add(measure(ctx, ScenarioAPI, "GET /api/v1/search (hybrid)", n, cfg.Duration, 10, func(ctx context.Context, w, i int) error {
			_, err := c.do(ctx, "GET", searchPath(Queries[(i+w)%len(Queries)], ""), nil, 200)
			return err
		}))
	}
	skipped := slices.DeleteFunc(slices.Clone(cfg.Scenarios), func(s string) bool { return s == ScenarioAPI })
	if len(skipped) > 0 {
		rep.note("against --url only the API read scenario runs (%v need the benchmark's own database and server); the server's per-key rate limit applies (serve --rate-limit)", skipped)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
