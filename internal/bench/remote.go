package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// remote is one running server --url names, with the key that reads it and
// the skill names that key can list.
type remote struct {
	url, key string
	names    []string
}

// remotes parses --url and --key: one URL or several, comma-separated, and
// one key for all of them or one per URL.
func remotes(ctx context.Context, cfg *Config) ([]remote, error) {
	if cfg.Key == "" {
		return nil, errors.New("bench: --url needs --key (an API key with the read scope)")
	}
	urls, keys := strings.Split(cfg.URL, ","), strings.Split(cfg.Key, ",")
	if len(keys) != 1 && len(keys) != len(urls) {
		return nil, fmt.Errorf("bench: --url names %d servers and --key %d keys: give one key for all, or one per server", len(urls), len(keys))
	}
	var out []remote
	for i, raw := range urls {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("bench: --url %q is not a URL", raw)
		}
		if u.Scheme != "http" {
			return nil, fmt.Errorf("bench: --url %q: give the server's plain http:// address on loopback (the load generator speaks HTTP/1.1 without TLS)", raw)
		}
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("bench: --url must be a loopback address (127.0.0.1, ::1 or localhost): a benchmark is a load test, and it runs only against a server on this machine")
		}
		r := remote{url: u.String(), key: keys[min(i, len(keys)-1)]}
		data, err := newClient(r.url, r.key, 1).do(ctx, "GET", "/api/v1/skills?limit=200", nil, 200)
		if err != nil {
			return nil, fmt.Errorf("bench: list skills of %s with the key: %w", r.url, err)
		}
		var page struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("bench: list skills of %s: %w", r.url, err)
		}
		for _, it := range page.Items {
			r.names = append(r.names, it.Name)
		}
		if len(r.names) == 0 {
			return nil, fmt.Errorf("bench: the key sees no skills to read on %s", r.url)
		}
		out = append(out, r)
	}
	return out, nil
}

// runRemote measures running servers: the read endpoints of the API
// scenario with the skills the key can list. Nothing is written to them,
// and the database scenarios (which need the database itself) are
// skipped. Several servers (the same data on plain PostgreSQL and on
// Citus, say) are measured in alternating slices, and each one's point
// read is reported as a ratio of the first's.
func runRemote(ctx context.Context, cfg *Config, rep *Report) error {
	rs, err := remotes(ctx, cfg)
	if err != nil {
		return err
	}
	for _, n := range cfg.Clients {
		cfg.progress("API: %d client(s)", n)
		var points, searches []variant
		for _, r := range rs {
			c := newClient(r.url, r.key, n)
			label := ""
			if len(rs) > 1 {
				label = " at " + r.url
			}
			points = append(points, variant{"GET /api/v1/skills/{name}" + label, n, 20, func(ctx context.Context, w, i int) error {
				_, err := c.do(ctx, "GET", "/api/v1/skills/"+url.PathEscape(r.names[(i+w)%len(r.names)]), nil, 200)
				return err
			}})
			searches = append(searches, variant{"GET /api/v1/search (hybrid)" + label, n, 10, func(ctx context.Context, w, i int) error {
				_, err := c.do(ctx, "GET", searchPath(Queries[(i+w)%len(Queries)], ""), nil, 200)
				return err
			}})
		}
		st := compare(ctx, ScenarioAPI, cfg.Duration, points)
		for _, x := range append(st, compare(ctx, ScenarioAPI, cfg.Duration, searches)...) {
			rep.add(x)
		}
		for i := 1; i < len(st) && st[0].PerSec > 0; i++ {
			ratio := st[i].PerSec / st[0].PerSec
			rep.value(fmt.Sprintf("remote.point_read_vs_first.server_%d.clients_%d", i+1, n), ratio)
			if n == 8 {
				rep.check(fmt.Sprintf("point read at %s / at %s, 8 clients (within 2x)", rs[i].url, rs[0].url), ratio, ">=", 0.5, "x")
			}
		}
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
