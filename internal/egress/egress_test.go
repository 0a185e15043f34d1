package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		ip, want string
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"100.128.0.1", ""},
		{"169.254.1.1", "link-local"},
		{"169.254.169.254", "metadata"},
		{"169.254.170.2", "metadata"},
		{"100.100.100.200", "metadata"},
		{"192.0.0.192", "metadata"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.1", "documentation"},
		{"198.18.0.1", "reserved"},
		// IPv6
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"::1", "loopback"},
		{"::", "unspecified"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"fd00:ec2::254", "metadata"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fec0::1", "reserved"},
		{"ff02::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"2001:0:4136:e378::1", "reserved"}, // Teredo
		{"4000::1", "reserved"},
		// IPv4 in IPv6 clothing is judged as the IPv4 address.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.169.254", "metadata"},
		{"::ffff:8.8.8.8", ""},
		{"::127.0.0.1", "reserved"}, // IPv4-compatible, deprecated
		{"64:ff9b::7f00:1", "loopback"},
		{"64:ff9b::a9fe:a9fe", "metadata"},
		{"64:ff9b::808:808", ""},
		{"64:ff9b:1::1", "private"},
		{"2002:7f00:1::1", "loopback"},
		{"2002:c0a8:101::1", "private"},
		{"2002:808:808::1", ""},
	}
	for _, c := range cases {
		if got := Classify(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Classify(%s) = %q, want %q", c.ip, got, c.want)
		}
	}
}

func TestAllowList(t *testing.T) {
	a, err := parseAllow([]string{"127.0.0.1", " 10.0.0.0/8 ", "::ffff:192.168.0.0/112", "fd00::/8", "Ollama.Internal.", "169.254.0.0/16", ""})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ip      string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"10.9.8.7", true},
		{"192.168.3.4", true},
		{"172.16.0.1", false},
		{"fd00::5", true},
		{"fc00::5", false},
		{"169.254.1.1", true},
		{"169.254.169.254", false}, // a range never allows a metadata address
		{"8.8.8.8", true},
	}
	for _, c := range cases {
		if got := a.addr(netip.MustParseAddr(c.ip)) == ""; got != c.allowed {
			t.Errorf("allowed(%s) = %v, want %v", c.ip, got, c.allowed)
		}
	}
	if !a.host("ollama.internal") || a.host("internal") {
		t.Error("host names are matched exactly, without case or a trailing dot")
	}
	exact, _ := parseAllow([]string{"169.254.169.254"})
	if exact.addr(netip.MustParseAddr("169.254.169.254")) != "" {
		t.Error("the exact metadata address, when listed, is allowed")
	}
	for _, bad := range []string{"10.0.0.0/33", "not a host:80", "[::1]"} {
		if _, err := parseAllow([]string{bad}); err == nil {
			t.Errorf("allow entry %q accepted", bad)
		}
	}
}

// internal is a loopback server standing in for a service inside the
// operator's network; it counts the requests that reach it.
func internal(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func port(s *httptest.Server) string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }

