// Package relay is Switchboard's server: it authenticates websocket clients,
// routes their commands to the domain desk, commits every change to the store
// before anyone hears of it, and fans the result out to agents, visitors and
// supervisors. One mutex guards the desk; one committer goroutine writes in
// decision order (group commit) and then delivers, so a client never sees an
// event that is not durable, and never a gap or a duplicate.
package relay

import (
	"net/http"
	"net/netip"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/mail"
)

// Config is what a relay needs besides its store.
type Config struct {
	// AllowedOrigins lists browser origins (scheme://host[:port]) allowed to
	// open a websocket; "*" allows any. Clients that send no Origin (the
	// desktop app) are allowed too. The Host header is never trusted for
	// this: with DNS rebinding, a hostile page can make it anything.
	AllowedOrigins []string
	// DemoOrigin is the origin of the demo page the relay serves (its
	// public URL's), allowed as well; empty while the demo is off.
	DemoOrigin string

	// Files issues and serves attachments' URLs; nil: the relay takes no
	// attachments (file.upload answers unavailable).
	Files *files.Service

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

	// Password sign-ins (see login.go). After LoginFreeFailures failures
	// from one address (an IPv6 /64) or for one login, each further attempt
	// waits LoginDelay, doubling per failure up to LoginMaxDelay. Records idle
	// for LoginForget are dropped; at most LoginTrack of each kind are kept.
	LoginFreeFailures int
	LoginDelay        time.Duration
	LoginMaxDelay     time.Duration
	LoginForget       time.Duration
	LoginTrack        int
	// PasswordWorkers bcrypt checks run at once (0: one per core);
	// PasswordQueue more may wait, beyond that a sign-in is refused as busy.
	PasswordWorkers int
	PasswordQueue   int

	// Limits per client address (see clientIP), against anonymous
	// exhaustion; zero switches one off. Waiting chats per channel and ended
	// chats in memory are in Desk (MaxWaiting, MaxEnded).
	TrustedProxies  []netip.Prefix // peers whose X-Forwarded-For is believed
	ConnsPerIP      int            // live websocket connections per address
	StartsPerMinute float64        // chat starts and offline submissions per address per minute
	VisitorIdle     time.Duration  // a visitor connection with no chat this long after connecting is closed

	// The HTTP server (see HTTPServer). Websocket connections are hijacked
	// out of it: these bound only their handshake.
	ReadHeaderTimeout time.Duration // a request's headers must arrive within this
	ReadTimeout       time.Duration // a whole request must arrive within this
	IdleTimeout       time.Duration // a keep-alive connection idle this long is closed
	MaxHeaderBytes    int           // larger request headers are refused

	// TokenTTL: how long an agent's login token is valid.
	TokenTTL time.Duration
	// TickInterval: how often timers (expiry, grace, warnings) run.
	TickInterval time.Duration
	// DashboardInterval: at most one dashboard update per watcher this often.
	DashboardInterval time.Duration
	// DirectoryPoll: how often to look for admin changes (agents, channels).
	DirectoryPoll time.Duration
	// StoreRetry: how soon a relay whose database stopped taking writes (disk
	// full, read-only) tries a write again; each failed try doubles the wait,
	// up to StoreRetryMax. Writes are refused with "unavailable" meanwhile.
	StoreRetry    time.Duration
	StoreRetryMax time.Duration
	// Version is reported by /healthz and hello replies.
	Version string
	// Role and Term, set when the relay is a cluster's leader (see package
	// cluster), are reported by /healthz too, with NATS's state if NATS
	// says ("ok" or "unreachable").
	Role string
	Term int64
	NATS func() string

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

	// MemoryLimit is the Go runtime's soft memory limit in bytes (as
	// GOMEMLIMIT; 0 leaves it to GOMEMLIMIT). It bounds the heap, stacks
	// and runtime structures, not SQLite's page caches (StoreCacheKiB).
	MemoryLimit int64
	// GCPercent is the collector's target (as GOGC): the heap may grow this
	// many percent over what is live before a collection; 0 leaves it to
	// GOGC (default 100).
	GCPercent int
	// GCFloor is the least heap, in bytes, the collector lets grow before
	// it collects (0: none): see gcFloorLoop.
	GCFloor int64
	// StoreCacheKiB and StoreReaderCacheKiB size SQLite's page caches: the
	// writer's, and each reader's (0: the store's defaults).
	StoreCacheKiB       int
	StoreReaderCacheKiB int
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
		LoginFreeFailures: 5,
		LoginDelay:        time.Second,
		LoginMaxDelay:     time.Minute,
		LoginForget:       15 * time.Minute,
		LoginTrack:        10000,
		PasswordQueue:     64,
		ConnsPerIP:        100,
		StartsPerMinute:   10,
		VisitorIdle:       30 * time.Minute,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TokenTTL:          30 * 24 * time.Hour,
		TickInterval:      250 * time.Millisecond,
		DashboardInterval: time.Second,
		DirectoryPoll:     5 * time.Second,
		StoreRetry:        time.Second,
		StoreRetryMax:     10 * time.Second,
		Version:           "dev",
		WebhookTimeout:    10 * time.Second,
		OutboxPoll:        5 * time.Second,
		OutboxRetryMin:    10 * time.Second,
		OutboxRetryMax:    10 * time.Minute,
		MailAttempts:      10,
		WebhookAttempts:   100,
	}
}

// HTTPServer is the http.Server to serve the relay with: its timeouts bound
// the request phase (a slow or idle client holds no connection for long);
// websocket connections are hijacked and keep their own deadlines.
func (c Config) HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}
