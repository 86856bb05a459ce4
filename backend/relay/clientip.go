package relay

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request comes from: the socket's peer, or, when
// that peer is one of the configured trusted proxies, the right-most address
// of X-Forwarded-For that is not a trusted proxy. Anybody can write the
// header; only the proxies' own additions (they append their peer) can be
// believed, so the walk starts at the right and stops at the first address
// that no trusted proxy vouches for. Limits per visitor and login throttling
// count by it.
func (g *Gate) clientIP(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !g.trusted(peer) {
		return peer
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := peerAddr(hops[i])
		if !a.IsValid() {
			break // garbage: nothing to its left can be believed either
		}
		client = a
		if !g.trusted(a) {
			break
		}
	}
	return client
}

// trusted reports whether a is one of the configured proxies.
func (g *Gate) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor splits X-Forwarded-For headers (several headers count as one
// list, in order) into addresses.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, h)
			}
		}
	}
	return out
}

// ParseTrustedProxies reads addresses and CIDR ranges ("10.0.0.1",
// "10.0.0.0/8", "::1") into prefixes.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// peerAddr parses a "host:port" remote address (or a bare address, as
// X-Forwarded-For holds); an unparsable one is the zero Addr, which all such
// requests then share.
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
