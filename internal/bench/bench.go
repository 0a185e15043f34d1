// Package bench is Skillvault's benchmark suite (`skillvault bench`): it
// starts a private PostgreSQL cluster and a real server on loopback (or
// targets a running server), loads a configurable data set through the
// tenant scope, runs each scenario for a bounded time, and reports
// throughput and latency percentiles with the ratios the project's targets
// are stated in (BENCHMARKS.md).
//
// Unlike the rest of the code base, this package opens its own database
// connections (a superuser pool without RLS, a naive app-role pool): it
// measures the tenant scope against them on purpose.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Scenario names.
const (
	ScenarioScope     = "scope"
	ScenarioAPI       = "api"
	ScenarioIngest    = "ingest"
	ScenarioTenants   = "tenants"
	ScenarioSearch    = "search"
	ScenarioColdStart = "coldstart"
	ScenarioDiscovery = "discovery"
	ScenarioGit       = "git"
	ScenarioReads     = "reads"
)

// AllScenarios is every scenario, in the order they run.
var AllScenarios = []string{ScenarioTenants, ScenarioScope, ScenarioAPI, ScenarioIngest, ScenarioDiscovery, ScenarioReads, ScenarioSearch, ScenarioColdStart, ScenarioGit}

// Config is one benchmark run.
type Config struct {
	// Home is the SKILLVAULT_HOME of the run's cluster; "" makes a
	// temporary folder, removed at the end.
	Home string
	// URL and Key target a running server instead (API scenarios only).
	URL, Key string

	Tenants     int // other tenants present (default 1000)
	OtherSkills int // skills of each other tenant (default 20)
	Skills      int // skills of the measured tenant (default 1000)
	Versions    int // versions per skill of the measured tenant (default 2)
	Ratings     int // ratings per skill of the measured tenant (default 3)
	Usage       int // usage events per skill of the measured tenant (default 10)

	Duration   time.Duration // per measurement (default 3s)
	Clients    []int         // API concurrency levels (default 1, 8, 32)
	IngestSize int           // events per ingest batch (default 1000)
	Scenarios  []string      // default AllScenarios

	SearchTenants int // tenants of the search data set (default 100)
	SearchSkills  int // skills in total in the search data set (default 30000)
	SearchBig     int // skills of the large measured tenant (default 10000)
	SearchSmall   int // skills of the small measured tenant (default 100)
	// NoOtherVectors leaves the skill_embeddings rows of the unmeasured
	// tenants out (see Shape.EmbedRows).
	NoOtherVectors bool

	// Binary is the skillvault binary the cold-start scenario runs; ""
	// builds one with `go build`.
	Binary string

	Log      *slog.Logger
	Progress io.Writer // progress lines; nil discards them
}

