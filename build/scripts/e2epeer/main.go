// Command e2epeer is the protocol side of the desktop end-to-end test
// (build/scripts/desktop-e2e.sh): it plays the website visitors and checks
// on the relay what the agents did in their apps.
//
//	e2epeer -url ws://127.0.0.1:PORT/ws -password PW [-auditor cecilia]
//
// It signs in as the auditor (a supervisor: the dashboard and the transfer
// history), sets them Away at once so they are never a transfer target, says
// "ready" and then reads one command a line from stdin, answering each with
// one line, "ok [value]" or "err reason":
//
//	visitor NAME QUESTION...      start a chat as a visitor in the channel (_ in NAME
//	                              is a space); ok SESSION
//	say SESSION TEXT...           the visitor of SESSION writes TEXT
//	heard SESSION TEXT...         wait until the visitor of SESSION got an agent's
//	                              message containing TEXT
//	attach, fetch                 attachments: see files.go
//	visitors N                    start N more visitor chats, each with a message; ok N
//	pick LOGIN N                  sign in as LOGIN on a connection of its own and take
//	                              the next waiting chat N times (several connections
//	                              of one agent are one agent: their app gets them too)
//	await present LOGIN           poll the dashboard until the condition holds
//	await queued SESSION          (up to -timeout; "await ... within 30s" for another)
//	await owner SESSION LOGIN
//	await pending SESSION LOGIN   a transfer of SESSION to LOGIN (not to the queue)
//	                              is pending
//	await load LOGIN N            LOGIN owns at least N active chats
//	verify SESSION FROM TO COMMENT...
//	                              the transfer history of SESSION holds exactly one
//	                              transfer, FROM to TO with COMMENT, accepted; TO owns
//	                              it; FROM sees it in listen mode; the visitor was told
//	quit
//
// Visitors stay connected until quit (or end of input), as a browser would.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

