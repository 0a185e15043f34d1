package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// topics give generated skills realistic, overlapping vocabulary, so a
// keyword query matches a few percent of a tenant's skills (as a real
// query does), not none and not all.
var topics = []struct {
	name  string
	words []string
}{
	{"pdf", []string{"pdf", "document", "page", "table", "extract", "scan", "ocr", "form", "invoice", "text"}},
	{"spreadsheet", []string{"spreadsheet", "excel", "csv", "column", "row", "formula", "pivot", "chart", "workbook", "cell"}},
	{"slides", []string{"slide", "deck", "presentation", "outline", "speaker", "notes", "template", "layout", "theme", "title"}},
	{"kubernetes", []string{"kubernetes", "cluster", "pod", "deployment", "helm", "container", "namespace", "rollout", "node", "manifest"}},
	{"docker", []string{"docker", "image", "container", "dockerfile", "registry", "layer", "build", "compose", "volume", "tag"}},
	{"postgres", []string{"postgres", "database", "query", "index", "migration", "schema", "vacuum", "replica", "backup", "sql"}},
	{"git", []string{"git", "commit", "branch", "merge", "rebase", "review", "history", "conflict", "tag", "repository"}},
	{"testing", []string{"test", "unit", "coverage", "fixture", "mock", "assertion", "flaky", "suite", "benchmark", "regression"}},
	{"security", []string{"security", "secret", "vulnerability", "scan", "token", "credential", "audit", "permission", "encryption", "policy"}},
	{"email", []string{"email", "message", "inbox", "reply", "draft", "newsletter", "attachment", "thread", "signature", "campaign"}},
	{"calendar", []string{"calendar", "meeting", "schedule", "invite", "agenda", "availability", "timezone", "reminder", "event", "room"}},
	{"finance", []string{"finance", "budget", "expense", "invoice", "ledger", "forecast", "payment", "tax", "revenue", "report"}},
	{"marketing", []string{"marketing", "campaign", "audience", "copy", "brand", "seo", "landing", "conversion", "funnel", "social"}},
	{"sales", []string{"sales", "lead", "pipeline", "crm", "deal", "prospect", "quote", "contract", "forecast", "account"}},
	{"support", []string{"support", "ticket", "customer", "escalation", "faq", "response", "triage", "satisfaction", "chat", "knowledge"}},
	{"hr", []string{"hiring", "candidate", "interview", "onboarding", "payroll", "benefit", "review", "offer", "policy", "employee"}},
	{"legal", []string{"legal", "contract", "clause", "compliance", "privacy", "gdpr", "agreement", "license", "risk", "redline"}},
	{"images", []string{"image", "photo", "resize", "crop", "thumbnail", "color", "filter", "watermark", "png", "jpeg"}},
	{"video", []string{"video", "clip", "subtitle", "transcode", "frame", "trim", "caption", "stream", "audio", "encode"}},
	{"audio", []string{"audio", "podcast", "transcript", "speech", "noise", "volume", "music", "voice", "recording", "mix"}},
	{"writing", []string{"writing", "essay", "grammar", "tone", "summary", "paragraph", "edit", "style", "proofread", "headline"}},
	{"research", []string{"research", "paper", "citation", "source", "literature", "survey", "abstract", "reference", "study", "evidence"}},
	{"data", []string{"data", "pipeline", "etl", "warehouse", "dashboard", "metric", "aggregate", "join", "clean", "dataset"}},
	{"ml", []string{"model", "training", "dataset", "feature", "evaluation", "inference", "embedding", "prompt", "label", "accuracy"}},
	{"web", []string{"web", "html", "css", "component", "react", "page", "accessibility", "form", "browser", "layout"}},
	{"api", []string{"api", "endpoint", "request", "response", "openapi", "rest", "json", "webhook", "rate", "client"}},
	{"cloud", []string{"cloud", "aws", "bucket", "lambda", "terraform", "region", "instance", "cost", "iam", "network"}},
	{"monitoring", []string{"monitoring", "alert", "metric", "log", "trace", "dashboard", "incident", "latency", "uptime", "oncall"}},
	{"mobile", []string{"mobile", "ios", "android", "app", "screen", "notification", "release", "store", "gesture", "device"}},
	{"design", []string{"design", "figma", "mockup", "wireframe", "palette", "typography", "icon", "prototype", "grid", "brand"}},
	{"project", []string{"project", "task", "milestone", "roadmap", "sprint", "backlog", "estimate", "status", "risk", "stakeholder"}},
	{"travel", []string{"travel", "flight", "hotel", "itinerary", "booking", "visa", "trip", "expense", "airport", "route"}},
}

var verbs = []string{"convert", "extract", "summarise", "check", "build", "clean", "generate", "review", "plan", "monitor",
	"translate", "format", "validate", "compare", "merge", "split", "publish", "schedule", "analyse", "fix"}

var filler = []string{"the", "files", "quickly", "with", "clear", "steps", "and", "report", "results", "for", "teams",
	"using", "scripts", "safely", "each", "input", "output", "when", "needed", "before", "sharing", "careful", "notes"}

// Queries are the plain-language requests the search scenarios send, one
// after another.
var Queries = []string{
	"extract tables from scanned pdf invoices",
	"deploy containers to a kubernetes cluster with helm",
	"clean up a csv spreadsheet and build a pivot chart",
	"write meeting agenda and send calendar invites",
	"find leaked secrets and credentials in a repository",
	"summarise customer support tickets by escalation",
	"resize photos and add a watermark",
	"plan a sprint backlog with milestone estimates",
	"transcribe podcast audio into a transcript",
	"review a contract for gdpr privacy clauses",
}

// skillText is the generated text of one skill.
type skillText struct {
	name, title, description, body, category, tags string
}

// genSkill returns skill i of a tenant, deterministically from seed.
func genSkill(seed uint64, i int) skillText {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	t := topics[r.IntN(len(topics))]
	other := topics[r.IntN(len(topics))]
	w := func() string { return t.words[r.IntN(len(t.words))] }
	verb := verbs[r.IntN(len(verbs))]
	a, b := w(), w()
	var body strings.Builder
	fmt.Fprintf(&body, "# %s %s %s\n\n", verb, a, b)
	n := 40 + r.IntN(40)
	for j := range n {
		switch {
		case j%9 == 8:
			body.WriteString(".\n")
		case r.IntN(4) == 0:
			body.WriteString(filler[r.IntN(len(filler))])
		case r.IntN(6) == 0:
			body.WriteString(other.words[r.IntN(len(other.words))])
		default:
			body.WriteString(w())
		}
		body.WriteByte(' ')
	}
	return skillText{
		name:        fmt.Sprintf("%s-%s-%d", t.name, verb, i),
		title:       fmt.Sprintf("%s %s %s", strings.ToUpper(verb[:1])+verb[1:], a, b),
		description: fmt.Sprintf("%s %s %s and %s %s. Use when working with %s %s.", strings.ToUpper(verb[:1])+verb[1:], a, b, w(), w(), t.name, w()),
		body:        body.String(),
		category:    t.name,
		tags:        t.name + "," + verb,
	}
}
