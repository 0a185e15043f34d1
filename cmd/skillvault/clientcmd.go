package main

// The client commands talk to a Skillvault server over HTTP(S) with an API
// key (internal/client), never to the database. This file holds their
// configuration (login, logout), shared helpers, search and list.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/skillvault/skillvault/internal/client"
)

func init() {
	register("login", "store a server URL and API key for the client commands", login)
	register("logout", "forget the stored API key", logout)
	register("search", "search the server's skills", search)
	register("list", "list the server's skills", list)
}

// clientConfig is what login stores (config.json, mode 0600).
type clientConfig struct {
	Server string `json:"server"`
	APIKey string `json:"api_key"`
}

// configDir is $SKILLVAULT_CONFIG_DIR, or skillvault/ in the user's
// configuration folder.
func configDir(e *env) (string, error) {
	if d := e.getenv("SKILLVAULT_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration folder (set SKILLVAULT_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "skillvault"), nil
}

func configPath(e *env) (string, error) {
	d, err := configDir(e)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "config.json"), nil
}

// loadConfig reads the stored configuration; none stored is not an error.
func loadConfig(e *env) (clientConfig, error) {
	var c clientConfig
	p, err := configPath(e)
	if err != nil {
		return c, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read configuration: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("read configuration %s: %w (run skillvault login again)", p, err)
	}
	return c, nil
}

