package relay_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// The examples of docs/protocol.md run: every ```exchange block is replayed
// against a real relay with the demo directory, and the test fails when a
// frame the relay sends differs from the document's (a field missing, a
// field more, another value). The block format is described in the
// document, under "Reading the examples".

const protocolDoc = "../../docs/protocol.md"

// docDirectory is what `relay seed-demo` creates.
func docDirectory() relaytest.Options {
	return relaytest.Options{
		Agents: []relaytest.Agent{
			{Login: "anna", Name: "Anna Berg", Perms: "respond,notify"},
			{Login: "bertil", Name: "Bertil Ek", Perms: "respond,notify"},
			{Login: "cecilia", Name: "Cecilia Lind", Perms: "respond,notify,listen,manage"},
		},
		Channel: store.ChannelRow{Key: "support", Name: "Customer support", TimeZone: "Europe/Stockholm", OfflineForm: true,
			WarnAfter: time.Minute, ManagerWarnAfter: 3 * time.Minute, TransferTimeout: chat.DefaultTransferTimeout,
			Templates: []string{"Hello! How can I help you today?", "Thank you for waiting.", "Is there anything else I can help you with?"},
			FileTypes: []string{"image", "pdf"}},
	}
}

// exchange is one example block: lines, each a frame an actor sends (>) or
// receives (<).
type exchange struct {
	title string
	line  int // in the document, of the opening fence
	steps []step
}

type step struct {
	line  int
	actor string
	send  bool
	frame any // decoded JSON
	raw   string
}

var stepStart = regexp.MustCompile(`^([a-z][a-z0-9_]*)([<>]) ?(.*)$`)

// parseExchanges reads the exchange blocks of a markdown file. A step's JSON
// may continue over the following lines; lines starting with # are comments.
func parseExchanges(t *testing.T, path string) []exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	var cur *exchange
	var pending *step
	flush := func() {
		if pending == nil {
			return
		}
		if err := json.Unmarshal([]byte(pending.raw), &pending.frame); err != nil {
			t.Fatalf("%s:%d: %s%s is not JSON: %v", path, pending.line, pending.actor, map[bool]string{true: ">", false: "<"}[pending.send], err)
		}
		cur.steps = append(cur.steps, *pending)
		pending = nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(text, "```exchange"):
			cur = &exchange{title: strings.TrimSpace(strings.TrimPrefix(text, "```exchange")), line: n}
		case cur == nil:
		case strings.TrimSpace(text) == "```":
			flush()
			if cur.title == "" {
				cur.title = fmt.Sprint("line ", cur.line)
			}
			out = append(out, *cur)
			cur = nil
		case strings.HasPrefix(strings.TrimSpace(text), "#") || strings.TrimSpace(text) == "":
		case stepStart.MatchString(text):
			flush()
			m := stepStart.FindStringSubmatch(text)
			pending = &step{line: n, actor: m[1], send: m[2] == ">", raw: m[3]}
		case pending != nil:
			pending.raw += "\n" + text
		default:
			t.Fatalf("%s:%d: not a step: %q", path, n, text)
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: exchange block not closed", path, cur.line)
	}
	return out
}

func TestDocExamples(t *testing.T) {
	blocks := parseExchanges(t, protocolDoc)
	if len(blocks) < 10 {
		t.Fatalf("only %d exchange blocks in %s", len(blocks), protocolDoc)
	}
	titles := map[string]bool{}
	for _, b := range blocks {
		if titles[b.title] {
			t.Fatalf("%s:%d: two blocks titled %q", protocolDoc, b.line, b.title)
		}
		titles[b.title] = true
		t.Run(b.title, func(t *testing.T) {
			t.Parallel()
			replay(t, b)
		})
	}
}

// player replays one block. Each actor is one websocket connection.
type player struct {
	t     *testing.T
	h     *relaytest.Harness
	conns map[string]*relaytest.Client
	used  map[string]map[int]bool // per actor: events matched or passed over
	vars  map[string]any
	shown map[string]bool // replies the block shows
}

