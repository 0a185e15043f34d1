package bench

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Stat is one measured workload.
type Stat struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Clients  int     `json:"clients"`
	Ops      int     `json:"ops"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"per_sec"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	// Unit is what PerSec counts ("ops" unless an op carries several
	// events, as an ingest batch does).
	Unit     string `json:"unit"`
	FirstErr string `json:"first_error,omitempty"`
}

// op is one operation of worker w, its i-th.
type op func(ctx context.Context, w, i int) error

// sample is what one run of a workload recorded.
type sample struct {
	lat     []time.Duration
	errs    int
	err     error
	elapsed time.Duration
}

// runFor runs fn on clients workers for d; every worker runs at least minOps
// operations, so very short durations still give a sample.
func runFor(ctx context.Context, clients int, d time.Duration, minOps int, fn op) sample {
	res := make([]sample, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &res[w]
			r.lat = make([]time.Duration, 0, 256)
			for i := 0; ; i++ {
				now := time.Now()
				if ctx.Err() != nil || (now.After(deadline) && i >= minOps) {
					return
				}
				err := fn(ctx, w, i)
				if err != nil {
					r.errs++
					if r.err == nil {
						r.err = err
					}
					continue
				}
				r.lat = append(r.lat, time.Since(now))
			}
		}()
	}
	wg.Wait()
	out := sample{elapsed: time.Since(start)}
	for _, r := range res {
		out.lat = append(out.lat, r.lat...)
		out.errs += r.errs
		if out.err == nil {
			out.err = r.err
		}
	}
	return out
}

func summarize(scenario, name string, clients int, samples ...sample) Stat {
	st := Stat{Scenario: scenario, Name: name, Clients: clients, Unit: "ops"}
	var all []time.Duration
	var elapsed time.Duration
	for _, s := range samples {
		all = append(all, s.lat...)
		elapsed += s.elapsed
		st.Errors += s.errs
		if s.err != nil && st.FirstErr == "" {
			st.FirstErr = s.err.Error()
		}
	}
	st.Ops = len(all)
	st.Seconds = elapsed.Seconds()
	if st.Seconds > 0 {
		st.PerSec = float64(st.Ops) / st.Seconds
	}
	slices.Sort(all)
	st.P50ms, st.P95ms, st.P99ms = pct(all, 50), pct(all, 95), pct(all, 99)
	return st
}

// measure runs one workload for d after a warm-up of a tenth of d.
func measure(ctx context.Context, scenario, name string, clients int, d time.Duration, minOps int, fn op) Stat {
	runFor(ctx, clients, d/10, 1, fn)
	return summarize(scenario, name, clients, runFor(ctx, clients, d, minOps, fn))
}

// variant is one of the workloads compare measures side by side.
type variant struct {
	name    string
	clients int
	minOps  int
	fn      op
}

// rounds is how many slices compare cuts each variant's time into.
const rounds = 5

// compare measures variants whose ratio matters in turns (A B C A B C
// ...), d in all for each, so that load from outside the benchmark (other
// programs on a shared machine) falls on all of them alike instead of
// skewing the ratio.
func compare(ctx context.Context, scenario string, d time.Duration, vs []variant) []Stat {
	for _, v := range vs {
		runFor(ctx, v.clients, d/10, 1, v.fn)
	}
	got := make([][]sample, len(vs))
	for range rounds {
		for i, v := range vs {
			got[i] = append(got[i], runFor(ctx, v.clients, d/rounds, (v.minOps+rounds-1)/rounds, v.fn))
		}
	}
	out := make([]Stat, len(vs))
	for i, v := range vs {
		out[i] = summarize(scenario, v.name, v.clients, got[i]...)
	}
	return out
}

// pct is the p-th percentile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}
