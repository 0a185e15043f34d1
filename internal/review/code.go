package review

import (
	"path"
	"regexp"
	"strings"
)

// The light syntactic pass over Python and JavaScript/TypeScript scripts:
// it follows values from where they come from (the environment, a file,
// a download, a decoder) through assignments to where they go (a network
// send, eval/exec), which line patterns alone cannot see when the two sit
// on different lines.

// taint is a set of origins of a value.
type taint uint8

const (
	fromEnv      taint = 1 << iota // one environment variable
	fromEnvAll                     // the whole environment
	fromFile                       // contents of a local file
	fromCreds                      // a credential file
	fromDecoded                    // base64/hex/char codes decoded
	fromDownload                   // fetched from the network
)

var sources = []struct {
	re *regexp.Regexp
	t  taint
}{
	{regexp.MustCompile(`os\.environ\s*(?:\[|\.get\b)|os\.getenv\s*\(|\bgetenv\s*\(|process\.env\s*(?:\.|\[)|Deno\.env\.get`), fromEnv},
	{regexp.MustCompile(`dict\(\s*os\.environ\s*\)|os\.environ\.copy\(\)|os\.environ\.items\(\)|\bos\.environ\s*[,)}]|JSON\.stringify\(\s*process\.env\s*\)|\.\.\.process\.env\b|\bprocess\.env\s*[,)}]|Deno\.env\.toObject`), fromEnvAll},
	{regexp.MustCompile(`\bopen\s*\([^\n]*\)\s*\.read|\.read_text\s*\(|\.read_bytes\s*\(|readFileSync\s*\(|fs\.promises\.readFile|\bfs\.readFile\b|\.read\(\)|Deno\.readTextFile`), fromFile},
	{regexp.MustCompile(credPath), fromCreds},
	{regexp.MustCompile(`b64decode|b32decode|base64\.decode|\batob\s*\(|Buffer\.from\([^\n)]*['"](?:base64|hex)['"]|unhexlify|bytes\.fromhex|codecs\.decode|zlib\.decompress|marshal\.loads|fromCharCode|\bchr\s*\(`), fromDecoded},
	{regexp.MustCompile(`requests\.get\s*\(|httpx\.get\s*\(|urlopen\s*\(|urllib\.request|\bfetch\s*\(|axios\.get\s*\(|\.text\(\)|https?\.get\s*\(`), fromDownload},
}

var (
	assignRE = regexp.MustCompile(`^\s*(?:(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*(?::\s*[\w\[\], .]+)?\s*\+?=\s*([^=].*)$`)
	// sendRE finds network sends that carry a body.
	sendRE = regexp.MustCompile(`\b(?:requests|httpx|session|client|s)\.(?:post|put|patch)\s*\(|\burllib\.request\.Request\s*\(|\burlopen\s*\(|\bfetch\s*\(|\baxios\.(?:post|put|patch)\s*\(|\bsock(?:et)?\.send(?:all|to)?\s*\(|\bhttp\.request\s*\(|\bsmtplib\.SMTP|\.sendmail\s*\(`)
	// execRE finds calls that run a string as code.
	execRE = regexp.MustCompile(`(?:^|[^.\w])(?:exec|eval)\s*\(|\bnew\s+Function\s*\(|\bvm\.runIn\w*\s*\(|\bos\.system\s*\(|\bsubprocess\.\w+\s*\(|\bchild_process\.\w+\s*\(|\b(?:cp|child_process|childProcess|shell)\.exec(?:Sync|File)?\s*\(|\bexecSync\s*\(|\bspawn(?:Sync)?\s*\(`)
	// headersRE removes the headers and auth of a send: a key sent where
	// an API expects it is ordinary.
	headersRE = regexp.MustCompile(`(?s)\b(?:headers|auth)\s*[=:]\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\([^()]*\)|[\w.]+(?:\([^()]*\))?)`)
	// suspectHostRE finds hosts that collect data for attackers.
	suspectHostRE = regexp.MustCompile(`(?i)https?://(?:\d{1,3}(?:\.\d{1,3}){3}|[^/\s"']*(?:webhook\.site|requestbin|pipedream\.net|ngrok|burpcollaborator|interact\.sh|oast\.|pastebin\.com|transfer\.sh|discord(?:app)?\.com/api/webhooks))`)
	wordRE        = regexp.MustCompile(`[A-Za-z_$][\w$]*`)
	// socketSendRE finds sends whose first argument is the data.
	socketSendRE = regexp.MustCompile(`send(?:all|to)?\s*\($|sendmail`)
)

func codeLanguage(p, text string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".py", ".pyw":
		return "python"
	case ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx":
		return "js"
	}
	first, _, _ := strings.Cut(text, "\n")
	switch {
	case strings.HasPrefix(first, "#!") && strings.Contains(first, "python"):
		return "python"
	case strings.HasPrefix(first, "#!") && strings.Contains(first, "node"):
		return "js"
	}
	return ""
}

