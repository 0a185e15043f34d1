// Package mcpserver is Skillvault's Model Context Protocol server: tools to
// search, read, rate, record and publish skills, every skill file as a
// resource (skill://{name}/{path}), and MCP's Skills extension over those
// resources (skills.go). The same tools run in two places:
//
//   - inside `skillvault serve` at /mcp (Streamable HTTP), calling the
//     service directly with the Actor of the request's API key (Handler);
//   - in `skillvault mcp` over stdio on a laptop, calling a Skillvault
//     server's REST API with an API key (NewHTTPBackend), never the
//     database.
//
// Both sit behind the Backend interface, so the tools behave the same.
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// Backend is what the tools need from Skillvault, for one caller. Errors
// are *service.Error values (or errors service.AsError understands) so the
// tools can tell not-found from forbidden from invalid.
type Backend interface {
	// SearchSkills finds skills the caller may see, best first. A hit's
	// Digest may be empty (the tool then reads it from the version).
	SearchSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error)
	// ListSkills lists skills the caller may see, a page at a time; next is
	// "" on the last page.
	ListSkills(ctx context.Context, q ListQuery) (skills []store.Skill, next string, err error)
	// Skill returns one skill.
	Skill(ctx context.Context, name string) (store.Skill, error)
	// Version returns a version ("latest" or a number) with its manifest.
	Version(ctx context.Context, name, ref string) (service.VersionDetail, error)
	// File returns one file of a version.
	File(ctx context.Context, name, ref, path string) ([]byte, error)
	// Rate sets the caller's rating of a skill.
	Rate(ctx context.Context, name string, stars int, comment string) (service.RatingResult, error)
	// RecordUsage records one usage event.
	RecordUsage(ctx context.Context, e service.UsageInput) (service.UsageResult, error)
	// Publish stores a bundle as a new skill, or as a new version of the
	// skill its SKILL.md names; dir is the folder the files came from ("" if
	// none), checked against the skill's name.
	Publish(ctx context.Context, files []bundle.File, dir string, publish bool) (service.Published, error)
}

// SearchQuery asks for skills for a task; an empty Query lists the most
// used skills.
type SearchQuery struct {
	Query    string
	Category string
	Tags     []string
	Limit    int
}

// ListQuery asks for a page of skills.
type ListQuery struct {
	Cursor   string
	Category string
	Limit    int
}

// MaxFileBytes bounds what read_skill_file and resources return in one
// answer; bigger files are refused with a message (bundles are small, and a
// model cannot use a 64 MiB file anyway).
const MaxFileBytes = 4 << 20

// toolError turns a backend error into the message a model sees: the kind
// of failure and what to do, never internals. Internal errors are logged.
func toolError(log *slog.Logger, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: the request was cancelled or timed out", op)
	}
	e, ok := service.AsError(err)
	if !ok {
		switch service.KindOf(err) {
		case service.NotFound:
			e = &service.Error{Kind: service.NotFound, Msg: "not found"}
		case service.Unavailable:
			e = &service.Error{Kind: service.Unavailable}
		default:
			log.Error("mcp tool failed", "op", op, "err", err)
			return fmt.Errorf("%s failed: something went wrong on the Skillvault server; try again, and report it if it persists", op)
		}
	}
	var b strings.Builder
	switch e.Kind {
	case service.NotFound:
		b.WriteString("not found: ")
	case service.Forbidden:
		b.WriteString("forbidden: ")
	case service.Unauthenticated:
		b.WriteString("not authenticated: ")
	case service.Invalid:
		b.WriteString("invalid: ")
	case service.Conflict:
		b.WriteString("conflict: ")
	case service.TooLarge:
		b.WriteString("too large: ")
	case service.Unavailable:
		if e.Msg != "" {
			return fmt.Errorf("unavailable: %s; retry shortly", e.Msg)
		}
		return fmt.Errorf("%s: the Skillvault server is unavailable right now; retry shortly", op)
	case service.Internal:
		log.Error("mcp tool failed", "op", op, "err", err)
		return fmt.Errorf("%s failed: something went wrong on the Skillvault server; try again, and report it if it persists", op)
	}
	msg := e.Msg
	if len(e.Problems) > 0 {
		// Bundle errors repeat their problems in the message: list them
		// once, one per line.
		if i := strings.Index(msg, e.Problems[0].String()); i > 0 {
			msg = strings.TrimRight(msg[:i], ": ;")
		}
	}
	b.WriteString(msg)
	for _, p := range e.Problems {
		b.WriteString("\n- ")
		b.WriteString(p.String())
	}
	return errors.New(b.String())
}

// currentRef is the version an agent should use when it names none: the
// published one, or the newest while nothing is published yet.
func currentRef(sk store.Skill) string {
	if sk.PublishedVersion != nil {
		return itoa(*sk.PublishedVersion)
	}
	return "latest"
}

// currentVersion is currentRef as a number.
func currentVersion(sk store.Skill) int {
	if sk.PublishedVersion != nil {
		return *sk.PublishedVersion
	}
	return sk.LatestVersion
}

func itoa(n int) string { return fmt.Sprint(n) }
