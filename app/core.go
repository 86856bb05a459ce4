package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"switchboard/app/config"
	"switchboard/app/notify"
	"switchboard/app/secret"
	"switchboard/app/tray"
	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

// Timeouts of the calls the UI waits for.
const (
	// loginTimeout bounds Login and Resume: dial, hello, welcome.
	loginTimeout = 20 * time.Second
	// commandTimeout bounds one relay command.
	commandTimeout = 15 * time.Second
	// shutdownLogoutTimeout bounds revoking a dashboard window's token as
	// it closes: closing must not hang on a slow relay.
	shutdownLogoutTimeout = 2 * time.Second
)

// Shell is what the core asks of the window system. Nil in headless tests.
type Shell interface {
	Show()                 // raise the window (from the tray, a notification, a second launch)
	Quit()                 // end the app
	SetTitle(title string) // the window's title (it follows the language)
}

// coreOptions configure a core. Zero values are fine except Config.
type coreOptions struct {
	Emitter Emitter
	Config  *config.Config
	Secrets secret.Store // nil = secret.Default in the user's config directory
	Window  Window
	Shell   Shell
	// Command builds the command that starts this program again with args
	// (the dashboard window); nil = this executable (selfCommand).
	Command func(args []string) (*exec.Cmd, error)
	// DashboardRunning reports whether this profile's dashboard window is
	// already open; nil = ask the single-instance lock.
	DashboardRunning func() bool
	// Handover is the one-time token a dashboard window was handed on its
	// standard input (see handover.go); Resume signs in with it once.
	Handover string
	Logger   *slog.Logger
	Backoff  time.Duration // the relay client's first reconnect delay; 0 = its default
}

// core is the desk's logic behind the bound Desk: the relay client, what it
// knows of the relay's state, and the hooks to tray and notifications. It
// never imports Wails, so tests drive it against a real relay.
type core struct {
	emit    Emitter
	cfg     *config.Config
	secrets secret.Store
	window  Window
	shell   Shell
	command func(args []string) (*exec.Cmd, error)
	dashUp  func() bool
	log     *slog.Logger
	backoff time.Duration
	decider *notify.Decider

	mu     sync.Mutex
	client *client.Client
	gen    uint64 // bumped per client; callbacks of older clients are ignored
	creds  creds  // of the current client
	view   view
	muted  bool
	lang   string // en, sv: for notification texts
	onTray func() // the tray re-reads trayState: always the newest, in order
	onNote func(notify.Note)
	// handover: the dashboard window's one-time token, until Resume uses it.
	handover string
	files    uploads // under way, to cancel them

	// dashMu orders dashboard pictures on their way to the UI: the reply to
	// dashboard.watch and the events race, and an older picture must never
	// replace a newer one.
	dashMu  sync.Mutex
	dashGen uint64
	dashAt  time.Time
}

type creds struct {
	server, login string
	viaToken      bool // the profile's remembered token (not a dashboard's handed-over one)
}

func newCore(o coreOptions) *core {
	c := &core{emit: o.Emitter, cfg: o.Config, secrets: o.Secrets, window: o.Window, shell: o.Shell,
		command: o.Command, dashUp: o.DashboardRunning, log: o.Logger, backoff: o.Backoff, decider: notify.New(),
		view: newView(), handover: o.Handover}
	if c.emit == nil {
		c.emit = &Recorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.window == "" {
		c.window = WindowMain
	}
	if c.secrets == nil {
		c.secrets = secret.Default(c.cfg.UserDir(), c.log)
	}
	if c.command == nil {
		c.command = selfCommand
	}
	if c.dashUp == nil {
		c.dashUp = func() bool { return instanceRunning(uniqueID(WindowDashboard, c.cfg.UserDir())) }
	}
	if c.window != WindowDashboard {
		c.handover = "" // only a dashboard window signs in with one
	}
	s := c.cfg.Settings()
	c.muted, c.lang = s.Muted, notifyLang(s.Language)
	return c
}

// notifyLang resolves "auto" from the environment's locale.
func notifyLang(setting string) string {
	if setting == "en" || setting == "sv" {
		return setting
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			if strings.HasPrefix(v, "sv") {
				return "sv"
			}
			return "en"
		}
	}
	return "en"
}

