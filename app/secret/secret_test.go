package secret

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileRoundTripIsPrivate(t *testing.T) {
	t.Parallel()
	f := File{Path: filepath.Join(t.TempDir(), "sub", FileName)}
	if _, err := f.Load("wss://a", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty Load = %v", err)
	}
	if err := f.Save("wss://a", "anna", "tok-1"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if tok, err := f.Load("wss://a", "anna"); err != nil || tok != "tok-1" {
		t.Fatalf("Load = %q, %v", tok, err)
	}
	// Another server or login does not get it.
	if _, err := f.Load("wss://b", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other server: %v", err)
	}
	if _, err := f.Load("wss://a", "bertil"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other login: %v", err)
	}
	// Deleting another agent's entry keeps this one.
	if err := f.Delete("wss://a", "bertil"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load("wss://a", "anna"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete("wss://a", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Path); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
	if err := f.Delete("wss://a", "anna"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

type brokenKeyring struct{}

func (brokenKeyring) Load(string, string) (string, error) { return "", errors.New("no keyring") }
func (brokenKeyring) Save(string, string, string) error   { return errors.New("no keyring") }
func (brokenKeyring) Delete(string, string) error         { return errors.New("no keyring") }

type mapKeyring map[string]string

func (m mapKeyring) Load(s, l string) (string, error) {
	if v, ok := m[l+"@"+s]; ok {
		return v, nil
	}
	return "", ErrNotFound
}
func (m mapKeyring) Save(s, l, tok string) error { m[l+"@"+s] = tok; return nil }
func (m mapKeyring) Delete(s, l string) error    { delete(m, l+"@"+s); return nil }

func TestAutoFallsBackToFile(t *testing.T) {
	t.Parallel()
	a := &Auto{Keyring: brokenKeyring{}, File: File{Path: filepath.Join(t.TempDir(), FileName)}}
	if err := a.Save("wss://a", "anna", "tok"); err != nil {
		t.Fatal(err)
	}
	if tok, err := a.Load("wss://a", "anna"); err != nil || tok != "tok" {
		t.Fatalf("Load = %q, %v", tok, err)
	}
	if err := a.Delete("wss://a", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Load("wss://a", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

func TestAutoPrefersKeyring(t *testing.T) {
	t.Parallel()
	k := mapKeyring{}
	a := &Auto{Keyring: k, File: File{Path: filepath.Join(t.TempDir(), FileName)}}
	// A token left in the file from a time without keyring moves out of it.
	if err := a.File.Save("wss://a", "anna", "old"); err != nil {
		t.Fatal(err)
	}
	if err := a.Save("wss://a", "anna", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.File.Path); !os.IsNotExist(err) {
		t.Fatal("token file kept beside the keyring")
	}
	if tok, _ := a.Load("wss://a", "anna"); tok != "new" {
		t.Fatalf("Load = %q", tok)
	}
}
