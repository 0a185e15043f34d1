package soak_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bench"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

const (
	soakTenants = 16 // two clients each: 32
	soakTimeout = 4 * time.Minute
)

// TestIsolationSoak runs 32 concurrent clients over 16 tenants (each
// tenant's admin and member, each with its own key) through a random mix
// of every REST endpoint and MCP tool. Every answer is checked: no 5xx, no
// byte of another tenant (names, emails, ids), no private skill of another
// user, lists and searches only of the caller's tenant, "not found" for
// every other tenant's skill; at the end the usage and rating counters
// equal what clients were told was accepted, as the API shows them and as
// a superuser counts the rows.
func TestIsolationSoak(t *testing.T) {
	t.Parallel()
	db := dbtest.NewEmpty(t)
	e := startEnv(t, db.AppURL, db.OwnerURL, db.AdminURL, database.Options{MaxConns: 16})
	soak(t, e)
	// The API-key cache was in use (it is kept coherent by LISTEN/NOTIFY,
	// and revoked keys were refused at once all along).
	if e.svc.AuthCacheHits() == 0 {
		t.Error("no authentication was answered from the key cache")
	}
}

func soak(t *testing.T, e *env) {
	w := newWorld(t, e, soakTenants)
	r := &runner{w: w, target: int64(requests(t)), mcp: true}
	ctx, cancel := context.WithTimeout(context.Background(), soakTimeout)
	defer cancel()
	start := time.Now()
	r.run(ctx, t)
	t.Logf("soak: %d requests in %s", r.count.Load(), time.Since(start).Round(time.Millisecond))
	r.report(t)
	if n := r.count.Load(); n < r.target {
		t.Errorf("only %d of %d requests ran within %s", n, r.target, soakTimeout)
	}
	verify(t, w, false)
}

// verify compares what clients were told with what the server holds: the
// counters through the API (as each tenant's admin), the usage events as
// a superuser counts them, and the invariants of bench.CheckConsistency.
// With unsure, writes answered 503 may or may not have happened.
func verify(t *testing.T, w *world, unsure bool) {
	t.Helper()
	ctx := context.Background()
	w.env.svc.Wait()
	probs, err := bench.CheckConsistency(ctx, w.env.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("half-applied write: %s", p)
	}
	rows, err := bench.UsageEvents(ctx, w.env.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	hc := w.env.url
	checked := 0
	for _, tn := range w.tenants {
		tn.mu.Lock()
		names := map[string]bool{}
		for n := range tn.usage {
			names[n] = true
		}
		for n := range tn.ratings {
			names[n] = true
		}
		for n := range tn.unsure {
			names[n] = true
		}
		for _, n := range append(tn.seeds, tn.hidden...) {
			names[n] = true
		}
		tn.mu.Unlock()
		for key, got := range rows {
			if len(key) > 37 && key[:36] == tn.id.String() && !names[key[37:]] && got > 0 {
				t.Errorf("%s: %d usage events stored for %s, which no client was told about", tn.marker, got, key[37:])
			}
		}
		for name := range names {
			if tn.gone[name] {
				continue
			}
			var want [4]int64
			if c := tn.usage[name]; c != nil {
				want = *c
			}
			total := want[0] + want[1] + want[2] + want[3]
			got := rows[tn.id.String()+"/"+name]
			if maybe := tn.unsure[name]; got < total || got > total+maybe || (!unsure && got != total) {
				t.Errorf("%s/%s: %d usage events stored, clients were told %d were accepted (%d unsure)", tn.marker, name, got, total, maybe)
			}
			r := send(ctx, http.DefaultClient, "GET", hc+"/api/v1/skills/"+url.PathEscape(name), tn.admin.key, nil, "")
			var sk struct {
				Installs      int64   `json:"installs"`
				Downloads     int64   `json:"downloads"`
				Views         int64   `json:"views"`
				Invocations   int64   `json:"invocations"`
				RatingCount   int     `json:"rating_count"`
				RatingAverage float64 `json:"rating_average"`
			}
			if r.err != nil || r.status != 200 || r.json(&sk) != nil {
				t.Errorf("%s: read %s: %s", tn.marker, name, r)
				continue
			}
			checked++
			gotc := [4]int64{sk.Installs, sk.Downloads, sk.Views, sk.Invocations}
			if tn.unsure[name] == 0 && gotc != want {
				t.Errorf("%s/%s: counters %v, want %v", tn.marker, name, gotc, want)
			}
			if tn.unrated[name] {
				continue
			}
			stars := tn.ratings[name]
			sum := 0
			for _, s := range stars {
				sum += s
			}
			avg := 0.0
			if len(stars) > 0 {
				avg = float64(sum) / float64(len(stars))
			}
			if sk.RatingCount != len(stars) || math.Abs(sk.RatingAverage-avg) > 1e-9 {
				t.Errorf("%s/%s: %d ratings averaging %.3f, clients were told %d averaging %.3f", tn.marker, name, sk.RatingCount, sk.RatingAverage, len(stars), avg)
			}
		}
	}
	if checked < len(w.tenants)*3 {
		t.Errorf("only %d skills had their counters checked", checked)
	}
}
