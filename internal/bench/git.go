package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// git measures the git endpoint: a shallow clone of the measured tenant's
// repository (cfg.Skills skills, cfg.Versions versions each, one tag per
// version) the first time, when the repository is generated, and again
// once it is cached; and a fetch of an unchanged repository.
func (r *run) git(ctx context.Context) error {
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("bench: the git scenario needs git: %w", err)
	}
	d, err := r.cl.CreateDatabase(ctx, "bench_git")
	if err != nil {
		return err
	}
	s, err := startStack(ctx, d)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, s.stop)
	r.cfg.progress("git: loading a tenant with %d skills, %d versions each", r.cfg.Skills, r.cfg.Versions)
	l := s.loader()
	t, err := l.tenant(ctx, "bench-git", 1, true)
	if err == nil {
		err = l.fill(ctx, t, Shape{Skills: r.cfg.Skills, Versions: r.cfg.Versions})
	}
	if err != nil {
		return err
	}
	// The clones go to memory when the machine has a tmpfs: checking out
	// thousands of files measures the client's disk, not the server.
	tmp := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		tmp = "/dev/shm"
	}
	work, err := os.MkdirTemp(tmp, "skillvault-bench-git-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	u, _ := url.Parse(s.url)
	_, port, _ := net.SplitHostPort(u.Host)
	host := t.Slug + "." + BaseDomain + ":" + port
	repo := "http://git:" + t.Key + "@" + host + "/git/skills.git"
	gitCmd := func(ctx context.Context, dir string, args ...string) error {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "http.curloptResolve=" + host + ":127.0.0.1"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	clone := func(ctx context.Context, w, i int) error {
		dir := filepath.Join(work, fmt.Sprintf("clone-%d-%d", w, i))
		defer os.RemoveAll(dir)
		return gitCmd(ctx, work, "clone", "--quiet", "--depth", "1", repo, dir)
	}

	r.cfg.progress("git: first shallow clone (generates the repository)")
	start := time.Now()
	if err := clone(ctx, 0, -1); err != nil {
		return err
	}
	cold := time.Since(start)
	ms := float64(cold.Microseconds()) / 1000
	r.rep.add(Stat{Scenario: ScenarioGit, Name: "shallow clone, repository generated", Clients: 1, Ops: 1, Seconds: cold.Seconds(),
		PerSec: 1 / cold.Seconds(), P50ms: ms, P95ms: ms, P99ms: ms, Unit: "clones"})
	r.rep.value("git.cold_clone_seconds", cold.Seconds())
	r.rep.check(fmt.Sprintf("git: shallow clone of a %d-skill tenant, repository generated", r.cfg.Skills), cold.Seconds(), "<=", 2, "s")

	r.cfg.progress("git: shallow clones of the cached repository")
	warm := measure(ctx, ScenarioGit, "shallow clone, repository cached", 1, r.cfg.Duration, 3, clone)
	r.rep.add(warm)
	r.rep.check(fmt.Sprintf("git: shallow clone of a %d-skill tenant, cached (p95)", r.cfg.Skills), warm.P95ms/1000, "<=", 2, "s")

	full := filepath.Join(work, "full")
	if err := gitCmd(ctx, work, "clone", "--quiet", repo, full); err != nil {
		return err
	}
	r.cfg.progress("git: fetches of an unchanged repository")
	r.rep.add(measure(ctx, ScenarioGit, "fetch, nothing changed", 1, r.cfg.Duration, 3, func(ctx context.Context, w, i int) error {
		return gitCmd(ctx, full, "fetch", "--quiet")
	}))
	return nil
}
