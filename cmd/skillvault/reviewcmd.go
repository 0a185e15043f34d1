package main

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/review"
)

func init() {
	register("review rules", "list the safety rules of the builtin review", reviewRules)
}

func reviewRules(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "review rules", "[--json]", `  skillvault review rules
  skillvault review rules --json

Lists each safety rule of the builtin review: its id (shown with every
finding), the most severe finding it gives, the threat it belongs to and
what it finds. A high finding blocks publishing unless an admin
overrides; where a match sits lowers it (REVIEW.md, "Severity policy").`)
	asJSON := fs.Bool("json", false, "print the rules as JSON")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	rules := review.Rules()
	if *asJSON {
		printJSON(e.stdout, rules)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tAT MOST\tTHREAT\tFINDS")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Threat, r.Finds)
	}
	tw.Flush()
	return exitOK
}

// policyFrom is the review policy of an operator's vendor host list
// (serve --review-vendor-hosts, SKILLVAULT_REVIEW_VENDOR_HOSTS); empty
// means the built-in list.
func policyFrom(hosts string) review.Policy {
	if hosts == "" {
		return review.DefaultPolicy
	}
	return review.Policy{VendorHosts: review.ParseVendorHosts(hosts)}
}

// reviewDir runs the builtin review on a folder that lints clean, and
// returns its findings of low severity and above, with whether any would
// block publishing.
func reviewDir(e *env, dir string) ([]review.Finding, bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, false, err
	}
	files, err := bundle.ReadDir(abs, bundle.Limits{})
	if err != nil {
		return nil, false, err
	}
	b, err := bundle.New(files, bundle.Limits{}, filepath.Base(abs))
	if err != nil {
		return nil, false, err
	}
	// The same environment variable as serve's, so that lint judges as
	// the server does.
	r := policyFrom(e.getenv("SKILLVAULT_REVIEW_VENDOR_HOSTS")).Builtin(review.Input{Frontmatter: b.Frontmatter, Body: b.Body, Files: b.Files})
	var out []review.Finding
	for _, f := range r.Findings {
		if f.Severity != review.Info {
			out = append(out, f)
		}
	}
	return out, r.Blocking(), nil
}

// findingAt prints a finding as DIR/FILE:LINE: SEVERITY CATEGORY: MESSAGE [RULE].
func findingAt(dir string, f review.Finding) string {
	msg := f.Severity + " " + f.Category + ": " + f.Message
	if f.Rule != "" {
		msg += " [" + f.Rule + "]"
	}
	return problemAt(dir, bundle.Problem{File: f.File, Line: f.Line, Msg: msg})
}
