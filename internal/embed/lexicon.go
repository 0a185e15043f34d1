package embed

import "strings"

// stopWords carry no topic: they are dropped before any feature is made.
// The list is the usual English function words plus the fragments that
// splitting contractions on the apostrophe leaves behind (don't → don).
var stopWords = toSet(`
a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down
during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just let me more most my
myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours
yourself yourselves
don doesn didn isn aren wasn weren hasn haven hadn won wouldn shouldn couldn
can't cannot ll ve re
also etc eg ie via per within without upon may might must shall us
e.g i.e
`)

// genericWords appear in almost every skill, so matching on them says
// little; they count for genericWeight instead of 1. This is the built-in
// stand-in for inverse document frequency, which a stateless embedder
// cannot measure. Entries are stemmed when the table is built.
var genericWords = toSet(`
use using used uses user users skill skills claude make makes making need needs
want wants help helps work works working file files create creates creating
created get gets set way thing things like one two new good well best always
never see include includes including provide provides follow following
specific each every example examples step steps first next following instead
sure able based run running time note important ensure appropriate available
whether whenever want task tasks request requests approach option options
consider used different simple complete clear
`)

const genericWeight = 0.35

// concepts groups words that name the same need in software-task
// vocabulary, so that a paraphrase meets the text it paraphrases: a query
// for a "picture" finds a skill about "images", one for a "newsletter"
// finds "internal communications". Every word of a group adds the group's
// concept feature to the vector. Words are stemmed when the table is
// built, so any inflection of a listed word counts.
var concepts = map[string]string{
	"test":       "test tests testing tester qa verify verification validate validation assert assertion e2e regression unittest pytest jest playwright selenium cypress puppeteer",
	"browser":    "browser browsers chromium chrome firefox webkit safari headless playwright selenium puppeteer cypress tab",
	"web":        "web website webpage webapp site page pages frontend html css dom http localhost react vue svelte angular nextjs tailwind javascript",
	"ui":         "ui ux interface layout component button form widget screen dashboard frontend page view menu modal navigation",
	"design":     "design designer aesthetic aesthetics visual mockup wireframe style styling look polish beautiful stylish distinctive elegant typography layout theme",
	"type":       "typography font fonts typeface typefaces serif sans lettering heading headings",
	"color":      "color colors palette hue hex rgb shade tint accent contrast",
	"brand":      "brand branding logo logos identity guideline guidelines trademark corporate look-and-feel consistent",
	"image":      "image images picture pictures graphic graphics art artwork artworks illustration drawing draw paint painting visual photo photograph render sketch canvas svg png poster wallpaper",
	"generative": "generative algorithmic procedural random randomness noise perlin seed seeded particle particles fractal flowfield emergent stochastic chaos organic",
	"motion":     "animation animations animate animated motion transition interactive movement moving flow flowing dynamic",
	"code":       "code coding program programming script scripts implement implementation develop developer development software javascript typescript python js ts",
	"doc":        "doc docs documentation document readme manual guide guidance reference references wiki handbook tutorial howto",
	"message":    "email emails mail message messages newsletter newsletters announcement announcements announce memo memos bulletin comms communication communications communicate broadcast notify notification post letter",
	"report":     "report reports status summary summarize recap update updates progress weekly monthly digest writeup briefing",
	"incident":   "incident incidents outage outages postmortem downtime failure sev emergency",
	"faq":        "faq faqs question questions answer answers q&a ask",
	"org":        "company companies internal organization org team teams staff employee employees corporate colleague colleagues leadership executive exec execs manager managers stakeholder stakeholders workplace coworkers",
	"api":        "api apis endpoint endpoints rest http graphql webhook webhooks rpc sdk openapi",
	"server":     "server servers service services backend daemon host hosting localhost",
	"integrate":  "integrate integration integrations connect connector connectors plugin plugins extension bridge adapter third-party external",
	"tool":       "tool tools toolkit tooling utility utilities helper helpers function functions capability capabilities",
	"llm":        "llm llms model models ai agent agents claude gpt assistant chatbot mcp",
	"deploy":     "deploy deployment release releases ship shipping publish rollout launch deliver production ci cd pipeline",
	"debug":      "debug debugging bug bugs troubleshoot diagnose error errors exception crash fix issue issues stacktrace console log logs logging trace",
	"capture":    "screenshot screenshots capture snapshot snapshots screengrab record",
	"automate":   "automate automation automated automatic script scripts bot workflow headless click clicking scrape crawl",
	"data":       "data dataset datasets csv spreadsheet spreadsheets table tables excel json record records",
	"database":   "database databases db sql postgres postgresql mysql sqlite query queries schema",
	"security":   "security secure secret secrets credential credentials auth authentication authorization token tokens password passwords permission permissions vulnerability login signin",
	"slides":     "presentation presentations slide slides deck decks pptx powerpoint keynote",
	"office":     "pdf docx xlsx word spreadsheet",
	"write":      "write writing draft drafting compose author copy copywriting wording text prose tone",
	"evaluate":   "evaluation evaluations evaluate eval evals benchmark metric metrics score assess measure",
	"search":     "search find lookup retrieve discover discovery",
	"chart":      "chart charts graph graphs plot plots visualization visualize diagram diagrams",
	"media":      "video videos audio sound music gif",
	"mobile":     "mobile ios android responsive phone tablet",
	"speed":      "performance speed fast faster optimize optimization latency slow",
	"review":     "review reviews critique feedback audit inspect inspection",
	"git":        "git github gitlab commit commits branch branches merge pull",
}

const conceptWeight = 0.8

// conceptsByStem maps a stem to the concepts its word belongs to.
var conceptsByStem = func() map[string][]string {
	m := make(map[string][]string)
	for c, words := range concepts {
		for _, w := range strings.Fields(words) {
			for _, t := range tokenize(w) {
				s := stem(normalizeWord(t.word))
				if !contains(m[s], c) {
					m[s] = append(m[s], c)
				}
			}
		}
	}
	return m
}()

var genericStems = func() map[string]bool {
	m := make(map[string]bool)
	for w := range genericWords {
		m[stem(w)] = true
	}
	return m
}()

func toSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
