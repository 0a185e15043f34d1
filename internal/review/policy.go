package review

import (
	"strings"
)

// Policy is the operator's part of the builtin review.
type Policy struct {
	// VendorHosts are the hosts (or host/path prefixes) whose official
	// installers may be piped into a shell: such a pipe is a medium
	// finding, not a block. Matching is exact on the host or on a
	// subdomain of it ("astral.sh" also allows "www.astral.sh").
	VendorHosts []string
}

// DefaultVendorHosts are the official installers allowed out of the box
// (SKILLVAULT_REVIEW_VENDOR_HOSTS replaces them).
var DefaultVendorHosts = []string{
	"claude.ai", "astral.sh", "sh.rustup.rs", "rustup.rs", "get.docker.com", "deno.land", "bun.sh", "get.pnpm.io",
	"install.python-poetry.org", "ollama.com", "fly.io", "get.helm.sh", "sdk.cloud.google.com", "cli.github.com",
	"raw.githubusercontent.com/Homebrew/install/", "raw.githubusercontent.com/nvm-sh/nvm/", "nodejs.org", "pyenv.run",
	"get.k3s.io", "starship.rs", "opencode.ai", "mise.run", "tailscale.com/install.sh", "vercel.com", "fnm.vercel.app", "cursor.com",
}

// DefaultPolicy is the policy Builtin uses.
var DefaultPolicy = Policy{VendorHosts: DefaultVendorHosts}

// ParseVendorHosts reads a comma- or space-separated list of hosts, as an
// operator writes it in SKILLVAULT_REVIEW_VENDOR_HOSTS. A leading "+"
// adds to the defaults instead of replacing them.
func ParseVendorHosts(s string) []string {
	s = strings.TrimSpace(s)
	var out []string
	if strings.HasPrefix(s, "+") {
		out = append(out, DefaultVendorHosts...)
		s = s[1:]
	}
	for _, h := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		h = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(h), "https://"), "http://")
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

// vendor reports whether a download from host (lower case) with the
// given path comes from an allowed vendor.
func (p Policy) vendor(host, urlPath string) bool {
	host = strings.Split(host, ":")[0]
	for _, v := range p.VendorHosts {
		vh, vp, _ := strings.Cut(strings.ToLower(v), "/")
		if host != vh && !strings.HasSuffix(host, "."+vh) {
			continue
		}
		if vp == "" || strings.HasPrefix(strings.ToLower(strings.TrimPrefix(urlPath, "/")), vp) {
			return true
		}
	}
	return false
}