// saveConfig writes the configuration readable by its owner only, through
// a temporary file so that a crash never leaves half a file.
func saveConfig(e *env, c clientConfig) (string, error) {
	p, err := configPath(e)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("save configuration: %w", err)
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	f, err := os.CreateTemp(filepath.Dir(p), ".config-*.json")
	if err != nil {
		return "", fmt.Errorf("save configuration: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("save configuration: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("save configuration: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("save configuration: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return "", fmt.Errorf("save configuration: %w", err)
	}
	return p, nil
}

var errNotLoggedIn = errors.New("no server configured: run skillvault login --server URL, or set SKILLVAULT_SERVER and SKILLVAULT_API_KEY")

// connect makes a client from the environment (SKILLVAULT_SERVER,
// SKILLVAULT_API_KEY), which wins, and the stored configuration.
func connect(e *env) (*client.Client, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	server, key := e.getenv("SKILLVAULT_SERVER"), e.getenv("SKILLVAULT_API_KEY")
	if server == "" {
		server = cfg.Server
	}
	if server == "" {
		return nil, errNotLoggedIn
	}
	if key == "" {
		// The stored key was checked against the stored server: never send
		// it to another one.
		if cfg.APIKey != "" && !sameServer(server, cfg.Server) {
			return nil, fmt.Errorf("SKILLVAULT_SERVER is %s but the stored key is for %s: set SKILLVAULT_API_KEY too, or run skillvault login --server %s",
				server, cfg.Server, server)
		}
		key = cfg.APIKey
	}
	if key == "" {
		return nil, fmt.Errorf("no API key for %s: run skillvault login --server %s, or set SKILLVAULT_API_KEY", server, server)
	}
	return client.New(server, key)
}

func sameServer(a, b string) bool {
	na, err1 := client.NormalizeServer(a)
	nb, err2 := client.NormalizeServer(b)
	return err1 == nil && err2 == nil && na == nb
}

// describe explains a client error for people: the server's detail, one
// problem per line, and a hint for the usual causes.
func describe(err error) string {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return err.Error()
	}
	var b strings.Builder
	msg := ce.Detail
	if msg == "" {
		msg = ce.Title
	}
	fmt.Fprintf(&b, "%s (HTTP %d)", msg, ce.Status)
	for _, p := range ce.Problems {
		b.WriteString("\n  " + p.String())
	}
	switch ce.Status {
	case 401:
		b.WriteString("\n  check the key, or run skillvault login again")
	case 403:
		if ce.Detail == "" {
			b.WriteString("\n  this key may not do that")
		}
	}
	return b.String()
}

// clientFail reports a failed client command: skillvault: WHAT: why.
func clientFail(e *env, what string, err error) int {
	return fail(e, "%s: %s", what, describe(err))
}

// parseArgs parses flags placed anywhere among the arguments (Go's flag
// package stops at the first argument otherwise): "pull NAME -o DIR" works
// as "pull -o DIR NAME". Arguments after "--" are never flags.
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, ok bool, code int) {
	for {
		if ok, code := parse(fs, args); !ok {
			return nil, false, code
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, true, 0
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), true, 0
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints a usage problem and the command's usage; exit 2.
func usageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "skillvault %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func login(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "login", "--server URL [--key KEY]", `  skillvault login --server https://skills.example.com      # then paste the key
  echo "$KEY" | skillvault login --server http://127.0.0.1:8080

The key is read from standard input unless --key is given (a key on the
command line is visible to other users of the machine). It is checked with
the server, then stored with the server URL in config.json of the user's
configuration folder (SKILLVAULT_CONFIG_DIR overrides it), readable by you
only. SKILLVAULT_SERVER and SKILLVAULT_API_KEY win over the stored values.`)
	server := fs.String("server", e.getenv("SKILLVAULT_SERVER"), "server URL, e.g. https://skills.example.com (env SKILLVAULT_SERVER)")
	key := fs.String("key", "", "API key (default: read from standard input)")
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, fs, "unexpected argument %q", pos[0])
	}
	if *server == "" {
		return usageError(e, fs, "--server is required")
	}
	base, err := client.NormalizeServer(*server)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	k := strings.TrimSpace(*key)
	if k == "" {
		if k, err = readKey(e); err != nil {
			return fail(e, "login: %v", err)
		}
	}
	c, err := client.New(base, k)
	if err != nil {
		return fail(e, "login: %v", err)
	}
	me, err := c.Me(ctx)
	if err != nil {
		if client.IsUnauthenticated(err) {
			return fail(e, "login: %s refused the API key: %s", base, describe(err))
		}
		return clientFail(e, "login", err)
	}
	p, err := saveConfig(e, clientConfig{Server: base, APIKey: k})
	if err != nil {
		return fail(e, "login: %v", err)
	}
	if insecure(base) {
		fmt.Fprintf(e.stderr, "warning: %s is plain http: the key travels unencrypted; use https:// for servers off this machine\n", base)
	}
	fmt.Fprintf(e.stdout, "logged in to %s as %s (%s; scopes %s)\n", base, me.User.Email, me.User.Role, strings.Join(me.Scopes, ","))
	fmt.Fprintf(e.stderr, "saved in %s\n", p)
	return exitOK
}

// readKey reads one line from standard input, prompting when it is a
// terminal.
func readKey(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(e.stderr, "API key: ")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the API key from standard input: %w", err)
	}
	k := strings.TrimSpace(line)
	if k == "" {
		return "", errors.New("no API key: give --key or send the key on standard input")
	}
	return k, nil
}

// insecure reports plain http to a host other than this machine.
func insecure(server string) bool {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return false
	}
	ip := net.ParseIP(h)
	return ip == nil || !ip.IsLoopback()
}

func logout(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "logout", "", "  skillvault logout")
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, fs, "unexpected argument %q", pos[0])
	}
	p, err := configPath(e)
	if err != nil {
		return fail(e, "logout: %v", err)
	}
	err = os.Remove(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintln(e.stdout, "not logged in")
	case err != nil:
		return fail(e, "logout: %v", err)
	default:
		fmt.Fprintf(e.stdout, "logged out: removed %s\n", p)
	}
	if e.getenv("SKILLVAULT_API_KEY") != "" {
		fmt.Fprintln(e.stderr, "note: SKILLVAULT_API_KEY is still set in the environment")
	}
	return exitOK
}

func search(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "search", "QUERY... [--mode hybrid|keyword|semantic] [--limit N] [--json]",
		`  skillvault search "turn a csv into a clean table"
  skillvault search postmortem --mode keyword --limit 5 --json`)
	mode := fs.String("mode", "", "hybrid (server default), keyword or semantic")
	limit := fs.Int("limit", 10, "at most this many results (1-200)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	query := strings.TrimSpace(strings.Join(pos, " "))
	switch {
	case query == "":
		return usageError(e, fs, "give a query")
	case *mode != "" && *mode != client.ModeHybrid && *mode != client.ModeKeyword && *mode != client.ModeSemantic:
		return usageError(e, fs, "--mode must be hybrid, keyword or semantic, not %q", *mode)
	case *limit < 1 || *limit > 200:
		return usageError(e, fs, "--limit must be from 1 to 200")
	}
	c, err := connect(e)
	if err != nil {
		return fail(e, "search: %v", err)
	}
	p, err := c.SearchWithClosest(ctx, query, *mode, *limit)
	if err != nil {
		return clientFail(e, "search", err)
	}
	if *asJSON {
		printJSON(e.stdout, p.Items)
		return exitOK
	}
	if len(p.Items) == 0 {
		// Both on stderr: stdout holds matches only, so a script reading
		// it never takes a near miss for a match.
		fmt.Fprintf(e.stderr, "no skill matches %q\n", query)
		if len(p.Closest) > 0 {
			fmt.Fprintln(e.stderr, "closest skills (not matches):")
			for _, r := range p.Closest {
				fmt.Fprintf(e.stderr, "  %s  %s\n", r.Name, shorten(r.Description, 70))
			}
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSCORE\tMATCHED\tDESCRIPTION")
	for _, r := range p.Items {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%s\n", r.Name, versionText(r.Version), r.Score, shorten(r.Matched.String(), 30), shorten(r.Description, 70))
	}
	tw.Flush()
	return exitOK
}

func list(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "list", "[--category C] [--tag T] [--status S] [--sort S] [--limit N] [--json] | --installed [--project DIR | --global]",
		`  skillvault list
  skillvault list --category devops --tag terraform
  skillvault list --status draft --sort name --json
  skillvault list --installed --project .   # what the lock file says, and each folder's state`)
	var f client.ListOptions
	fs.StringVar(&f.Category, "category", "", "only skills of this category")
	fs.StringVar(&f.Tag, "tag", "", "only skills with this tag")
	fs.StringVar(&f.Status, "status", "", "only skills in this status: draft, in_review, published, archived")
	fs.StringVar(&f.Visibility, "visibility", "", "only skills of this visibility: private, tenant, public")
	fs.StringVar(&f.Author, "author", "", "only skills by this author (email)")
	fs.StringVar(&f.Sort, "sort", "", "order: updated (default), rating, uses, name")
	limit := fs.Int("limit", 500, "list at most this many skills")
	asJSON := fs.Bool("json", false, "print the skills as JSON")
	installed := fs.Bool("installed", false, "list the installed skills of a lock file instead, without the server")
	scope := scopeFlags(fs)
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, fs, "unexpected argument %q", pos[0])
	}
	if *installed {
		sc, lock, code, ok := openLock(e, fs, scope)
		if !ok {
			return code
		}
		return listInstalled(e, sc, lock, *asJSON)
	}
	if *limit < 1 {
		return usageError(e, fs, "--limit must be positive")
	}
	c, err := connect(e)
	if err != nil {
		return fail(e, "list: %v", err)
	}
	skills := []client.Skill{}
	cursor := ""
	for len(skills) < *limit {
		f.Limit = min(200, *limit-len(skills))
		p, err := c.ListSkills(ctx, f, cursor)
		if err != nil {
			return clientFail(e, "list", err)
		}
		skills = append(skills, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if *asJSON {
		printJSON(e.stdout, skills)
		return exitOK
	}
	if len(skills) == 0 {
		fmt.Fprintln(e.stderr, "no skills")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSTATUS\tVISIBILITY\tRATING\tDESCRIPTION")
	for _, s := range skills {
		rating := "-"
		if s.RatingCount > 0 {
			rating = fmt.Sprintf("%.1f (%d)", s.RatingAverage, s.RatingCount)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.LatestVersion, s.Status, s.Visibility, rating, shorten(s.Description, 60))
	}
	tw.Flush()
	return exitOK
}

func versionText(v int) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

// shorten cuts s to n runes on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
