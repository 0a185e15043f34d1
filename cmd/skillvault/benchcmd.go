package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/bench"
)

func init() {
	register("bench", "measure scope overhead, API, ingest, read paths, tenant count, discovery, search, git and cold start (loopback only)", benchCmd)
}

func benchCmd(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "bench", "[flags]", `  skillvault bench                                   # defaults: a few minutes on 2 cores
  skillvault bench --scenarios scope,api --duration 5s
  skillvault bench --scenarios search --search-tenants 1000 --search-skills 1000000   # issue 5's full size
  skillvault bench --url http://127.0.0.1:8080 --key sv_... --scenarios api           # a running server
  skillvault bench --url http://127.0.0.1:8080,http://127.0.0.1:8081 --key sv_a,sv_b --scenarios api   # two servers, compared`)
	cfg := bench.Config{}
	fs.StringVar(&cfg.Home, "home", "", "SKILLVAULT_HOME of the benchmark's own cluster (default: a temporary folder, removed afterwards)")
	fs.StringVar(&cfg.URL, "url", "", "measure a running server at this http:// address on loopback instead (API read scenario only); several, comma-separated, are measured in alternating slices and compared with the first")
	fs.StringVar(&cfg.Key, "key", "", "API key for --url (one for all servers, or one per server, comma-separated)")
	fs.IntVar(&cfg.Tenants, "tenants", 1000, "other tenants present besides the measured one")
	fs.IntVar(&cfg.OtherSkills, "other-skills", 20, "skills of each other tenant")
	fs.IntVar(&cfg.Skills, "skills", 1000, "skills of the measured tenant")
	fs.IntVar(&cfg.Versions, "versions", 2, "versions per skill of the measured tenant (two files each)")
	fs.IntVar(&cfg.Ratings, "ratings", 3, "ratings per skill of the measured tenant")
	fs.IntVar(&cfg.Usage, "usage", 10, "usage events per skill of the measured tenant")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "how long each measurement runs (after a warm-up of a tenth of it)")
	clients := fs.String("clients", "1,8,32", "concurrent API clients, comma-separated")
	fs.IntVar(&cfg.IngestSize, "batch", 1000, "events per usage batch in the ingest scenario")
	scenarios := fs.String("scenarios", strings.Join(bench.AllScenarios, ","), "scenarios to run, comma-separated")
	fs.IntVar(&cfg.SearchTenants, "search-tenants", 100, "tenants of the search data set")
	fs.IntVar(&cfg.SearchSkills, "search-skills", 30000, "skills in all in the search data set")
	fs.IntVar(&cfg.SearchBig, "search-big", 10000, "skills of the large measured tenant of the search data set")
	fs.IntVar(&cfg.SearchSmall, "search-small", 100, "skills of the small measured tenant of the search data set")
	fs.BoolVar(&cfg.NoOtherVectors, "no-other-vectors", false, "give the unmeasured tenants' skills no skill_embeddings rows")
	fs.StringVar(&cfg.Binary, "binary", "", "skillvault binary for the cold-start scenario (default: this one)")
	out := fs.String("out", "bench.json", "write the results as JSON to this file (\"\" for none)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process (load generator and in-process server) to this file; read it with go tool pprof")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	// In Config zero means the default; on the command line it means none.
	for _, p := range []*int{&cfg.Tenants, &cfg.OtherSkills, &cfg.Versions, &cfg.Ratings, &cfg.Usage} {
		if *p == 0 {
			*p = -1
		}
	}
	var err error
	if cfg.Clients, err = intList(*clients); err != nil {
		return fail(e, "--clients: %v", err)
	}
	for _, s := range strings.Split(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !contains(bench.AllScenarios, s) {
			return fail(e, "unknown scenario %q (known: %s)", s, strings.Join(bench.AllScenarios, ", "))
		}
		cfg.Scenarios = append(cfg.Scenarios, s)
	}
	if len(cfg.Scenarios) == 0 {
		return fail(e, "--scenarios names none")
	}
	if cfg.Binary == "" {
		cfg.Binary = selfBinary()
	}
	cfg.Log = e.log
	if !*quiet {
		cfg.Progress = e.stderr
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fail(e, "--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fail(e, "--cpuprofile: %v", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		rep.Command = "skillvault bench " + strings.Join(args, " ")
		rep.WriteTable(e.stdout)
		if *out != "" {
			if werr := writeReport(*out, rep); werr != nil && err == nil {
				err = werr
			} else if werr == nil {
				fmt.Fprintf(e.stdout, "\nwrote %s\n", *out)
			}
		}
	}
	if err != nil {
		return fail(e, "bench: %v", err)
	}
	return exitOK
}

func writeReport(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func intList(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// selfBinary is this executable when it is the skillvault binary (not a
// test binary, which cannot serve); "" lets the benchmark build one.
func selfBinary() string {
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(exe, ".test") || !strings.HasPrefix(filepath.Base(exe), "skillvault") {
		return ""
	}
	return exe
}
