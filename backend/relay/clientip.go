package relay

import (
	"net"
	"net/http"
	"net/netip"
)

// clientIP is the address a request comes from: the socket's peer. Limits
// per visitor and login throttling count by it.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	return peerAddr(r.RemoteAddr)
}

// peerAddr parses a "host:port" remote address; an unparsable one is the
// zero Addr, which all such requests then share.
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
