package relay_test

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/mail/mailtest"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// requestChannel is the harness channel, in Swedish, warning managers fast.
func requestChannel(lang string) store.ChannelRow {
	return store.ChannelRow{Key: "support", Name: "Kundtjänst", TimeZone: "Europe/Stockholm", OfflineForm: true,
		WarnAfter: time.Minute, ManagerWarnAfter: 3 * time.Minute, TransferTimeout: chat.DefaultTransferTimeout, Language: lang}
}

// fastOutbox makes retries quick enough for a test.
func fastOutbox(c *relay.Config) {
	c.OutboxPoll, c.OutboxRetryMin, c.OutboxRetryMax = 50*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
}

// offlineMessage sends the widget's offline form and returns the number.
func offlineMessage(t *testing.T, h *relaytest.Harness, name, email, question string) int64 {
	t.Helper()
	v := relaytest.Dial(t, h.URL(), "")
	defer v.Close()
	v.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	var rc protocol.RequestCreated
	v.OK(protocol.CmdOfflineSubmit, protocol.OfflineSubmit{Name: name, Email: email, Question: question}, &rc)
	return rc.Number
}

func requestEvent(t *testing.T, c *relaytest.Client, from int, pred func(protocol.RequestEvent) bool) (protocol.RequestEvent, int) {
	t.Helper()
	var ev protocol.RequestEvent
	_, i := c.Event(protocol.EvRequest, from, func(f protocol.ServerFrame) bool {
		var e protocol.RequestEvent
		if json.Unmarshal(f.Data, &e) != nil || !pred(e) {
			return false
		}
		ev = e
		return true
	})
	return ev, i
}

func history(t *testing.T, c *relaytest.Client, n int64) protocol.RequestDetail {
	t.Helper()
	var d protocol.RequestDetail
	c.OK(protocol.CmdRequestGet, protocol.RequestRef{Number: n}, &d)
	return d
}

func actions(d protocol.RequestDetail) string {
	var a []string
	for _, s := range d.History {
		a = append(a, s.Action)
	}
	return strings.Join(a, ",")
}

