package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// PasswordCost is the bcrypt cost for agents' passwords (tests lower it).
var PasswordCost = 11

// HashPassword hashes a password for the store.
func HashPassword(pw string) ([]byte, error) {
	if len(pw) < 8 {
		return nil, errors.New("password must be at least 8 characters")
	}
	if len(pw) > 72 {
		return nil, errors.New("password must be at most 72 bytes")
	}
	return bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
}

// dummyHash is compared against when the login is unknown, so that a wrong
// login and a wrong password take the same time. It is made at first use,
// with the cost in force then.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("switchboard-no-such-agent"), PasswordCost)
	return h
})

// newToken makes a random bearer token and the hash the store keeps. The
// token itself is never stored or logged.
func newToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the OS has no randomness: nothing is safe
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// handoverPrefix marks one-time tokens: they are revoked on first use.
const handoverPrefix = "h1."

// HandoverTTL is how long a one-time handover token is valid.
const HandoverTTL = 60 * time.Second

// newHandoverToken makes a one-time token for a second window.
func newHandoverToken() (token, hash string) {
	t, _ := newToken()
	token = handoverPrefix + t
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newSessionID makes an unguessable session id.
func newSessionID() chat.SessionID {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return chat.SessionID("s-" + base64.RawURLEncoding.EncodeToString(b[:]))
}

// authenticate checks an agent's password or token. It returns the agent,
// the token the welcome hands out (after a password or a handover login) and
// the hash of the token the connection now stands on (revoked by logout).
// ip is the client's address, for throttling password guesses.
func (s *Server) authenticate(ctx context.Context, ip netip.Addr, h protocol.Hello) (chat.AgentID, string, string, *protocol.Error) {
	bad := protocol.Errorf(protocol.CodeBadCredentials, "wrong login, password or token")
	if strings.HasPrefix(h.Token, handoverPrefix) {
		return s.redeemHandover(ctx, h.Token, bad)
	}
	if h.Token != "" {
		hash := hashToken(h.Token)
		id, err := s.store.TokenAgent(ctx, hash, s.now())
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return 0, "", "", bad
			}
			return 0, "", "", protocol.Errorf(protocol.CodeInternal, "could not check the token")
		}
		return id, "", hash, nil
	}
	if h.Login == "" || h.Password == "" {
		return 0, "", "", protocol.Errorf(protocol.CodeBadRequest, "give login and password, or a token")
	}
	return s.checkPassword(ctx, ip, h.Login, h.Password, bad)
}

// checkPassword signs in with login and password, throttled (see login.go).
func (s *Server) checkPassword(ctx context.Context, ip netip.Addr, login, password string, bad *protocol.Error) (chat.AgentID, string, string, *protocol.Error) {
	addr, name := addrKey(ip).String(), nameKey(login)
	if wait, ok := s.throttle.admit(s.now(), addr, name); !ok {
		s.metrics.loginThrottle.Add(1)
		return 0, "", "", rateLimited(wait, "too many failed sign-ins; try again in %d s", waitSeconds(wait))
	}
	row, err := s.store.AgentByLogin(ctx, login)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.throttle.released(addr, name)
		return 0, "", "", protocol.Errorf(protocol.CodeInternal, "could not check the login")
	}
	known := err == nil && !row.Disabled
	var match bool
	if err := s.passwords.run(ctx, func() {
		hash := row.PasswordHash
		if !known {
			hash = dummyHash() // the same time as a real comparison
		}
		match = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	}); err != nil {
		s.throttle.released(addr, name)
		s.metrics.loginThrottle.Add(1)
		return 0, "", "", protocol.Errorf(protocol.CodeUnavailable, "the relay is busy with other sign-ins; try again in a few seconds")
	}
	if !known || !match {
		s.throttle.failed(s.now(), addr, name)
		s.metrics.loginFailed.Add(1)
		s.log.Warn("sign-in failed", "login", logLogin(login), "ip", ip.String(), "known", known)
		return 0, "", "", bad
	}
	s.throttle.succeeded(addr, name)
	id, token, tokenHash, perr := s.issueToken(ctx, row.ID)
	if perr != nil {
		return 0, "", "", perr
	}
	// A password change or a disable that committed while bcrypt ran has
	// already revoked the agent's tokens, but not this one, made after it:
	// look again now that it exists. A change committing after this look
	// revokes it with the others.
	if now, err := s.store.AgentByLogin(ctx, login); err != nil || now.Disabled || !bytes.Equal(now.PasswordHash, row.PasswordHash) {
		_ = s.store.RevokeToken(ctx, tokenHash)
		return 0, "", "", bad
	}
	return id, token, tokenHash, nil
}

// logLogin bounds what a stranger's login puts into the log.
func logLogin(login string) string {
	const most = 64
	if len(login) > most {
		return login[:most] + "…"
	}
	return login
}

// passwordWorkers: bcrypt checks at once, one per core unless configured.
func passwordWorkers(cfg Config) int {
	if cfg.PasswordWorkers > 0 {
		return cfg.PasswordWorkers
	}
	return runtime.NumCPU()
}

// issueToken makes a session token for an agent; the welcome carries it.
func (s *Server) issueToken(ctx context.Context, id chat.AgentID) (chat.AgentID, string, string, *protocol.Error) {
	token, hash := newToken()
	if err := s.store.CreateToken(ctx, id, hash, s.now().Add(s.cfg.TokenTTL)); err != nil {
		return 0, "", "", s.writeFailed(err, "issue a token")
	}
	return id, token, hash, nil
}

// redeemHandover signs in with a one-time handover token. The token is
// revoked at once (a leaked one is worthless afterwards) and exchanged for a
// normal session token of the same agent, which the welcome carries: the
// second window keeps it in memory and reconnects with it after a drop or a
// relay restart, and logout revokes it like any other. The new token keeps
// the parent of the one-time token, so the logout of the window that handed
// it over revokes it too. The revocation is the claim: it succeeds once, so
// two hellos racing with the same token cannot both get in.
func (s *Server) redeemHandover(ctx context.Context, token string, bad *protocol.Error) (chat.AgentID, string, string, *protocol.Error) {
	session, sessionHash := newToken()
	now := s.now()
	id, err := s.store.RedeemToken(ctx, hashToken(token), sessionHash, now, now.Add(s.cfg.TokenTTL))
	if errors.Is(err, store.ErrNotFound) {
		return 0, "", "", bad
	}
	if err != nil {
		return 0, "", "", s.writeFailed(err, "check the token")
	}
	return id, session, sessionHash, nil
}
