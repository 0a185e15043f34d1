package review

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A lineRule finds one kind of danger on a line. When refine is set it
// decides, from the submatches, whether the match counts and at what
// severity ("" to drop it); it also writes the message. The severity is
// then weighed by where the line sits (see weigh).
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
	refine  func(c *checker, l string, m []string) (severity, message string)
}

// Advice shared by several rules.
const (
	suggestSecrets     = "Remove private keys and other secrets from the bundle, and rotate them: anything published here must be treated as leaked."
	suggestEnv         = "Read secrets from the environment or a secret store at run time instead of writing them into files."
	suggestPipe        = "Do not pipe downloads into a shell or interpreter: download, verify a checksum or signature, then run."
	suggestDestructive = "Remove destructive commands; a skill must never wipe disks, home folders or the root file system."
	suggestObfuscated  = "Ship code in readable form: encoded payloads that are decoded and executed cannot be reviewed."
	suggestInvisible   = "Remove invisible and direction-changing Unicode characters: they can show reviewers different text than the agent reads."
	suggestExfil       = "Do not send environment variables, credentials or local files to remote hosts; send only what the task needs, to the service it is for."
	suggestCreds       = "Do not read SSH keys, cloud credentials, browser stores or keychains; ask the user for what the task needs."
	suggestPersist     = "Do not install cron jobs, login items, shell start-up lines or hooks: a skill runs when asked, not on its own."
	suggestInjection   = "Remove text that tells the agent to ignore its instructions, take another role, or hide things from the user."
)

// Threats, as public skill scanners and the OWASP agentic top-10 name them.
const (
	threatSecrets     = "hard-coded secrets"
	threatExfil       = "data exfiltration"
	threatCreds       = "credential harvesting"
	threatRemoteCode  = "remote code execution"
	threatObfuscation = "obfuscation"
	threatPersistence = "persistence"
	threatDestructive = "destructive action"
	threatInjection   = "prompt injection"
	threatHidden      = "hidden content"
	threatMalware     = "malware signature"
	threatTransport   = "insecure transport"
)

