package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"switchboard/backend/mail"
	"switchboard/backend/relay"
)

// Settings is the relay's whole configuration, read once by viper from (in
// rising precedence) defaults, the config file, SWITCHBOARD_* environment
// variables and flags.
type Settings struct {
	Listen    string   `mapstructure:"listen"`
	Database  string   `mapstructure:"database"`
	PublicURL string   `mapstructure:"public_url"`
	Origins   []string `mapstructure:"origins"`
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
	} `mapstructure:"limits"`
	Timers struct {
		Grace      time.Duration `mapstructure:"grace"`
		IdleEnd    time.Duration `mapstructure:"idle_end"`
		QueueLeave time.Duration `mapstructure:"queue_leave"`
		KeepEnded  time.Duration `mapstructure:"keep_ended"`
		Ping       time.Duration `mapstructure:"ping"`
		PongWait   time.Duration `mapstructure:"pong_wait"`
		TokenTTL   time.Duration `mapstructure:"token_ttl"`
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
		{"database", "switchboard.db", "path of the SQLite database file"},
		{"public_url", "", "URL visitors' browsers reach the relay at (for the widget snippet); default http://<listen>"},
		{"origins", []string{}, "browser origins allowed to open the widget's websocket (comma-separated; * = any)"},
		{"tls.cert", "", "TLS certificate file (PEM); with tls.key the relay serves https and wss"},
		{"tls.key", "", "TLS private key file (PEM)"},
		{"limits.frame_bytes", d.MaxFrameBytes, "largest frame accepted, in bytes"},
		{"limits.send_queue", d.SendQueue, "frames queued per client before a slow client is disconnected"},
		{"limits.rate", d.RatePerSecond, "commands per second per connection"},
		{"limits.burst", d.RateBurst, "burst of commands above the rate"},
		{"limits.inflight", d.InFlight, "commands per connection waiting for their commit"},
		{"timers.grace", d.Desk.Grace, "an Offline owner keeps their chats this long before they return to the queue"},
		{"timers.idle_end", d.Desk.IdleEnd, "an active chat without messages this long is ended"},
		{"timers.queue_leave", d.Desk.QueueLeave, "a waiting visitor disconnected this long has left the queue"},
		{"timers.keep_ended", d.Desk.KeepEnded, "ended chats stay in agents' lists this long"},
		{"timers.ping", d.PingInterval, "websocket ping interval"},
		{"timers.pong_wait", d.PongWait, "a connection silent this long is closed (must exceed timers.ping)"},
		{"timers.token_ttl", d.TokenTTL, "how long an agent's login token stays valid"},
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
	if path != "" {
		v.SetConfigFile(path)
	} else {
		v.SetConfigName("relay")
		v.SetConfigType("yaml")
		v.AddConfigPath(".")
		v.AddConfigPath("/etc/switchboard")
	}
	if err := v.ReadInConfig(); err != nil {
		var nf viper.ConfigFileNotFoundError
		if path != "" || !(errors.As(err, &nf) || errors.Is(err, fs.ErrNotExist)) {
			return st, fmt.Errorf("config: %w", err)
		}
	}
	if err := v.Unmarshal(&st); err != nil {
		return st, fmt.Errorf("config: %w", err)
	}
	// Comma-separated origins from the environment arrive as one string.
	var origins []string
	for _, o := range st.Origins {
		for _, p := range strings.Split(o, ",") {
			if p = strings.TrimSpace(p); p != "" {
				origins = append(origins, p)
			}
		}
	}
	st.Origins = origins
	return st, st.validate()
}

func (st Settings) validate() error {
	var errs []error
	if st.Listen == "" {
		errs = append(errs, errors.New("listen is empty"))
	}
	if st.Database == "" {
		errs = append(errs, errors.New("database is empty"))
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
	if st.Timers.Ping <= 0 || st.Timers.PongWait <= st.Timers.Ping {
		errs = append(errs, errors.New("timers.pong_wait must exceed timers.ping > 0"))
	}
	if st.Timers.Grace < 0 || st.Timers.IdleEnd < 0 || st.Timers.QueueLeave < 0 {
		errs = append(errs, errors.New("timers must not be negative"))
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
	c.Desk.Grace = st.Timers.Grace
	c.Desk.IdleEnd = st.Timers.IdleEnd
	c.Desk.QueueLeave = st.Timers.QueueLeave
	c.Desk.KeepEnded = st.Timers.KeepEnded
	c.PingInterval = st.Timers.Ping
	c.PongWait = st.Timers.PongWait
	c.TokenTTL = st.Timers.TokenTTL
	c.Version = version
	c.Mail = mail.Config{Host: st.Mail.Host, Port: st.Mail.Port, Security: st.Mail.Security, User: st.Mail.User,
		PasswordFile: st.Mail.PasswordFile, From: st.Mail.From, CAFile: st.Mail.CAFile}
	c.WebhookURL, c.WebhookSecretFile, c.WebhookTimeout = st.Webhook.URL, st.Webhook.SecretFile, st.Webhook.Timeout
	c.OutboxPoll, c.OutboxRetryMin, c.OutboxRetryMax = st.Outbox.Poll, st.Outbox.RetryMin, st.Outbox.RetryMax
	c.MailAttempts, c.WebhookAttempts = st.Outbox.MailAttempts, st.Outbox.WebhookAttempts
	return c
}
