package embed

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/embed/embedtest"
)

func TestStem(t *testing.T) {
	groups := [][]string{
		{"test", "tests", "testing", "tested"},
		{"image", "images", "imaging"},
		{"document", "documents", "documenting", "documentation"},
		{"deploy", "deploys", "deploying", "deployed", "deployment"},
		{"organize", "organizing", "organization", "organise", "organisation"},
		{"generate", "generating", "generation", "generative"},
		{"announce", "announcement", "announcements"},
		{"policy", "policies"},
		{"query", "queries"},
		{"run", "running"},
		{"color", "colors", "colour", "colours"},
		{"visualize", "visualise", "visualization"},
	}
	for _, g := range groups {
		want := stem(normalizeWord(g[0]))
		for _, w := range g[1:] {
			if got := stem(normalizeWord(w)); got != want {
				t.Errorf("stem(%q) = %q, want %q (as for %q)", w, got, want, g[0])
			}
		}
	}
	// Words that must stay apart.
	for _, p := range [][2]string{{"test", "text"}, {"brand", "branch"}, {"status", "state"}} {
		if stem(p[0]) == stem(p[1]) {
			t.Errorf("stem(%q) == stem(%q) == %q", p[0], p[1], stem(p[0]))
		}
	}
}

func TestTokenize(t *testing.T) {
	toks := tokenize("FastMCP servers, p5.js, CAFÉ naïve ﬁle docu\u00ADment 5173 Ｔｅｓｔ x")
	var words []string
	for _, tk := range toks {
		words = append(words, tk.word)
	}
	got := strings.Join(words, " ")
	want := "fastmcp servers p5 js cafe naive file document test"
	if got != want {
		t.Errorf("tokenize words = %q, want %q", got, want)
	}
	if p := toks[0].parts; len(p) != 2 || p[0] != "fast" || p[1] != "mcp" {
		t.Errorf("parts of FastMCP = %q, want [fast mcp]", p)
	}
}

func TestBuiltinDeterministicAndNormalised(t *testing.T) {
	e, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Model() != "builtin-v2" || e.Dimensions() != BuiltinDimensions {
		t.Fatalf("builtin: model %q dims %d", e.Model(), e.Dimensions())
	}
	texts := []string{
		"Test web applications with Playwright",
		"Toolkit for interacting with and testing local web applications",
		"",
		"!!! ... ---", // no words at all
		strings.Repeat("generative art with particles and noise fields ", 200),
	}
	a, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuiltin().Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		if len(a[i]) != BuiltinDimensions {
			t.Fatalf("text %d: %d dims", i, len(a[i]))
		}
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				t.Fatalf("text %d dim %d: %v then %v: not deterministic", i, j, a[i][j], b[i][j])
			}
		}
		n := norm(a[i])
		empty := strings.TrimFunc(texts[i], func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) == ""
		switch {
		case empty && n != 0:
			t.Errorf("text %d has no words but norm %v", i, n)
		case !empty && math.Abs(n-1) > 1e-5:
			t.Errorf("text %d: norm %v, want 1", i, n)
		}
	}
	// Order of a batch must not matter.
	c, _ := e.Embed(context.Background(), []string{texts[1], texts[0]})
	if Cosine(c[1], a[0]) < 0.99999 || Cosine(c[0], a[1]) < 0.99999 {
		t.Error("embedding depends on batch position")
	}
}

func TestBuiltinCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewBuiltin().Embed(ctx, []string{"x"}); err == nil {
		t.Error("Embed with a cancelled context succeeded")
	}
}

