package app

import (
	"errors"
	"net/url"
	"strings"
)

// NormalizeServer turns what an agent types as the server address
// ("relay.example.com", "relay:8080", "https://relay.example.com/") into a
// websocket base URL ("wss://relay.example.com").
func NormalizeServer(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("server address is required")
	}
	if !strings.Contains(addr, "://") {
		addr = "wss://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return "", errors.New("server address is not valid")
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", errors.New("server address must use ws, wss, http or https")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// relayURL is the relay's websocket endpoint under a normalized base: the
// relay serves /ws; a base that already names it is kept.
func relayURL(base string) string {
	if strings.HasSuffix(base, "/ws") {
		return base
	}
	return base + "/ws"
}
