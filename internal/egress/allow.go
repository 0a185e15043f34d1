package egress

import (
	"fmt"
	"net/netip"
	"strings"
)

// allowList is what the operator lets tenants' URLs reach although the
// address is internal: single addresses, CIDR ranges and host names.
type allowList struct {
	addrs    map[netip.Addr]bool
	prefixes []netip.Prefix
	hosts    map[string]bool
}

// parseAllow reads entries such as "127.0.0.1", "10.0.0.0/8", "fd00::/8"
// or "ollama.internal".
func parseAllow(entries []string) (allowList, error) {
	a := allowList{addrs: map[netip.Addr]bool{}, hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return a, fmt.Errorf("egress: allow entry %q is not a CIDR range: %w", e, err)
			}
			a.prefixes = append(a.prefixes, netip.PrefixFrom(canonical(p.Addr()), unmappedBits(p)).Masked())
		default:
			if ip, err := netip.ParseAddr(e); err == nil {
				a.addrs[canonical(ip)] = true
				continue
			}
			h := normHost(e)
			if strings.ContainsAny(h, ":[] ") {
				return a, fmt.Errorf("egress: allow entry %q is not an address, CIDR range or host name", e)
			}
			a.hosts[h] = true
		}
	}
	return a, nil
}

// unmappedBits keeps an IPv4-mapped range (::ffff:10.0.0.0/104) meaning
// the IPv4 range it stands for.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return p.Bits() - 96
	}
	return p.Bits()
}

func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// host reports whether the operator allowed a host name: its addresses
// are then trusted, whatever they are.
func (a allowList) host(name string) bool { return a.hosts[normHost(name)] }

// addr returns "" when ip may be dialled, or why not.
func (a allowList) addr(ip netip.Addr) string {
	ip = canonical(ip)
	reason := Classify(ip)
	if reason == "" || a.addrs[ip] {
		return ""
	}
	if reason == "metadata" {
		return reason
	}
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return ""
		}
	}
	return reason
}
