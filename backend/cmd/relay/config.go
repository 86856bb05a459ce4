package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"switchboard/backend/files"
	"switchboard/backend/mail"
	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
)

// Settings is the relay's whole configuration, read once by viper from (in
// rising precedence) defaults, the config file, SWITCHBOARD_* environment
// variables and flags.
type Settings struct {
	Listen   string `mapstructure:"listen"`
	Database string `mapstructure:"database"`
	Cluster  struct {
		Node string `mapstructure:"node"`
	} `mapstructure:"cluster"`
	NATS      string   `mapstructure:"nats"`
	PublicURL string   `mapstructure:"public_url"`
	Origins   []string `mapstructure:"origins"`
	Demo      bool     `mapstructure:"demo"`
	TLS       struct {
		Cert string `mapstructure:"cert"`
		Key  string `mapstructure:"key"`
	} `mapstructure:"tls"`
	Limits struct {
		FrameBytes int64   `mapstructure:"frame_bytes"`
		SendQueue  int     `mapstructure:"send_queue"`
		Rate       float64 `mapstructure:"rate"`
		Burst      int     `mapstructure:"burst"`
		InFlight   int     `mapstructure:"inflight"`
		// Against anonymous exhaustion (docs/deploy.md, Limits and abuse).
		TrustedProxies    []string `mapstructure:"trusted_proxies"`
		ConnsPerIP        int      `mapstructure:"conns_per_ip"`
		StartsPerMinute   float64  `mapstructure:"starts_per_minute"`
		WaitingPerChannel int      `mapstructure:"waiting_per_channel"`
		EndedInMemory     int      `mapstructure:"ended_in_memory"`
	} `mapstructure:"limits"`
	Login struct {
		FreeFailures int           `mapstructure:"free_failures"`
		Delay        time.Duration `mapstructure:"delay"`
		MaxDelay     time.Duration `mapstructure:"max_delay"`
		Forget       time.Duration `mapstructure:"forget"`
		Track        int           `mapstructure:"track"`
		Workers      int           `mapstructure:"workers"`
		Queue        int           `mapstructure:"queue"`
	} `mapstructure:"login"`
	HTTP struct {
		ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
		ReadTimeout       time.Duration `mapstructure:"read_timeout"`
		IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
		MaxHeaderBytes    int           `mapstructure:"max_header_bytes"`
	} `mapstructure:"http"`
	Timers struct {
		Grace       time.Duration `mapstructure:"grace"`
		IdleEnd     time.Duration `mapstructure:"idle_end"`
		QueueLeave  time.Duration `mapstructure:"queue_leave"`
		KeepEnded   time.Duration `mapstructure:"keep_ended"`
		Ping        time.Duration `mapstructure:"ping"`
		PongWait    time.Duration `mapstructure:"pong_wait"`
		TokenTTL    time.Duration `mapstructure:"token_ttl"`
		DirPoll     time.Duration `mapstructure:"directory_poll"`
		VisitorIdle time.Duration `mapstructure:"visitor_idle"`
		// A database that stopped taking writes is retried after StoreRetry,
		// then ever less often, up to StoreRetryMax (store_backoff).
		StoreRetry    time.Duration `mapstructure:"store_retry"`
		StoreRetryMax time.Duration `mapstructure:"store_backoff"`
	} `mapstructure:"timers"`
	Log struct {
		Level  string `mapstructure:"level"`
		Format string `mapstructure:"format"`
	} `mapstructure:"log"`
	Mail struct {
		Host         string `mapstructure:"host"`
		Port         int    `mapstructure:"port"`
		Security     string `mapstructure:"security"`
		User         string `mapstructure:"user"`
		PasswordFile string `mapstructure:"password_file"`
		From         string `mapstructure:"from"`
		CAFile       string `mapstructure:"ca_file"`
	} `mapstructure:"mail"`
	Webhook struct {
		URL        string        `mapstructure:"url"`
		SecretFile string        `mapstructure:"secret_file"`
		Timeout    time.Duration `mapstructure:"timeout"`
	} `mapstructure:"webhook"`
	// Memory: the Go runtime's soft limit and SQLite's page caches.
	Memory struct {
		LimitMiB       int64 `mapstructure:"limit_mib"`
		GCPercent      int   `mapstructure:"gc_percent"`
		GCFloorMiB     int64 `mapstructure:"gc_floor_mib"`
		CacheKiB       int   `mapstructure:"cache_kib"`
		ReaderCacheKiB int   `mapstructure:"reader_cache_kib"`
	} `mapstructure:"memory"`
	Files  FileSettings `mapstructure:"files"`
	Outbox struct {
		Poll            time.Duration `mapstructure:"poll"`
		RetryMin        time.Duration `mapstructure:"retry_min"`
		RetryMax        time.Duration `mapstructure:"retry_max"`
		MailAttempts    int           `mapstructure:"mail_attempts"`
		WebhookAttempts int           `mapstructure:"webhook_attempts"`
	} `mapstructure:"outbox"`
}

