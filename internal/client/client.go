// Package client is a small Go client for Skillvault's REST API (/api/v1),
// used by the command line and the stdio MCP bridge. It talks HTTP(S) with
// a bearer API key and never touches the database.
//
// Failures the server reports are *Error values carrying the HTTP status and
// the problem+json type, detail and per-file problems.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
)

// ClientVersion is the client's version, sent in the User-Agent. Release
// builds set it with
// -ldflags "-X github.com/skillvault/skillvault/internal/client.ClientVersion=v1.2.3";
// otherwise it is the module version when known, or "dev".
var ClientVersion = buildVersion()

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// DefaultTimeout bounds one request, body included. Bundles are at most
// tens of megabytes, so a minute is ample on any working link.
const DefaultTimeout = 60 * time.Second

// Response bodies are bounded, so a broken or hostile server cannot make
// the client hold unbounded data in memory.
const (
	maxJSONBytes = 32 << 20
	maxFileBytes = 256 << 20
)

// Client calls one Skillvault server with one API key. Its fields may be
// changed before first use; it is safe for concurrent use afterwards.
type Client struct {
	base      string // server URL without trailing slash
	key       string
	HTTP      *http.Client
	UserAgent string
	// OnRetry, when set, is called before a refused request (429, 503) is
	// sent again, so that a command can say why it is waiting.
	OnRetry func(Retry)
}

// New returns a client for server (an http or https URL, possibly with a
// path prefix) authenticating with key.
func New(server, key string) (*Client, error) {
	base, err := NormalizeServer(server)
	if err != nil {
		return nil, err
	}
	return &Client{
		base:      base,
		key:       strings.TrimSpace(key),
		HTTP:      &http.Client{Timeout: DefaultTimeout},
		UserAgent: "skillvault-cli/" + ClientVersion,
	}, nil
}

// NormalizeServer checks that server is an absolute http(s) URL and returns
// it without a trailing slash, query or fragment.
func NormalizeServer(server string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server must be an http:// or https:// URL, not %q", server)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return strings.TrimRight(u.String(), "/"), nil
}

// Server returns the server URL the client calls.
func (c *Client) Server() string { return c.base }

// String describes the client without its key, so that printing a client
// by mistake never leaks the key.
func (c *Client) String() string { return "skillvault client for " + c.base }

// Error is a failure reported by the server: an HTTP status with the
// problem+json details when the server sent them.
type Error struct {
	Status   int              // HTTP status
	Type     string           // problem type, e.g. /problems/not-found
	Title    string           // short summary of the type
	Detail   string           // what went wrong this time
	Instance string           // request id, to quote when reporting
	Problems []bundle.Problem // per-file problems of an invalid bundle
	Method   string
	Path     string // request path, without query
}

func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if len(e.Problems) > 0 {
		ps := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			ps[i] = p.String()
		}
		msg += ": " + strings.Join(ps, "; ")
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// StatusOf returns the HTTP status of a server error, or 0 for other
// errors (network, decoding).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether the server answered 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsConflict reports whether the server answered 409.
func IsConflict(err error) bool { return StatusOf(err) == http.StatusConflict }

// IsUnauthenticated reports whether the server refused the key (401).
func IsUnauthenticated(err error) bool { return StatusOf(err) == http.StatusUnauthorized }

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         []byte
	contentType  string
	accept       string
	retry        bool // safe to send again although not GET/PUT/DELETE
}

// Retries: a server that says to come back later (429, 503) is asked
// again after its Retry-After delay, with jitter so that many clients do
// not return at once. Both the count and each wait are bounded, so a
// server that never recovers fails the request instead of hanging it.
const (
	maxAttempts = 8
	maxWait     = 30 * time.Second
)

// retrySafe reports whether sending r again cannot do anything twice:
// reads and idempotent writes, and the requests marked retry (uploads,
// which the server answers "unchanged" when it already has the bundle).
func (r request) retrySafe() bool {
	switch r.method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return r.retry
}

// do sends a request and returns the successful response's body (read up
// to limit bytes) and headers; any status >= 400 becomes an *Error.
func (c *Client) do(ctx context.Context, r request, limit int64) ([]byte, http.Header, error) {
	for attempt := 1; ; attempt++ {
		body, h, status, err := c.once(ctx, r, limit)
		if err != nil {
			return nil, nil, err
		}
		if status < 400 {
			return body, h, nil
		}
		if attempt < maxAttempts && r.retrySafe() &&
			(status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
			wait := retryDelay(h, attempt)
			if c.OnRetry != nil {
				c.OnRetry(Retry{Method: r.method, Path: r.path, Status: status, Attempt: attempt, Wait: wait})
			}
			if err := sleep(ctx, wait); err != nil {
				return nil, nil, err
			}
			continue
		}
		return nil, nil, decodeError(r, status, h, body)
	}
}

// Retry describes a request about to be sent again, for progress output.
type Retry struct {
	Method, Path string
	Status       int // 429 or 503
	Attempt      int // the attempt that was refused, from 1
	Wait         time.Duration
}

func (c *Client) once(ctx context.Context, r request, limit int64) ([]byte, http.Header, int, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept+", application/problem+json")
	req.Header.Set("User-Agent", c.UserAgent)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// url.Error quotes the URL, which never holds the key.
		return nil, nil, 0, fmt.Errorf("cannot reach %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s %s: read response: %w", r.method, r.path, err)
	}
	if int64(len(data)) > limit {
		return nil, nil, 0, fmt.Errorf("%s %s: the response is larger than %d bytes", r.method, r.path, limit)
	}
	return data, resp.Header, resp.StatusCode, nil
}

// retryDelay is the server's Retry-After (seconds) or, without one, an
// exponential backoff from half a second; capped at maxWait, plus up to a
// quarter more of random jitter.
func retryDelay(h http.Header, attempt int) time.Duration {
	d := (500 * time.Millisecond) << min(attempt-1, 6)
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	}
	d = min(d, maxWait)
	return d + rand.N(d/4+time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decodeError turns an error response into an *Error, using the
// problem+json body when there is one.
func decodeError(r request, status int, h http.Header, body []byte) error {
	e := &Error{Status: status, Method: r.method, Path: r.path}
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if ct == "application/problem+json" || ct == "application/json" {
		var p struct {
			Type     string           `json:"type"`
			Title    string           `json:"title"`
			Detail   string           `json:"detail"`
			Instance string           `json:"instance"`
			Problems []bundle.Problem `json:"problems"`
		}
		if json.Unmarshal(body, &p) == nil {
			e.Type, e.Title, e.Detail, e.Instance, e.Problems = p.Type, p.Title, p.Detail, p.Instance, p.Problems
		}
	}
	if e.Detail == "" && e.Title == "" {
		// Not one of ours (a proxy, a different server): say so briefly.
		e.Title = http.StatusText(status)
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 && !strings.ContainsAny(s, "<>") {
			e.Detail = s
		}
	}
	return e
}

// getJSON sends a GET and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	return c.sendJSON(ctx, request{method: http.MethodGet, path: path, query: q}, v)
}

// sendJSON sends a request and decodes the JSON answer into v (when v is
// not nil).
func (c *Client) sendJSON(ctx context.Context, r request, v any) error {
	data, _, err := c.do(ctx, r, maxJSONBytes)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not the expected JSON: %w", r.method, r.path, err)
	}
	return nil
}

// jsonBody encodes v as a request body.
func jsonBody(method, path string, v any) (request, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return request{}, fmt.Errorf("encode %s %s: %w", method, path, err)
	}
	return request{method: method, path: path, body: data, contentType: "application/json"}, nil
}