func main() {
	url := flag.String("url", "", "the relay's websocket URL, ws://host:port/ws")
	password := flag.String("password", "", "the demo agents' password")
	auditor := flag.String("auditor", "cecilia", "a supervisor login (dashboard and history)")
	channel := flag.String("channel", "support", "the visitors' channel")
	timeout := flag.Duration("timeout", 60*time.Second, "default limit of an await")
	flag.Parse()
	if *url == "" || *password == "" {
		fmt.Fprintln(os.Stderr, "e2epeer: -url and -password are required")
		os.Exit(2)
	}
	p := &peer{url: *url, password: *password, channel: *channel, timeout: *timeout, visitors: map[string]*conn{}}
	if err := p.start(*auditor); err != nil {
		fmt.Printf("err %v\n", err)
		os.Exit(1)
	}
	defer p.close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		if line == "quit" {
			fmt.Println("ok")
			return
		}
		out, err := p.do(strings.Fields(line), line)
		if err != nil {
			fmt.Printf("err %s\n", oneLine(err.Error()))
		} else {
			fmt.Println(strings.TrimSpace("ok " + out))
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// rest returns the line after its first n fields.
func rest(line string, n int) string {
	s := strings.TrimSpace(line)
	for range n {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = strings.TrimSpace(s[i:])
	}
	return s
}

type peer struct {
	url, password, channel string
	timeout                time.Duration

	audit    *conn
	visitors map[string]*conn // by session
	others   []*conn
	n        int
}

func (p *peer) start(login string) error {
	c, w, err := p.agent(login)
	if err != nil {
		return err
	}
	p.audit = c
	if w.Agent.Status == protocol.StatusPresent {
		if _, err := c.call(protocol.CmdStatusSet, protocol.StatusSet{Status: protocol.StatusAway}); err != nil {
			return fmt.Errorf("%s away: %w", login, err)
		}
	}
	_, err = p.dashboard()
	return err
}

func (p *peer) close() {
	for _, c := range p.visitors {
		c.close()
	}
	for _, c := range p.others {
		c.close()
	}
	p.audit.close()
}

func (p *peer) agent(login string) (*conn, protocol.AgentWelcome, error) {
	var w protocol.AgentWelcome
	c, err := dial(p.url)
	if err != nil {
		return nil, w, err
	}
	w, err = c.HelloAgent(context.Background(), protocol.Hello{Login: login, Password: p.password, Client: "e2epeer"})
	if err != nil {
		c.close()
		return nil, w, fmt.Errorf("hello as %s: %w", login, err)
	}
	return c, w, nil
}

func (p *peer) visitor(name, question string) (string, error) {
	c, err := dial(p.url)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	if _, err := c.HelloVisitor(ctx, protocol.Hello{Channel: p.channel}); err != nil {
		c.close()
		return "", fmt.Errorf("visitor hello: %w", err)
	}
	email := strings.ToLower(strings.Join(strings.Fields(name), ".")) + "@example.com"
	ch, err := c.StartChat(ctx, protocol.ChatStart{Name: name, Email: email, Question: question})
	if err != nil {
		c.close()
		return "", fmt.Errorf("chat.start: %w", err)
	}
	p.visitors[ch.Session] = c
	return ch.Session, nil
}

func (p *peer) say(session, text string) error {
	c := p.visitors[session]
	if c == nil {
		return fmt.Errorf("no visitor of %s here", session)
	}
	p.n++
	_, err := c.call(protocol.CmdMessageSend, protocol.MessageSend{Session: session, ClientID: fmt.Sprintf("v%d", p.n), Text: text})
	return err
}

func (p *peer) dashboard() (protocol.Dashboard, error) {
	var db protocol.Dashboard
	raw, err := p.audit.call(protocol.CmdDashboardWatch, struct{}{})
	if err == nil {
		err = json.Unmarshal(raw, &db)
	}
	return db, err
}

func (p *peer) do(f []string, line string) (string, error) {
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	switch f[0] {
	case "visitor":
		if len(f) < 3 {
			return "", errors.New("usage: visitor NAME QUESTION...")
		}
		return p.visitor(strings.ReplaceAll(f[1], "_", " "), rest(line, 2))
	case "say":
		return "", p.say(arg(1), rest(line, 2))
	case "heard":
		return "", p.heard(arg(1), rest(line, 2))
	case "attach":
		return p.attach(arg(1), arg(2))
	case "fetch":
		return p.fetch(arg(1), arg(2), arg(3))
	case "visitors":
		n, err := strconv.Atoi(arg(1))
		if err != nil {
			return "", err
		}
		for i := range n {
			name := fmt.Sprintf("Load %02d", i+1)
			s, err := p.visitor(name, fmt.Sprintf("Question number %d about an order", i+1))
			if err != nil {
				return "", err
			}
			if err := p.say(s, fmt.Sprintf("Hello, this is %s. My order has not arrived yet; could you look into it?", name)); err != nil {
				return "", err
			}
		}
		return strconv.Itoa(n), nil
	case "pick":
		n, err := strconv.Atoi(arg(2))
		if err != nil {
			return "", err
		}
		return p.pick(arg(1), n)
	case "await":
		return "", p.await(f[1:])
	case "verify":
		if len(f) < 5 {
			return "", errors.New("usage: verify SESSION FROM TO COMMENT...")
		}
		return "", p.verify(f[1], f[2], f[3], rest(line, 4))
	}
	return "", fmt.Errorf("unknown command %q", f[0])
}

// pick takes n waiting chats as login, oldest first, on a connection that
// stays open (several connections of one agent are one agent).
func (p *peer) pick(login string, n int) (string, error) {
	c, _, err := p.agent(login)
	if err != nil {
		return "", err
	}
	p.others = append(p.others, c)
	for i := range n {
		if _, err := c.call(protocol.CmdQueueNext, struct{}{}); err != nil {
			return "", fmt.Errorf("pick %d of %d: %w", i+1, n, err)
		}
	}
	return strconv.Itoa(n), nil
}

// await polls the dashboard until the condition holds.
func (p *peer) await(f []string) error {
	limit := p.timeout
	if i := len(f) - 2; i >= 0 && f[i] == "within" {
		d, err := time.ParseDuration(f[i+1])
		if err != nil {
			return err
		}
		limit, f = d, f[:i]
	}
	if len(f) < 2 {
		return errors.New("usage: await WHAT ARGS... [within DURATION]")
	}
	var cond func(protocol.Dashboard) (bool, string)
	switch {
	case f[0] == "present" && len(f) == 2:
		cond = func(db protocol.Dashboard) (bool, string) {
			a := findAgent(db.Agents, f[1])
			return a != nil && a.Status == protocol.StatusPresent, fmt.Sprintf("agent %s: %+v", f[1], a)
		}
	case f[0] == "queued" && len(f) == 2:
		cond = func(db protocol.Dashboard) (bool, string) {
			s := findSession(db.Sessions, f[1])
			return s != nil && s.State == protocol.StateQueued, fmt.Sprintf("session %s: %s", f[1], describe(s))
		}
	case f[0] == "owner" && len(f) == 3:
		cond = func(db protocol.Dashboard) (bool, string) {
			s := findSession(db.Sessions, f[1])
			return s != nil && s.State == protocol.StateActive && s.Owner != nil && s.Owner.Login == f[2],
				fmt.Sprintf("session %s: %s", f[1], describe(s))
		}
	case f[0] == "pending" && len(f) == 3:
		cond = func(db protocol.Dashboard) (bool, string) {
			for _, t := range db.Transfers {
				if t.Session == f[1] && t.State == protocol.TransferPending {
					return t.To.Login == f[2] && !t.ToQueue, fmt.Sprintf("transfer %d to %s (queue: %v) pending", t.ID, t.To.Login, t.ToQueue)
				}
			}
			return false, fmt.Sprintf("no pending transfer of %s; session: %s", f[1], describe(findSession(db.Sessions, f[1])))
		}
	case f[0] == "load" && len(f) == 3:
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return err
		}
		cond = func(db protocol.Dashboard) (bool, string) {
			a := findAgent(db.Agents, f[1])
			return a != nil && a.Load >= n, fmt.Sprintf("agent %s: %+v", f[1], a)
		}
	default:
		return fmt.Errorf("cannot await %q", strings.Join(f, " "))
	}
	deadline := time.Now().Add(limit)
	for {
		db, err := p.dashboard()
		if err != nil {
			return err
		}
		ok, what := cond(db)
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *peer) verify(session, from, to, comment string) error {
	raw, err := p.audit.call(protocol.CmdTransferHistory, protocol.TransferHistory{Session: session})
	if err != nil {
		return fmt.Errorf("transfer.history: %w", err)
	}
	var hist []protocol.TransferInfo
	if err := json.Unmarshal(raw, &hist); err != nil {
		return err
	}
	if len(hist) != 1 {
		return fmt.Errorf("history of %s holds %d entries, want 1: %s", session, len(hist), raw)
	}
	t := hist[0]
	if t.Kind != "transfer" || t.State != protocol.TransferAccepted || t.From.Login != from || t.To.Login != to ||
		t.By.Login != from || t.Comment != comment || t.EndedAt == nil {
		return fmt.Errorf("history: %s", raw)
	}
	db, err := p.dashboard()
	if err != nil {
		return err
	}
	if s := findSession(db.Sessions, session); s == nil || s.State != protocol.StateActive || s.Owner == nil || s.Owner.Login != to || s.Transfer != "" {
		return fmt.Errorf("dashboard: session %s: %s", session, describe(s))
	}
	// The former owner's own view: the chat is theirs to listen to.
	c, w, err := p.agent(from)
	if err != nil {
		return err
	}
	c.close()
	role := ""
	for _, s := range w.Sessions {
		if s.ID == session {
			role = s.Role
		}
	}
	if role != protocol.ViewListener {
		return fmt.Errorf("%s sees %s as %q, want listener", from, session, role)
	}
	// The visitor was told who joined, by name.
	v := p.visitors[session]
	if v == nil {
		return fmt.Errorf("no visitor of %s here", session)
	}
	name := t.To.Name
	if first, _, ok := strings.Cut(name, " "); ok {
		name = first
	}
	told := func(e protocol.Entry) bool { // a system line by code: "joined", naming the agent
		return e.From.Kind == protocol.AuthorSystem && e.Note == "joined" && e.Params != nil && e.Params.Agent != nil &&
			strings.Contains(e.Params.Agent.Name, name)
	}
	for deadline := time.Now().Add(10 * time.Second); !v.saw(told); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the visitor was not told that %s joined", name)
		}
	}
	return nil
}

