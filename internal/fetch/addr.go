package fetch

import (
	"net/netip"
)

// specialPrefixes are the ranges that are not public unicast destinations
// (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890 and later):
// private, shared (CGNAT), loopback, link-local, multicast, documentation,
// benchmarking, reserved and translation ranges.
var specialPrefixes = []netip.Prefix{
	// IPv4
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local (cloud metadata)
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.31.196.0/24"), // AS112-v4
	netip.MustParsePrefix("192.52.193.0/24"), // AMT
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("192.175.48.0/24"), // direct delegation AS112
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, limited broadcast
	// IPv6
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use IPv4/IPv6 translation
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (Teredo, ORCHID, ...)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("3fff::/20"),      // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),      // SRv6 SIDs
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

var (
	mapped4 = netip.MustParsePrefix("::ffff:0:0/96") // IPv4-mapped
	nat64   = netip.MustParsePrefix("64:ff9b::/96")  // well-known NAT64 prefix
	sixTo4  = netip.MustParsePrefix("2002::/16")     // 6to4
)

// PublicAddr reports whether ip is a public unicast address that aicensus
// may connect to by default. It is false for the zero Addr, for every range
// in the IANA special-purpose registries that is not globally reachable
// (private, CGNAT, loopback, link-local, multicast, documentation,
// benchmarking, reserved), and for IPv6 forms that embed such an IPv4
// address: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
// (2002:aabb:ccdd::).
func PublicAddr(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("")
	if ip.Is6() {
		if v4, ok := embeddedIPv4(ip); ok {
			return PublicAddr(v4)
		}
	}
	for _, p := range specialPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return ip.IsGlobalUnicast()
}

// embeddedIPv4 returns the IPv4 address inside an IPv4-mapped, NAT64 or
// 6to4 IPv6 address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case mapped4.Contains(ip), nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// AddrPolicy decides which addresses may be dialed; the fetcher and the
// browser's proxy (internal/render) share it. The zero value permits only
// public addresses.
type AddrPolicy struct {
	AllowAll bool           // --allow-private
	Allow    []netip.Prefix // prefixes permitted although not public
}

// Permits reports whether ip may be dialed: always with AllowAll, when ip
// (or its unmapped IPv4 form) is in an allowed prefix, or when it is a
// public address (PublicAddr).
func (p AddrPolicy) Permits(ip netip.Addr) bool {
	if p.AllowAll {
		return true
	}
	ip = ip.WithZone("")
	for _, pfx := range p.Allow {
		if pfx.Contains(ip) || pfx.Contains(ip.Unmap()) {
			return true
		}
	}
	return PublicAddr(ip)
}
