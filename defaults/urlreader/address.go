package urlreader

import "net/netip"

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	broadcast   = netip.MustParseAddr("255.255.255.255")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
)

// internal returns what kind of internal address ip is, or "" for a
// public one (or one that is not an IP address, which the dialer never
// connects to).
func internal(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
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
	}
	return ""
}
