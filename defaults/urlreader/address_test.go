package urlreader

import "testing"

func TestInternalAddresses(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"127.0.0.1":            "loopback",
		"::1":                  "loopback",
		"::ffff:127.0.0.1":     "loopback",
		"10.1.2.3":             "private",
		"172.16.0.1":           "private",
		"192.168.1.1":          "private",
		"fd00::1":              "private",
		"169.254.169.254":      "link-local",
		"fe80::1%eth0":         "link-local",
		"0.0.0.0":              "unspecified",
		"::":                   "unspecified",
		"0.1.2.3":              "unspecified",
		"100.64.0.1":           "shared (CGNAT)",
		"100.127.255.254":      "shared (CGNAT)",
		"224.0.0.1":            "link-local",
		"239.1.1.1":            "multicast or broadcast",
		"255.255.255.255":      "multicast or broadcast",
		"ff02::1":              "link-local",
		"64:ff9b::a9fe:a9fe":   "link-local", // NAT64 of 169.254.169.254
		"93.184.216.34":        "",
		"100.128.0.1":          "",
		"2606:2800:220:1::1":   "",
		"172.32.0.1":           "",
		"not an address":       "",
		"64:ff9b::5db8:d822":   "", // NAT64 of a public address
		"::ffff:93.184.216.34": "",
	} {
		if got := internal(ip); got != want {
			t.Errorf("internal(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestAllowEntryMatching(t *testing.T) {
	t.Parallel()
	r, err := New(Options{Allow: []AllowEntry{
		{Host: "example.com"},
		{Host: "*.example.org"},
		{Host: "docs.example.net:8443"},
		{Host: "[2001:db8::1]:8080"},
		{Host: "2001:db8::2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, scheme string
		want         bool
	}{
		{"example.com", "https", true},
		{"EXAMPLE.com", "https", true},
		{"example.com:443", "https", true},
		{"example.com:80", "http", true},
		{"example.com:8080", "https", false},
		{"example.com:80", "https", false},
		{"sub.example.com", "https", false},
		{"a.example.org", "https", true},
		{"a.b.example.org", "https", true},
		{"example.org", "https", false},
		{"evilexample.org", "https", false},
		{"docs.example.net:8443", "https", true},
		{"docs.example.net", "https", false},
		{"example.com.evil.net", "https", false},
		{"[2001:db8::1]:8080", "http", true},
		{"[2001:db8::1]", "http", false},
		{"[2001:db8::2]", "https", true},
		{"[2001:db8::2]:443", "https", true},
	} {
		if got := len(r.entries(tc.host, defaultPorts(tc.scheme))) > 0; got != tc.want {
			t.Errorf("%s://%s allowed = %v, want %v", tc.scheme, tc.host, got, tc.want)
		}
	}
}

// Regression: internal IPv4 addresses embedded in IPv6, and IPv4 ranges
// that are never public, passed the check.
func TestInternalAddressesEmbeddedAndReserved(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"::127.0.0.1":            "loopback", // IPv4-compatible
		"::10.0.0.1":             "private",
		"::ffff:10.0.0.1":        "private", // IPv4-mapped
		"::ffff:169.254.169.254": "link-local",
		"64:ff9b::10.0.0.1":      "private",           // NAT64
		"64:ff9b:1::a00:1":       "NAT64 (local-use)", // RFC 8215, never global
		"64:ff9b:1:ffff::1":      "NAT64 (local-use)", // anywhere in the /48
		"2002:a00:1::1":          "private",           // 6to4 of 10.0.0.1
		"2002:7f00:1::":          "loopback",          // 6to4 of 127.0.0.1
		"2002:a9fe:a9fe::1":      "link-local",        // 6to4 of 169.254.169.254
		"198.18.0.1":             "benchmarking",      // 198.18/15
		"198.19.255.255":         "benchmarking",      //
		"240.0.0.1":              "reserved",          // 240/4
		"254.255.255.255":        "reserved",          //
		"100.64.0.0":             "shared (CGNAT)",    //
		"0.255.255.255":          "unspecified",       //
		"::ffff:0.0.0.1":         "unspecified",       //
		"fec0::1":                "site-local",        // deprecated, never global
		"2002:5db8:d822::1":      "",                  // 6to4 of a public address
		"::5db8:d822":            "",                  // IPv4-compatible public
		"198.20.0.1":             "",                  //
		"64:ff9b::93.184.216.34": "",                  //
		"2001:db8::1":            "documentation",     // 2001:db8::/32
		"192.0.2.1":              "documentation",     // TEST-NET-1
		"2606:4700:4700::1111":   "",                  //
	} {
		if got := internal(ip); got != want {
			t.Errorf("internal(%q) = %q, want %q", ip, got, want)
		}
	}
}