// taintOf is the origins of an expression: its direct sources and the
// variables it mentions.
func taintOf(expr string, vars map[string]taint) taint {
	var t taint
	for _, s := range sources {
		if s.re.MatchString(expr) {
			t |= s.t
		}
	}
	for _, w := range wordRE.FindAllString(expr, -1) {
		t |= vars[w]
	}
	return t
}

// scanCode runs the light syntactic pass over a Python or JavaScript file.
func (c *checker) scanCode(file, text string) {
	if codeLanguage(file, text) == "" {
		return
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	vars := map[string]taint{}
	// Two passes, so that a function defined above its variables' use
	// still sees them.
	for range 2 {
		for _, l := range lines {
			if m := assignRE.FindStringSubmatch(l); m != nil && !isComment(file, l) {
				vars[m[1]] |= taintOf(m[2], vars)
			}
		}
	}
	for i, l := range lines {
		if isComment(file, l) {
			continue
		}
		ln := i + 1
		if loc := sendRE.FindStringIndex(l); loc != nil {
			call := callText(lines, i, loc[1])
			body := headersRE.ReplaceAllString(call, "")
			if !socketSendRE.MatchString(l[loc[0]:loc[1]]) {
				// The first argument is where it goes: a base URL
				// from the environment is not data sent.
				body = afterFirstArg(body)
			}
			if sev, msg := judgeSend(taintOf(body, vars), suspectHostRE.MatchString(call)); sev != "" {
				c.addSeverity(ruleExfil, sev, file, ln, "%s", msg)
			}
		}
		if m := magicIfRE.FindStringSubmatch(l); m != nil && magicLiteral(m[1]) && sinkWithin(lines, i, 3) {
			c.add(ruleBackdoor, file, ln, "a magic-string trigger guards code execution")
		}
		if loc := execRE.FindStringIndex(l); loc != nil {
			if t := taintOf(callText(lines, i, loc[1]), vars); t&(fromDecoded|fromDownload) != 0 {
				what := "downloaded"
				if t&fromDecoded != 0 {
					what = "decoded"
				}
				c.add(ruleRemoteEval, file, ln, "runs %s data as code", what)
			}
		}
	}
}

func isComment(file, l string) bool {
	t := strings.TrimSpace(l)
	for _, p := range commentPrefix(file) {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// callText is the argument text of the call opened just before offset
// at of line i, up to its closing parenthesis or 15 lines.
func callText(lines []string, i, at int) string {
	var b strings.Builder
	depth := 1
	s := lines[i][at:]
	for n := 0; ; n++ {
		for j := 0; j < len(s); j++ {
			switch s[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					b.WriteString(s[:j])
					return b.String()
				}
			}
		}
		b.WriteString(s)
		b.WriteByte('\n')
		if n == 15 || i+n+1 >= len(lines) {
			return b.String()
		}
		s = lines[i+n+1]
	}
}

var (
	// magicIfRE finds a condition that compares with a string literal.
	magicIfRE = regexp.MustCompile(`\bif\b[^\n]*(?:===?|!==?|\bin\b|startswith\(|includes\(|endswith\()\s*["']([^"'\n]{6,})["']`)
	// sinkRE finds what a backdoor runs.
	sinkRE = regexp.MustCompile(`(?:^|[^.\w])(?:exec|eval)\s*\(|\bos\.(?:system|popen|exec\w*)\s*\(|\bsubprocess\.|\bpty\.spawn|/bin/(?:ba)?sh\b|\bchild_process\b|\bexecSync\s*\(|\bnew\s+Function\s*\(`)
)

// magicLiteral reports a literal that looks like a password rather than
// a word or an option: six characters or more mixing at least three of
// upper case, lower case, digits and symbols.
func magicLiteral(s string) bool {
	var up, low, dig, sym int
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			up = 1
		case r >= 'a' && r <= 'z':
			low = 1
		case r >= '0' && r <= '9':
			dig = 1
		case strings.ContainsRune(" -_./:", r):
		default:
			sym = 1
		}
	}
	return up+low+dig+sym >= 3
}

// sinkWithin reports code execution on line i or the n lines after it.
func sinkWithin(lines []string, i, n int) bool {
	for j := i; j < len(lines) && j <= i+n; j++ {
		if sinkRE.MatchString(lines[j]) {
			return true
		}
	}
	return false
}

// afterFirstArg drops the first top-level argument of an argument list.
func afterFirstArg(args string) string {
	depth := 0
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				return args[i+1:]
			}
		}
	}
	return ""
}

// judgeSend weighs what a network send carries.
func judgeSend(t taint, suspectHost bool) (string, string) {
	switch {
	case t&fromEnvAll != 0:
		return High, "sends the whole environment (and every secret in it) to a remote host"
	case t&fromCreds != 0:
		return High, "sends credential files to a remote host"
	case t&fromFile != 0 && t&fromEnv != 0:
		return High, "sends file contents together with an environment secret to a remote host"
	case suspectHost && t&(fromFile|fromEnv) != 0:
		return High, "sends local data to a data-collection host (raw IP, webhook or tunnel)"
	case t&fromEnv != 0:
		return Medium, "sends an environment variable in a request body; make sure it goes only to the service it is for"
	}
	return "", ""
}
