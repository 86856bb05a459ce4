package app

import (
	"errors"
	"net/url"
	"strings"
)

// NormalizeServer turns what an agent types as the server address
// ("relay.example.com", "relay:8080", "https://relay.example.com/") into a
// websocket base URL ("wss://relay.example.com"). Several addresses, the
// nodes of a cluster, are separated by commas or spaces and kept in order,
// joined by ", ": the client moves on to the next when one fails.
func NormalizeServer(addrs string) (string, error) {
	fields := strings.FieldsFunc(addrs, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return "", errors.New("server address is required")
	}
	out := make([]string, len(fields))
	for i, f := range fields {
		base, err := normalizeOne(f)
		if err != nil {
			return "", err
		}
		out[i] = base
	}
	return strings.Join(out, ", "), nil
}

func normalizeOne(addr string) (string, error) {
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

// relayURL is the relay's websocket endpoint under each normalized base:
// the relay serves /ws; a base that already names it is kept.
func relayURL(bases string) string {
	list := strings.Split(bases, ", ")
	for i, base := range list {
		if !strings.HasSuffix(base, "/ws") {
			list[i] = base + "/ws"
		}
	}
	return strings.Join(list, ", ")
}