// TestBuiltinSimilarity checks that inflections and paraphrases score
// higher than unrelated text: each case is (anchor, related, unrelated).
func TestBuiltinSimilarity(t *testing.T) {
	cases := []struct {
		name                       string
		anchor, related, unrelated string
	}{
		{"inflection test", "testing the web application", "tests for web applications", "company newsletter for staff"},
		{"inflection deploy", "deploying services", "service deployment", "drawing a picture"},
		{"inflection document", "documentation", "documents", "deployment"},
		{"inflection organise", "organise the files", "file organization", "summarise the incident"},
		{"synonym image", "make a picture", "create images", "write an email"},
		{"synonym qa", "qa for the frontend", "test the web ui", "quarterly company newsletter"},
		{"synonym newsletter", "write a newsletter", "draft an announcement email", "run browser tests"},
		{"synonym docs", "update the readme", "improve documentation", "deploy to production"},
		{"synonym brand", "our logo and colour palette", "brand style guide", "debug a crash in the server"},
		{"synonym api", "call the REST endpoint", "integrate with their API server", "paint a landscape"},
		{"synonym deploy", "ship the new version", "release and deploy it", "answer employee questions"},
		{"synonym web", "browser frontend", "website user interface", "database migration"},
		{"subword", "webapp", "web app", "spreadsheet"},
		{"typo", "playwrigth screenshots", "playwright screenshot", "newsletter announcement"},
		{"paraphrase comms", "tell everyone at the company about the outage", "internal communication incident report", "generative art with particles"},
		{"paraphrase art", "computer-generated abstract painting", "generative algorithmic art image", "status report for leadership"},
	}
	e := NewBuiltin()
	for _, c := range cases {
		a, r, u := e.Vector(c.anchor), e.Vector(c.related), e.Vector(c.unrelated)
		sr, su := Cosine(a, r), Cosine(a, u)
		t.Logf("%-20s related %.3f unrelated %.3f", c.name, sr, su)
		if sr <= su+0.05 {
			t.Errorf("%s: cos(%q, %q) = %.3f, not clearly above cos(%q) = %.3f", c.name, c.anchor, c.related, sr, c.unrelated, su)
		}
	}
}

func TestCosineAndNormalize(t *testing.T) {
	v := []float32{3, 4}
	Normalize(v)
	if math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Errorf("Normalize([3 4]) = %v", v)
	}
	z := []float32{0, 0}
	Normalize(z)
	if z[0] != 0 || z[1] != 0 {
		t.Errorf("Normalize(zero) = %v", z)
	}
	if c := Cosine([]float32{1, 0}, []float32{2, 0}); math.Abs(float64(c)-1) > 1e-6 {
		t.Errorf("Cosine of parallel vectors = %v", c)
	}
	if c := Cosine([]float32{1, 0}, []float32{0, 1}); c != 0 {
		t.Errorf("Cosine of orthogonal vectors = %v", c)
	}
	if c := Cosine([]float32{1, 0}, []float32{-1, 0}); math.Abs(float64(c)+1) > 1e-6 {
		t.Errorf("Cosine of opposite vectors = %v", c)
	}
	if c := Cosine([]float32{1}, []float32{1, 0}); c != 0 {
		t.Errorf("Cosine of different lengths = %v, want 0", c)
	}
	if c := Cosine([]float32{0, 0}, []float32{1, 0}); c != 0 {
		t.Errorf("Cosine with zero vector = %v, want 0", c)
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// typicalSkillMD is a SKILL.md of ordinary size: the corpus's
// webapp-testing skill when present, else a synthetic one.
func typicalSkillMD(b *testing.B) string {
	if dir, err := embedtest.CorpusDir(); err == nil {
		if data, err := os.ReadFile(dir + "/webapp-testing/SKILL.md"); err == nil {
			return string(data)
		}
	}
	return strings.Repeat("## Testing web apps\n\nUse Playwright to open the page, wait for networkidle, take a screenshot and check the console log for errors.\n\n", 25)
}

func BenchmarkBuiltinEmbedSkillMD(b *testing.B) {
	doc := typicalSkillMD(b)
	e := NewBuiltin()
	ctx := context.Background()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(ctx, []string{doc}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuiltinEmbedShort(b *testing.B) {
	doc := "Toolkit for interacting with and testing local web applications using Playwright."
	e := NewBuiltin()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(ctx, []string{doc}); err != nil {
			b.Fatal(err)
		}
	}
}