// Safety rules. Several line rules may share a rule: they count as one.
var (
	rulePrivateKey = &rule{id: "private-key", severity: High, category: Safety, suggestion: suggestSecrets, class: classSecret, threat: threatSecrets,
		doc: "a PEM private key block (RSA, EC, OpenSSH, PGP…)"}
	ruleAWSKey = &rule{id: "aws-key", severity: High, category: Safety, suggestion: suggestSecrets, class: classSecret, threat: threatSecrets,
		doc: "an AWS access key id; AWS's documented EXAMPLE keys and placeholders are info"}
	ruleAWSSecret = &rule{id: "aws-secret", severity: High, category: Safety, suggestion: suggestSecrets, class: classSecret, threat: threatSecrets,
		doc: "an AWS secret access key assigned to an aws…secret key"}
	ruleToken = &rule{id: "token", severity: High, category: Safety, suggestion: suggestSecrets, class: classSecret, threat: threatSecrets,
		doc: "provider tokens by their prefix (GitHub, Slack, OpenAI, Anthropic, Stripe live, Google, GitLab, Slack webhooks), unless the rest is a placeholder"}
	ruleGenericSecret = &rule{id: "generic-secret", severity: High, category: Safety, suggestion: suggestEnv, class: classSecret, threat: threatSecrets,
		doc: "a random-looking value under a key named like a secret (api_key, token, password…); URLs, paths, placeholders, sequences and dictionary words are not secrets"}
	ruleBearer = &rule{id: "bearer", severity: Medium, category: Safety, suggestion: suggestEnv, class: classSecret, threat: threatSecrets,
		doc: "a random-looking bearer token written into a header"}
	rulePipe = &rule{id: "pipe-to-shell", severity: High, category: Safety, suggestion: suggestPipe, class: classBehaviour, threat: threatRemoteCode,
		doc: "a download piped or substituted into a shell or interpreter; medium from an operator-listed vendor host (official installers), low from example hosts"}
	ruleRemoteEval = &rule{id: "remote-eval", severity: High, category: Safety, suggestion: suggestObfuscated, class: classBehaviour, threat: threatRemoteCode,
		doc: "eval/exec of downloaded or decoded data in a Python or JavaScript script (traced through assignments)"}
	ruleBackdoor = &rule{id: "backdoor", severity: High, category: Safety, suggestion: "Remove hidden triggers: a skill must behave the same for every input.", class: classBehaviour, threat: threatRemoteCode,
		doc: "a magic-string backdoor in a Python or JavaScript script: a comparison with an odd literal (mixed case, digits, symbols) guarding exec, eval, a shell or a subprocess"}
	ruleReverseShell = &rule{id: "reverse-shell", severity: High, category: Safety, suggestion: "Remove anything that opens a shell to a remote host.", class: classBehaviour, threat: threatRemoteCode,
		doc: "a shell connected to a remote host (/dev/tcp, nc -e, socat exec)"}
	ruleDestructive = &rule{id: "destructive", severity: High, category: Safety, suggestion: suggestDestructive, class: classBehaviour, threat: threatDestructive,
		doc: "overwriting disks or file systems, deleting everything under / or the home folder with find, fork bombs; chmod/chown of / is medium"}
	ruleObfuscated = &rule{id: "obfuscated", severity: High, category: Safety, suggestion: suggestObfuscated, class: classBehaviour, threat: threatObfuscation,
		doc: "base64/hex/char-code decoding fed to a shell, eval or exec; long hex-escaped strings are medium"}
	ruleBlob = &rule{id: "blob", severity: Low, category: Safety, suggestion: suggestObfuscated, class: classBehaviour, threat: threatObfuscation,
		doc: "a long base64-like run mixing letters, digits and symbols (not data: URIs, not sequences of letters such as proteins or DNA)"}
	ruleExfil = &rule{id: "exfiltration", severity: High, category: Safety, suggestion: suggestExfil, class: classBehaviour, threat: threatExfil,
		doc: "a network send of the environment, credential files, or file contents together with an environment secret (shell pipes, curl uploads, requests/fetch bodies); an environment variable alone in a request body is medium"}
	ruleCreds = &rule{id: "credential-files", severity: High, category: Safety, suggestion: suggestCreds, class: classBehaviour, threat: threatCreds,
		doc: "reading SSH private keys, /etc/shadow, browser password and cookie stores, keychains (high); cloud, Docker, Kubernetes, netrc and git credentials (medium); a mere mention is low; traversal payloads (../../etc/shadow) are not reads"}
	rulePersist = &rule{id: "persistence", severity: High, category: Safety, suggestion: suggestPersist, class: classBehaviour, threat: threatPersistence,
		doc: "installing cron jobs, launch agents, Windows Run keys or scheduled tasks (high); systemd units, git hooks and shell start-up lines (medium, high when they fetch or decode code)"}
	ruleInjection = &rule{id: "prompt-injection", severity: High, category: Safety, suggestion: suggestInjection, class: classInjection, threat: threatInjection,
		doc: "override phrases (ignore previous instructions), concealment (do not tell the user), role hijack (developer mode, fake system tags) and magic-string triggers; high in SKILL.md and reference prose, medium when quoted, in code, explained in a reference, or in scripts"}
	ruleEICAR = &rule{id: "eicar", severity: High, category: Safety, suggestion: "Remove the test-virus signature: every virus scanner will quarantine the skill.", class: classHidden, threat: threatMalware,
		doc: "the EICAR anti-virus test signature, anywhere"}
	ruleTLS = &rule{id: "tls-off", severity: Low, category: Safety, suggestion: "Keep TLS certificate checks on.", class: classBehaviour, threat: threatTransport,
		doc: "TLS certificate checks turned off in an HTTP call (curl -k, verify=False on requests/httpx, NODE_TLS_REJECT_UNAUTHORIZED=0…)"}
	ruleRmRoot = &rule{id: "rm-root", severity: High, category: Safety, suggestion: suggestDestructive, class: classBehaviour, threat: threatDestructive,
		doc: "recursive delete of /, a system folder or the home folder"}
	ruleRmVar = &rule{id: "rm-var", severity: Medium, category: Safety, suggestion: `Guard deletions of "$VAR/" paths with ${VAR:?} so an empty variable cannot expand to /.`, class: classBehaviour, threat: threatDestructive,
		doc: `recursive delete of "$VAR/", which deletes from / when the variable is empty`}
	ruleBidi = &rule{id: "bidi", severity: High, category: Safety, suggestion: suggestInvisible, class: classHidden, threat: threatHidden,
		doc: "bidirectional override and isolate characters (Trojan Source), anywhere; low on lines of right-to-left text"}
	ruleTags = &rule{id: "unicode-tags", severity: High, category: Safety, suggestion: suggestInvisible, class: classHidden, threat: threatHidden,
		doc: "Unicode tag characters U+E0000–E007F, which spell text only a model reads, anywhere (emoji flag sequences excepted)"}
	ruleZW = &rule{id: "zero-width", severity: Low, category: Safety, suggestion: suggestInvisible, class: classHidden, threat: threatHidden,
		doc: "zero-width characters (low; high when six or more on a line can encode hidden text); a joiner inside an emoji sequence is not counted"}
)