func replay(t *testing.T, b exchange) {
	p := &player{t: t, h: relaytest.Start(t, docDirectory()), conns: map[string]*relaytest.Client{},
		used: map[string]map[int]bool{}, vars: map[string]any{}, shown: map[string]bool{}}
	for _, s := range b.steps {
		if !s.send {
			if m, ok := s.frame.(map[string]any); ok && m["re"] != nil {
				p.shown[s.actor+" "+fmt.Sprint(m["re"])] = true
			}
		}
	}
	for _, s := range b.steps {
		if s.send {
			p.sendStep(s)
		} else {
			p.receiveStep(s)
		}
	}
}

func (p *player) conn(actor string) *relaytest.Client {
	c := p.conns[actor]
	if c == nil {
		c = relaytest.Dial(p.t, p.h.URL(), "")
		p.conns[actor] = c
		p.used[actor] = map[int]bool{}
	}
	return c
}

// sendStep sends a command and waits for its reply, so that the block runs
// in the order it is written. A reply the block does not show must be ok.
func (p *player) sendStep(s step) {
	t := p.t
	m, ok := s.frame.(map[string]any)
	if !ok || m["id"] == nil {
		t.Fatalf("%s:%d: a command needs an id", protocolDoc, s.line)
	}
	frame, err := json.Marshal(p.substitute(s.line, s.frame))
	if err != nil {
		t.Fatal(err)
	}
	c := p.conn(s.actor)
	if err := c.Send(string(frame)); err != nil {
		t.Fatalf("%s:%d: %s: send: %v", protocolDoc, s.line, s.actor, err)
	}
	id := fmt.Sprint(m["id"])
	r := c.Reply(id)
	if !p.shown[s.actor+" "+id] && !r.OK {
		t.Fatalf("%s:%d: %s %s: refused: %v", protocolDoc, s.line, s.actor, m["cmd"], r.Error)
	}
}