// TestOfflineRequestIsClaimedAndAnsweredByMail walks the whole follow-up on
// a real relay with a real SMTP server: the offline form makes a request,
// agents hear of it, Anna claims and answers it, and the visitor's e-mail
// arrives over STARTTLS, in the channel's language, with "åäö" intact.
func TestOfflineRequestIsClaimedAndAnsweredByMail(t *testing.T) {
	t.Parallel()
	sink := mailtest.Start(t)
	h := relaytest.Start(t, relaytest.Options{Channel: requestChannel("sv"), Closed: true, Config: func(c *relay.Config) {
		fastOutbox(c)
		c.Mail = sink.Config(t)
	}})
	anna, _ := h.Agent("anna", nil)
	lars, _ := h.Agent("lars", nil) // listen only
	nils, _ := h.Agent("nils", nil) // nothing in support

	n := offlineMessage(t, h, "Åsa Öberg", "asa@example.com", "Var är mitt paket?\nDet skulle komma i måndags.")
	if n != 1001 {
		t.Fatalf("first request number %d", n)
	}
	ev, _ := requestEvent(t, anna, 0, func(e protocol.RequestEvent) bool { return e.Request.Number == n })
	if !ev.Notify || ev.Action != protocol.StepCreated || ev.Request.State != protocol.RequestOpen || ev.Request.Origin != protocol.OriginOffline ||
		ev.Request.Visitor.Email != "asa@example.com" || ev.Request.Title != "Var är mitt paket?" {
		t.Errorf("Anna's event = %+v", ev)
	}
	if ev, _ := requestEvent(t, lars, 0, func(e protocol.RequestEvent) bool { return e.Request.Number == n }); ev.Notify {
		t.Error("a listener without notify was notified")
	}

	var list protocol.RequestListReply
	anna.OK(protocol.CmdRequestList, protocol.RequestList{Channel: "support"}, &list)
	if len(list.Requests) != 1 || list.Requests[0].Number != n || !list.Mail {
		t.Fatalf("list = %+v", list)
	}
	nils.Refused(protocol.CmdRequestList, protocol.RequestList{Channel: "support"}, protocol.CodeForbidden)
	nils.Refused(protocol.CmdRequestGet, protocol.RequestRef{Number: n}, protocol.CodeForbidden)
	nils.OK(protocol.CmdRequestList, protocol.RequestList{}, &list)
	if len(list.Requests) != 0 {
		t.Errorf("an agent of no channel lists %+v", list.Requests)
	}
	lars.Refused(protocol.CmdRequestClaim, protocol.RequestRef{Number: n}, protocol.CodeListenOnly)

	var info protocol.RequestInfo
	anna.OK(protocol.CmdRequestClaim, protocol.RequestRef{Number: n}, &info)
	if info.State != protocol.RequestClaimed || info.Assignee == nil || info.Assignee.Login != "anna" {
		t.Errorf("claimed = %+v", info)
	}
	answer := "Hej Åsa! Paketet är på väg – det når dig på fredag."
	anna.OK(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n, Text: answer}, &info)
	if info.State != protocol.RequestAnswered {
		t.Errorf("answered = %+v", info)
	}

	m := sink.Wait(t, 1, 10*time.Second)[0]
	if !m.TLS {
		t.Error("the e-mail did not go over STARTTLS")
	}
	if len(m.To) != 1 || m.To[0] != "asa@example.com" {
		t.Errorf("to %v", m.To)
	}
	if got, want := m.Header("Subject"), "[#1001] Svar på ditt ärende: Var är mitt paket?"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	body := m.Body()
	for _, want := range []string{"Hej Åsa Öberg,", answer, "Vänliga hälsningar\nKundtjänst", "Ditt ärendenummer är 1001.", "> Det skulle komma i måndags."} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}

	// The history records every step, the answer's text and the e-mail's fate.
	requestEvent(t, anna, 0, func(e protocol.RequestEvent) bool { return e.Action == protocol.StepMailSent })
	d := history(t, anna, n)
	if got := actions(d); got != "created,claimed,answered,mail_sent" {
		t.Fatalf("history %s", got)
	}
	if st := d.History[2]; st.Text != answer || !st.Mail || st.By == nil || st.By.Login != "anna" {
		t.Errorf("answer step = %+v", st)
	}
	if d.Transcript != "Var är mitt paket?\nDet skulle komma i måndags." {
		t.Errorf("transcript %q", d.Transcript)
	}

	anna.OK(protocol.CmdRequestClose, protocol.RequestRef{Number: n}, &info)
	anna.OK(protocol.CmdRequestList, protocol.RequestList{Channel: "support"}, &list)
	if len(list.Requests) != 0 {
		t.Errorf("a closed request is listed as open: %+v", list.Requests)
	}
	anna.OK(protocol.CmdRequestList, protocol.RequestList{Channel: "support", State: protocol.RequestClosed}, &list)
	if len(list.Requests) != 1 || list.Requests[0].State != protocol.RequestClosed {
		t.Errorf("closed list = %+v", list.Requests)
	}
	if got := actions(history(t, anna, n)); got != "created,claimed,answered,mail_sent,closed" {
		t.Errorf("history after close %s", got)
	}
	if len(sink.Messages()) != 1 {
		t.Errorf("%d e-mails sent, want 1", len(sink.Messages()))
	}
	for _, f := range nils.Events() {
		if f.Ev == protocol.EvRequest {
			t.Errorf("an agent without a grant in the channel heard of a request: %s", f.Data)
		}
	}
}

// TestAnswerWithoutMailSaysSo: a relay without SMTP refuses to "send" and
// stores nothing; an answer sent by hand is recorded as such.
func TestAnswerWithoutMailSaysSo(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Closed: true})
	anna, _ := h.Agent("anna", nil)
	n := offlineMessage(t, h, "Walt", "walt@example.com", "Do you ship to Norway?")
	var list protocol.RequestListReply
	anna.OK(protocol.CmdRequestList, protocol.RequestList{}, &list)
	if list.Mail || len(list.Requests) != 1 {
		t.Fatalf("list = %+v", list)
	}
	anna.Refused(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n, Text: "Yes."}, protocol.CodeMailNotConfigured)
	if d := history(t, anna, n); d.State != protocol.RequestOpen || actions(d) != "created" || d.Mail {
		t.Fatalf("a refused answer changed the request: %+v", d)
	}
	var info protocol.RequestInfo
	anna.OK(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n, Text: "Yes, we do.", Manual: true}, &info)
	d := history(t, anna, n)
	if d.State != protocol.RequestAnswered || actions(d) != "created,answered" || d.History[1].Mail || d.History[1].Text != "Yes, we do." {
		t.Errorf("manual answer: %+v", d)
	}
	anna.Refused(protocol.CmdRequestClaim, protocol.RequestRef{Number: 0}, protocol.CodeBadRequest)
	anna.Refused(protocol.CmdRequestClaim, protocol.RequestRef{Number: 999}, protocol.CodeNotFound)
	anna.Refused(protocol.CmdRequestList, protocol.RequestList{State: "lost"}, protocol.CodeBadRequest)
	if r := anna.Do(protocol.CmdRequestAnswer, json.RawMessage(`{"number":"x"}`)); r.OK || r.Error.Code != protocol.CodeMalformed {
		t.Errorf("malformed answer: %+v", r)
	}
}

