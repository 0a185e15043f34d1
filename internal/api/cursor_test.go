package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/testserver"
)

// forgedCursors are cursors no page returns: the reported negative offset
// (LTU is base64 of "-5"), zero, null, an empty object, a huge number, a
// time cursor without its id, and cursors that do not decode at all.
var forgedCursors = []string{
	"LTU",
	b64("-5"), b64("0"), b64("null"), b64("{}"), b64("-9223372036854775808"), b64("1e3"), b64("99999999999999999999"),
	b64(`{"t":"2026-01-01T00:00:00Z"}`), b64(`{"i":"00000000-0000-0000-0000-000000000001"}`), b64(`"x"`),
	"!!", "LTU=", strings.Repeat("A", 5),
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestForgedCursors: every list route refuses a cursor it did not make
// with a 400 problem, never a 500, and still pages with the cursors it
// does make. Before the fix, cursor=LTU panicked in the search service
// (500) and reached the database as OFFSET -5 on /api/v1/skills (500).
func TestForgedCursors(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	for _, n := range []string{"pdf-one", "pdf-two", "pdf-three"} {
		create(t, s, a.Admin.Key, describedBundle(n, "Fill in PDF forms, variant "+n+"."), "?publish=true")
	}
	upload(s, a.Admin.Key, "/api/v1/skills/pdf-one/versions", "application/zip", zipBytes(t, describedBundle("pdf-one", "Fill in PDF forms again.")))
	wantStatus(t, s.Do("PUT", "/api/v1/skills/pdf-one/rating", a.Admin.Key, map[string]any{"stars": 4}), 200)
	wantStatus(t, s.Do("PUT", "/api/v1/skills/pdf-one/rating", a.Member.Key, map[string]any{"stars": 5}), 200)
	s.Svc.EmbedDue(context.Background())
	lists := []string{
		"/api/v1/skills",
		"/api/v1/search?q=pdf+forms",
		"/api/v1/search?q=pdf+forms&mode=keyword",
		"/api/v1/search?q=pdf+forms&mode=semantic",
		"/api/v1/skills/pdf-one/versions",
		"/api/v1/skills/pdf-one/ratings",
		"/api/v1/keys?all=true",
		"/api/v1/audit",
	}
	for _, path := range lists {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		for _, c := range forgedCursors {
			r := s.Do("GET", path+sep+"limit=1&cursor="+c, a.Admin.Key, nil)
			p := wantProblem(t, r, http.StatusBadRequest, "/problems/invalid")
			if !strings.Contains(p.Detail, "cursor") {
				t.Errorf("%s cursor=%s: detail %q does not name the cursor", path, c, p.Detail)
			}
		}
		// The cursors the API makes still work, to the last page.
		if all := walk(t, s, a.Admin.Key, path, 1, func(v map[string]any) string { return fmt.Sprint(v) }); len(all) < 2 {
			t.Errorf("%s: %d items, want several pages", path, len(all))
		}
	}
}