// TestInternalAddressesRefused: a URL that reaches a loopback service
// directly, by a name that resolves to loopback, or by a redirect from an
// allowed server, is refused; the allowed address works.
func TestInternalAddressesRefused(t *testing.T) {
	const marker = "INTERNAL-SECRET-7f3a"
	in, hits := internal(t, `{"secret":"`+marker+`"}`)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, in.URL+"/metrics", http.StatusFound)
	}))
	defer redirect.Close()
	ctx := context.Background()

	closed := newClient(t, Options{})
	for _, u := range []string{
		in.URL,
		"http://localhost:" + port(in),
		"http://[::ffff:127.0.0.1]:" + port(in),
	} {
		_, err := closed.PostJSON(ctx, u, "", []byte(`{}`), 1<<20)
		if Category(err) != NotAllowed {
			t.Errorf("%s: err %v, want %q", u, err, NotAllowed)
		}
	}
	// The redirecting server is allowed by name; the internal one is not.
	byName := newClient(t, Options{Allow: []string{"localhost"}})
	_, err := byName.PostJSON(ctx, "http://localhost:"+port(redirect), "", []byte(`{}`), 1<<20)
	if Category(err) != "provider answered 302" {
		t.Errorf("redirect: err %v, want provider answered 302", err)
	}
	if _, err := byName.PostJSON(ctx, in.URL, "", []byte(`{}`), 1<<20); Category(err) != NotAllowed {
		t.Errorf("an allowed host name allowed its address too: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal server was reached %d times", n)
	}
	for _, err := range []error{err, Public(err)} {
		if strings.Contains(fmt.Sprint(Public(err)), marker) {
			t.Errorf("public error shows the remote body: %v", err)
		}
	}

	open := newClient(t, Options{Allow: []string{"127.0.0.1"}})
	for _, u := range []string{in.URL, "http://localhost:" + port(in)} {
		data, err := open.PostJSON(ctx, u, "", []byte(`{}`), 1<<20)
		if err != nil || !strings.Contains(string(data), marker) {
			t.Errorf("allowed %s: %q %v", u, data, err)
		}
	}
	// Allowed, but redirects are still not followed.
	if _, err := open.PostJSON(ctx, redirect.URL, "", []byte(`{}`), 1<<20); Category(err) != "provider answered 302" {
		t.Errorf("redirect with loopback allowed: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("internal server reached %d times, want the 2 direct requests", n)
	}
}

// TestErrorsAreCategories: what a tenant may see of each failure is its
// category; the remote body is only in the detail.
func TestErrorsAreCategories(t *testing.T) {
	const marker = "REMOTE-BODY-MARKER-91c2"
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			fmt.Fprint(w, marker)
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		max     int64
		want    string
	}{
		{"401", status(401), 1 << 20, "provider answered 401"},
		{"500", status(500), 1 << 20, "provider answered 500"},
		{"too large", status(200), 4, TooLarge},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}, 1 << 20, TimedOut},
	}
	c := newClient(t, Options{Allow: []string{"127.0.0.1"}, Timeout: 200 * time.Millisecond})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := httptest.NewServer(tc.handler)
			defer s.Close()
			_, err := c.PostJSON(context.Background(), s.URL, "", nil, tc.max)
			if Category(err) != tc.want {
				t.Fatalf("category %q (%v), want %q", Category(err), err, tc.want)
			}
			if p := Public(err).Error(); p != tc.want {
				t.Errorf("public text %q, want %q", p, tc.want)
			}
		})
	}
	// A closed port: unreachable, without the dial error's text.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := c.PostJSON(context.Background(), "http://"+addr, "", nil, 1<<20)
	if Public(err).Error() != Unreachable {
		t.Errorf("closed port: %v", err)
	}
	if Category(errors.New("anything")) != Failed || Public(InvalidResponse("body %s", marker)).Error() != Invalid {
		t.Error("errors without a category are 'provider failed'; invalid responses lose their detail")
	}
}

func TestSameEndpoint(t *testing.T) {
	same := [][2]string{
		{"https://api.openai.com/v1", "https://API.openai.com:443/v1/"},
		{"http://h/v1/embeddings", "http://h:80/v1//embeddings"},
		{"https://h.example./x", "https://h.example/x"},
		{"http://[::1]:8080/", "http://[::1]:8080"},
	}
	for _, p := range same {
		if !SameEndpoint(p[0], p[1]) {
			t.Errorf("%s and %s differ", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"https://api.openai.com/v1", "http://api.openai.com/v1"},
		{"https://api.openai.com/v1", "https://api.openai.com:8443/v1"},
		{"https://api.openai.com/v1", "https://api.openai.com.evil.example/v1"},
		{"https://api.openai.com/v1", "https://api.openai.com/v2"},
		{"https://api.openai.com/v1", "https://user@api.openai.com/v1"},
		{"https://api.openai.com/v1", "https://api.openai.com/v1?x=1"},
		{"https://api.openai.com/v1", "https://api.openai.com/v1#f"},
		{"https://api.openai.com/v1", "https://api.openai.com/v1/../v2/../v1x"},
		{"", ""},
		{"ftp://h/x", "ftp://h/x"},
	}
	for _, p := range differ {
		if SameEndpoint(p[0], p[1]) {
			t.Errorf("%s and %s are the same", p[0], p[1])
		}
	}
}