// TestMailIsRetriedThenGivenUp: a temporary SMTP failure is retried; one
// that lasts is given up and recorded in the history.
func TestMailIsRetriedThenGivenUp(t *testing.T) {
	t.Parallel()
	sink := mailtest.Start(t)
	h := relaytest.Start(t, relaytest.Options{Closed: true, Config: func(c *relay.Config) {
		fastOutbox(c)
		c.Mail = sink.Config(t)
		c.MailAttempts = 3
	}})
	anna, _ := h.Agent("anna", nil)
	n := offlineMessage(t, h, "Walt", "walt@example.com", "Hello?")
	sink.FailNext(2)
	anna.OK(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n, Text: "Hello!"}, nil)
	requestEvent(t, anna, 0, func(e protocol.RequestEvent) bool { return e.Action == protocol.StepMailSent })
	if got := len(sink.Messages()); got != 1 {
		t.Errorf("%d e-mails after two failures, want 1", got)
	}
	n2 := offlineMessage(t, h, "Vera", "vera@example.com", "Hello again?")
	sink.FailNext(100)
	anna.OK(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n2, Text: "Hi!"}, nil)
	requestEvent(t, anna, 0, func(e protocol.RequestEvent) bool { return e.Action == protocol.StepMailFailed })
	d := history(t, anna, n2)
	if got := actions(d); got != "created,answered,mail_failed" || !strings.Contains(d.History[2].Text, "451") {
		t.Errorf("history %s: %+v", got, d.History)
	}
}

// TestRequestPermissionsAndAssign: a manager assigns, colleagues may not
// take over another's request, and a request made from a chat says so.
func TestRequestPermissionsAndAssign(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	_, started := h.Visitor("Vera", "My order?")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: started.Session}, nil)
	var rc protocol.RequestCreated
	anna.OK(protocol.CmdRequestCreate, protocol.RequestCreate{Session: started.Session, Title: "Refund order 42"}, &rc)
	ev, _ := requestEvent(t, bertil, 0, func(e protocol.RequestEvent) bool { return e.Request.Number == rc.Number })
	if ev.Request.Origin != protocol.OriginChat || ev.Request.Session != started.Session || ev.Request.CreatedBy == nil ||
		ev.Request.CreatedBy.Login != "anna" || !ev.Notify {
		t.Errorf("created from a chat: %+v", ev)
	}
	anna.Refused(protocol.CmdRequestAssign, protocol.RequestAssign{Number: rc.Number, To: h.ID("bertil")}, protocol.CodeForbidden)
	var info protocol.RequestInfo
	cecilia.OK(protocol.CmdRequestAssign, protocol.RequestAssign{Number: rc.Number, To: h.ID("bertil")}, &info)
	if info.State != protocol.RequestClaimed || info.Assignee == nil || info.Assignee.Login != "bertil" {
		t.Errorf("assigned = %+v", info)
	}
	anna.Refused(protocol.CmdRequestClose, protocol.RequestRef{Number: rc.Number}, protocol.CodeNotParticipant)
	cecilia.Refused(protocol.CmdRequestAssign, protocol.RequestAssign{Number: rc.Number, To: h.ID("lars")}, protocol.CodeInvalidTarget)
	ev, _ = requestEvent(t, anna, 0, func(e protocol.RequestEvent) bool { return e.Action == protocol.StepAssigned })
	if ev.Notify || ev.Request.Assignee == nil || ev.Request.Assignee.Login != "bertil" {
		t.Errorf("assigned event = %+v", ev)
	}
	bertil.OK(protocol.CmdRequestClose, protocol.RequestRef{Number: rc.Number}, nil)
	d := history(t, cecilia, rc.Number)
	if got := actions(d); got != "created,assigned,closed" || !strings.Contains(d.Transcript, "Vera: My order?") {
		t.Errorf("history %s, transcript %q", got, d.Transcript)
	}
}

