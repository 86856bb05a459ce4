package app

import (
	"errors"
	"net/url"
	"strings"
)

// EventStatus carries a one-line status text for the UI's status line.
const EventStatus = "session:status"

// ErrSignInUnavailable is returned by Login until the relay client exists.
var ErrSignInUnavailable = errors.New("signing in is not available in this build yet")

// LoginRequest is what the login form sends.
type LoginRequest struct {
	Server   string `json:"server"`
	Login    string `json:"login"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
}

// SessionService is bound to the UI: the agent's sign-in and the app's
// own facts. Its exported methods are callable from the frontend as
// window.go.app.SessionService.<Method>.
type SessionService struct {
	emitter Emitter
	window  Window
}

// NewSessionService returns a service that reports to the UI through e.
func NewSessionService(e Emitter, w Window) *SessionService {
	if w == "" {
		w = WindowMain
	}
	return &SessionService{emitter: e, window: w}
}

// Version returns the app's version.
func (s *SessionService) Version() string { return Version }

// Window returns the view the app was started with ("main" or "dashboard").
func (s *SessionService) Window() string { return string(s.window) }

// Login checks the form and signs the agent in to the relay.
func (s *SessionService) Login(req LoginRequest) error {
	if _, err := NormalizeServer(req.Server); err != nil {
		return err
	}
	if strings.TrimSpace(req.Login) == "" {
		return errors.New("login is required")
	}
	if req.Password == "" {
		return errors.New("password is required")
	}
	s.emitter.Emit(EventStatus, ErrSignInUnavailable.Error())
	return ErrSignInUnavailable
}

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
