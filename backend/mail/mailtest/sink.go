// Package mailtest runs a real SMTP server (emersion/go-smtp) in the test
// process: STARTTLS with a self-signed certificate made for the test, AUTH
// PLAIN, and every message kept for the test to read.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	smail "switchboard/backend/mail"
)

// User and Password are the sink's only account.
const (
	User     = "relay@example.com"
	Password = "smtp sekret"
)

// Message is one e-mail the sink took.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the message came over a STARTTLS-upgraded connection
	User string // who authenticated
}

// Header and Body decode the message: header values with RFC 2047 words
// decoded, the body with its transfer encoding undone.
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	v := msg.Header.Get(name)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// Body is the decoded text of a single-part message.
func (m Message) Body() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, _ := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// Sink is a running SMTP server.
type Sink struct {
	Addr   string // 127.0.0.1:port
	CAFile string // the certificate to trust (PEM)
	dir    string

	mu       sync.Mutex
	cond     *sync.Cond
	messages []Message
	failNext int
	srv      *smtp.Server
}

// Start runs a sink until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen runs a sink on a free loopback port, keeping its certificate in
// dir, until Close (for an end-to-end test outside go test).
func Listen(dir string) (*Sink, error) {
	s := &Sink{dir: dir}
	s.cond = sync.NewCond(&s.mu)
	cert, err := s.selfSigned()
	if err != nil {
		return nil, err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s, conn: c}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr, s.srv = ln.Addr().String(), srv
	go func() { _ = srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Sink) Close() { _ = s.srv.Close() }

// PasswordFile writes the account's password to a file in the sink's
// directory, for a relay's mail.password_file, and returns its path.
func (s *Sink) PasswordFile() (string, error) {
	pw := filepath.Join(s.dir, "smtp-password")
	return pw, os.WriteFile(pw, []byte(Password+"\n"), 0o600)
}

// Config is a relay's mail settings for this sink: STARTTLS required, the
// sink's account, its certificate trusted.
func (s *Sink) Config(t testing.TB) smail.Config {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	pw, err := s.PasswordFile()
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return smail.Config{Host: host, Port: p, Security: smail.StartTLS, User: User, PasswordFile: pw,
		From: "Support <support@example.com>", CAFile: s.CAFile}
}

// FailNext makes the next n messages fail with a temporary error (451).
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Wait returns the first n messages, waiting up to d for them.
func (s *Sink) Wait(t testing.TB, n int, d time.Duration) []Message {
	t.Helper()
	got, err := s.Await(n, d)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Await returns the first n messages, waiting up to d for them.
func (s *Sink) Await(n int, d time.Duration) ([]Message, error) {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.messages) < n && time.Now().Before(deadline) {
		s.cond.Wait()
	}
	if len(s.messages) < n {
		return nil, fmt.Errorf("the SMTP sink got %d messages in %s, want %d", len(s.messages), d, n)
	}
	return append([]Message(nil), s.messages[:n]...), nil
}

// Messages is what arrived so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Sink) selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	s.CAFile = filepath.Join(s.dir, "ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// session is one SMTP connection.
type session struct {
	sink *Sink
	conn *smtp.Conn
	user string
	msg  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != User || password != Password {
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = Message{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if s.sink.failNext > 0 {
		s.sink.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.msg.Data = b
	s.sink.messages = append(s.sink.messages, s.msg)
	s.sink.cond.Broadcast()
	return nil
}

func (s *session) Reset()        { s.msg = Message{From: "", User: s.user} }
func (s *session) Logout() error { return nil }