func (c *core) notice(kind, text string) {
	c.emit.Emit(EventNotice, NoticePayload{Kind: kind, Text: text})
}

// noticeCode is a notice the UI words by code (an error code, or one of
// its own notices); text is the fallback.
func (c *core) noticeCode(kind, code, text string) {
	c.emit.Emit(EventNotice, NoticePayload{Kind: kind, Text: text, Code: code})
}

// current returns the relay client, or nil before a login.
func (c *core) current() *client.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// Config reports the settings the UI shows.
func (c *core) config() Result {
	s := c.cfg.Settings()
	d := ConfigData{Server: s.Server, ServerLocked: c.cfg.Locked(config.KeyServer), Login: s.Login,
		Remember: s.Remember, Language: s.Language, Muted: s.Muted, Window: string(c.window)}
	if c.window == WindowDashboard {
		// The dashboard signs in with what its opener handed over, or asks;
		// the profile's remembered sign-in belongs to the desk window.
		c.mu.Lock()
		d.HasToken = c.handover != ""
		c.mu.Unlock()
		d.Handover = d.HasToken
		return okResult(d)
	}
	if s.Remember && s.Server != "" && s.Login != "" {
		if base, err := NormalizeServer(s.Server); err == nil {
			_, err := c.secrets.Load(base, s.Login)
			d.HasToken = err == nil
		}
	}
	return okResult(d)
}

// login signs in with a password and connects.
func (c *core) login(req LoginRequest) Result {
	login := strings.TrimSpace(req.Login)
	if login == "" {
		return failResult(protocol.CodeBadRequest, "login is required")
	}
	if req.Password == "" {
		return failResult(protocol.CodeBadRequest, "password is required")
	}
	s := c.cfg.Settings()
	server := req.Server
	locked := c.cfg.Locked(config.KeyServer)
	if locked {
		want, err := NormalizeServer(s.Server)
		if err != nil {
			return failResult(CodeLocked, "the server address set by your administrator is not valid: %v", err)
		}
		if strings.TrimSpace(req.Server) != "" {
			if got, err := NormalizeServer(req.Server); err != nil || got != want {
				return failResult(CodeLocked, "the server address is set by your administrator (%s)", want)
			}
		}
		server = want
	} else if strings.TrimSpace(server) == "" {
		server = s.Server
	}
	base, err := NormalizeServer(server)
	if err != nil {
		return failResult(protocol.CodeBadRequest, "%v", err)
	}
	res := c.connect(creds{server: base, login: login}, req.Password, "", false)
	if !res.OK || c.window == WindowDashboard {
		// A dashboard signed in by hand keeps nothing: the profile's settings
		// and remembered sign-in are the desk window's.
		return res
	}
	// Remember what the form said; a locked key keeps its machine value.
	c.save(config.KeyLogin, login)
	if !locked {
		c.save(config.KeyServer, base)
	}
	if !c.cfg.Locked(config.KeyRemember) {
		c.save(config.KeyRemember, req.Remember)
	}
	c.rememberToken(base, login, c.cfg.Settings().Remember)
	return res
}

func (c *core) save(key string, value any) {
	if err := c.cfg.Set(key, value); err != nil {
		c.log.Warn("could not save a setting", "key", key, "err", err)
	}
}

// rememberToken keeps the relay's token (never the password), or forgets it.
func (c *core) rememberToken(server, login string, remember bool) {
	cl := c.current()
	tok := ""
	if cl != nil {
		tok = cl.Token()
	}
	if remember && tok != "" {
		if err := c.secrets.Save(server, login, tok); err != nil {
			c.log.Warn("could not remember the sign-in", "err", err)
			c.noticeCode("warning", "remember_failed", "Could not remember the sign-in on this computer: "+err.Error())
		}
		return
	}
	if err := c.secrets.Delete(server, login); err != nil {
		c.log.Warn("could not forget the sign-in", "err", err)
	}
}

// resume signs in with the remembered token; a dashboard window, with the
// token its opener handed over (once).
func (c *core) resume() Result {
	if c.window == WindowDashboard {
		return c.resumeHandover()
	}
	s := c.cfg.Settings()
	base, err := NormalizeServer(s.Server)
	if err != nil || s.Login == "" || !s.Remember {
		return failResult(CodeNoToken, "no remembered sign-in")
	}
	tok, err := c.secrets.Load(base, s.Login)
	if err != nil {
		return failResult(CodeNoToken, "no remembered sign-in")
	}
	return c.connect(creds{server: base, login: s.Login, viaToken: true}, "", tok, true)
}

