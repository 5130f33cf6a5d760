package urlreader

import "net/netip"

var (
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")
	reserved     = netip.MustParsePrefix("240.0.0.0/4") // 255.255.255.255 included
	broadcast    = netip.MustParseAddr("255.255.255.255")
	// IPv4 documentation ranges (TEST-NET-1, -2, -3) and IPv6's.
	documentation = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	siteLocal = netip.MustParsePrefix("fec0::/10")

	// IPv6 prefixes that embed an IPv4 address.
	v4Compatible = netip.MustParsePrefix("::/96")        // ::a.b.c.d, in the last 32 bits
	nat64        = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052, in the last 32 bits
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour    = netip.MustParsePrefix("2002::/16") // RFC 3056, in bits 16 to 47
)

// internal returns what kind of internal address ip is, or "" for a
// public one (or one that is not an IP address, which the dialer never
// connects to). An IPv4 address embedded in IPv6 (IPv4-mapped,
// IPv4-compatible, NAT64, 6to4) is judged as that IPv4 address.
func internal(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	switch {
	case a.IsLoopback(): // ::1 before ::/96 makes it 0.0.0.1
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case nat64Local.Contains(a):
		// Local-use NAT64 prefixes are never global, whatever they embed.
		return "NAT64 (local-use)"
	case v4Compatible.Contains(a), nat64.Contains(a):
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	case sixToFour.Contains(a):
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[2:6]))
	}
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified(), thisNetwork.Contains(a):
		return "unspecified"
	case cgnat.Contains(a):
		return "shared (CGNAT)"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast(), a == broadcast:
		return "multicast or broadcast"
	case benchmarking.Contains(a):
		return "benchmarking"
	case reserved.Contains(a):
		return "reserved"
	case siteLocal.Contains(a):
		return "site-local"
	}
	for _, p := range documentation {
		if p.Contains(a) {
			return "documentation"
		}
	}
	return ""
}
