// Package mail sends the relay's e-mails to visitors (answers to their
// requests) through an SMTP server, with go-mail doing MIME, encodings and
// the SMTP dialogue. The words around an answer are package wording's, per
// language.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security is how the connection to the SMTP server is protected.
const (
	StartTLS = "starttls" // plain connection upgraded with STARTTLS, required (port 587)
	TLS      = "tls"      // TLS from the first byte (port 465)
	None     = "none"     // no encryption: only for a server on the same host
)

// Config is the SMTP server and the sender. Without Host no mail is sent.
type Config struct {
	Host     string
	Port     int    // 0: 587 for starttls, 465 for tls, 25 for none
	Security string // starttls (default), tls, none
	User     string // empty: no authentication
	// PasswordFile holds the password (its first line), so it never sits in
	// the config file, the environment or a command line.
	PasswordFile string
	From         string // the sender, "Support <support@example.com>" or an address
	// CAFile: PEM certificates to trust besides the system's, for a server
	// with a private CA.
	CAFile  string
	Timeout time.Duration // one send, dial to QUIT; 0: 30 s
}

// Enabled reports whether an SMTP server is configured.
func (c Config) Enabled() bool { return c.Host != "" }

// Sender sends e-mails with one configuration. It is safe for concurrent use.
type Sender struct {
	cfg      Config
	from     *mail.Address
	password string
	tls      *tls.Config
}

// New checks a configuration and reads its password and CA files.
func New(c Config) (*Sender, error) {
	if !c.Enabled() {
		return nil, errors.New("mail: no SMTP host")
	}
	if c.Security == "" {
		c.Security = StartTLS
	}
	if c.Port == 0 {
		c.Port = map[string]int{StartTLS: 587, TLS: 465, None: 25}[c.Security]
	}
	if c.Port == 0 {
		return nil, fmt.Errorf("mail: security %q: use starttls, tls or none", c.Security)
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", c.From, err)
	}
	s := &Sender{cfg: c, from: from, tls: &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}}
	if c.User != "" {
		if c.PasswordFile == "" {
			return nil, errors.New("mail: a user needs a password file")
		}
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mail: password: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		s.password = strings.TrimRight(line, "\r")
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail: CA file %s holds no PEM certificate", c.CAFile)
		}
		s.tls.RootCAs = pool
	}
	return s, nil
}

// Message is one e-mail to one person, as plain text.
type Message struct {
	To      string // the address
	ToName  string
	Subject string
	Body    string
	// Headers are extra headers, e.g. X-Switchboard-Request.
	Headers map[string]string
}

// Send delivers one message; an error says why the server refused it or
// could not be reached (the caller retries).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)

	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithTLSConfig(s.tls)}
	switch s.cfg.Security {
	case TLS:
		opts = append(opts, gomail.WithSSL())
	case None:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}
