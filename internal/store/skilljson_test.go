package store_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/store"
)

// awkward are pieces of text that encoding/json escapes or passes in its
// own ways: HTML characters, quotes, control characters, line and
// paragraph separators, invalid and truncated UTF-8, multi-byte runes.
var awkward = []string{"", "a", "plain words", `"`, `\`, "<script>", "&amp;", ">", "\x00", "\x1f", "\b\f\n\r\t", "\x7f",
	"\u2028", "\u2029", "é", "日本語", "🙂", "\xff", "\xc3", "\xe2\x82", "a\xffb", "\ufffd", "/", "'", "%", "\u00a0", "\u200b"}

func awkwardText(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(awkward[r.IntN(len(awkward))])
	}
	return b.String()
}

func randomSkill(r *rand.Rand) store.Skill {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+30*60), time.FixedZone("y", -8*3600), time.Local}
	when := func() time.Time {
		return time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
	}
	intp := func() *int {
		if r.IntN(2) == 0 {
			return nil
		}
		n := r.IntN(1000)
		return &n
	}
	strp := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		s := awkwardText(r)
		return &s
	}
	s := store.Skill{ID: uuid.New(), Name: awkwardText(r), Title: awkwardText(r), Description: awkwardText(r),
		Category: awkwardText(r), Status: awkwardText(r), Visibility: awkwardText(r), AuthorID: uuid.New(),
		AuthorEmail: awkwardText(r), LatestVersion: r.IntN(100), PublishedVersion: intp(), ForkOf: strp(),
		ForkOfDigest: strp(), RatingCount: r.IntN(50), RatingSum: r.IntN(250), Installs: r.Int64N(1 << 40),
		Downloads: r.Int64N(1000), Views: -r.Int64N(3), Invocations: r.Int64(), CreatedAt: when(), UpdatedAt: when(),
		PendingVersion: intp()}
	floats := []float64{0, 1, 4.5, 1.0 / 3, 2.0 / 3, 5, 1e-7, 1.5e-9, 1e21, 1e22, 123456789.125, -0.25, math.SmallestNonzeroFloat64}
	s.RatingAverage = floats[r.IntN(len(floats))]
	if r.IntN(3) > 0 {
		s.Tags = []string{}
		for range r.IntN(4) {
			s.Tags = append(s.Tags, awkwardText(r))
		}
	}
	if r.IntN(2) == 0 {
		t := when()
		s.PublishedAt = &t
	}
	return s
}

// TestSkillAppendJSON checks that Skill.AppendJSON writes exactly the bytes
// encoding/json writes for the same skill, for thousands of skills made of
// awkward text, nil and set optional fields, times in several zones and
// rating averages in both number forms, and that it refuses what
// encoding/json refuses.
func TestSkillAppendJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 1))
	for i := range 5000 {
		s := randomSkill(r)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("case %d: encoding/json: %v", i, err)
		}
		got, err := s.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatalf("case %d: AppendJSON: %v", i, err)
		}
		if string(got) != "prefix"+string(want) {
			t.Fatalf("case %d:\n got %s\nwant prefix%s", i, got, want)
		}
	}
	for _, s := range []store.Skill{{RatingAverage: math.NaN()}, {RatingAverage: math.Inf(1)},
		{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		if _, err := json.Marshal(s); err == nil {
			t.Fatalf("encoding/json accepts %+v", s)
		}
		if _, err := s.AppendJSON(nil); err == nil {
			t.Errorf("AppendJSON accepts %+v, which encoding/json refuses", s)
		}
	}
}

// TestAppendJSONString checks the string escaping alone against
// encoding/json, byte by byte over every single byte and rune boundary case.
func TestAppendJSONString(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, r := range []rune{0x7f, 0x80, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		cases = append(cases, string(r), "a"+string(r)+"b")
	}
	cases = append(cases, awkward...)
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := store.AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