// resumeHandover signs a dashboard window in with its one-time token. The
// token is forgotten first: the relay revokes it on use, so a second try
// could only fail. The relay's welcome carries a session token instead,
// which the relay client keeps in memory and reconnects with after a drop
// or a relay restart; it is never saved (rememberToken is the desk
// window's), and logout or closing the window revokes it.
func (c *core) resumeHandover() Result {
	c.mu.Lock()
	tok := c.handover
	c.handover = ""
	c.mu.Unlock()
	if tok == "" {
		return failResult(CodeNoToken, "no sign-in was handed over")
	}
	base, err := NormalizeServer(c.cfg.Settings().Server)
	if err != nil {
		return failResult(protocol.CodeBadRequest, "%v", err)
	}
	return c.connect(creds{server: base}, "", tok, false)
}

// connect replaces the relay client and waits for the first outcome: the
// welcome, a refusal, or (Login) a server that cannot be reached. Resume
// keeps retrying in the background when the server is down: the agent was
// signed in and should come back by itself.
func (c *core) connect(cr creds, password, token string, keepTrying bool) Result {
	c.mu.Lock()
	old := c.client
	c.client = nil
	c.gen++
	gen := c.gen
	c.creds = cr
	c.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}

	states := make(chan client.StateChange, 16)
	cl := client.New(client.Config{
		URL: relayURL(cr.server), Login: cr.login, Password: password, Token: token,
		Client: "switchboard-desk/" + Version, BackoffInitial: c.backoff, Logger: c.log,
		OnState: func(s client.StateChange) {
			c.onState(gen, s)
			select {
			case states <- s:
			default:
			}
		},
		OnEvent:  func(f protocol.ServerFrame) { c.onEvent(gen, f) },
		OnOutbox: func(o client.Outgoing) { c.onOutbox(gen, o) },
	})
	c.mu.Lock()
	if c.gen != gen {
		c.mu.Unlock()
		return failResult(protocol.CodeUnavailable, "another sign-in started meanwhile")
	}
	c.client = cl
	c.mu.Unlock()
	if err := cl.Start(context.Background()); err != nil {
		c.drop(gen, cl)
		return failResult(protocol.CodeBadRequest, "%v", err)
	}

	timer := time.NewTimer(loginTimeout)
	defer timer.Stop()
	for {
		select {
		case s := <-states:
			switch s.State {
			case client.Connected:
				if s.Welcome == nil {
					return okResult(nil)
				}
				return okResult(*welcomeForUI(s.Welcome))
			case client.AuthFailed:
				c.drop(gen, cl)
				if s.Err == nil {
					return failResult(protocol.CodeBadCredentials, "the server refused the sign-in")
				}
				return errResult(s.Err)
			case client.Reconnecting:
				if keepTrying {
					return failResult(CodeRetrying, "cannot reach the server (%v); still trying", s.Err)
				}
				c.drop(gen, cl)
				return failResult(protocol.CodeUnavailable, "cannot reach the server: %v", s.Err)
			case client.Offline:
				c.drop(gen, cl)
				return failResult(protocol.CodeUnavailable, "the connection was closed")
			}
		case <-timer.C:
			if keepTrying {
				return failResult(CodeRetrying, "the server did not answer in time; still trying")
			}
			c.drop(gen, cl)
			return failResult(protocol.CodeUnavailable, "the server did not answer in time")
		}
	}
}

// drop stops cl and forgets it if it is still the current client.
func (c *core) drop(gen uint64, cl *client.Client) {
	c.mu.Lock()
	if c.gen == gen && c.client == cl {
		c.client = nil
	}
	c.mu.Unlock()
	_ = cl.Close() // never under c.mu: Close waits for callbacks that take it
}

