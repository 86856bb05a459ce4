// Package relay is Switchboard's server: it authenticates websocket clients,
// routes their commands to the domain desk, commits every change to the store
// before anyone hears of it, and fans the result out to agents, visitors and
// supervisors. One mutex guards the desk; one committer goroutine writes in
// decision order (group commit) and then delivers, so a client never sees an
// event that is not durable, and never a gap or a duplicate.
package relay

import (
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/mail"
)

// Config is what a relay needs besides its store.
type Config struct {
	// AllowedOrigins lists browser origins (scheme://host[:port]) allowed to
	// open a websocket; "*" allows any. A page served by the relay itself is
	// always allowed; clients that send no Origin (the desktop app) are too.
	AllowedOrigins []string

	// Desk timers (grace period, idle end, ...).
	Desk chat.Config

	// Limits per connection.
	MaxFrameBytes int64         // frames above it close the connection
	SendQueue     int           // frames waiting to be written; a client that lets it fill is cut off
	RatePerSecond float64       // sustained commands per second
	RateBurst     int           // short bursts above the rate
	InFlight      int           // commands of one connection waiting for their commit
	HelloTimeout  time.Duration // the first frame must be a hello within this
	PingInterval  time.Duration // how often the relay pings
	PongWait      time.Duration // a connection silent this long is dead
	WriteWait     time.Duration // one write may take this long

	// TokenTTL: how long an agent's login token is valid.
	TokenTTL time.Duration
	// TickInterval: how often timers (expiry, grace, warnings) run.
	TickInterval time.Duration
	// DashboardInterval: at most one dashboard update per watcher this often.
	DashboardInterval time.Duration
	// DirectoryPoll: how often to look for admin changes (agents, channels).
	DirectoryPoll time.Duration
	// Version is reported by /healthz and hello replies.
	Version string

	// Mail is the SMTP server answers to requests go out through; without
	// a host the relay sends no e-mail (request.answer says so).
	Mail mail.Config
	// WebhookURL, when set, receives every new request and request change
	// as a signed JSON POST (HMAC-SHA256 under WebhookSecret).
	WebhookURL    string
	WebhookSecret string
	// WebhookSecretFile is read when WebhookSecret is empty (its first line).
	WebhookSecretFile string
	WebhookTimeout    time.Duration // one POST
	// The outbox (e-mails, webhook calls) is looked at this often besides
	// after each change; a failed send waits OutboxRetryMin, doubling up to
	// OutboxRetryMax, and is given up after MailAttempts (WebhookAttempts).
	OutboxPoll      time.Duration
	OutboxRetryMin  time.Duration
	OutboxRetryMax  time.Duration
	MailAttempts    int
	WebhookAttempts int
}

// DefaultConfig holds the defaults documented in docs/deploy.md.
func DefaultConfig() Config {
	return Config{
		Desk:              chat.DefaultConfig(),
		MaxFrameBytes:     64 << 10,
		SendQueue:         1024,
		RatePerSecond:     50,
		RateBurst:         200,
		InFlight:          64,
		HelloTimeout:      10 * time.Second,
		PingInterval:      20 * time.Second,
		PongWait:          45 * time.Second,
		WriteWait:         10 * time.Second,
		TokenTTL:          30 * 24 * time.Hour,
		TickInterval:      250 * time.Millisecond,
		DashboardInterval: time.Second,
		DirectoryPoll:     5 * time.Second,
		Version:           "dev",
		WebhookTimeout:    10 * time.Second,
		OutboxPoll:        5 * time.Second,
		OutboxRetryMin:    10 * time.Second,
		OutboxRetryMax:    10 * time.Minute,
		MailAttempts:      10,
		WebhookAttempts:   100,
	}
}