// setting is one documented key: its default and its help text. The table
// is the single source for defaults, flags and `--help`.
type setting struct {
	key  string
	def  any
	help string
}

func settingsTable() []setting {
	d := relay.DefaultConfig()
	return []setting{
		{"listen", "127.0.0.1:8080", "address to listen on (host:port)"},
		{"database", "switchboard.db", "path of the SQLite database file, or postgres://user:password@host/db to run as a node of a cluster (docs/cluster.md)"},
		{"cluster.node", "", "this node's name in a cluster, shown by /healthz and the database; default <hostname>:<port of listen>"},
		{"nats", "", "NATS server(s) connecting the nodes of a cluster (nats://host:4222, comma-separated); with a postgres:// database, every node then takes clients"},
		{"public_url", "", "URL visitors' browsers reach the relay at (for the widget snippet); default http://<listen>"},
		{"origins", []string{}, "browser origins allowed to open the widget's websocket (comma-separated; * = any)"},
		{"demo", false, "serve the widget demo page at /demo and let its origin (public_url's) open websockets; for trying the relay out, not production"},
		{"tls.cert", "", "TLS certificate file (PEM); with tls.key the relay serves https and wss"},
		{"tls.key", "", "TLS private key file (PEM)"},
		{"limits.frame_bytes", d.MaxFrameBytes, "largest frame accepted, in bytes"},
		{"limits.send_queue", d.SendQueue, "frames queued per client before a slow client is disconnected"},
		{"limits.rate", d.RatePerSecond, "commands per second per connection"},
		{"limits.burst", d.RateBurst, "burst of commands above the rate"},
		{"limits.inflight", d.InFlight, "commands per connection waiting for their commit"},
		{"login.free_failures", d.LoginFreeFailures, "failed sign-ins per address or login before each further attempt must wait"},
		{"login.delay", d.LoginDelay, "the first wait; it doubles with each further failure"},
		{"login.max_delay", d.LoginMaxDelay, "the longest wait between sign-in attempts"},
		{"login.forget", d.LoginForget, "failed sign-ins are forgotten after this long without another"},
		{"login.track", d.LoginTrack, "addresses and logins whose failures are remembered, at most (each)"},
		{"login.workers", d.PasswordWorkers, "password checks (bcrypt) run at once; 0 = one per core"},
		{"login.queue", d.PasswordQueue, "sign-ins waiting for a password check; beyond it they are refused as busy"},
		{"limits.trusted_proxies", []string{}, "proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client; default none: the socket's peer is the client"},
		{"limits.conns_per_ip", d.ConnsPerIP, "live websocket connections per client address (IPv6: per /64); 0 = no limit"},
		{"limits.starts_per_minute", d.StartsPerMinute, "chat starts and offline messages per client address per minute; 0 = no limit"},
		{"limits.waiting_per_channel", d.Desk.MaxWaiting, "waiting chats per channel; past it new visitors get the offline form; 0 = no limit"},
		{"limits.ended_in_memory", d.Desk.MaxEnded, "ended chats held in memory for agents' lists, oldest dropped first (logs stay in the database); 0 = no limit"},
		{"http.read_header_timeout", d.ReadHeaderTimeout, "a request's headers must arrive within this"},
		{"http.read_timeout", d.ReadTimeout, "a whole HTTP request must arrive within this (websockets: the handshake only)"},
		{"http.idle_timeout", d.IdleTimeout, "an idle HTTP keep-alive connection is closed after this"},
		{"http.max_header_bytes", d.MaxHeaderBytes, "largest request header accepted, in bytes"},
		{"timers.grace", d.Desk.Grace, "an Offline owner keeps their chats this long before they return to the queue"},
		{"timers.idle_end", d.Desk.IdleEnd, "an active chat without messages this long is ended"},
		{"timers.queue_leave", d.Desk.QueueLeave, "a waiting visitor disconnected this long has left the queue"},
		{"timers.keep_ended", d.Desk.KeepEnded, "ended chats stay in agents' lists this long"},
		{"timers.ping", d.PingInterval, "websocket ping interval"},
		{"timers.pong_wait", d.PongWait, "a connection silent this long is closed (must exceed timers.ping)"},
		{"timers.token_ttl", d.TokenTTL, "how long an agent's login token stays valid"},
		{"timers.directory_poll", d.DirectoryPoll, "how often the relay looks for admin changes (agents, channels, grants) and revoked sign-ins"},
		{"timers.store_retry", d.StoreRetry, "when the database stops taking writes (disk full, read-only), try a write again after this, doubling"},
		{"timers.store_backoff", d.StoreRetryMax, "longest wait between two tries of a database that does not take writes"},
		{"timers.visitor_idle", d.VisitorIdle, "a visitor connection that starts no chat is closed this long after connecting; 0 = never"},
		{"mail.host", "", "SMTP server that answers to requests are e-mailed through (empty = no e-mail; the desk offers to copy answers)"},
		{"mail.port", 0, "SMTP port (0 = 587 for starttls, 465 for tls, 25 for none)"},
		{"mail.security", mail.StartTLS, "SMTP connection security: starttls (required), tls (implicit), none (local server only)"},
		{"mail.user", "", "SMTP user (empty = no authentication)"},
		{"mail.password_file", "", "file whose first line is the SMTP password"},
		{"mail.from", "", "sender of the e-mails, e.g. \"Support <support@example.com>\""},
		{"mail.ca_file", "", "PEM certificates to trust for the SMTP server besides the system's"},
		{"webhook.url", "", "URL every new request and request change is POSTed to as signed JSON (empty = none)"},
		{"webhook.secret_file", "", "file whose first line is the webhook's HMAC-SHA256 signing secret"},
		{"webhook.timeout", d.WebhookTimeout, "one webhook call may take this long"},
		{"outbox.poll", d.OutboxPoll, "how often e-mails and webhook calls still to send are looked at"},
		{"outbox.retry_min", d.OutboxRetryMin, "wait after a failed e-mail or webhook call, doubling each time"},
		{"outbox.retry_max", d.OutboxRetryMax, "longest wait between attempts"},
		{"outbox.mail_attempts", d.MailAttempts, "an e-mail is given up (and noted in the request's history) after this many attempts"},
		{"outbox.webhook_attempts", d.WebhookAttempts, "a webhook call is given up after this many attempts"},
		{"files.storage", "auto", "where attachments' bytes live: disk (files.dir), postgres (the database), s3 (files.s3.*); auto = disk with SQLite, postgres with a postgres:// database"},
		{"files.dir", "", "directory of attachments with files.storage disk; default <database without .db>-files next to the SQLite file"},
		{"files.upload_ttl", files.DefaultUploadTTL, "an upload URL is valid this long"},
		{"files.download_ttl", files.DefaultDownloadTTL, "a download URL is valid this long"},
		{"files.s3.endpoint", "", "S3-compatible object store, host:port"},
		{"files.s3.bucket", "", "bucket of the attachments (made if missing)"},
		{"files.s3.prefix", "", "put before every object's name, e.g. switchboard/"},
		{"files.s3.region", "", "the bucket's region (empty: the server's default)"},
		{"files.s3.access_key", "", "S3 access key"},
		{"files.s3.secret_key_file", "", "file whose first line is the S3 secret key"},
		{"files.s3.tls", true, "reach the object store over https"},
		{"memory.limit_mib", int64(0), "soft memory limit of the Go runtime in MiB (as GOMEMLIMIT; 0 = GOMEMLIMIT or none): the collector runs more often near it; SQLite's caches come on top"},
		{"memory.gc_percent", 50, "the collector's target as GOGC: the heap may grow this many percent over what is live before a collection (0 = GOGC, or Go's 100)"},
		{"memory.gc_floor_mib", int64(32), "the collector lets the heap grow to at least this many MiB before a collection, however little is live (0 = no floor): fewer collections at moderate load"},
		{"memory.cache_kib", store.DefaultCacheKiB, "SQLite page cache of the writer connection, in KiB"},
		{"memory.reader_cache_kib", store.DefaultReaderCacheKiB, "SQLite page cache of each of the max(4, cores) reader connections, in KiB"},
		{"log.level", "info", "log level: debug, info, warn, error"},
		{"log.format", "json", "log format: json or text"},
	}
}

