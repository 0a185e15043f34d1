package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testcorpus"
)

// The request bodies the JSON routes decode, by the index the fuzzer picks.
var bodyTypes = []func() any{
	func() any { return &service.SkillChange{} },   // PATCH /skills/{name}
	func() any { return &service.NewKey{} },        // POST /keys
	func() any { return &service.SettingsPatch{} }, // PATCH /settings
	func() any { return &service.Decision{} },      // POST /skills/{name}/decision
	func() any { return &service.UserChange{} },    // PATCH /users/{id}
	func() any { // PUT /skills/{name}/rating
		return &struct {
			Stars   int    `json:"stars"`
			Comment string `json:"comment"`
		}{}
	},
	func() any { // POST /usage
		return &struct {
			Events []service.UsageInput `json:"events"`
		}{}
	},
	func() any { // POST /users
		return &struct {
			Email string `json:"email"`
			Name  string `json:"name"`
			Role  string `json:"role"`
		}{}
	},
	func() any { // POST /skills/{name}/fork
		return &struct {
			Name string `json:"name"`
		}{}
	},
}

// FuzzDecodeJSON feeds every JSON request type arbitrary bodies and content
// types. decode must never panic; it accepts a body or refuses it with an
// error the API answers with a 4xx problem; an accepted body survives an
// encode/decode round trip unchanged.
func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		`{"title":"T","category":"c","tags":["a","b"],"visibility":"tenant","status":"archived"}`,
		`{"name":"ci","scopes":["read","write"],"expires_in_days":30}`,
		`{"semantic_search_enabled":true,"embedding_provider":"ollama","embedding_url":"http://x","key_expiry_days":90}`,
		`{"approve":false,"reason":"no","override":true}`,
		`{"name":"N","role":"admin","active":false}`,
		`{"stars":5,"comment":"great \u00e9"}`,
		`{"events":[{"skill":"pdf","version":1,"event":"invoke","source":"mcp","metadata":{"a":[1,{"b":null}]}}]}`,
		`{"email":"a@b.example","name":"A","role":"member"}`,
		`{"name":"my-fork"}`,
		``, `{}`, `null`, `[]`, `{"stars":1e400}`, `{"stars":"5"}`, `{"unknown":1}`, `{} {}`, `{"events":[` + strings.Repeat("[", 100),
		"{\"comment\":\"\xff\xfe\"}", `{"tags":null}`, `{"expires_in_days":-1}`, `{"a":"\ud800"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s), "application/json")
	}
	f.Add(uint8(0), []byte(`{"title":"x"}`), "text/plain")
	f.Add(uint8(5), []byte(`stars=5`), "application/x-www-form-urlencoded")
	f.Add(uint8(6), []byte(`{}`), "")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, ct string) {
		v := bodyTypes[int(which)%len(bodyTypes)]()
		r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		err := decode(w, r, v)
		if err != nil {
			checkRefusal(t, r, err)
			return
		}
		// Accepted: it must encode, and read back strictly as the same value.
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %#v: %v", body, v, err)
		}
		again := bodyTypes[int(which)%len(bodyTypes)]()
		r2 := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(data))
		r2.Header.Set("Content-Type", "application/json")
		if err := decode(httptest.NewRecorder(), r2, again); err != nil {
			t.Fatalf("accepted %q, but its re-encoding %s is refused: %v", body, data, err)
		}
		if !reflect.DeepEqual(normalize(v), normalize(again)) {
			t.Fatalf("accepted %q as %#v, which reads back as %#v", body, v, again)
		}
		if strings.Contains(string(data), "\ufffd") && utf8.Valid(body) && !strings.Contains(string(body), "\ufffd") && !strings.Contains(string(body), `\u`) {
			t.Fatalf("valid UTF-8 input %q decoded with replacement characters: %s", body, data)
		}
	})
}

// normalize compares decoded values by their JSON, where nil and empty
// raw messages are the same.
func normalize(v any) string {
	data, _ := json.Marshal(v)
	var x any
	json.Unmarshal(data, &x)
	out, _ := json.Marshal(x)
	return string(out)
}

// checkRefusal holds what every refused request promises: the error is one
// the API maps to a 4xx problem+json, never a 5xx.
func checkRefusal(t *testing.T, r *http.Request, err error) {
	t.Helper()
	var mbe *http.MaxBytesError
	var ume *unsupportedMediaError
	var se *service.Error
	var be *bundle.Error
	switch {
	case errors.As(err, &mbe), errors.As(err, &ume), errors.As(err, &be):
	case errors.As(err, &se) && se.Kind == service.Invalid:
	default:
		t.Fatalf("refused with %T %v, which is not a client error", err, err)
	}
	w := httptest.NewRecorder()
	writeError(w, r, slog.New(slog.DiscardHandler), err)
	if w.Code < 400 || w.Code >= 500 {
		t.Fatalf("refusal %v answered %d", err, w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("refusal answered as %q", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || !utf8.Valid(w.Body.Bytes()) {
		t.Fatalf("refusal body %q is not a problem of status %d: %v", w.Body.Bytes(), w.Code, err)
	}
}

// FuzzCursor decodes arbitrary ?cursor= values into every cursor type the
// list routes use, directly and through list (as every list route does):
// a cursor is accepted or refused with a 400 problem, never more, and an
// accepted one is a value a page could have ended on, so the service never
// sees a negative offset or a half time cursor.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "MTA", "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0", "ImFAYi5jIg", "!!", "bnVsbA",
		"LTU", "MA", "e30", "MWUz", "LTkyMjMzNzIwMzY4NTQ3NzU4MDg", EncodeCursor(keyCursor{time.Unix(1, 0).UTC(), uuid.Max})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		r := httptest.NewRequest("GET", "/api/v1/x", nil)
		q := r.URL.Query()
		q.Set("cursor", c)
		r.URL.RawQuery = q.Encode()
		var offset int
		var kc keyCursor
		var after string
		var before int64
		for _, v := range []any{&offset, &kc, &after, &before} {
			if _, err := cursor(r, v); err != nil {
				checkRefusal(t, r, err)
			}
		}
		if _, err := limit(r); err != nil {
			checkRefusal(t, r, err)
		}
		listWith(t, r, func(n int) bool { return n > 0 })
		listWith(t, r, func(n int64) bool { return n > 0 })
		listWith(t, r, func(k keyCursor) bool { return !k.At.IsZero() && k.ID != uuid.Nil })
	})
}

// listWith serves r through list with a cursor of type C: fetch must see
// only the zero cursor (first page) or a valid one, and the answer is a
// page (200) or a 400 problem.
func listWith[C comparable](t *testing.T, r *http.Request, valid func(C) bool) {
	t.Helper()
	w := httptest.NewRecorder()
	err := list(w, r, func(c C, limit int) ([]int, error) {
		var zero C
		if (c != zero && !valid(c)) || (c == zero && r.URL.Query().Get("cursor") != "") {
			t.Fatalf("cursor %q reached the service as %#v", r.URL.Query().Get("cursor"), c)
		}
		return []int{1, 2}, nil
	}, func(last int, c C, limit int) any { return last })
	if err != nil {
		checkRefusal(t, r, err)
		return
	}
	if w.Code != http.StatusOK {
		t.Fatalf("list answered %d", w.Code)
	}
}

const fuzzBoundary = "fuzzboundary"

// FuzzMultipartUpload feeds the multipart bundle reader arbitrary bodies:
// it never panics, reads within the body limit, and refuses with a client
// error. Seeds are the fixture and real bundles as multipart uploads.
func FuzzMultipartUpload(f *testing.F) {
	dirs := testcorpus.Fixtures(f)
	if corpus, ok := testcorpus.Dir(); ok {
		entries, _ := os.ReadDir(corpus)
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(corpus, e.Name()))
			}
		}
	}
	for _, dir := range dirs {
		files, err := bundle.ReadDir(dir, bundle.Limits{})
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.SetBoundary(fuzzBoundary)
		mw.WriteField("visibility", "tenant")
		for _, file := range files {
			w, _ := mw.CreateFormFile("file", filepath.Base(dir)+"/"+file.Path)
			w.Write(file.Data)
		}
		mw.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"b.zip\"\r\n\r\nPK\x03\x04\r\n--" + fuzzBoundary + "--\r\n"))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../x\"\r\n\r\nx\r\n--" + fuzzBoundary + "--\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		api := New(nil, Options{MaxUploadBytes: 1 << 20})
		r := httptest.NewRequest("POST", "/api/v1/skills", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		w := httptest.NewRecorder()
		files, root, fields, err := api.readBundle(w, r)
		if err != nil {
			checkRefusal(t, r, err)
			return
		}
		total := 0
		for _, f := range files {
			total += len(f.Data)
			if int64(len(f.Data)) > bundle.DefaultLimits.MaxFileSize {
				t.Fatalf("accepted %s of %d bytes", f.Path, len(f.Data))
			}
		}
		for _, v := range fields {
			total += len(v)
		}
		if total > len(body) {
			t.Fatalf("read %d bytes of content from a body of %d", total, len(body))
		}
		if root != "" && strings.Contains(root, "/") {
			t.Fatalf("root %q is not one folder", root)
		}
		if _, err := publishOptions(r, fields, root); err != nil {
			checkRefusal(t, r, err)
		}
	})
}

// FuzzQueryOptions feeds publish options and dates arbitrary query
// strings: accepted or refused as invalid.
func FuzzQueryOptions(f *testing.F) {
	for _, s := range []string{"publish=true&visibility=public&tags=a,b", "publish=maybe", "from=2026-01-01&to=2026-02-30", "from=2026-01-01T00:00:00Z", "override=true&category=%FF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/api/v1/x", nil)
		r.URL.RawQuery = q
		if _, err := publishOptions(r, map[string]string{}, ""); err != nil {
			checkRefusal(t, r, err)
		}
		for _, k := range []string{"from", "to"} {
			if s := r.URL.Query().Get(k); s != "" {
				if _, err := parseDay(s); err != nil {
					checkRefusal(t, r, err)
				}
			}
		}
	})
}
