package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestRealIP: behind trusted proxies the client is the last address in the
// header that is not a proxy; whatever a client writes further left is not
// believed, and a header from anyone but a proxy is ignored.
func TestRealIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:5000", nil, "192.0.2.1"},
		{"192.0.2.1:5000", []string{"198.51.100.9"}, "192.0.2.1"},                // not from a proxy: ignored
		{"10.0.0.1:5000", []string{"198.51.100.9"}, "198.51.100.9"},              // the load balancer names the client
		{"10.0.0.1:5000", []string{"203.0.113.5, 198.51.100.9"}, "198.51.100.9"}, // the client's own claim, left of it, is not believed
		{"10.0.0.1:5000", []string{"198.51.100.9, 10.0.0.7"}, "198.51.100.9"},    // through two proxies
		{"10.0.0.1:5000", []string{"198.51.100.9", "10.0.0.7"}, "198.51.100.9"},  // as separate header lines
		{"10.0.0.1:5000", []string{"nonsense, 10.0.0.7"}, "10.0.0.7"},            // a garbled hop: stop at the last good one
		{"10.0.0.1:5000", nil, "10.0.0.1"},
		{"[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"[::ffff:10.0.0.1]:5000", []string{"::ffff:198.51.100.9"}, "198.51.100.9"}, // mapped addresses are IPv4
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := realIP(r, proxies, "X-Forwarded-For"); got.String() != c.want {
			t.Errorf("from %s with %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
