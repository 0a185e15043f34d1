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
fix check find keep turn start add change changes build show look get put take
give try tell know think plan choose really everything something someone
people lot lots kind sort stuff thing whole last
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

	// Software engineering.
	"vcs-history":  "history rebase squash fixup reword amend rewrite commit commits log",
	"conflict":     "conflict conflicts conflicting merge merging combine combining rebase",
	"dependency":   "dependency dependencies package packages library libraries module modules upgrade upgrading outdated bump lockfile npm pip semver third-party",
	"refactor":     "refactor refactoring legacy cleanup restructure rewrite untangle tangled spaghetti maintainability fragile",
	"types":        "type types typing typed typescript compiler static annotation annotations",
	"container":    "docker dockerfile container containers image images kubernetes k8s pod pods cluster clusters helm workload workloads manifest manifests",
	"ci":           "ci pipeline pipelines build builds workflow workflows jenkins runner runners job jobs",
	"shell":        "shell bash sh zsh terminal command commands cli",
	"regex":        "regex regexes regexp regular expression expressions pattern patterns",
	"schedule":     "schedule scheduled scheduler schedules cron crontab nightly daily hourly weekly recurring periodic timer timers",
	"cache":        "cache caches caching cached memoize memoization recompute redis memcached ttl",
	"ratelimit":    "rate throttle throttling quota quotas limiter limiting burst bursts overload flood",
	"memory":       "memory ram heap leak leaks allocation allocations oom garbage",
	"load":         "load traffic concurrent concurrency capacity scale scaling throughput stress visitors",
	"backup":       "backup backups restore restoring recovery recover disaster snapshot snapshots replica",
	"monitor":      "monitor monitoring alert alerts alerting page paging pager oncall on-call dashboard dashboards uptime outage down",
	"reliability":  "reliability reliable availability uptime slo slos sli sla error-budget",
	"runbook":      "runbook runbooks playbook procedure escalation mitigation duty",
	"network":      "network networks networking connection connections packet packets bandwidth latency vpn ping traceroute",
	"dns":          "dns domain domains nameserver nameservers resolve resolves resolving address",
	"cloud":        "cloud aws gcp azure hosting hosted instance instances region regions",
	"cost":         "cost costs bill bills billing invoice invoices spend spending budget budgets money price prices pricing expense expenses charge charged cheaper savings",
	"flag":         "flag flags feature-flag toggle toggles rollout gradual percentage canary",
	"contract-api": "contract schema schemas specification spec openapi swagger versioning version versions breaking compatibility",
	"a11y":         "accessibility accessible a11y wcag aria blind disability disabilities screen-reader keyboard contrast",
	"i18n":         "translate translation translations language languages locale locales localization internationalization multilingual spanish french german japanese arabic chinese",
	"crash":        "crash crashes crashing crashed freeze hang closes anr",
	"seo":          "seo google ranking rankings search-engine sitemap crawl crawling indexing",
	"scrape":       "scrape scraping scraper crawler harvest extract extraction collect",

	// Security.
	"attack":  "attack attacks attacker attackers hacker hackers hack breach exploit exploits abuse malicious threat threats adversary",
	"vuln":    "vulnerability vulnerabilities vulnerable cve cves weakness weaknesses flaw flaws scanner scanners advisory",
	"secret":  "secret secrets key keys credential credentials token tokens password passwords leak leaked exposed rotate rotation",
	"login":   "login logins log-in signin sign-in sso oauth oidc account accounts identity authenticate authentication",
	"crypto":  "encrypt encryption encrypted tls ssl https certificate certificates cipher hash hashing hashed salt salted",
	"inject":  "injection inject sql-injection xss script scripting sanitize sanitizing escape escaping untrusted input",
	"privacy": "privacy personal pii gdpr anonymize anonymization anonymise pseudonymize identifiable consent erasure deletion",

	// Data and science.
	"stats":      "statistics statistical significance significant hypothesis chance difference t-test p-value variance",
	"experiment": "experiment experiments variant variants a/b split-test winner conversion control",
	"forecast":   "forecast forecasts forecasting predict prediction predictions future trend trends seasonality demand projection",
	"ml":         "machine-learning ml classifier classifiers classification regression train training trained algorithm features accuracy precision recall",
	"table":      "pandas dataframe dataframes join joins merge groupby aggregate aggregation total totals sum pivot column columns row rows",
	"notebook":   "notebook notebooks jupyter exploratory analysis reproducible rerun",
	"bio":        "dna rna gene genes genome genomic sequence sequences sequencing protein proteins enzyme enzymes species biology bioinformatics",
	"chem":       "chemistry chemical reaction reactions molecule molecules molecular mole moles grams reagent reagents substance compound compounds",
	"physics":    "physics unit units measurement measurements metre metres meter meters mile miles dimension dimensions dimensional conversion convert",
	"research":   "paper papers study studies research literature publication publications published journal journals article articles scholar academic",
	"cite":       "citation citations cite reference references bibliography sources bibtex",
	"typeset":    "latex tex typeset typesetting equation equations formula formulas math maths thesis dissertation",
	"lab":        "lab labs laboratory protocol protocols procedure procedures reproduce repeat replicate",

	// Work and business.
	"meeting":      "meeting meetings call calls transcript transcripts recording minutes action-items",
	"hiring":       "hiring hire recruit recruiting recruitment job opening openings position candidate candidates careers vacancy",
	"support":      "support customer customers client clients ticket tickets complaint complaints refund helpdesk",
	"requirements": "requirements requirement specification prd user-story acceptance criteria",
	"interview":    "interview interviews research insights persona personas conversations",
	"goals":        "goal goals objective objectives okr okrs target targets quarter quarterly",
	"finance":      "finance financial cash runway revenue forecast money",
	"legal":        "contract contracts agreement agreements clause clauses nda terms legal signing liability",
	"onboarding":   "onboarding onboard new-hire newcomer joiner welcome",
}

// phrases are two-word expressions that name a concept their words do not
// name alone ("log in" is about accounts, "log" and "in" are not), read
// from adjacent words after stop words are dropped. Words are stemmed
// when the table is built.
var phrases = map[string]string{
	"log in":            "login",
	"sign in":           "login",
	"single sign":       "login",
	"screen reader":     "a11y",
	"rate limit":        "ratelimit",
	"too many":          "ratelimit",
	"cross site":        "inject",
	"point time":        "backup",
	"time series":       "forecast",
	"machine learning":  "ml",
	"data science":      "stats",
	"pull request":      "review",
	"merge request":     "review",
	"code review":       "review",
	"release notes":     "deploy",
	"feature flag":      "flag",
	"unit test":         "test",
	"load test":         "load",
	"personal data":     "privacy",
	"action item":       "meeting",
	"key result":        "goals",
	"page speed":        "speed",
	"cloud bill":        "cost",
	"dark mode":         "design",
	"spam folder":       "message",
	"junk folder":       "message",
	"access key":        "secret",
	"api key":           "secret",
	"private key":       "secret",
	"dependency update": "dependency",
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

// conceptsByPhrase maps "stem stem" to the concept a phrase names.
var conceptsByPhrase = func() map[string]string {
	m := make(map[string]string, len(phrases))
	for p, c := range phrases {
		var stems []string
		for _, t := range tokenize(p) {
			if w := normalizeWord(t.word); !stopWords[w] {
				stems = append(stems, stem(w))
			}
		}
		if len(stems) == 2 {
			m[stems[0]+" "+stems[1]] = c
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