func (c *Config) defaults() {
	def := func(p *int, v int) {
		if *p < 0 {
			*p = 0
		} else if *p == 0 {
			*p = v
		}
	}
	def(&c.Tenants, 1000)
	def(&c.OtherSkills, 20)
	def(&c.Skills, 1000)
	def(&c.Versions, 2)
	def(&c.Ratings, 3)
	def(&c.Usage, 10)
	def(&c.IngestSize, 1000)
	def(&c.SearchTenants, 100)
	def(&c.SearchSkills, 30000)
	def(&c.SearchBig, 10000)
	def(&c.SearchSmall, 100)
	if c.Duration <= 0 {
		c.Duration = 3 * time.Second
	}
	if len(c.Clients) == 0 {
		c.Clients = []int{1, 8, 32}
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = AllScenarios
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

func (c *Config) wants(s string) bool { return slices.Contains(c.Scenarios, s) }

// Machine describes where the run happened.
type Machine struct {
	Date       string `json:"date"`
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	MemoryMiB  int    `json:"memory_mib"`
	GoVersion  string `json:"go_version"`
	PostgreSQL string `json:"postgresql,omitempty"`
	OS         string `json:"os"`
	// Load averages (1, 5, 15 minutes) at the start and the end: other
	// programs on the machine skew absolute figures (compare runs turns
	// to keep ratios fair).
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Check is a measured figure against its target.
type Check struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Op     string  `json:"op"` // ">=" or "<="
	Target float64 `json:"target"`
	Unit   string  `json:"unit"`
	Pass   bool    `json:"pass"`
}

// Report is the result of a run, as written to the JSON file.
type Report struct {
	Machine Machine            `json:"machine"`
	Command string             `json:"command,omitempty"`
	Config  map[string]any     `json:"config"`
	Stats   []Stat             `json:"stats"`
	Values  map[string]float64 `json:"values"`
	Checks  []Check            `json:"checks"`
	Notes   []string           `json:"notes"`
}

func (r *Report) add(s Stat) { r.Stats = append(r.Stats, s) }

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Report) value(name string, v float64) { r.Values[name] = v }

func (r *Report) check(name string, v float64, op string, target float64, unit string) {
	pass := v >= target
	if op == "<=" {
		pass = v <= target
	}
	r.Checks = append(r.Checks, Check{Name: name, Value: v, Op: op, Target: target, Unit: unit, Pass: pass})
}

// find returns the stat of a scenario and name at a client count.
func (r *Report) find(scenario, name string, clients int) (Stat, bool) {
	for _, s := range r.Stats {
		if s.Scenario == scenario && s.Name == name && s.Clients == clients {
			return s, true
		}
	}
	return Stat{}, false
}

// Run runs the benchmark.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	rep := &Report{Machine: machine(), Values: map[string]float64{}, Notes: []string{}, Checks: []Check{}, Stats: []Stat{}}
	defer func() { rep.Machine.LoadEnd = loadAvg() }()
	rep.Config = map[string]any{
		"tenants": cfg.Tenants, "other_skills": cfg.OtherSkills, "skills": cfg.Skills, "versions": cfg.Versions,
		"ratings": cfg.Ratings, "usage": cfg.Usage, "duration": cfg.Duration.String(), "clients": cfg.Clients,
		"ingest_batch": cfg.IngestSize, "scenarios": cfg.Scenarios, "search_tenants": cfg.SearchTenants,
		"search_skills": cfg.SearchSkills, "search_big": cfg.SearchBig, "search_small": cfg.SearchSmall,
		"no_other_vectors": cfg.NoOtherVectors,
	}
	if cfg.URL != "" {
		rep.Config["url"] = cfg.URL
		return rep, runRemote(ctx, &cfg, rep)
	}
	r := &run{cfg: &cfg, rep: rep}
	defer r.close()
	return rep, r.local(ctx)
}

func (c *Config) progress(format string, args ...any) {
	fmt.Fprintf(c.Progress, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func machine() Machine {
	m := Machine{Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAvg()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.Atoi(f[1])
				m.MemoryMiB = kb / 1024
			}
		}
	}
	return m
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %d MiB, %s, %s\nDate: %s; load average %s at the start, %s at the end\n\n",
		m.CPUs, m.CPUModel, m.MemoryMiB, m.GoVersion, m.PostgreSQL, m.Date, m.LoadStart, m.LoadEnd)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tmeasurement\tclients\tper second\tunit\tp50 ms\tp95 ms\tp99 ms\terrors\t")
	for _, s := range r.Stats {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t%d\t\n", s.Scenario, s.Name, s.Clients, s.PerSec, s.Unit, s.P50ms, s.P95ms, s.P99ms, s.Errors)
	}
	tw.Flush()
	if len(r.Values) > 0 {
		fmt.Fprintln(w)
		keys := make([]string, 0, len(r.Values))
		for k := range r.Values {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "value\t\t")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%.3f\t\n", k, r.Values[k])
		}
		tw.Flush()
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "target\tmeasured\t\ttarget\tresult\t")
		for _, c := range r.Checks {
			res := "ok"
			if !c.Pass {
				res = "MISSED"
			}
			fmt.Fprintf(tw, "%s\t%.3f %s\t%s\t%g %s\t%s\t\n", c.Name, c.Value, c.Unit, c.Op, c.Target, c.Unit, res)
		}
		tw.Flush()
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, s := range r.Stats {
		if s.FirstErr != "" {
			fmt.Fprintf(w, "error in %s/%s (%d clients): %s\n", s.Scenario, s.Name, s.Clients, s.FirstErr)
		}
	}
}
