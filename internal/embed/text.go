package embed

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldTable maps runes that commonly stand in for plain Latin letters to
// them, so "café", "naïve" and "ﬁle" meet "cafe", "naive" and "file". It
// covers Latin-1, Latin Extended-A and the usual ligatures: a light
// stand-in for NFKD plus mark stripping that needs no tables from
// golang.org/x/text.
var foldTable = func() map[rune]string {
	m := make(map[rune]string)
	groups := map[string]string{
		"a": "àáâãäåāăąǎ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęě",
		"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ",
		"l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏő", "r": "ŕŗř",
		"s": "śŝşš", "t": "ţťŧ", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ",
		"z": "źżž",
	}
	for base, runes := range groups {
		for _, r := range runes {
			m[r] = base
		}
	}
	for r, s := range map[rune]string{
		'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ĳ': "ij",
		'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st",
	} {
		m[r] = s
	}
	return m
}()

// foldRune lower-cases r and maps it to plain letters where foldTable
// knows how. Full-width ASCII (Ｔｅｓｔ) becomes ASCII. The empty string
// means the rune is invisible (zero-width, soft hyphen) and is dropped, so
// it cannot split a word.
func foldRune(r rune) string {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return string(r)
	}
	switch {
	case r == 0x00AD, r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
		return ""
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	}
	r = unicode.ToLower(r)
	if s, ok := foldTable[r]; ok {
		return s
	}
	return string(r)
}

// token is one word of the input. Parts holds the pieces of a camelCase
// or letter/digit-joined identifier ("FastMCP" → fast, mcp), which count
// for less than the whole word.
type token struct {
	word  string // folded surface form
	parts []string
}

const (
	minTokenLen = 2
	maxTokenLen = 40 // longer runs are hashes, base64 or URLs: noise
)

// tokenize splits s into folded words. Letters and digits make words;
// everything else separates them. Tokens made only of digits are dropped:
// in skill text they are line numbers, ports and sizes, not topics.
func tokenize(s string) []token {
	var (
		toks   []token
		word   strings.Builder
		cuts   []int // byte offsets in word where a camelCase part starts
		prev   rune  // previous original rune inside the current word
		digits = true
	)
	flush := func() {
		w := word.String()
		if n := utf8.RuneCountInString(w); n >= minTokenLen && n <= maxTokenLen && !digits {
			t := token{word: w}
			if len(cuts) > 0 {
				start := 0
				for _, c := range append(cuts, len(w)) {
					if p := w[start:c]; utf8.RuneCountInString(p) >= minTokenLen {
						t.parts = append(t.parts, p)
					}
					start = c
				}
			}
			toks = append(toks, t)
		}
		word.Reset()
		cuts = cuts[:0]
		prev = 0
		digits = true
	}
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r) {
			if r == 0x00AD || r >= 0x200B && r <= 0x200D || r == 0x2060 || r == 0xFEFF {
				continue // invisible: must not split "docu\u00ADment"
			}
			flush()
			continue
		}
		if r >= utf8.RuneSelf && unicode.Is(unicode.Mn, r) {
			continue // combining accents: drop, like NFKD + strip marks
		}
		if prev != 0 && unicode.IsUpper(r) {
			switch {
			case unicode.IsLower(prev) || unicode.IsDigit(prev):
				cuts = append(cuts, word.Len()) // fastMcp → fast|Mcp
			case unicode.IsUpper(prev):
				// MCPServer → MCP|Server: an upper-case letter followed
				// by a lower-case one starts a word inside an acronym run.
				next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
				if unicode.IsLower(next) {
					cuts = append(cuts, word.Len())
				}
			}
		}
		if digits && unicode.IsLetter(r) {
			digits = false
		}
		switch {
		case 'A' <= r && r <= 'Z':
			word.WriteByte(byte(r) + 'a' - 'A')
		case r < utf8.RuneSelf:
			word.WriteByte(byte(r))
		default:
			word.WriteString(foldRune(r))
		}
		prev = r
	}
	flush()
	return toks
}

// britishZ lists verb stems spelt with -is- in British English whose -iz-
// spelling the stemmer would otherwise treat as a different word.
var britishZ = []string{
	"organis", "customis", "optimis", "visualis", "summaris", "recognis",
	"prioritis", "standardis", "normalis", "initialis", "serialis",
	"finalis", "authoris", "categoris", "synchronis", "utilis", "minimis",
	"maximis", "personalis", "localis", "internationalis", "specialis",
	"realis", "emphasis", "memoris", "sanitis", "tokenis", "containeris",
	"modernis", "parameteris", "randomis", "stylis", "capitalis",
}

// spelling maps British (and a few informal) spellings to one form before
// stemming.
var spelling = map[string]string{
	"colour": "color", "colours": "colors", "coloured": "colored", "colouring": "coloring",
	"behaviour": "behavior", "behaviours": "behaviors", "favourite": "favorite",
	"analyse": "analyze", "analysed": "analyzed", "analysing": "analyzing", "analyses": "analyzes",
	"licence": "license", "centre": "center", "catalogue": "catalog", "grey": "gray",
	"dialogue": "dialog", "programme": "program", "programmes": "programs",
}

// normalizeWord folds spelling variants of a lower-case word.
func normalizeWord(w string) string {
	if s, ok := spelling[w]; ok {
		return s
	}
	if strings.Contains(w, "is") {
		for _, p := range britishZ {
			if strings.HasPrefix(w, p) && len(w) > len(p) {
				if c := w[len(p)]; c == 'e' || c == 'i' || c == 'a' {
					return p[:len(p)-1] + "z" + w[len(p):]
				}
			}
		}
	}
	return w
}
