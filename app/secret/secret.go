// Package secret keeps the agent's remember-me token: in the OS keyring where
// one answers, else in a file only the user can read. It stores the token
// the relay issued, never the password: a token can be revoked on the relay
// (logout) and means nothing elsewhere.
package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"

	"switchboard/app/internal/sessionbus"
)

// ErrNotFound: no token is kept for that server and login.
var ErrNotFound = errors.New("secret: no token kept")

// Store keeps one token per server and login.
type Store interface {
	Load(server, login string) (string, error)
	Save(server, login, token string) error
	Delete(server, login string) error
}

// FileName is the token file in the user's config directory.
const FileName = "token.json"

// File keeps a single token in a JSON file with mode 0600.
type File struct{ Path string }

type fileEntry struct {
	Server string `json:"server"`
	Login  string `json:"login"`
	Token  string `json:"token"`
}

// Load returns the token kept for server and login.
func (f File) Load(server, login string) (string, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	var e fileEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return "", fmt.Errorf("secret: %s: %w", f.Path, err)
	}
	if e.Server != server || e.Login != login || e.Token == "" {
		return "", ErrNotFound
	}
	return e.Token, nil
}

// Save replaces the file: one desk remembers one agent.
func (f File) Save(server, login, token string) error {
	b, err := json.Marshal(fileEntry{Server: server, Login: login, Token: token})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	// Write a 0600 temp file and rename it over, so the token is never
	// readable by others, not even for a moment, and never half-written.
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

// Delete removes the file if it holds server and login (or is unreadable).
func (f File) Delete(server, login string) error {
	if _, err := f.Load(server, login); errors.Is(err, ErrNotFound) {
		return nil
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Service names the keyring entries.
const Service = "Switchboard"

// keyringTimeout bounds one keyring call: a locked keyring may prompt the
// user, and the desk must not hang on it.
const keyringTimeout = 3 * time.Second

// Keyring keeps tokens in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows).
type Keyring struct{}

func user(server, login string) string { return login + "@" + server }

func within[T any](f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() { v, err := f(); ch <- res{v, err} }()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(keyringTimeout):
		var zero T
		return zero, errors.New("secret: the keyring did not answer")
	}
}

func (Keyring) Load(server, login string) (string, error) {
	tok, err := within(func() (string, error) { return keyring.Get(Service, user(server, login)) })
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNotFound
	}
	return tok, err
}

func (Keyring) Save(server, login, token string) error {
	_, err := within(func() (struct{}, error) { return struct{}{}, keyring.Set(Service, user(server, login), token) })
	return err
}

func (Keyring) Delete(server, login string) error {
	_, err := within(func() (struct{}, error) { return struct{}{}, keyring.Delete(Service, user(server, login)) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// Auto tries the keyring first and falls back to the file.
type Auto struct {
	Keyring Store // nil = no keyring
	File    File
	Log     *slog.Logger

	// down: the keyring failed once this run; asking again would only add
	// a timeout to every call.
	down atomic.Bool
}

func (a *Auto) keyring() Store {
	if a.Keyring == nil || a.down.Load() {
		return nil
	}
	return a.Keyring
}

func (a *Auto) fail(err error) {
	a.down.Store(true)
	a.log().Info("keyring unavailable; using the 0600 token file", "err", err)
}

// Default returns the store for the user's config directory: the keyring
// where one can answer, with the 0600 file as fallback.
func Default(userDir string, log *slog.Logger) *Auto {
	a := &Auto{File: File{Path: filepath.Join(userDir, FileName)}, Log: log}
	if keyringUsable() {
		a.Keyring = Keyring{}
	}
	return a
}

// keyringUsable: on Linux the Secret Service lives on the session bus; with
// no session bus go-keyring would try to autolaunch one, so skip it.
func keyringUsable() bool {
	return !sessionbus.Needed() || sessionbus.Available()
}

func (a *Auto) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

func (a *Auto) Load(server, login string) (string, error) {
	if k := a.keyring(); k != nil {
		tok, err := k.Load(server, login)
		if err == nil {
			return tok, nil
		}
		if !errors.Is(err, ErrNotFound) {
			a.fail(err)
		}
	}
	return a.File.Load(server, login)
}

func (a *Auto) Save(server, login, token string) error {
	if k := a.keyring(); k != nil {
		err := k.Save(server, login, token)
		if err == nil {
			_ = a.File.Delete(server, login) // one place only
			return nil
		}
		a.fail(err)
	}
	return a.File.Save(server, login, token)
}

// Delete forgets the token in both places. An unreachable keyring is only
// logged: it cannot hold a token this desk could read back either.
func (a *Auto) Delete(server, login string) error {
	if k := a.keyring(); k != nil {
		if err := k.Delete(server, login); err != nil {
			a.fail(err)
		}
	}
	return a.File.Delete(server, login)
}
