package review

import (
	"math"
	"slices"
	"strings"
)

// placeholders mark values that only stand for a secret.
var placeholders = []string{"your", "xxx", "example", "placeholder", "changeme", "change-me", "dummy", "sample", "redacted",
	"replace", "insert", "<", ">", "${", "{{", "%(", "process.env", "os.environ", "getenv", "***", "...", "…",
	"abcdef", "123456", "0000", "a1b2c3", "1a2b3c", "abc123", "fake", "mock", ".test", ".invalid", "localhost", "not-a-real", "notreal"}

// fakeWords are words that made-up credentials are built from
// ("securePassword123", "sk-or-v1-project1-key"); longest first, so that
// "password" goes before "pass".
var fakeWords = func() []string {
	w := []string{"password", "passwd", "secure", "secret", "project", "token", "apikey", "api", "key", "test", "demo",
		"default", "admin", "user", "local", "dev", "prod", "staging", "my", "value", "here", "hello", "world", "foo",
		"bar", "baz", "qwerty", "letmein", "welcome", "super", "strong", "access", "client", "service", "account",
		"org", "app", "abc", "xyz", "pass", "live", "private", "public", "string", "random", "some", "new", "auth",
		"bearer", "ghp", "sk", "pk", "v1", "or", "one", "two"}
	slices.SortStableFunc(w, func(a, b string) int { return len(b) - len(a) })
	return w
}()

// placeholder reports whether v stands for a secret rather than being
// one: a placeholder word or host, a run of one character (XXXX, 0000),
// an ascending sequence (A1B2C3…, abcdef), or little more than
// dictionary words. Documented sample keys (AWS's end in EXAMPLE) are
// caught by the words.
func placeholder(v string) bool {
	lv := strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(lv, p) {
			return true
		}
	}
	return repeats(lv, 4) || sequential(lv) || mostlyWords(lv)
}

// repeats reports a run of n equal characters.
func repeats(s string, n int) bool {
	run := 1
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			if run++; run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// sequential reports a value mostly made of ascending steps, directly
// (abcdef, 123456) or interleaved (a1b2c3).
func sequential(s string) bool {
	if len(s) < 8 {
		return false
	}
	n := 0
	for i := 2; i < len(s); i++ {
		if s[i] == s[i-1]+1 || s[i] == s[i-2]+1 {
			n++
		}
	}
	return 2*n >= len(s)
}

// mostlyWords reports whether fewer than 10 letters and digits remain once
// the usual words of made-up credentials are taken out.
func mostlyWords(s string) bool {
	for _, w := range fakeWords {
		s = strings.ReplaceAll(s, w, " ")
	}
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' {
			n++
		}
	}
	return n < 10
}

// notSecretValue reports values that a key named like a secret can hold
// without being one: URLs, paths, and names of environment variables.
func notSecretValue(v string) bool {
	return strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") ||
		strings.HasPrefix(v, "$") || strings.ToUpper(v) == v && !strings.ContainsAny(v, "0123456789")
}

// looksSecret reports whether v looks like a real credential rather than
// a placeholder or an ordinary word: it mixes letters and digits and has
// the entropy of random text.
func looksSecret(v string) bool {
	if placeholder(v) || notSecretValue(v) {
		return false
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

// tokenBody is a provider token without its fixed prefix, which says
// nothing about whether the rest is real.
func tokenBody(t string) string {
	for _, p := range []string{"github_pat_", "sk-proj-", "sk-ant-api03-", "sk-ant-admin01-", "sk-or-v1-", "glpat-", "sk_live_", "rk_live_", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xoxb-", "xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "sk-", "AKIA", "ASIA", "ABIA", "ACCA", "https://hooks.slack.com/services/"} {
		if strings.HasPrefix(t, p) {
			return t[len(p):]
		}
	}
	return t
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
