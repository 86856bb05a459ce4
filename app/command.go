package app

import (
	"bytes"
	"encoding/json"
	"reflect"

	"switchboard/backend/protocol"
)

// The UI reaches every plain relay command through one bound method,
// Desk.Command(name, data), checked against backend/protocol's registry:
// the payload is decoded into the command's declared type, sent through the
// relay client, and the reply is taken into the app's view by its declared
// type. Commands with more to them than a round trip keep their own bound
// methods, named in appOwned.

// appOwned are the agent commands the UI may not send by name, and what
// it uses instead: they hold a secret, or are part of the connection's or
// the outbox's life the app runs itself.
var appOwned = map[string]string{
	protocol.CmdHello:            "the app says hello itself (Login, Resume)",
	protocol.CmdLogout:           "use Logout, which also forgets the remembered sign-in",
	protocol.CmdTokenHandover:    "use OpenDashboard: the handed-over token never reaches the window",
	protocol.CmdMessageSend:      "use Send, which delivers through the outbox across reconnects",
	protocol.CmdDashboardWatch:   "the dashboard window watches by itself on every connection",
	protocol.CmdDashboardUnwatch: "the dashboard window watches by itself on every connection",
}

// boundCommands are the registry's commands an agent may send by name.
var boundCommands = func() map[string]protocol.CommandSpec {
	m := map[string]protocol.CommandSpec{}
	for _, c := range protocol.Commands {
		if (c.Role == protocol.RoleAgent || c.Role == "") && appOwned[c.Name] == "" {
			m[c.Name] = c
		}
	}
	return m
}()

// boundCommand finds a command the UI may send, or says why not.
func boundCommand(name string) (protocol.CommandSpec, *protocol.Error) {
	if spec, ok := boundCommands[name]; ok {
		return spec, nil
	}
	if why := appOwned[name]; why != "" {
		return protocol.CommandSpec{}, protocol.Errorf(protocol.CodeForbidden, "%s is not sent by name: %s", name, why)
	}
	if protocol.Known(name) {
		return protocol.CommandSpec{}, protocol.Errorf(protocol.CodeForbidden, "%s is a visitor's command; the desk speaks as an agent", name)
	}
	return protocol.CommandSpec{}, protocol.Errorf(protocol.CodeUnknownCommand, "unknown command %q", name)
}

// decodePayload checks data against the command's payload type, strictly:
// a misspelt field is an error here rather than a field the relay ignores.
// It answers nil for a command without data.
func decodePayload(spec protocol.CommandSpec, data json.RawMessage) (any, *protocol.Error) {
	empty := len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null"
	if spec.Data == nil {
		if empty || string(bytes.TrimSpace(data)) == "{}" {
			return nil, nil
		}
		return nil, protocol.Errorf(protocol.CodeMalformed, "%s takes no data", spec.Name)
	}
	ptr := reflect.New(reflect.TypeOf(spec.Data))
	if !empty {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(ptr.Interface()); err != nil {
			return nil, protocol.Errorf(protocol.CodeMalformed, "%s: the data is not a %s: %v", spec.Name, ptr.Elem().Type().Name(), err)
		}
		if dec.More() {
			return nil, protocol.Errorf(protocol.CodeMalformed, "%s: more than one value in the data", spec.Name)
		}
	}
	return checkPayload(ptr.Interface())
}

// checkPayload applies the app's own checks before a payload leaves: a
// list of quick replies the relay would refuse (or one too large for a
// frame) never leaves the app.
func checkPayload(p any) (any, *protocol.Error) {
	if q, ok := p.(*protocol.QuickReplies); ok {
		checked, perr := protocol.CheckQuickReplies(q.Replies)
		if perr != nil {
			return nil, perr
		}
		return protocol.QuickReplies{Replies: checked}, nil
	}
	return p, nil
}

// relayCommand runs one agent command from the UI: data is its payload as JSON;
// the Result carries the relay's reply data as-is.
func (c *core) relayCommand(name string, data json.RawMessage) Result {
	spec, perr := boundCommand(name)
	if perr != nil {
		return Result{Error: perr}
	}
	payload, perr := decodePayload(spec, data)
	if perr != nil {
		return Result{Error: perr}
	}
	res, raw := c.do(spec.Name, payload)
	if raw != nil {
		c.takeReply(spec.Reply, raw)
	}
	return res
}

// relayCommandOf runs one agent command for the app itself (the tray, a
// notification's button), by the same path as the UI's.
func (c *core) relayCommandOf(name string, payload any) Result {
	data, err := json.Marshal(payload)
	if err != nil {
		return failResult(protocol.CodeInternal, "%s: %v", name, err)
	}
	return c.relayCommand(name, data)
}

// takeReply takes a reply into the view at once, by its declared type: the
// reply may come before the event that says the same, and the tray, the
// notifications and Send's listen-only check read the view.
func (c *core) takeReply(reply any, raw json.RawMessage) {
	c.mu.Lock()
	changed := false
	switch reply.(type) {
	case protocol.SessionInfo:
		var s protocol.SessionInfo
		if json.Unmarshal(raw, &s) == nil && s.ID != "" {
			c.view.session(s)
			changed = true
		}
	case protocol.TransferInfo:
		var t protocol.TransferInfo
		if json.Unmarshal(raw, &t) == nil && t.ID != 0 {
			c.view.transfer(t)
			changed = true
		}
	case protocol.AgentInfo: // status.set: the agent as others now see them
		var a protocol.AgentInfo
		if json.Unmarshal(raw, &a) == nil && a.Status != "" && a.ID == c.view.me.ID {
			c.view.status = a.Status
			changed = true
		}
	case protocol.RequestInfo:
		var r protocol.RequestInfo
		if json.Unmarshal(raw, &r) == nil && r.Number != 0 {
			changed = c.view.request(r)
		}
	}
	c.mu.Unlock()
	if changed {
		c.pushTray()
	}
}
