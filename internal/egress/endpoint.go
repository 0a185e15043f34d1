package egress

import (
	"net"
	"net/url"
	"path"
	"strings"
)

// SameEndpoint reports whether two absolute http(s) URLs name the same
// endpoint: scheme, host, port (default ports filled in) and cleaned path
// equal. URLs with credentials, a query or a fragment never match; that
// is what decides whether the operator's key may go with a request.
func SameEndpoint(a, b string) bool {
	na, ok := normalize(a)
	if !ok {
		return false
	}
	nb, ok := normalize(b)
	return ok && na == nb
}

func normalize(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "http" && port == "":
		port = "80"
	case scheme == "https" && port == "":
		port = "443"
	case scheme != "http" && scheme != "https":
		return "", false
	}
	host := normHost(u.Hostname())
	if host == "" {
		return "", false
	}
	p := path.Clean("/" + u.Path)
	return scheme + "://" + net.JoinHostPort(host, port) + p, true
}
