package review

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A lineRule finds one kind of danger on a line. When refine is set it
// decides, from the submatches, whether the match counts and at what
// severity ("" to drop it); it also writes the message.
//
// Most lines are harmless, so a rule only runs its expression on lines
// that contain one of its hints (lower-case substrings) and are at least
// minLen bytes long: this keeps a review of a large bundle fast.
type lineRule struct {
	*rule
	hints   []string
	minLen  int
	re      *regexp.Regexp
	message string
	refine  func(m []string) (severity, message string)
}

// Advice shared by several rules.
const (
	suggestSecrets     = "Remove private keys and other secrets from the bundle, and rotate them: anything published here must be treated as leaked."
	suggestEnv         = "Read secrets from the environment or a secret store at run time instead of writing them into files."
	suggestPipe        = "Do not pipe downloads into a shell or interpreter: download, verify a checksum or signature, then run."
	suggestDestructive = "Remove destructive commands; a skill must never wipe disks, home folders or the root file system."
	suggestObfuscated  = "Ship code in readable form: encoded payloads that are decoded and executed cannot be reviewed."
	suggestInvisible   = "Remove invisible and direction-changing Unicode characters: they can show reviewers different text than the agent reads."
)

var safetyRules = []lineRule{
	// Secrets. Messages never repeat the secret: reviews are stored and
	// shown, and must not spread what they found.
	{
		rule:    &rule{id: "private-key", severity: High, category: Safety, suggestion: suggestSecrets},
		hints:   []string{"private key"},
		re:      regexp.MustCompile(`-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP|SSH2) )?PRIVATE KEY( BLOCK)?-----`),
		message: "private key",
	},
	{
		rule:  &rule{id: "aws-key", severity: High, category: Safety, suggestion: suggestSecrets},
		hints: []string{"akia", "asia", "abia", "acca"},
		re:    regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b`),
		refine: func(m []string) (string, string) {
			if strings.HasSuffix(m[1], "EXAMPLE") {
				return Info, "AWS's documented example access key " + m[1] + " (harmless, but check nothing real sits next to it)"
			}
			return High, "AWS access key ID " + redact(m[1])
		},
	},
	{
		rule:    &rule{id: "aws-secret", severity: High, category: Safety, suggestion: suggestSecrets},
		hints:   []string{"secret"},
		re:      regexp.MustCompile(`(?i)aws.{0,20}secret.{0,20}[:=]\s*["']?[A-Za-z0-9/+]{40}\b`),
		message: "AWS secret access key",
	},
	{
		rule:  &rule{id: "token", severity: High, category: Safety, suggestion: suggestSecrets},
		hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "sk-", "k_live_", "aiza", "glpat-", "hooks.slack.com"},
		re: regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,}|sk-(?:proj-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{32,}|[rs]k_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b` +
			`|(https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+)`),
		refine: func(m []string) (string, string) {
			tok := m[1] + m[2]
			return High, tokenKind(tok) + " " + redact(tok)
		},
	},
	{
		rule:  &rule{id: "generic-secret", severity: High, category: Safety, suggestion: suggestEnv},
		hints: []string{"key", "secret", "token", "passw", "authorization", "credential"},
		re:    regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:api[_-]?key|apikey|secret|token|passwd|password|access[_-]?key|private[_-]?key|auth[_-]?token|authorization|credentials?)(?:[_.-][a-z0-9_.-]*)?)["']?\s*[:=]\s*["']([^"'\s]{16,})["']`),
		refine: func(m []string) (string, string) {
			if !looksSecret(m[2]) {
				return "", ""
			}
			return High, "hard-coded secret in " + m[1] + " (" + redact(m[2]) + ")"
		},
	},
	{
		rule:  &rule{id: "env-secret", severity: High, category: Safety, suggestion: suggestEnv},
		hints: []string{"key", "secret", "token", "passw"},
		re:    regexp.MustCompile(`\b([A-Z0-9_]*(?:API_KEY|SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY)(?:_[A-Z0-9_]*)?)=([^\s"'$]{16,})`),
		refine: func(m []string) (string, string) {
			if !looksSecret(m[2]) {
				return "", ""
			}
			return High, "hard-coded secret in " + m[1] + " (" + redact(m[2]) + ")"
		},
	},
	{
		rule:  &rule{id: "bearer", severity: Medium, category: Safety, suggestion: suggestEnv},
		hints: []string{"bearer"},
		re:    regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/-]{30,}=*)`),
		refine: func(m []string) (string, string) {
			if !looksSecret(m[1]) {
				return "", ""
			}
			return Medium, "hard-coded bearer token " + redact(m[1])
		},
	},

	// Running code fetched from the network.
	{
		rule:    &rule{id: "pipe-to-shell", severity: High, category: Safety, suggestion: suggestPipe},
		re:      regexp.MustCompile(`(?i)\b(curl|wget|fetch)\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:(?:ba|z|k|da|c|tc|fi)?sh|python[0-9.]*|perl|ruby|node|php)\b`),
		message: "downloads code and pipes it straight into a shell or interpreter",
		hints:   []string{"curl", "wget", "fetch"},
	},
	{
		rule:    &rule{id: "pipe-to-shell", severity: High, category: Safety, suggestion: suggestPipe},
		re:      regexp.MustCompile(`(?i)\b(?:(?:ba|z|k|da)?sh|source|\.|eval)\s+(?:-c\s+)?["']?(?:<\(|\$\(|` + "`" + `)\s*(?:curl|wget)\b`),
		message: "runs a downloaded script through command substitution",
		hints:   []string{"curl", "wget"},
	},
	{
		rule:    &rule{id: "pipe-to-shell", severity: High, category: Safety, suggestion: suggestPipe},
		re:      regexp.MustCompile(`(?i)\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring)\b[^\n]*\|\s*iex\b|\biex\s*\(\s*(?:new-object\s+net\.webclient|iwr|irm|invoke-webrequest|invoke-restmethod)`),
		message: "downloads code and runs it with Invoke-Expression",
		hints:   []string{"iex"},
	},
	{
		rule:    &rule{id: "reverse-shell", severity: High, category: Safety, suggestion: "Remove anything that opens a shell to a remote host."},
		hints:   []string{"/dev/tcp/", "nc", "socat"},
		re:      regexp.MustCompile(`/dev/tcp/[0-9A-Za-z.-]+/[0-9]+|\bnc(?:at)?\b[^\n]*\s-e\s+/bin/(?:ba)?sh|\bsocat\b[^\n]*exec:[^\n]*sh`),
		message: "opens a shell to a remote host (reverse shell)",
	},

	// Destroying data.
	{
		rule:    &rule{id: "destructive", severity: High, category: Safety, suggestion: suggestDestructive},
		re:      regexp.MustCompile(`\bmkfs(\.[a-z0-9]+)?\b|\bwipefs\b|\bdd\b[^\n]*\bof=/dev/(?:sd|hd|nvme|xvd|vd|disk|rdisk|mmcblk)|>\s*/dev/(?:sd[a-z]|nvme\d|hd[a-z]|disk\d)`),
		message: "overwrites a disk or file system",
		hints:   []string{"mkfs", "wipefs", "/dev/"},
	},
	{
		rule:    &rule{id: "destructive", severity: High, category: Safety, suggestion: suggestDestructive},
		re:      regexp.MustCompile(`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`),
		message: "fork bomb",
		hints:   []string{":("},
	},
	{
		rule:    &rule{id: "destructive", severity: Medium, category: Safety, suggestion: suggestDestructive},
		re:      regexp.MustCompile(`\bchmod\s+(?:-R\s+)?0?777\s+/(?:\s|$)|\bchown\s+-R\s+\S+\s+/(?:\s|$)`),
		message: "changes permissions or ownership of the whole file system",
		hints:   []string{"chmod", "chown"},
	},

	// Hiding what runs.
	{
		rule:    &rule{id: "obfuscated", severity: High, category: Safety, suggestion: suggestObfuscated},
		re:      regexp.MustCompile(`(?i)\bbase64\s+(?:-d|--decode|-D)\b[^\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|k|da)?sh|python[0-9.]*|perl|ruby|node)\b`),
		message: "decodes a base64 payload and runs it",
		hints:   []string{"base64"},
	},
	{
		rule:    &rule{id: "obfuscated", severity: High, category: Safety, suggestion: suggestObfuscated},
		re:      regexp.MustCompile(`(?i)\beval\b[^\n]*(?:base64|b64decode|atob\s*\(|fromcharcode|unhexlify|\\x[0-9a-f]{2})|\bexec\s*\([^\n]*(?:b64decode|unhexlify|zlib\.decompress|marshal\.loads|codecs\.decode)|\bnew\s+Function\s*\([^\n]*atob\s*\(`),
		message: "evaluates a decoded string",
		hints:   []string{"eval", "exec", "function"},
	},
	{
		rule:    &rule{id: "obfuscated", severity: Medium, category: Safety, suggestion: suggestObfuscated},
		re:      regexp.MustCompile(`(?:\\x[0-9a-fA-F]{2}){24,}`),
		message: "long hex-escaped string",
		hints:   []string{`\x`},
	},
	{
		rule:   &rule{id: "blob", severity: Low, category: Safety, suggestion: suggestObfuscated},
		minLen: 200,
		re:     regexp.MustCompile(`(base64,)?[A-Za-z0-9+/]{200,}={0,2}`),
		refine: func(m []string) (string, string) {
			if m[1] != "" {
				return "", "" // a data: URI, e.g. an inline image
			}
			return Low, "long encoded blob; make sure it does not hide code"
		},
	},

	// Reading credentials the skill has no business with.
	{
		rule:  &rule{id: "credential-files", severity: Medium, category: Safety, suggestion: "Do not read SSH keys, cloud credentials or password files; ask the user for what the task needs."},
		hints: []string{".ssh", ".aws", "shadow", ".netrc", ".docker", ".kube", ".git-credentials"},
		re:    regexp.MustCompile(`(?:~|\$HOME|\$\{HOME\})?/?\.ssh/id_[a-z0-9]+|\.aws/credentials|/etc/shadow\b|\.netrc\b|\.docker/config\.json|\.kube/config\b|\.git-credentials\b`),
		refine: func(m []string) (string, string) {
			return Medium, "reads credential files (" + m[0] + ")"
		},
	},

	// Instructions aimed at the agent rather than the task.
	{
		rule:    &rule{id: "prompt-injection", severity: Medium, category: Safety, suggestion: "Remove text that tells the agent to ignore its instructions or to hide things from the user."},
		hints:   []string{"ignore", "disregard", "forget", "the user"},
		re:      regexp.MustCompile(`(?i)\b(ignore|disregard|forget)\s+(all\s+|any\s+|the\s+|your\s+)?(previous|prior|above|earlier|system|original)\s+(instructions|prompts?|directions|rules|guidelines)|\b(do not|don't|never)\s+(tell|inform|alert|notify|mention\s+(this\s+)?to)\s+the\s+user\b`),
		message: "tells the agent to ignore its instructions or keep things from the user",
	},

	// Weakening transport security.
	{
		rule:    &rule{id: "tls-off", severity: Low, category: Safety, suggestion: "Keep TLS certificate checks on."},
		hints:   []string{"-k", "insecure", "verify", "reject"},
		re:      regexp.MustCompile(`\bcurl\b[^\n|]*\s(?:-k|--insecure)\b|verify\s*=\s*False\b|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*["']?0|InsecureSkipVerify:\s*true|rejectUnauthorized:\s*false`),
		message: "turns off TLS certificate verification",
	},
}

var (
	ruleRmRoot = &rule{id: "rm-root", severity: High, category: Safety, suggestion: suggestDestructive}
	ruleRmVar  = &rule{id: "rm-var", severity: Medium, category: Safety, suggestion: `Guard deletions of "$VAR/" paths with ${VAR:?} so an empty variable cannot expand to /.`}
	ruleBidi   = &rule{id: "bidi", severity: Medium, category: Safety, suggestion: suggestInvisible}
	ruleTags   = &rule{id: "unicode-tags", severity: High, category: Safety, suggestion: suggestInvisible}
	ruleZW     = &rule{id: "zero-width", severity: Low, category: Safety, suggestion: suggestInvisible}
)

// checkSafety scans every text file of the bundle, line by line.
// Binary files (a NUL byte, or not UTF-8) are not scanned: the patterns
// are textual, and images would only produce noise.
func (c *checker) checkSafety() {
	scanned := false
	for _, f := range c.in.Files {
		if f.Path == "SKILL.md" {
			scanned = true
		}
		if isBinary(f.Data) {
			continue
		}
		c.scanText(f.Path, string(f.Data), 0)
	}
	if !scanned {
		c.scanText("SKILL.md", c.in.Body, c.bodyOffset)
	}
}

func isBinary(b []byte) bool {
	head := b[:min(len(b), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(b)
}

func (c *checker) scanText(file, text string, offset int) {
	for i, l := range strings.Split(text, "\n") {
		ln := offset + i + 1
		l = strings.TrimSuffix(l, "\r")
		lower := strings.ToLower(l)
		for _, r := range safetyRules {
			if len(l) < r.minLen || len(r.hints) > 0 && !containsAny(lower, r.hints) {
				continue
			}
			m := r.re.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			sev, msg := r.severity, r.message
			if r.refine != nil {
				if sev, msg = r.refine(m); sev == "" {
					continue
				}
			}
			c.addSeverity(r.rule, sev, file, ln, "%s", msg)
		}
		if strings.Contains(l, "rm") {
			c.checkRm(file, ln, l)
		}
		c.checkInvisible(file, ln, l, i == 0)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// rmRE finds rm commands; checkRm then reads their arguments, which a
// regular expression without lookahead cannot judge well.
var rmRE = regexp.MustCompile(`(?:^|[\s;&|(` + "`" + `'"])(?:sudo\s+)?rm\s+([^;&|)\n` + "`" + `]*)`)

// dangerousTargets are paths whose recursive removal destroys a system
// or a home folder.
var dangerousTargets = map[string]bool{
	"/": true, "/*": true, "~": true, "~/": true, "~/*": true,
	"$HOME": true, "$HOME/": true, "$HOME/*": true, "${HOME}": true, "${HOME}/": true, "${HOME}/*": true,
	"/etc": true, "/usr": true, "/bin": true, "/sbin": true, "/boot": true, "/home": true, "/var": true,
	"/lib": true, "/lib64": true, "/opt": true, "/root": true, "/System": true, "/Users": true,
	"/.": true, "/..": true,
}

var varRootRE = regexp.MustCompile(`^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/\*?$`)

func (c *checker) checkRm(file string, ln int, l string) {
	for _, m := range rmRE.FindAllStringSubmatch(l, -1) {
		recursive, noPreserve := false, false
		var targets []string
		for _, arg := range strings.Fields(m[1]) {
			a := strings.Trim(arg, `"'`)
			switch {
			case a == "--no-preserve-root":
				noPreserve = true
			case a == "--recursive" || a == "-r" || a == "-R":
				recursive = true
			case strings.HasPrefix(a, "--"):
			case strings.HasPrefix(a, "-") && len(a) > 1:
				if strings.ContainsAny(a, "rR") {
					recursive = true
				}
			default:
				targets = append(targets, a)
			}
		}
		if !recursive && !noPreserve {
			continue
		}
		for _, t := range targets {
			switch {
			case noPreserve || dangerousTargets[t]:
				c.add(ruleRmRoot, file, ln, "recursive delete of %s", t)
			case varRootRE.MatchString(t):
				c.add(ruleRmVar, file, ln, "recursive delete of %s deletes from / if the variable is empty", t)
			default:
				continue
			}
			break
		}
	}
}

func (c *checker) checkInvisible(file string, ln int, l string, first bool) {
	var bidi, tags, zw bool
	for i, r := range l {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			bidi = true
		case r >= 0xE0000 && r <= 0xE007F:
			tags = true
		case r == 0xFEFF && first && i == 0:
			// a byte-order mark at the start of a file is harmless
		case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
			zw = true
		}
	}
	if tags {
		c.add(ruleTags, file, ln, "invisible Unicode tag characters, which can smuggle instructions to a model")
	}
	if bidi {
		c.add(ruleBidi, file, ln, "bidirectional control characters, which can make text read differently than it runs")
	}
	if zw {
		c.add(ruleZW, file, ln, "zero-width characters")
	}
}

// tokenKind names a provider token by its prefix.
func tokenKind(t string) string {
	switch {
	case strings.HasPrefix(t, "gh"), strings.HasPrefix(t, "github_pat_"):
		return "GitHub token"
	case strings.HasPrefix(t, "xox"):
		return "Slack token"
	case strings.HasPrefix(t, "https://hooks.slack.com/"):
		return "Slack webhook URL"
	case strings.HasPrefix(t, "sk-ant-"):
		return "Anthropic API key"
	case strings.HasPrefix(t, "sk-"):
		return "OpenAI API key"
	case strings.HasPrefix(t, "sk_live_"), strings.HasPrefix(t, "rk_live_"):
		return "Stripe live key"
	case strings.HasPrefix(t, "AIza"):
		return "Google API key"
	case strings.HasPrefix(t, "glpat-"):
		return "GitLab token"
	}
	return "token"
}

// redact keeps enough of a secret to find it, and no more.
func redact(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "…" + "(" + strconv.Itoa(len(s)) + " chars)"
}

// placeholders mark values that only stand for a secret.
var placeholders = []string{"your", "xxxx", "example", "placeholder", "changeme", "change-me", "dummy", "sample", "redacted", "replace", "insert", "<", "${", "{{", "process.env", "os.environ", "getenv", "***", "...", "…", "abcdef", "123456", "0000"}

// looksSecret reports whether v looks like a real credential rather than
// a placeholder or an ordinary word: it mixes letters and digits and has
// the entropy of random text.
func looksSecret(v string) bool {
	lv := strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(lv, p) {
			return false
		}
	}
	var letters, digits bool
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters = true
		}
	}
	return letters && digits && entropy(v) >= 3.0
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
