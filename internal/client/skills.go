package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// skillPath returns /api/v1/skills/{name} with rest appended, escaping the
// name so that no name can address another route.
func skillPath(name string, rest ...string) string {
	p := "/api/v1/skills/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// versionRef is a version number or "latest" (for "" too).
func versionRef(ref string) string {
	if ref == "" {
		return "latest"
	}
	return url.PathEscape(ref)
}

// escapePath escapes each segment of a bundle path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Me returns who the key belongs to; it is the way to check a key.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	return m, c.getJSON(ctx, "/api/v1/me", nil, &m)
}

// ListSkills returns one page of the skills the key may see, starting at
// cursor ("" for the first page).
func (c *Client) ListSkills(ctx context.Context, f ListOptions, cursor string) (Page[Skill], error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "visibility": f.Visibility, "category": f.Category,
		"tag": f.Tag, "author": f.Author, "sort": f.Sort, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var p Page[Skill]
	err := c.getJSON(ctx, "/api/v1/skills", q, &p)
	return p, err
}

// Skill returns one skill.
func (c *Client) Skill(ctx context.Context, name string) (Skill, error) {
	var s Skill
	return s, c.getJSON(ctx, skillPath(name), nil, &s)
}

// Version returns a version (a number, or "latest"/"" for the newest) with
// its manifest and digest.
func (c *Client) Version(ctx context.Context, name, ref string) (Version, error) {
	var v Version
	return v, c.getJSON(ctx, skillPath(name, "versions", versionRef(ref)), nil, &v)
}

// File returns the bytes of one file of a version, as served; callers that
// write it anywhere must check it against the manifest first.
func (c *Client) File(ctx context.Context, name, ref, path string) ([]byte, error) {
	data, _, err := c.do(ctx, request{method: http.MethodGet, accept: "*/*",
		path: skillPath(name, "versions", versionRef(ref), "files", escapePath(path))}, maxFileBytes)
	return data, err
}

// BundleZip returns a version as a zip archive.
func (c *Client) BundleZip(ctx context.Context, name, ref string) ([]byte, error) {
	data, _, err := c.do(ctx, request{method: http.MethodGet, accept: "application/zip",
		path: skillPath(name, "versions", versionRef(ref), "bundle.zip")}, maxFileBytes)
	return data, err
}

// CreateSkill creates the skill named in the zipped bundle's SKILL.md with
// version 1, published at once when publish is set. visibility is private,
// tenant or public ("" for the server's default, tenant). A skill of that
// name that exists already is a 409 (see IsConflict).
func (c *Client) CreateSkill(ctx context.Context, zip []byte, publish bool, visibility string) (Published, error) {
	q := url.Values{"publish": {strconv.FormatBool(publish)}}
	if visibility != "" {
		q.Set("visibility", visibility)
	}
	var p Published
	err := c.sendJSON(ctx, request{method: http.MethodPost, path: "/api/v1/skills", query: q, body: zip, contentType: "application/zip", retry: true}, &p)
	return p, err
}

// AddVersion adds the zipped bundle as a new version of name; when the
// bundle equals the latest version nothing is stored and the answer has
// Unchanged set.
func (c *Client) AddVersion(ctx context.Context, name string, zip []byte, publish bool) (Published, error) {
	q := url.Values{"publish": {strconv.FormatBool(publish)}}
	var p Published
	err := c.sendJSON(ctx, request{method: http.MethodPost, path: skillPath(name, "versions"), query: q, body: zip, contentType: "application/zip", retry: true}, &p)
	return p, err
}

// Publish publishes the latest version of a skill (or sends it to review
// when the tenant requires review) and returns the skill and the server's
// message.
func (c *Client) Publish(ctx context.Context, name string) (Skill, string, error) {
	var out struct {
		Skill   Skill  `json:"skill"`
		Message string `json:"message"`
	}
	err := c.sendJSON(ctx, request{method: http.MethodPost, path: skillPath(name, "publish"), retry: true}, &out)
	return out.Skill, out.Message, err
}

// Rate creates or changes the key's user's rating of a skill (1-5 stars).
func (c *Client) Rate(ctx context.Context, name string, stars int, comment string) (RatingResult, error) {
	r, err := jsonBody(http.MethodPut, skillPath(name, "rating"), map[string]any{"stars": stars, "comment": comment})
	if err != nil {
		return RatingResult{}, err
	}
	var out RatingResult
	return out, c.sendJSON(ctx, r, &out)
}

// RecordUsage records a batch of usage events; events the server refuses
// are listed in the result, the others are recorded.
func (c *Client) RecordUsage(ctx context.Context, events []UsageEvent) (UsageResult, error) {
	r, err := jsonBody(http.MethodPost, "/api/v1/usage", map[string]any{"events": events})
	if err != nil {
		return UsageResult{}, err
	}
	var out UsageResult
	return out, c.sendJSON(ctx, r, &out)
}

// Stats returns a skill's usage totals.
func (c *Client) Stats(ctx context.Context, name string) (Stats, error) {
	var s Stats
	return s, c.getJSON(ctx, skillPath(name, "stats"), nil, &s)
}