// TestUnclaimedRequestWarnsManagers: past the channel's manager delay a
// request nobody claimed is a warning to the Present managers.
func TestUnclaimedRequestWarnsManagers(t *testing.T) {
	t.Parallel()
	ch := requestChannel("en")
	ch.ManagerWarnAfter = 300 * time.Millisecond
	h := relaytest.Start(t, relaytest.Options{Channel: ch, Closed: true})
	cecilia, _ := h.Agent("cecilia", nil)
	anna, _ := h.Agent("anna", nil)
	n := offlineMessage(t, h, "Walt", "walt@example.com", "Anyone there?")
	claimed := offlineMessage(t, h, "Vera", "vera@example.com", "Hello")
	anna.OK(protocol.CmdRequestClaim, protocol.RequestRef{Number: claimed}, nil)
	ev, _ := requestEvent(t, cecilia, 0, func(e protocol.RequestEvent) bool { return e.Warning != "" })
	if ev.Request.Number != n || ev.Warning != "manager" || ev.Waited < 0 {
		t.Errorf("warning = %+v", ev)
	}
	time.Sleep(300 * time.Millisecond)
	for _, f := range anna.Events() {
		if f.Ev == protocol.EvRequest && strings.Contains(string(f.Data), `"warning"`) {
			t.Errorf("an agent without manage was warned: %s", f.Data)
		}
	}
	warnings := 0
	for _, f := range cecilia.Events() {
		if f.Ev == protocol.EvRequest && strings.Contains(string(f.Data), `"warning"`) {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings, want 1 (the claimed request is not one)", warnings)
	}
}

// TestOpenRequestsInMetricsAndDashboard: /metrics and the dashboard count
// the open requests per channel.
func TestOpenRequestsInMetricsAndDashboard(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Closed: true})
	cecilia, _ := h.Agent("cecilia", nil)
	offlineMessage(t, h, "Walt", "walt@example.com", "One")
	n := offlineMessage(t, h, "Vera", "vera@example.com", "Two")
	cecilia.OK(protocol.CmdRequestClose, protocol.RequestRef{Number: n}, nil)
	resp, err := http.Get(h.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `switchboard_requests_open{channel="support"} 1`+"\n") {
		t.Errorf("metrics lack the open request count:\n%s", b)
	}
	var db protocol.Dashboard
	cecilia.OK(protocol.CmdDashboardWatch, nil, &db)
	if db.Overall.OpenRequests != 1 || len(db.Channels) != 1 || db.Channels[0].OpenRequests != 1 {
		t.Errorf("dashboard counts: overall %d, channels %+v", db.Overall.OpenRequests, db.Channels)
	}
}

// hookReceiver is a help desk's endpoint: it checks signatures and keeps
// each event once by its id.
type hookReceiver struct {
	secret string
	mu     sync.Mutex
	fail   int // answer 503 to this many calls
	calls  int
	bad    int
	seen   map[string]relay.HookEvent
	order  []string
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail > 0 {
		r.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	sig := req.Header.Get(relay.HeaderHookSignature)
	if !hmac.Equal([]byte(sig), []byte(relay.SignHook(r.secret, body))) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev relay.HookEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(relay.HeaderHookID) || ev.Type != req.Header.Get(relay.HeaderHookEvent) {
		r.bad++
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if _, dup := r.seen[ev.ID]; !dup {
		r.seen[ev.ID] = ev
		r.order = append(r.order, ev.Type)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *hookReceiver) types() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.order, ",")
}

// TestWebhookGetsSignedEventsInOrder: every new request and change is
// POSTed, signed, in order, and retried while the receiver is down.
func TestWebhookGetsSignedEventsInOrder(t *testing.T) {
	t.Parallel()
	rcv := &hookReceiver{secret: "s3cret", fail: 2, seen: map[string]relay.HookEvent{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	h := relaytest.Start(t, relaytest.Options{Closed: true, Config: func(c *relay.Config) {
		fastOutbox(c)
		c.WebhookURL, c.WebhookSecret = srv.URL, "s3cret"
	}})
	anna, _ := h.Agent("anna", nil)
	n := offlineMessage(t, h, "Åsa", "asa@example.com", "Hej?")
	anna.OK(protocol.CmdRequestClaim, protocol.RequestRef{Number: n}, nil)
	anna.OK(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: n, Text: "Hej!", Manual: true}, nil)
	anna.OK(protocol.CmdRequestClose, protocol.RequestRef{Number: n}, nil)
	want := "request.created,request.claimed,request.answered,request.closed"
	deadline := time.Now().Add(10 * time.Second)
	for rcv.types() != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := rcv.types(); got != want {
		t.Fatalf("received %s, want %s", got, want)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.bad != 0 || rcv.calls != 6 {
		t.Errorf("%d bad calls, %d calls (want 0 bad, 2 refused + 4)", rcv.bad, rcv.calls)
	}
	for _, ev := range rcv.seen {
		if ev.Request.Number != n || ev.Request.Visitor.Name != "Åsa" {
			t.Errorf("event %+v", ev)
		}
		switch ev.Type {
		case "request.created":
			if ev.Request.State != "open" || ev.Request.Assignee != nil || ev.Step.By != nil {
				t.Errorf("created: %+v", ev)
			}
		case "request.answered":
			if ev.Request.State != "answered" || ev.Step.Text != "Hej!" || ev.Step.By == nil || ev.Step.By.Login != "anna" ||
				ev.Request.Assignee == nil || ev.Request.Assignee.Login != "anna" {
				t.Errorf("answered: %+v", ev)
			}
		}
	}
}
