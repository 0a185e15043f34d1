// Package egress is the one HTTP client for URLs that tenants choose
// (embedding providers, LLM reviewers). A tenant admin may type any URL,
// so the client must not become a way into the operator's network:
//
//   - it dials only public addresses, checked on the resolved IP at
//     connect time (so a name that resolves, or re-resolves, to an
//     internal address fails too), unless the operator allows the
//     address, range or host name;
//   - it follows no redirects and uses no proxy from the environment;
//   - it bounds the time to connect, the whole request and the answer's
//     size;
//   - its errors carry a Category a tenant may see ("provider answered
//     401"), and the detail (remote body, dial error) only for the server
//     log.
package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Options configure a Client. The zero value refuses every internal
// address.
type Options struct {
	// Allow lists addresses ("127.0.0.1"), CIDR ranges ("10.0.0.0/8")
	// and host names ("ollama.internal") tenants' URLs may reach although
	// they are internal. Metadata addresses need their exact address.
	Allow []string
	// ConnectTimeout bounds dialling (and the TLS handshake); default 10 s.
	ConnectTimeout time.Duration
	// Timeout bounds a whole request, answer included; default 2 min.
	Timeout time.Duration
	// RootCAs replaces the system's certificate authorities (an operator's
	// private CA; tests); nil uses the system's.
	RootCAs *x509.CertPool
}

// ParseList splits a comma-separated setting such as SKILLVAULT_EGRESS_ALLOW.
func ParseList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Client sends requests to tenant-chosen URLs.
type Client struct {
	hc *http.Client
}

// New returns a client; it fails on a malformed allow entry.
func New(o Options) (*Client, error) {
	allow, err := parseAllow(o.Allow)
	if err != nil {
		return nil, err
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	d := &dialer{allow: allow, plain: net.Dialer{Timeout: o.ConnectTimeout}}
	d.checked = d.plain
	d.checked.Control = d.control
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would dial for us, past the address check
	t.DialContext = d.dialContext
	t.TLSHandshakeTimeout = o.ConnectTimeout
	if o.RootCAs != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return &Client{hc: &http.Client{
		Transport: t,
		Timeout:   o.Timeout,
		// A redirect is a second URL the tenant did not type and the
		// operator did not check: never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// dialer checks every address it connects to.
type dialer struct {
	allow          allowList
	plain, checked net.Dialer
}

func (d *dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err == nil && d.allow.host(host) {
		return d.plain.DialContext(ctx, network, addr)
	}
	return d.checked.DialContext(ctx, network, addr)
}

// control runs after name resolution, just before connect, with the IP
// about to be dialled: the only moment the check cannot be raced.
func (d *dialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &notAllowed{addr: address, reason: "unparsable"}
	}
	if reason := d.allow.addr(ap.Addr()); reason != "" {
		return &notAllowed{addr: address, reason: reason}
	}
	return nil
}

type notAllowed struct{ addr, reason string }

func (e *notAllowed) Error() string {
	return fmt.Sprintf("address %s is %s and not allowed (SKILLVAULT_EGRESS_ALLOW)", e.addr, e.reason)
}

// PostJSON posts body to url, with key as a Bearer token when set, and
// returns the answer of a 2xx response, at most max bytes.
func (c *Client) PostJSON(ctx context.Context, url, key string, body []byte, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Category: Invalid, err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return c.do(ctx, req, max)
}

// GetJSON fetches url (a document a tenant's user or client named, such as
// an OAuth Client ID Metadata Document) and returns the answer of a 2xx
// response, at most max bytes, within timeout.
func (c *Client) GetJSON(ctx context.Context, url string, max int64, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &Error{Category: Invalid, err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Accept", "application/json")
	return c.do(ctx, req, max)
}

func (c *Client) do(ctx context.Context, req *http.Request, max int64) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, requestError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, requestError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Category: fmt.Sprintf("provider answered %d", resp.StatusCode), Status: resp.StatusCode,
			err: fmt.Errorf("%s: %s", resp.Status, TrimBody(data))}
	}
	if int64(len(data)) > max {
		return nil, &Error{Category: TooLarge, err: fmt.Errorf("answer larger than %d bytes", max)}
	}
	return data, nil
}

func requestError(ctx context.Context, err error) error {
	var na *notAllowed
	var ne net.Error
	switch {
	case errors.As(err, &na):
		return &Error{Category: NotAllowed, err: err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return &Error{Category: TimedOut, err: err}
	}
	return &Error{Category: Unreachable, err: err}
}

// TrimBody makes a response body fit in a log line. What it returns is
// for the server log, never for a tenant.
func TrimBody(b []byte) string {
	const max = 300
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// MustNew is New for options known to be valid; it panics otherwise.
func MustNew(o Options) *Client {
	c, err := New(o)
	if err != nil {
		panic(err)
	}
	return c
}
