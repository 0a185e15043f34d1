// Command skillvault is the Skillvault registry: server, database tools
// and client in one binary. Run `skillvault help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// Exit codes: 0 ok, 1 failure, 2 usage.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what a command runs with; tests give their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	cleanups       []func()
}

// atExit runs fn when the command has finished, whatever its outcome.
func (e *env) atExit(fn func()) { e.cleanups = append(e.cleanups, fn) }

// runCleanups runs the atExit functions, last registered first.
func (e *env) runCleanups() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

var commands []command

func register(name, summary string, run func(ctx context.Context, e *env, args []string) int) {
	commands = append(commands, command{name, summary, run})
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("SKILLVAULT_LOG_LEVEL"))}))}
	os.Exit(run(ctx, e, os.Args[1:]))
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelInfo
	}
	return l
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		return exitOK
	}
	// Commands are matched on their longest prefix of words: "db start",
	// "tenant create", "serve".
	byLength := append([]command(nil), commands...)
	sort.Slice(byLength, func(i, j int) bool { return len(byLength[i].name) > len(byLength[j].name) })
	for _, c := range byLength {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			defer e.runCleanups()
			return c.run(ctx, e, args[len(words):])
		}
	}
	fmt.Fprintf(e.stderr, "skillvault: unknown command %q\n\n", strings.Join(args, " "))
	usage(e.stderr)
	return exitUsage
}

// clientCommands talk to a server over HTTP(S) with an API key; the
// others run beside the server and its database.
var clientCommands = map[string]bool{"login": true, "logout": true, "push": true, "pull": true, "install": true,
	"search": true, "list": true, "lint": true, "mcp": true, "mcp config": true,
	"sync": true, "update": true, "outdated": true, "uninstall": true, "review rules": true}

func usage(w io.Writer) {
	fmt.Fprint(w, `Skillvault: a multi-tenant registry for AI agent skills.

Usage: skillvault COMMAND [flags]
`)
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, section := range []struct {
		title  string
		client bool
	}{{"Server and database (where Skillvault runs):", false}, {"Client (on any machine, with an API key):", true}} {
		fmt.Fprintf(w, "\n%s\n", section.title)
		for _, c := range sorted {
			if clientCommands[c.name] == section.client {
				fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprint(w, `
Run "skillvault COMMAND --help" for the flags and examples of a command.

Environment:
  SKILLVAULT_HOME          data folder of the embedded database (default ./.skillvault)
  DATABASE_URL             use this PostgreSQL (as the app role) instead of the embedded one
  SKILLVAULT_OWNER_URL     owner-role URL for tenant administration with DATABASE_URL
  SKILLVAULT_ADMIN_URL     superuser URL for "skillvault migrate" with DATABASE_URL
  SKILLVAULT_APP_PASSWORD  password "migrate" gives the app role with DATABASE_URL
  SKILLVAULT_OWNER_PASSWORD  password "migrate" gives the owner role with DATABASE_URL
  SKILLVAULT_RESOLVER_PASSWORD  on Citus: the resolver role's password between the nodes
  SKILLVAULT_SERVER, SKILLVAULT_API_KEY  the server and key of client commands (override "skillvault login")

Start here:
  skillvault serve         runs the server on http://127.0.0.1:8080 with an embedded database
                           and prints an admin API key and a web sign-in link on first start
`)
}

// newFlags makes a flag set whose --help shows the command's usage, its
// flags and examples, and whose usage errors show one line: the synopsis
// and where the rest is.
func newFlags(e *env, name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: skillvault %s %s\nRun \"skillvault %s --help\" for its flags and examples.\n", name, synopsis, name)
	}
	help := func() {
		fmt.Fprintf(e.stderr, "Usage: skillvault %s %s\n", name, synopsis)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(e.stderr, "\nFlags:")
			printFlags(e.stderr, fs)
		}
		if examples != "" {
			fmt.Fprintf(e.stderr, "\nExamples:\n%s\n", examples)
		}
	}
	helps.Store(fs, help)
	return fs
}

// helps holds each flag set's full help; the flag package itself only
// knows one usage function, which it calls for errors and -help alike.
var helps sync.Map // *flag.FlagSet → func()

// printFlags lists the flags as the synopses write them (--name, not the
// flag package's -name).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			if kind == "string" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
		}
		fmt.Fprintln(w)
	})
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// parse parses flags and reports whether the command should go on; code is
// the exit code when it should not.
func parse(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if wantsHelp(args) {
		if h, ok := helps.Load(fs); ok {
			h.(func())()
			return false, exitOK
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, exitOK
		}
		return false, exitUsage
	}
	return true, 0
}

func fail(e *env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "skillvault: "+format+"\n", args...)
	return exitFail
}
