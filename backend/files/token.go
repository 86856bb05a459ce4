package files

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// A URL's token says what it allows, signed with the key every relay on the
// database shares, so any node checks it without asking the desk: the desk
// decided who may upload or read when it issued the URL.

// Token kinds.
const (
	kindUpload   = "u"
	kindDownload = "d"
)

// Claims are what a token allows.
type Claims struct {
	Kind    string   `json:"k"`
	File    string   `json:"f"`
	Session string   `json:"s"`
	Channel string   `json:"c,omitempty"`
	By      string   `json:"b"`           // who uploads, or who reads: "visitor" or "agent:<id>"
	Name    string   `json:"n,omitempty"` // upload: the name the client gave
	Max     int64    `json:"m,omitempty"` // upload: the most bytes it may carry
	Types   []string `json:"t,omitempty"` // upload: the sniffed types it may be
	Expires int64    `json:"e"`           // unix seconds
}

var (
	errBadToken = errors.New("not a valid file URL")
	errExpired  = errors.New("this file URL has expired")
)

type signer struct{ key []byte }

func (s signer) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sign makes a token: the claims in base64url, a dot, their HMAC-SHA256.
func (s signer) sign(c Claims) string {
	b, _ := json.Marshal(c) // strings and numbers always encode
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + s.mac(payload)
}

// verify checks a token's signature, kind and expiry.
func (s signer) verify(token, kind string, now time.Time) (Claims, error) {
	var c Claims
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return c, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != kind || c.File == "" {
		return c, errBadToken
	}
	if now.Unix() >= c.Expires {
		return c, errExpired
	}
	return c, nil
}

// NewID makes a file's id: 128 random bits, hex.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validID: ids are what NewID makes (they name blobs and disk files).
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}