// newViper makes a viper instance (never the global one) with defaults and
// environment binding; flags are bound by bindFlags.
func newViper() *viper.Viper {
	v := viper.New()
	for _, s := range settingsTable() {
		v.SetDefault(s.key, s.def)
	}
	v.SetEnvPrefix("SWITCHBOARD")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	return v
}

// flagName is a key's flag: dots and underscores become dashes
// (limits.frame_bytes -> --limits-frame-bytes).
func flagName(key string) string { return strings.NewReplacer(".", "-", "_", "-").Replace(key) }

// addFlags declares one flag per setting.
func addFlags(fl *pflag.FlagSet) {
	for _, s := range settingsTable() {
		name := flagName(s.key)
		switch d := s.def.(type) {
		case string:
			fl.String(name, d, s.help)
		case []string:
			fl.StringSlice(name, d, s.help)
		case bool:
			fl.Bool(name, d, s.help)
		case int:
			fl.Int(name, d, s.help)
		case int64:
			fl.Int64(name, d, s.help)
		case float64:
			fl.Float64(name, d, s.help)
		case time.Duration:
			fl.Duration(name, d, s.help)
		}
	}
}

func bindFlags(v *viper.Viper, fl *pflag.FlagSet) error {
	for _, s := range settingsTable() {
		if f := fl.Lookup(flagName(s.key)); f != nil {
			if err := v.BindPFlag(s.key, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadSettings reads the config file (explicit path, or relay.yaml in the
// working directory or /etc/switchboard; a missing default file is fine) and
// unmarshals everything into Settings.
func loadSettings(v *viper.Viper, path string) (Settings, error) {
	var st Settings
	explicit := path != ""
	if !explicit {
		path = defaultConfigFile()
	}
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil && (explicit || !errors.Is(err, fs.ErrNotExist)) {
			return st, fmt.Errorf("config: %w", err)
		}
	}
	if err := v.Unmarshal(&st); err != nil {
		return st, fmt.Errorf("config: %w", err)
	}
	// Comma-separated origins from the environment arrive as one string.
	st.Origins = splitList(st.Origins)
	st.Limits.TrustedProxies = splitList(st.Limits.TrustedProxies)
	return st, st.validate()
}

// defaultConfigFile is the first of relay.yaml and relay.yml in the working
// directory, then in /etc/switchboard; "" when there is none. Only these
// names: viper's own search also takes a file called just "relay", such as
// the relay's binary in the working directory.
func defaultConfigFile() string {
	for _, dir := range []string{".", "/etc/switchboard"} {
		for _, name := range []string{"relay.yaml", "relay.yml"} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// splitList splits comma-separated items (a list from the environment
// arrives as one string) and drops empty ones.
func splitList(list []string) []string {
	var out []string
	for _, o := range list {
		for _, p := range strings.Split(o, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (st Settings) validate() error {
	var errs []error
	if st.Listen == "" {
		errs = append(errs, errors.New("listen is empty"))
	}
	if st.Database == "" {
		errs = append(errs, errors.New("database is empty"))
	} else if open.IsPostgres(st.Database) {
		if _, err := pgx.ParseConfig(st.Database); err != nil {
			errs = append(errs, fmt.Errorf("database: %s: %w", open.Redact(st.Database), err))
		}
	}
	if st.NATS != "" && !open.IsPostgres(st.Database) {
		errs = append(errs, errors.New("nats connects the nodes of a cluster: it needs a postgres:// database"))
	}
	for _, u := range strings.Split(st.NATS, ",") {
		if u = strings.TrimSpace(u); u != "" && !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			errs = append(errs, fmt.Errorf("nats: %q: want nats://host:port or tls://host:port", u))
		}
	}
	if (st.TLS.Cert == "") != (st.TLS.Key == "") {
		errs = append(errs, errors.New("tls.cert and tls.key go together"))
	}
	if st.Limits.FrameBytes < 1024 {
		errs = append(errs, errors.New("limits.frame_bytes must be at least 1024"))
	}
	if st.Limits.SendQueue < 16 || st.Limits.InFlight < 1 || st.Limits.Rate <= 0 || st.Limits.Burst < 1 {
		errs = append(errs, errors.New("limits: send_queue >= 16, inflight >= 1, rate > 0, burst >= 1"))
	}
	if st.Login.FreeFailures < 1 || st.Login.Delay <= 0 || st.Login.MaxDelay < st.Login.Delay || st.Login.Forget <= 0 ||
		st.Login.Track < 1 || st.Login.Workers < 0 || st.Login.Queue < 0 {
		errs = append(errs, errors.New("login: free_failures >= 1, 0 < delay <= max_delay, forget > 0, track >= 1, workers and queue >= 0"))
	}
	if _, err := relay.ParseTrustedProxies(st.Limits.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("limits.trusted_proxies: %w", err))
	}
	if st.Limits.ConnsPerIP < 0 || st.Limits.StartsPerMinute < 0 || st.Limits.WaitingPerChannel < 0 || st.Limits.EndedInMemory < 0 || st.Timers.VisitorIdle < 0 {
		errs = append(errs, errors.New("limits.conns_per_ip, starts_per_minute, waiting_per_channel, ended_in_memory and timers.visitor_idle must not be negative (0 = no limit)"))
	}
	if st.HTTP.ReadHeaderTimeout <= 0 || st.HTTP.ReadTimeout <= 0 || st.HTTP.IdleTimeout <= 0 || st.HTTP.MaxHeaderBytes < 4096 {
		errs = append(errs, errors.New("http: timeouts > 0, max_header_bytes >= 4096"))
	}
	if st.Timers.Ping <= 0 || st.Timers.PongWait <= st.Timers.Ping {
		errs = append(errs, errors.New("timers.pong_wait must exceed timers.ping > 0"))
	}
	if st.Timers.DirPoll <= 0 {
		errs = append(errs, errors.New("timers.directory_poll must be positive"))
	}
	if st.Timers.Grace < 0 || st.Timers.IdleEnd < 0 || st.Timers.QueueLeave < 0 {
		errs = append(errs, errors.New("timers must not be negative"))
	}
	if st.Timers.StoreRetry <= 0 || st.Timers.StoreRetryMax < st.Timers.StoreRetry {
		errs = append(errs, errors.New("timers: store_retry > 0 and store_backoff >= store_retry"))
	}
	if st.Mail.Host != "" && st.Mail.From == "" {
		errs = append(errs, errors.New("mail.from is required with mail.host"))
	}
	switch st.Mail.Security {
	case mail.StartTLS, mail.TLS, mail.None:
	default:
		errs = append(errs, fmt.Errorf("mail.security %q: use starttls, tls or none", st.Mail.Security))
	}
	if st.Mail.User != "" && st.Mail.PasswordFile == "" {
		errs = append(errs, errors.New("mail.user needs mail.password_file"))
	}
	if st.Webhook.URL != "" {
		if u, err := url.Parse(st.Webhook.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("webhook.url %q: use an http or https URL", st.Webhook.URL))
		}
		if st.Webhook.SecretFile == "" {
			errs = append(errs, errors.New("webhook.url needs webhook.secret_file"))
		}
	}
	if st.Memory.LimitMiB < 0 || st.Memory.GCPercent < 0 || st.Memory.GCFloorMiB < 0 || st.Memory.CacheKiB < 64 || st.Memory.ReaderCacheKiB < 64 {
		errs = append(errs, errors.New("memory: limit_mib, gc_percent and gc_floor_mib >= 0 (0 = the runtime's, no floor), cache_kib and reader_cache_kib >= 64"))
	}
	if st.Outbox.Poll <= 0 || st.Outbox.RetryMin <= 0 || st.Outbox.RetryMax < st.Outbox.RetryMin ||
		st.Outbox.MailAttempts < 1 || st.Outbox.WebhookAttempts < 1 || st.Webhook.Timeout <= 0 {
		errs = append(errs, errors.New("outbox: poll > 0, 0 < retry_min <= retry_max, attempts >= 1; webhook.timeout > 0"))
	}
	switch st.Log.Format {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: use json or text", st.Log.Format))
	}
	return errors.Join(errs...)
}

// relayConfig turns settings into the server's config.
func (st Settings) relayConfig(version string) relay.Config {
	c := relay.DefaultConfig()
	c.AllowedOrigins = st.Origins
	c.MaxFrameBytes = st.Limits.FrameBytes
	c.SendQueue = st.Limits.SendQueue
	c.RatePerSecond = st.Limits.Rate
	c.RateBurst = st.Limits.Burst
	c.InFlight = st.Limits.InFlight
	c.LoginFreeFailures = st.Login.FreeFailures
	c.LoginDelay = st.Login.Delay
	c.LoginMaxDelay = st.Login.MaxDelay
	c.LoginForget = st.Login.Forget
	c.LoginTrack = st.Login.Track
	c.PasswordWorkers = st.Login.Workers
	c.PasswordQueue = st.Login.Queue
	if st.Demo {
		c.DemoOrigin = originOf(st.publicURL())
	}
	c.Desk.Grace = st.Timers.Grace
	c.Desk.IdleEnd = st.Timers.IdleEnd
	c.Desk.QueueLeave = st.Timers.QueueLeave
	c.Desk.KeepEnded = st.Timers.KeepEnded
	c.PingInterval = st.Timers.Ping
	c.PongWait = st.Timers.PongWait
	c.TokenTTL = st.Timers.TokenTTL
	c.DirectoryPoll = st.Timers.DirPoll
	c.StoreRetry = st.Timers.StoreRetry
	c.StoreRetryMax = st.Timers.StoreRetryMax
	c.TrustedProxies, _ = relay.ParseTrustedProxies(st.Limits.TrustedProxies) // validated
	c.ConnsPerIP = st.Limits.ConnsPerIP
	c.StartsPerMinute = st.Limits.StartsPerMinute
	c.Desk.MaxWaiting = st.Limits.WaitingPerChannel
	c.Desk.MaxEnded = st.Limits.EndedInMemory
	c.VisitorIdle = st.Timers.VisitorIdle
	c.ReadHeaderTimeout = st.HTTP.ReadHeaderTimeout
	c.ReadTimeout = st.HTTP.ReadTimeout
	c.IdleTimeout = st.HTTP.IdleTimeout
	c.MaxHeaderBytes = st.HTTP.MaxHeaderBytes
	c.Version = version
	c.MemoryLimit, c.GCPercent, c.GCFloor = st.Memory.LimitMiB<<20, st.Memory.GCPercent, st.Memory.GCFloorMiB<<20
	c.StoreCacheKiB, c.StoreReaderCacheKiB = st.Memory.CacheKiB, st.Memory.ReaderCacheKiB
	c.Mail = mail.Config{Host: st.Mail.Host, Port: st.Mail.Port, Security: st.Mail.Security, User: st.Mail.User,
		PasswordFile: st.Mail.PasswordFile, From: st.Mail.From, CAFile: st.Mail.CAFile}
	c.WebhookURL, c.WebhookSecretFile, c.WebhookTimeout = st.Webhook.URL, st.Webhook.SecretFile, st.Webhook.Timeout
	c.OutboxPoll, c.OutboxRetryMin, c.OutboxRetryMax = st.Outbox.Poll, st.Outbox.RetryMin, st.Outbox.RetryMax
	c.MailAttempts, c.WebhookAttempts = st.Outbox.MailAttempts, st.Outbox.WebhookAttempts
	return c
}

// publicURL is where browsers reach the relay: public_url, or the listen
// address.
func (st Settings) publicURL() string {
	if st.PublicURL != "" {
		return st.PublicURL
	}
	scheme := "http"
	if st.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + st.Listen
}

// originOf is a URL's origin (scheme://host[:port]), as a browser sends it.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
