package egress

import "net/netip"

// rule is a range of addresses a tenant's URL may not reach, and why.
type rule struct {
	prefix netip.Prefix
	reason string
}

func rules(r ...string) []rule {
	out := make([]rule, 0, len(r)/2)
	for i := 0; i < len(r); i += 2 {
		out = append(out, rule{netip.MustParsePrefix(r[i]), r[i+1]})
	}
	return out
}

// The IPv4 ranges that are not the public internet (RFC 6890 and its
// updates). The broadcast address comes before the reserved 240/4 so it
// is named for what it is.
var v4Rules = rules(
	"255.255.255.255/32", "broadcast",
	"0.0.0.0/8", "unspecified",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "shared (CGNAT)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "reserved",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "reserved",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "reserved",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved",
)

// The IPv6 ranges that are not the public internet. Forms that embed an
// IPv4 address (mapped, NAT64, 6to4) are judged by that address instead,
// in classify.
var v6Rules = rules(
	"::/128", "unspecified",
	"::1/128", "loopback",
	"64:ff9b:1::/48", "private",
	"100::/64", "reserved",
	"2001::/32", "reserved", // Teredo: hides an IPv4 address
	"2001:db8::/32", "documentation",
	"fc00::/7", "private",
	"fe80::/10", "link-local",
	"fec0::/10", "reserved",
	"ff00::/8", "multicast",
)

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	global6   = netip.MustParsePrefix("2000::/3")
)

// metadata are the cloud instance-metadata services (AWS, GCP, Azure,
// Oracle, ECS, Alibaba). They hand out the machine's credentials, so only
// an allow-list entry naming the exact address lets a request reach one;
// a CIDR never does.
var metadata = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true,
	netip.MustParseAddr("169.254.170.2"):   true,
	netip.MustParseAddr("169.254.169.253"): true,
	netip.MustParseAddr("100.100.100.200"): true,
	netip.MustParseAddr("192.0.0.192"):     true,
	netip.MustParseAddr("fd00:ec2::254"):   true,
}

// Classify returns why a tenant's URL may not reach ip ("loopback",
// "private", "metadata", …), or "" for a public address.
func Classify(ip netip.Addr) string {
	ip = canonical(ip)
	if metadata[ip] {
		return "metadata"
	}
	if ip.Is4() {
		return match(v4Rules, ip)
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return Classify(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return Classify(netip.AddrFrom4([4]byte(b[2:6])))
	}
	if r := match(v6Rules, ip); r != "" {
		return r
	}
	if !global6.Contains(ip) {
		return "reserved" // everything outside 2000::/3 is unassigned or special
	}
	return ""
}

// canonical drops the zone and turns an IPv4-mapped IPv6 address
// (::ffff:127.0.0.1) into the IPv4 address it stands for.
func canonical(ip netip.Addr) netip.Addr {
	return ip.WithZone("").Unmap()
}

func match(rs []rule, ip netip.Addr) string {
	for _, r := range rs {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}