var safetyRules = []lineRule{
	// Secrets. Messages never repeat the secret: reviews are stored and
	// shown, and must not spread what they found.
	{
		rule:    rulePrivateKey,
		hints:   []string{"private key"},
		re:      regexp.MustCompile(`-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP|SSH2) )?PRIVATE KEY( BLOCK)?-----`),
		message: "private key",
	},
	{
		rule:  ruleAWSKey,
		hints: []string{"akia", "asia", "abia", "acca"},
		re:    regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b`),
		refine: func(_ *checker, _ string, m []string) (string, string) {
			if strings.HasSuffix(m[1], "EXAMPLE") {
				return Info, "AWS's documented example access key " + m[1] + " (harmless, but check nothing real sits next to it)"
			}
			if placeholder(tokenBody(m[1])) {
				return "", ""
			}
			return High, "AWS access key ID " + redact(m[1])
		},
	},
	{
		rule:  ruleAWSSecret,
		hints: []string{"secret"},
		re:    regexp.MustCompile(`(?i)aws.{0,20}secret.{0,20}[:=]\s*["']?([A-Za-z0-9/+]{40})\b`),
		refine: func(_ *checker, _ string, m []string) (string, string) {
			if placeholder(m[1]) {
				return "", ""
			}
			return High, "AWS secret access key"
		},
	},
	{
		rule:  ruleToken,
		hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "sk-", "k_live_", "aiza", "glpat-", "hooks.slack.com"},
		re: regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,}|sk-(?:proj-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{32,}|[rs]k_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})` +
			`|(https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+)`),
		refine: func(_ *checker, l string, m []string) (string, string) {
			tok := m[1] + m[2]
			if placeholder(tokenBody(tok)) || strings.Contains(l, tok+"…") || strings.Contains(l, tok+"...") {
				return "", ""
			}
			return High, tokenKind(tok) + " " + redact(tok)
		},
	},
	{
		rule:   ruleGenericSecret,
		hints:  []string{"key", "secret", "token", "passw", "authorization", "credential"},
		re:     regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:api[_-]?key|apikey|secret|token|passwd|password|access[_-]?key|private[_-]?key|auth[_-]?token|authorization|credentials?)(?:[_.-][a-z0-9_.-]*)?)["']?\s*[:=]\s*["']([^"'\s]{16,})["']`),
		refine: genericSecret,
	},
	{
		rule:   ruleGenericSecret,
		hints:  []string{"key", "secret", "token", "passw"},
		re:     regexp.MustCompile(`\b([A-Z0-9_]*(?:API_KEY|SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY)(?:_[A-Z0-9_]*)?)=([^\s"'$]{16,})`),
		refine: genericSecret,
	},
	{
		rule:  ruleBearer,
		hints: []string{"bearer"},
		re:    regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/-]{30,}=*)`),
		refine: func(_ *checker, _ string, m []string) (string, string) {
			if !looksSecret(m[1]) {
				return "", ""
			}
			return Medium, "hard-coded bearer token " + redact(m[1])
		},
	},

	// Running code fetched from the network.
	{
		rule:   rulePipe,
		re:     regexp.MustCompile(`(?i)\b(curl|wget|fetch)\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:(?:ba|z|k|da|c|tc|fi)?sh|python[0-9.]*|perl|ruby|node|php)\b`),
		hints:  []string{"curl", "wget", "fetch"},
		refine: pipeFrom("downloads code and pipes it straight into a shell or interpreter"),
	},
	{
		rule:   rulePipe,
		re:     regexp.MustCompile(`(?i)\b(?:(?:ba|z|k|da)?sh|source|\.|eval|python[0-9.]*|perl|ruby|node)\s+(?:-c\s+|-e\s+)?["']?(?:<\(|\$\(|` + "`" + `)\s*(?:curl|wget)\b[^\n]*`),
		hints:  []string{"curl", "wget"},
		refine: pipeFrom("runs a downloaded script through command substitution"),
	},
	{
		rule:   rulePipe,
		re:     regexp.MustCompile(`(?i)\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring)\b[^\n]*\|\s*iex\b|\biex\s*\(\s*(?:new-object\s+net\.webclient|iwr|irm|invoke-webrequest|invoke-restmethod)[^\n]*`),
		hints:  []string{"iex"},
		refine: pipeFrom("downloads code and runs it with Invoke-Expression"),
	},
	{
		rule:    ruleReverseShell,
		hints:   []string{"/dev/tcp/", "nc", "socat"},
		re:      regexp.MustCompile(`/dev/tcp/[0-9A-Za-z.-]+/[0-9]+|\bnc(?:at)?\b[^\n]*\s-e\s+/bin/(?:ba)?sh|\bsocat\b[^\n]*exec:[^\n]*sh`),
		message: "opens a shell to a remote host (reverse shell)",
	},

	// Destroying data.
	{
		rule:    ruleDestructive,
		re:      regexp.MustCompile(`\bfind\s+(?:/|~/?|\$HOME/?|\$\{HOME\}/?)(?:\s|$)[^\n]*(?:-delete\b|-exec\s+rm\b)|\bshred\b[^\n]*\s(?:/dev/|~|\$HOME)|\bmkfs(\.[a-z0-9]+)?\s+/dev/|\bwipefs\b|\bdd\b[^\n]*\bof=/dev/(?:sd|hd|nvme|xvd|vd|disk|rdisk|mmcblk)|>\s*/dev/(?:sd[a-z]|nvme\d|hd[a-z]|disk\d)`),
		message: "destroys a disk, a file system or the home folder",
		hints:   []string{"mkfs", "wipefs", "/dev/", "find", "shred"},
	},
	{
		rule:    ruleDestructive,
		re:      regexp.MustCompile(`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`),
		message: "fork bomb",
		hints:   []string{":("},
	},
	{
		rule:  ruleDestructive,
		re:    regexp.MustCompile(`\bchmod\s+(?:-R\s+)?0?777\s+/(?:\s|$)|\bchown\s+-R\s+\S+\s+/(?:\s|$)`),
		hints: []string{"chmod", "chown"},
		refine: func(*checker, string, []string) (string, string) {
			return Medium, "changes permissions or ownership of the whole file system"
		},
	},

	// Hiding what runs.
	{
		rule:    ruleObfuscated,
		re:      regexp.MustCompile(`(?i)\bbase64\s+(?:-d|--decode|-D)\b[^\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|k|da)?sh|python[0-9.]*|perl|ruby|node)\b|\bxxd\s+-r\b[^\n]*\|\s*(?:ba)?sh\b`),
		message: "decodes a base64 payload and runs it",
		hints:   []string{"base64", "xxd"},
	},
	{
		rule:    ruleObfuscated,
		re:      regexp.MustCompile(`(?i)(?:^|[^.\w])eval(?:\s*\(|\s+["'$` + "`" + `])[^\n]*(?:base64|b64decode|atob\s*\(|fromcharcode|unhexlify|fromhex|\\x[0-9a-f]{2})|(?:^|[^.\w])exec\s*\([^\n]*(?:b64decode|unhexlify|fromhex|zlib\.decompress|marshal\.loads|codecs\.decode|chr\s*\()|\bnew\s+Function\s*\([^\n]*(?:atob\s*\(|fromcharcode)|__import__\(\s*['"]base64['"]\s*\)`),
		message: "evaluates a decoded string",
		hints:   []string{"eval", "exec", "function", "__import__"},
	},
	{
		rule:    ruleObfuscated,
		re:      regexp.MustCompile(`(?:\bos\.system|\bos\.popen|\bsubprocess\.\w+|\bexec\w*|\bspawn\w*|\beval|\bFunction)\s*\([^\n]*(?:b64decode|unhexlify|fromhex|Buffer\.from\([^\n]*['"](?:base64|hex)['"]|atob\s*\()`),
		message: "runs a decoded command",
		hints:   []string{"system", "popen", "subprocess", "exec", "spawn", "eval", "function"},
	},
	{
		rule:  ruleObfuscated,
		re:    regexp.MustCompile(`(?:\\x[0-9a-fA-F]{2}){24,}`),
		hints: []string{`\x`},
		refine: func(*checker, string, []string) (string, string) {
			return Medium, "long hex-escaped string"
		},
	},
	{
		rule:   ruleBlob,
		minLen: 200,
		re:     regexp.MustCompile(`(base64,)?[A-Za-z0-9+/]{200,}={0,2}`),
		refine: func(_ *checker, _ string, m []string) (string, string) {
			if m[1] != "" || !mixed(m[0]) {
				return "", "" // a data: URI (an inline image), or letters only (a protein, DNA)
			}
			return Low, "long encoded blob; make sure it does not hide code"
		},
	},

	// Sending what the skill has no business sending.
	{
		rule:    ruleExfil,
		hints:   []string{"env", "printenv"},
		re:      regexp.MustCompile(`(?i)\b(?:env|printenv|set)\b\s*(?:\|\s*base64\s*)?\|\s*(?:curl|wget|nc|ncat|socat|telnet)\b|\b(?:curl|wget)\b[^\n]*\$\((?:env|printenv)\)`),
		message: "sends the environment (and every secret in it) to a remote host",
	},
	{
		rule:    ruleExfil,
		hints:   []string{"curl", "wget", "nc ", "scp"},
		re:      regexp.MustCompile(`(?i)\b(?:curl|wget)\b[^\n]*(?:-d|--data[a-z-]*|-F|--form|-T|--upload-file|--post-file|--post-data|--body-file)[ =]\S*` + credPath + `|\b(?:cat|tar|zip|base64)\b[^\n|]*` + credPath + `[^\n|]*\|\s*(?:curl|wget|nc|ncat)\b|\b(?:nc|ncat)\b[^\n]*<\s*\S*` + credPath + `|\b(?:curl|wget)\b[^\n]*\$\(\s*cat\s+\S*` + credPath + `|\bscp\b[^\n]*` + credPath + `\S*\s+\S+@\S+:`),
		message: "sends credential files to a remote host",
	},

	// Reading credentials the skill has no business with.
	{
		rule:   ruleCreds,
		hints:  []string{".ssh", "shadow", "login data", "cookies", "logins.json", "key4.db", "keychain", "security ", "secret-tool", "wallet.dat", "local state"},
		re:     regexp.MustCompile(`(\.\.)?(?:` + `(?:~|\$HOME|\$\{HOME\})?/?\.ssh/id_[a-z0-9]+(?:\.pub)?|/etc/shadow\b|(?:Google/Chrome|Chromium|BraveSoftware|Microsoft/Edge|google-chrome|chromium)/[^\n]*(?:Login Data|Cookies|Web Data|Local State)|(?:Firefox|\.mozilla/firefox)[^\n]*(?:logins\.json|key4\.db|cookies\.sqlite)|\bsecurity\s+(?:find-(?:generic|internet)-password|dump-keychain)|login\.keychain(?:-db)?|\bsecret-tool\s+lookup|wallet\.dat` + `)`),
		refine: credentialRead(High),
	},
	{
		rule:   ruleCreds,
		hints:  []string{".aws", ".netrc", ".docker", ".kube", ".git-credentials", "gcloud"},
		re:     regexp.MustCompile(`(\.\.)?(?:\.aws/credentials|\.netrc\b|\.docker/config\.json|\.kube/config\b|\.git-credentials\b|\.config/gcloud/(?:credentials|application_default_credentials))`),
		refine: credentialRead(Medium),
	},

	// Running again later, unasked.
	{
		rule:    rulePersist,
		hints:   []string{"crontab", "cron", "launch", "schtasks", "currentversion"},
		re:      regexp.MustCompile(`(?i)\|\s*crontab\s*(?:-\s*)?(?:$|[;&)])|\bcrontab\s+(?:-u\s+\S+\s+)?[^-\s]\S*|>>?\s*/etc/cron|/var/spool/cron/|Library/Launch(?:Agents|Daemons)/|\blaunchctl\s+(?:load|bootstrap)\b|\bschtasks\s+/create\b|CurrentVersion\\+Run\b`),
		message: "installs itself to run again later (cron job, launch agent, scheduled task or Run key)",
	},
	{
		rule:   rulePersist,
		hints:  []string{"rc", "profile", "zshenv", "systemd", "systemctl", ".git/hooks", "config.fish"},
		re:     regexp.MustCompile(`(?:>>?|\btee\s+-a)\s*["']?(?:~|\$HOME|\$\{HOME\})/\.(?:bashrc|zshrc|profile|bash_profile|zprofile|zshenv|bash_login|config/fish/config\.fish)|\bsystemctl\s+(?:--user\s+)?enable\b|/etc/systemd/system/|\.config/systemd/user/|(?:>|\bcp\b|\bln\b|\btee\b|\bmv\b|chmod\s+\+x)[^\n]*\.git/hooks/`),
		refine: persistence,
	},

	// Instructions aimed at the agent rather than the task.
	{
		rule:    ruleInjection,
		hints:   []string{"ignore", "disregard", "forget", "override", "bypass"},
		re:      regexp.MustCompile(`(?i)\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+)*(?:previous|prior|above|earlier|system|original|safety|existing)\s+(?:instructions|prompts?|directions|rules|guidelines|messages|guardrails|restrictions)|\bforget\s+(?:everything|all)\s+(?:you\s+were|you've\s+been|that\s+you\s+were)\s+told\b`),
		message: "tells the agent to ignore its instructions",
	},
	{
		rule:    ruleInjection,
		hints:   []string{"the user", "user's", "secret", "silently", "mention"},
		re:      regexp.MustCompile(`(?i)\bwithout\s+the\s+user(?:'s)?\s+(?:knowledge|knowing|consent|noticing)\b|\bsecretly\s+(?:send|upload|post|copy|run|execute|install|collect|read)\b|\b(?:do not|don't|never|must not)\s+(?:tell|inform|alert|notify|warn|show|reveal\s+(?:this|it)\s+to|mention\s+(?:this|it|that|these)\s+to)\s+the\s+user\b|\b(?:do not|don't|never|must not)\s+(?:mention|reveal|disclose)\s+(?:this|that|these|it)\b[^.\n]{0,40}\b(?:user|anyone|output|response)|\bwithout\s+(?:telling|informing|asking|notifying|alerting)\s+the\s+user\b|\b(?:hide|conceal|keep)\s+(?:this|it|these)\s+(?:secret\s+)?from\s+the\s+user\b|\bsilently\s+(?:send|upload|post|copy|exfiltrat\w*|transmit|forward)\b|\bkeep\s+this\s+(?:secret|hidden|confidential)\b`),
		message: "tells the agent to keep things from the user",
	},
	{
		rule:    ruleInjection,
		hints:   []string{"you are", "developer mode", "jailbr", "system", "inst]", "im_start", "dan", "from now on"},
		re:      regexp.MustCompile(`(?i)\byou\s+are\s+(?:now\s+)?(?:DAN\b|in\s+(?:developer|god|jailbreak)\s+mode|jailbroken|no\s+longer\s+(?:bound|restricted|an?\s+(?:ai|assistant)))|\b(?:enable|enter|activate)\s+(?:developer|god|jailbreak)\s+mode\b|\bfrom\s+now\s+on,?\s+you\s+(?:will|must|are)\s+(?:ignore|not\s+follow|no\s+longer)|^\s*(?:<\|?(?:system|im_start)\|?>|\[(?:SYSTEM|INST)\])|\bnew\s+system\s+prompt\s*:`),
		message: "tries to give the agent another role or a fake system prompt",
	},
	{
		rule:    ruleInjection,
		hints:   []string{"if", "when"},
		minLen:  30,
		re:      regexp.MustCompile(`(?i)\b(?:if|when|whenever)\s+(?:the\s+user|anyone|someone|the\s+(?:input|message|prompt|request)|a\s+message|you\s+see)\b[^.\n]{0,60}\b(?:says?|types?|writes?|sends?|contains?|includes?|mentions?)\b[^.\n]{0,30}["'“][^"'”\n]{3,40}["'”][^.\n]{0,60}\b(?:run|execute|disable|bypass|skip\s+(?:all\s+)?(?:checks|safety|review)|grant|reveal|send|upload|delete|unlock)\b`),
		message: "a magic-string trigger: a phrase that switches the agent to hidden behaviour",
	},

	// Known malware test signatures.
	{
		rule:    ruleEICAR,
		hints:   []string{"eicar", "x5o!p%@ap"},
		re:      regexp.MustCompile(`EICAR-STANDARD-ANTIVIRUS-TEST-FILE|X5O!P%@AP\[4\\PZX54\(P\^\)7CC\)7\}`),
		message: "the EICAR anti-virus test signature",
	},

	// Weakening transport security.
	{
		rule:    ruleTLS,
		hints:   []string{"-k", "insecure", "verify", "reject"},
		re:      regexp.MustCompile(`\bcurl\b[^\n|]*\s(?:-k|--insecure)\b|\b(?:requests|httpx|session|client|urllib3)\b[^\n]*\bverify\s*=\s*False\b|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*["']?0|InsecureSkipVerify:\s*true|rejectUnauthorized:\s*false`),
		message: "turns off TLS certificate verification",
	},
}

// credPath matches the credential files exfiltration rules look for.
const credPath = `(?:[~$][^\s"']*)?(?:\.ssh\b|\.aws/credentials|\.netrc|\.git-credentials|\.kube/config|\.docker/config\.json|/etc/shadow|/etc/passwd|\.env\b|\.bash_history)`

func genericSecret(_ *checker, _ string, m []string) (string, string) {
	if !looksSecret(m[2]) || secretKeyIsNot(m[1]) {
		return "", ""
	}
	return High, "hard-coded secret in " + m[1] + " (" + redact(m[2]) + ")"
}

// secretKeyIsNot reports key names that contain a secret word but name
// something else: token_endpoint holds a URL, tokenizer a model name.
func secretKeyIsNot(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"endpoint", "url", "uri", "path", "file", "dir", "name", "type", "length", "count", "limit", "env", "header", "field", "id", "izer", "ization", "usage", "budget", "max", "min"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// readVerbRE finds lines that read or copy a file, rather than name it.
var readVerbRE = regexp.MustCompile(`(?i)\b(?:cat|cp|scp|rsync|base64|xxd|strings|less|more|head|tail|tar|zip|open|read\w*|load\w*|copy\w*|upload\w*|send\w*|sqlite3|Get-Content|type)\b|<\s*[~$/]|\bfs\.|\bPath\(`)

// sendWordsRE finds a read paired with sending or showing what was read.
var sendWordsRE = regexp.MustCompile(`(?i)\b(?:send|upload|post|paste|exfiltrat\w*|curl|include\s+(?:it|them|the\s+(?:output|contents?))\s+in)\b`)

// sshUseRE finds ssh using a key (ssh -i KEY, ssh-keygen -f KEY): the
// key is used where it is, not read.
var sshUseRE = regexp.MustCompile(`\bssh(?:-add|-keygen|-copy-id)?\s+[^\n]*-[if]\s`)

// credentialRead weighs a credential-file match: a read or copy at most,
// a mere mention (ssh -i ~/.ssh/id_ed25519, "never commit ~/.aws/credentials")
// low, a public key or a traversal payload nothing.
func credentialRead(most string) func(*checker, string, []string) (string, string) {
	return func(_ *checker, l string, m []string) (string, string) {
		if m[1] != "" || strings.HasSuffix(m[0], ".pub") {
			return "", "" // ../../etc/shadow: a path-traversal example, not a read
		}
		// Browser stores and keychains have no use but reading them; a key
		// or a password file may just be named.
		named := strings.Contains(m[0], ".ssh/") || strings.Contains(m[0], "/etc/shadow") || most != High
		if named && (!readVerbRE.MatchString(strings.Replace(l, m[0], " ", 1)) || sshUseRE.MatchString(l)) {
			return Low, "mentions credential files (" + m[0] + ")"
		}
		if sendWordsRE.MatchString(l) {
			return High, "reads credential files and sends or shows them (" + m[0] + ")"
		}
		return most, "reads credential files (" + m[0] + ")"
	}
}

// fetchedPayloadRE finds commands that fetch or decode code, which make
// a persistence line high.
var fetchedPayloadRE = regexp.MustCompile(`(?i)\b(?:curl|wget|nc|ncat|base64|eval|iex)\b|/dev/tcp/|python[0-9.]*\s+-c\b`)

func persistence(_ *checker, l string, _ []string) (string, string) {
	if fetchedPayloadRE.MatchString(l) {
		return High, "installs a start-up line or hook that fetches or decodes code"
	}
	return Medium, "changes start-up files, services or git hooks, which run later without being asked"
}

// urlRE finds the URL a download line fetches.
var urlRE = regexp.MustCompile(`(?i)\bhttps?://([^/\s"'|)` + "`" + `]+)([^\s"'|)` + "`" + `]*)|\b((?:[a-z0-9-]+\.)+[a-z]{2,})(/[^\s"'|)` + "`" + `]*)`)

// pinnedRE finds download paths fixed to a release or a commit: what
// runs is the reviewed version, not whatever the host serves today.
var pinnedRE = regexp.MustCompile(`/releases/download/v?(?:\d|\$\{?\w*VERSION)|/[0-9a-f]{40}/`)

// pipeFrom weighs a download-and-run by where it downloads from: an
// operator-listed vendor's installer is medium, an example host low,
// anything else high.
func pipeFrom(message string) func(*checker, string, []string) (string, string) {
	return func(c *checker, _ string, m []string) (string, string) {
		u := urlRE.FindStringSubmatch(m[0])
		if u == nil {
			return High, message
		}
		host, rest := strings.ToLower(u[1]+u[3]), u[2]+u[4]
		switch {
		case exampleHost(host):
			return Low, message + " (from an example host)"
		case c.policy.vendor(host, rest):
			return Medium, message + " (official installer from " + host + "; pin a version and check its checksum)"
		case pinnedRE.MatchString(rest):
			return Medium, message + " (pinned release from " + host + "; check its checksum)"
		}
		return High, message + " (from " + host + ")"
	}
}

// exampleHost reports hosts that stand for a real one: example.com,
// *.test, *.invalid, localhost and <placeholders>.
func exampleHost(h string) bool {
	h = strings.TrimSuffix(strings.Split(h, ":")[0], ".")
	return h == "example.com" || h == "example.org" || h == "example.net" || strings.HasSuffix(h, ".example.com") ||
		strings.HasSuffix(h, ".test") || strings.HasSuffix(h, ".invalid") ||
		h == "localhost" || strings.ContainsAny(h, "<>{}$")
}

// mixed reports whether an encoded-looking run mixes upper and lower case
// and digits, as base64 of real data does; a protein or DNA sequence is
// one case of letters only.
func mixed(s string) bool {
	var up, low, dig bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			up = true
		case r >= 'a' && r <= 'z':
			low = true
		case r >= '0' && r <= '9':
			dig = true
		}
	}
	return up && low && dig
}

// checkSafety scans every text file of the bundle, line by line, and
// scripts once more as code (see scanCode).
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
		p := placeOf(f.Path, f.Data)
		c.scanText(f.Path, p, string(f.Data), 0)
		if p == placeScript {
			c.scanCode(f.Path, string(f.Data))
		}
	}
	if !scanned {
		c.scanText("SKILL.md", placeInstructions, c.in.Body, c.bodyOffset)
	}
}

func isBinary(b []byte) bool {
	head := b[:min(len(b), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(b)
}

// addSafety adds a safety finding, its severity weighed by the line's
// context.
func (c *checker) addSafety(r *rule, sev string, lc lineCtx, file string, ln int, l string, at int, match, msg string) {
	sev = weigh(r.class, sev, lc, l, at, match)
	if lc.place != placeScript && lc.place != placeInstructions && severityRank[sev] < severityRank[r.severity] {
		msg += " (in reference material)"
	}
	c.addSeverity(r, sev, file, ln, "%s", msg)
}

func (c *checker) scanText(file string, p place, text string, offset int) {
	md := isMarkdown(file)
	var fence fenceState
	for i, l := range strings.Split(text, "\n") {
		ln := offset + i + 1
		l = strings.TrimSuffix(l, "\r")
		code := false
		if md {
			code, _ = fence.next(l, ln)
		}
		lc := lineContext(file, p, l, code)
		lower := strings.ToLower(l)
		for _, r := range safetyRules {
			if len(l) < r.minLen || len(r.hints) > 0 && !containsAny(lower, r.hints) {
				continue
			}
			loc := r.re.FindStringSubmatchIndex(l)
			if loc == nil {
				continue
			}
			m := submatches(l, loc)
			sev, msg := r.severity, r.message
			if r.refine != nil {
				if sev, msg = r.refine(c, l, m); sev == "" {
					continue
				}
			}
			c.addSafety(r.rule, sev, lc, file, ln, l, loc[0], m[0], msg)
		}
		if strings.Contains(l, "rm") {
			c.checkRm(file, ln, l, lc)
		}
		c.checkInvisible(file, ln, l, i == 0 && offset == 0)
	}
}

func submatches(l string, loc []int) []string {
	m := make([]string, len(loc)/2)
	for i := range m {
		if loc[2*i] >= 0 {
			m[i] = l[loc[2*i]:loc[2*i+1]]
		}
	}
	return m
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

func (c *checker) checkRm(file string, ln int, l string, lc lineCtx) {
	for _, loc := range rmRE.FindAllStringSubmatchIndex(l, -1) {
		recursive, noPreserve := false, false
		var targets []string
		for _, arg := range strings.Fields(l[loc[2]:loc[3]]) {
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
				c.addSafety(ruleRmRoot, ruleRmRoot.severity, lc, file, ln, l, loc[0], l[loc[0]:loc[1]], "recursive delete of "+t)
			case varRootRE.MatchString(t):
				c.addSafety(ruleRmVar, ruleRmVar.severity, lc, file, ln, l, loc[0], l[loc[0]:loc[1]], "recursive delete of "+t+" deletes from / if the variable is empty")
			default:
				continue
			}
			break
		}
	}
}

// zeroWidthHidden is how many zero-width characters on one line make
// hidden text likely (they can encode bits), rather than a stray one.
const zeroWidthHidden = 6

func (c *checker) checkInvisible(file string, ln int, l string, first bool) {
	var bidi, tags, rtl bool
	zw := 0
	var prev rune
	rs := []rune(l)
	for i, r := range rs {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			bidi = true
		case r >= 0xE0020 && r <= 0xE007E && emojiTagSequence(rs, i):
			// a subdivision flag (🏴 + tags + cancel tag) is an emoji
		case r == 0xE007F && i > 0 && rs[i-1] >= 0xE0020 && rs[i-1] <= 0xE007E && emojiTagSequence(rs, i-1):
		case r >= 0xE0000 && r <= 0xE007F:
			tags = true
		case r == 0xFEFF && first && i == 0:
			// a byte-order mark at the start of a file is harmless
		case r == 0x200D && i+1 < len(rs) && pictographic(prev) && pictographic(rs[i+1]):
			// a zero-width joiner inside an emoji sequence (👨‍👩‍👧)
		case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
			zw++
		case unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana):
			rtl = true
		}
		prev = r
	}
	if tags {
		c.add(ruleTags, file, ln, "invisible Unicode tag characters, which can smuggle instructions to a model")
	}
	if bidi {
		if rtl {
			c.addSeverity(ruleBidi, Low, file, ln, "bidirectional control characters in right-to-left text")
		} else {
			c.add(ruleBidi, file, ln, "bidirectional control characters, which can make text read differently than it runs")
		}
	}
	switch {
	case zw >= zeroWidthHidden:
		c.addSeverity(ruleZW, High, file, ln, "%d zero-width characters, enough to encode hidden text", zw)
	case zw > 0:
		c.add(ruleZW, file, ln, "zero-width characters")
	}
}

// pictographic reports emoji and the modifiers that sit in emoji
// sequences (skin tones, variation selector 16).
func pictographic(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF || r == 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF || r == 0x2640 || r == 0x2642 || r == 0x2695 || r == 0x2708 || r == 0x2764
}

// emojiTagSequence reports whether the tag character at i belongs to a
// flag sequence: U+1F3F4, up to seven tag letters, then U+E007F.
func emojiTagSequence(rs []rune, i int) bool {
	j := i
	for j > 0 && rs[j-1] >= 0xE0020 && rs[j-1] <= 0xE007E {
		j--
	}
	k := i
	for k < len(rs) && rs[k] >= 0xE0020 && rs[k] <= 0xE007E {
		k++
	}
	return j > 0 && rs[j-1] == 0x1F3F4 && k < len(rs) && rs[k] == 0xE007F && k-j <= 7
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
