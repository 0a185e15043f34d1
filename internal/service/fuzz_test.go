package service_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/skillvault/skillvault/internal/service"
)

// FuzzCutText: a text cut to n bytes (the web search cuts its query so)
// is a prefix of at most n bytes and, when the text is valid UTF-8, stays
// valid and is as long as it can be without splitting a character.
func FuzzCutText(f *testing.F) {
	for _, s := range []string{"", "a", "aé", strings.Repeat("a", 499) + "é", strings.Repeat("€", 200), "😀😀", "\xff\xfe", "a\xc3"} {
		f.Add(s, 500)
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		got := service.CutText(s, n)
		if !strings.HasPrefix(s, got) || len(got) > n {
			t.Fatalf("CutText(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && len(s) > n && len(got) < n-utf8.UTFMax {
			t.Fatalf("CutText(%q, %d) = %q: cut more than one character", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("CutText(%q, %d) = %q: split a character", s, n, got)
		}
	})
}
