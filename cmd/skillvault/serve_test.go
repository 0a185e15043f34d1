package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeWiresLimitsAndMetrics runs `skillvault serve` with the limit
// and metrics flags: the metrics are on their own listener (and the start
// message says where), not on the main one; the anonymous limit refuses a
// flood of bad keys; the keys of one tenant share the tenant's limit.
func TestServeWiresLimitsAndMetrics(t *testing.T) {
	envv, _ := externalEnv(t)
	if code, _, errs := runCLI(t, envv, "migrate"); code != exitOK {
		t.Fatalf("migrate: %s", errs)
	}
	runCLI(t, envv, "tenant", "create", "--slug", "acme")
	runCLI(t, envv, "user", "create", "--tenant", "acme", "--email", "ann@acme.example")
	var keys []string
	for range 4 {
		code, out, errs := runCLI(t, envv, "key", "create", "--tenant", "acme", "--user", "ann@acme.example")
		if code != exitOK {
			t.Fatalf("key create: %s", errs)
		}
		keys = append(keys, strings.TrimSpace(out))
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: pw, getenv: func(k string) string { return envv[k] }, log: discardLogger()}
	done := make(chan int)
	go func() {
		done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
			"--anon-rate-limit", "1", "--rate-limit", "1", "--tenant-rate-limit", "1"})
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	// The start message names both listeners; the output is read to its
	// end so that serve never blocks writing it.
	running := regexp.MustCompile(`running at (http://[0-9.:]+) .*metrics: (http://[0-9.:]+/metrics)\)`)
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := running.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
		close(found)
	}()
	var m []string
	select {
	case m = <-found:
	case <-time.After(30 * time.Second):
	}
	if m == nil {
		t.Fatal("serve did not start")
	}
	url, metricsURL := m[1], m[2]
	get := func(u, key string) (int, string) {
		req, _ := http.NewRequest("GET", u, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	limit := func(body string) string {
		var p struct{ Limit string }
		json.Unmarshal([]byte(body), &p)
		return p.Limit
	}

	if code, body := get(metricsURL, ""); code != 200 || !strings.Contains(body, "skillvault_db_pool_connections") {
		t.Errorf("metrics listener: %d", code)
	}
	if code, _ := get(url+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener: %d", code)
	}

	// Four keys of one tenant, two requests each: the tenant's bursts of 2
	// serve at most three of them.
	served, byTenant := 0, 0
	for _, k := range keys {
		for range 2 {
			code, body := get(url+"/api/v1/me", k)
			switch {
			case code == 200:
				served++
			case code == 429 && limit(body) == "tenant":
				byTenant++
			default:
				t.Errorf("a key of acme: %d %s", code, body)
			}
		}
	}
	if served > 3 || byTenant == 0 {
		t.Errorf("four keys of one tenant: %d served, %d refused by the tenant limit", served, byTenant)
	}

	// Bad keys from one address: bursts of 2, then 429.
	var codes []int
	for range 4 {
		code, body := get(url+"/api/v1/me", "sv_notakeynotakeynotakeynotakey")
		if code == 429 && limit(body) != "address" {
			t.Errorf("429 of the %q limit", limit(body))
		}
		codes = append(codes, code)
	}
	if codes[0] != 401 || codes[len(codes)-1] != 429 {
		t.Errorf("a flood of bad keys: %v", codes)
	}
}

// TestServeMetricsOff: --metrics-addr off serves no metrics and says so.
func TestServeMetricsOff(t *testing.T) {
	msg, err := serveMetrics(context.Background(), &env{log: discardLogger()}, nil, "off")
	if err != nil || msg != "metrics: off" {
		t.Errorf("off: %q %v", msg, err)
	}
	if _, err := serveMetrics(context.Background(), &env{log: discardLogger()}, nil, "256.0.0.1:1"); err == nil {
		t.Error("an address of the operator's that cannot be used is not an error")
	}
}