// receiveStep checks a reply, or finds the event the block shows: the first
// event of that name, not matched before, that matches; events of that name
// that arrived before it are passed over (a block need not show them all).
func (p *player) receiveStep(s step) {
	t := p.t
	want, ok := s.frame.(map[string]any)
	if !ok {
		t.Fatalf("%s:%d: a frame must be an object", protocolDoc, s.line)
	}
	c := p.conn(s.actor)
	if re, isReply := want["re"]; isReply {
		r := c.Reply(fmt.Sprint(re))
		got := replyJSON(t, r)
		if err := p.match("", want, got); err != nil {
			if dump {
				t.Logf("%s:%d: %s<\n%s", protocolDoc, s.line, s.actor, pretty(got))
				return
			}
			t.Fatalf("%s:%d: %s's reply differs from the document: %v\n got: %s", protocolDoc, s.line, s.actor, err, compact(got))
		}
		return
	}
	name, _ := want["ev"].(string)
	if name == "" {
		t.Fatalf("%s:%d: a received frame names re or ev", protocolDoc, s.line)
	}
	deadline := time.Now().Add(relaytest.Timeout)
	for {
		events := c.Events()
		var misses []string
		var lastGot any
		for i, f := range events {
			if f.Ev != name || p.used[s.actor][i] {
				continue
			}
			got := eventJSON(t, f)
			saved := p.snapshotVars()
			err := p.match("", want, got)
			if err == nil {
				for j := 0; j <= i; j++ {
					if events[j].Ev == name {
						p.used[s.actor][j] = true
					}
				}
				return
			}
			p.vars = saved
			misses, lastGot = append(misses, err.Error()), got
		}
		if time.Now().After(deadline) {
			if len(misses) == 0 {
				t.Fatalf("%s:%d: %s never got a %s event", protocolDoc, s.line, s.actor, name)
			}
			if dump {
				t.Logf("%s:%d: %s< (%s)\n%s", protocolDoc, s.line, s.actor, misses[len(misses)-1], pretty(lastGot))
				return
			}
			t.Fatalf("%s:%d: no %s event of %s is the document's; how each differs:\n  %s\n the last: %s",
				protocolDoc, s.line, name, s.actor, strings.Join(misses, "\n  "), compact(lastGot))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *player) snapshotVars() map[string]any {
	out := make(map[string]any, len(p.vars))
	for k, v := range p.vars {
		out[k] = v
	}
	return out
}

// replyJSON and eventJSON give a frame as it travelled, decoded generically.
func replyJSON(t *testing.T, r protocol.ServerFrame) any {
	b, err := json.Marshal(struct {
		Re    string          `json:"re"`
		OK    bool            `json:"ok"`
		Data  json.RawMessage `json:"data,omitempty"`
		Error *protocol.Error `json:"error,omitempty"`
	}{r.Re, r.OK, r.Data, r.Error})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

func eventJSON(t *testing.T, f protocol.ServerFrame) any {
	ev := protocol.Event{Ev: f.Ev, Session: f.Session, Seq: f.Seq}
	if len(f.Data) > 0 {
		ev.Data = f.Data
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// dump: DOC_EXAMPLES_DUMP=1 logs what the relay sent where it differs,
// instead of failing (for writing examples).
var dump = os.Getenv("DOC_EXAMPLES_DUMP") != ""

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// placeholder names a value the document cannot spell out: a string "<x>".
var placeholder = regexp.MustCompile(`^<([a-z][a-z0-9_]*)>$`)

// Shapes: placeholders that match any value of a kind. Every other name is
// a variable: bound by the first frame it is received in, the same value
// wherever it appears afterwards (also in what is sent).
var shapes = map[string]func(any) bool{
	"time": func(v any) bool {
		s, ok := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return ok && err == nil
	},
	"token": func(v any) bool { s, ok := v.(string); return ok && len(s) >= 16 },
	"text":  func(v any) bool { s, ok := v.(string); return ok && s != "" },
	"n":     func(v any) bool { _, ok := v.(float64); return ok },
}

func (p *player) match(path string, want, got any) error {
	if s, ok := want.(string); ok {
		if m := placeholder.FindStringSubmatch(s); m != nil {
			if shape, ok := shapes[m[1]]; ok {
				if !shape(got) {
					return fmt.Errorf("%s: %s is not a %s", orRoot(path), compact(got), m[1])
				}
				return nil
			}
			if bound, ok := p.vars[m[1]]; ok {
				want = bound
			} else if got == nil {
				return fmt.Errorf("%s: missing, want a value for %s", orRoot(path), s)
			} else {
				p.vars[m[1]] = got
				return nil
			}
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an object", orRoot(path), compact(got))
		}
		for _, k := range sortedKeys(w) {
			if _, has := g[k]; !has {
				return fmt.Errorf("%s.%s: missing", path, k)
			}
		}
		for _, k := range sortedKeys(g) {
			if _, has := w[k]; !has {
				return fmt.Errorf("%s.%s: not in the document (%s)", path, k, compact(g[k]))
			}
		}
		for _, k := range sortedKeys(w) {
			if err := p.match(path+"."+k, w[k], g[k]); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %s, want %d items", orRoot(path), compact(got), len(w))
		}
		for i := range w {
			if err := p.match(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s: got %s, want %s", orRoot(path), compact(got), compact(want))
	}
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "frame"
	}
	return path
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// substitute puts the bound variables into a frame to send, as values and
// as object keys (a resume map names sessions).
func (p *player) substitute(line int, v any) any {
	switch x := v.(type) {
	case string:
		if m := placeholder.FindStringSubmatch(x); m != nil {
			bound, ok := p.vars[m[1]]
			if !ok {
				p.t.Fatalf("%s:%d: %s is sent before it was received", protocolDoc, line, x)
			}
			return bound
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if m := placeholder.FindStringSubmatch(k); m != nil {
				s, ok := p.vars[m[1]].(string)
				if !ok {
					p.t.Fatalf("%s:%d: key %s is not a received string", protocolDoc, line, k)
				}
				k = s
			}
			out[k] = p.substitute(line, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = p.substitute(line, e)
		}
		return out
	}
	return v
}
