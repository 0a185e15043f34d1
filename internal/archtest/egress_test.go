package archtest

import (
	"go/ast"
	"strconv"
	"strings"
	"testing"
)

// outboundAllowed are the only places besides internal/egress that may
// build an HTTP client or dial: none of them dials a URL a tenant chose.
var outboundAllowed = map[string]string{
	"internal/egress/":     "the one client for tenant-chosen URLs",
	"internal/client/":     "the CLI's client of a server its user names",
	"internal/bench/":      "the load generator of the operator's benchmark",
	"internal/testserver/": "the test harness's client of its own server",
	"internal/web/auth.go": "the operator's OIDC issuer (SKILLVAULT_OIDC_ISSUER)",
}

// outboundAPIs make HTTP requests or connections of their own.
var outboundAPIs = map[string]map[string]bool{
	"net/http": {"Client": true, "DefaultClient": true, "Transport": true, "DefaultTransport": true,
		"Get": true, "Head": true, "Post": true, "PostForm": true},
	"net": {"Dial": true, "DialTimeout": true, "Dialer": true, "DialTCP": true, "DialUDP": true, "DialIP": true, "DialUnix": true},
}

// TestOnlyEgressCallsOut: outside the few places listed, no non-test code
// builds an HTTP client or dials, so every call to a URL a tenant chose
// goes through internal/egress (address checks, no redirects, categories
// of errors). A new client anywhere else fails here.
func TestOnlyEgressCallsOut(t *testing.T) {
	checked := func(rel string) bool {
		if strings.HasSuffix(rel, "_test.go") {
			return false
		}
		for p := range outboundAllowed {
			if strings.HasPrefix(rel, p) {
				return false
			}
		}
		return true
	}
	walkGo(t, checked, func(rel string, f *ast.File) {
		names := map[string]string{} // local name → import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if outboundAPIs[p] == nil {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && outboundAPIs[names[id.Name]][sel.Sel.Name] {
				t.Errorf("%s uses %s.%s: calls to tenant-chosen URLs go through internal/egress (or add the file to outboundAllowed, saying why no tenant chooses its URL)",
					rel, names[id.Name], sel.Sel.Name)
			}
			return true
		})
	})
}