// logout revokes the token on the relay and forgets it here.
func (c *core) logout() Result {
	c.mu.Lock()
	cl, cr := c.client, c.creds
	c.mu.Unlock()
	var err error
	if cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		err = cl.Logout(ctx)
		cancel()
		c.mu.Lock()
		if c.client == cl {
			c.client = nil
		}
		c.mu.Unlock()
	}
	if cr.server != "" && c.window == WindowMain {
		if derr := c.secrets.Delete(cr.server, cr.login); derr != nil {
			c.log.Warn("could not forget the sign-in", "err", derr)
		}
	}
	if err != nil && !errors.Is(err, client.ErrOffline) {
		// The token is forgotten here either way; say the relay may keep it.
		c.log.Warn("logout not confirmed by the relay", "err", err)
		return errResult(err)
	}
	return okResult(nil)
}

// shutdown closes the connection. The desk window does not log out (the
// app quits; a remembered token stays valid). A dashboard window's token
// lives only in this process's memory and dies with it, so it is revoked on
// the way out while the relay can still be told.
func (c *core) shutdown() {
	c.mu.Lock()
	cl := c.client
	c.client = nil
	c.mu.Unlock()
	if cl == nil {
		return
	}
	if c.window == WindowDashboard && cl.State() == client.Connected {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownLogoutTimeout)
		err := cl.Logout(ctx)
		cancel()
		if err != nil {
			c.log.Info("the dashboard's sign-in was not revoked on closing", "err", err)
		}
	}
	_ = cl.Close() // its last word, "offline", still reaches the UI
}

// onState runs on the relay client's callback goroutine.
func (c *core) onState(gen uint64, s client.StateChange) {
	c.mu.Lock()
	if gen != c.gen {
		c.mu.Unlock()
		return
	}
	c.view.conn = string(s.State)
	if s.State == client.Connected && s.Welcome != nil {
		c.view.welcome(*s.Welcome)
		c.decider.Welcome(*s.Welcome)
	}
	cr := c.creds
	c.mu.Unlock()
	if s.State == client.AuthFailed && (cr.viaToken || errors.Is(s.Err, client.ErrRevoked)) {
		// The relay no longer takes the remembered token (revoked, expired),
		// or ended the sign-in the token was got with.
		if err := c.secrets.Delete(cr.server, cr.login); err != nil {
			c.log.Warn("could not forget a refused token", "err", err)
		}
	}
	c.emit.Emit(EventState, statePayload(s))
	c.pushTray()
	if s.State == client.Connected && c.window != WindowDashboard {
		go c.loadRequests(gen)
	}
	if s.State == client.Connected && c.window == WindowDashboard {
		// Watching is per connection: ask again after every reconnect.
		go c.watchDashboard(gen)
	}
}

// onEvent runs on the relay client's callback goroutine.
func (c *core) onEvent(gen uint64, f protocol.ServerFrame) {
	c.mu.Lock()
	if gen != c.gen {
		c.mu.Unlock()
		return
	}
	changed := c.view.apply(f)
	facts := c.factsLocked()
	c.mu.Unlock()
	if f.Ev == protocol.EvDashboard {
		c.emitDashboard(gen, f.Data)
		return
	}
	c.emit.Emit(EventRelay, EventPayload{Ev: f.Ev, Session: f.Session, Seq: f.Seq, Data: f.Data})
	for _, n := range c.decider.Event(f, facts) {
		c.notify(n)
	}
	if changed {
		c.pushTray()
	}
}

func (c *core) onOutbox(gen uint64, o client.Outgoing) {
	c.mu.Lock()
	stale := gen != c.gen
	c.mu.Unlock()
	if !stale {
		c.emit.Emit(EventOutbox, outboxPayload(o))
	}
}

func (c *core) factsLocked() notify.Facts {
	return notify.Facts{Me: c.view.me.ID, Status: c.view.status, Muted: c.muted, Perms: c.view.perms, Lang: c.lang}
}

// Hooks to the tray and the notifier, set by the desktop services.

func (c *core) setTrayHook(f func()) {
	c.mu.Lock()
	c.onTray = f
	c.mu.Unlock()
	c.pushTray()
}

func (c *core) setNoteHook(f func(notify.Note)) {
	c.mu.Lock()
	c.onNote = f
	c.mu.Unlock()
}

func (c *core) trayState() tray.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.view.trayState()
	st.Lang = c.lang
	return st
}

func (c *core) pushTray() {
	c.mu.Lock()
	f := c.onTray
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

func (c *core) notify(n notify.Note) {
	c.mu.Lock()
	f := c.onNote
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
}