func (p *peer) heard(session, text string) error {
	v := p.visitors[session]
	if v == nil {
		return fmt.Errorf("no visitor of %s here", session)
	}
	said := func(e protocol.Entry) bool {
		return e.From.Kind == protocol.AuthorAgent && strings.Contains(e.Text, text)
	}
	for deadline := time.Now().Add(p.timeout); !v.saw(said); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v the visitor of %s has not been told %q", p.timeout, session, text)
		}
	}
	return nil
}

func findAgent(list []protocol.AgentInfo, login string) *protocol.AgentInfo {
	for i := range list {
		if list[i].Login == login {
			return &list[i]
		}
	}
	return nil
}

func findSession(list []protocol.DashSession, id string) *protocol.DashSession {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

func describe(s *protocol.DashSession) string {
	if s == nil {
		return "not on the dashboard"
	}
	owner := "nobody"
	if s.Owner != nil {
		owner = s.Owner.Login
	}
	return fmt.Sprintf("%s, owner %s, transfer %q", s.State, owner, s.Transfer)
}

// conn is one connection of a visitor or an agent, keeping the entries it
// was sent.
type conn struct {
	*client.Conn
	mu      sync.Mutex
	entries []protocol.Entry
}

const callTimeout = 20 * time.Second

func dial(url string) (*conn, error) {
	c := &conn{}
	h := client.Handlers{Entry: func(_ string, e protocol.Entry, _ client.Verdict) {
		c.mu.Lock()
		c.entries = append(c.entries, e)
		c.mu.Unlock()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cn, _, err := client.Dial(ctx, url, client.Options{IDPrefix: "e", Timeout: callTimeout,
		OnEvent: func(f *client.Frame) { _ = h.Dispatch(f) }})
	if err != nil {
		return nil, err
	}
	c.Conn = cn
	return c, nil
}

// call sends a command and returns its reply's data, or the refusal.
func (c *conn) call(cmd string, data any) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Do(context.Background(), cmd, data, &raw)
	return raw, err
}

func (c *conn) saw(pred func(protocol.Entry) bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if pred(e) {
			return true
		}
	}
	return false
}

func (c *conn) close() { c.Leave("") }
