package app

import (
	"encoding/json"
	"errors"
	"time"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

// Events emitted to the UI (window.runtime.EventsOn).
const (
	EventState  = "relay:state"  // StatePayload
	EventRelay  = "relay:event"  // EventPayload
	EventOutbox = "relay:outbox" // OutboxPayload
	EventOpen   = "app:open"     // OpenPayload: select this chat
	EventNotice = "app:notice"   // NoticePayload
	// EventConfirmQuit: Quit was chosen outside the window (the tray) while
	// the agent answers chats; the UI asks, and calls Quit to go on.
	EventConfirmQuit = "app:confirm-quit" // ConfirmQuitPayload
)

// ConfirmQuitPayload says what quitting now would leave behind.
type ConfirmQuitPayload struct {
	Chats int `json:"chats"`   // active chats the agent owns
	Grace int `json:"grace_s"` // they stay the agent's this long, then return to the queue
}

// StatePayload is the connection state.
type StatePayload struct {
	State       string                 `json:"state"` // offline, connecting, connected, reconnecting, auth_failed
	Attempt     int                    `json:"attempt"`
	NextAttempt *string                `json:"nextAttempt"` // RFC 3339, while reconnecting
	Error       string                 `json:"error"`
	Welcome     *protocol.AgentWelcome `json:"welcome"` // connected only
	// Reason names why the relay ended the sign-in (auth_failed only), so
	// the UI can say it in its language: revoked (password changed,
	// account disabled, the handing-over window logged out) or logged_out.
	Reason string `json:"reason,omitempty"`
}

// Reasons in StatePayload.Reason.
const (
	ReasonRevoked   = "revoked"
	ReasonLoggedOut = "logged_out"
)

func statePayload(s client.StateChange) StatePayload {
	p := StatePayload{State: string(s.State), Attempt: s.Attempt, Welcome: welcomeForUI(s.Welcome)}
	if !s.NextAttempt.IsZero() {
		at := s.NextAttempt.UTC().Format(time.RFC3339Nano)
		p.NextAttempt = &at
	}
	if s.Err != nil {
		p.Error = s.Err.Error()
	}
	switch {
	case errors.Is(s.Err, client.ErrRevoked):
		p.Reason = ReasonRevoked
	case errors.Is(s.Err, client.ErrLoggedOut):
		p.Reason = ReasonLoggedOut
	}
	return p
}

// welcomeForUI copies a welcome without the agent's token: the UI never
// talks to the relay itself, so the token stays on the Go side.
func welcomeForUI(w *protocol.AgentWelcome) *protocol.AgentWelcome {
	if w == nil {
		return nil
	}
	c := *w
	c.Token = ""
	return &c
}

// EventPayload is a relay event frame; Data is passed through untouched.
type EventPayload struct {
	Ev      string          `json:"ev"`
	Session string          `json:"session"`
	Seq     uint64          `json:"seq"`
	Data    json.RawMessage `json:"data"`
}

// OutboxPayload is one change of a typed message.
type OutboxPayload struct {
	Session   string          `json:"session"`
	ClientID  string          `json:"clientId"`
	Text      string          `json:"text"`
	File      string          `json:"file,omitempty"` // an attachment's id
	Status    string          `json:"status"`         // pending, acked, failed
	Seq       uint64          `json:"seq"`
	Duplicate bool            `json:"duplicate"`
	Error     *protocol.Error `json:"error"` // failed: {code, message}
}

func outboxPayload(o client.Outgoing) OutboxPayload {
	return OutboxPayload{Session: o.Session, ClientID: o.ClientID, Text: o.Text, File: o.File, Status: string(o.State),
		Seq: o.Seq, Duplicate: o.Duplicate, Error: o.Err}
}

// OpenPayload asks the UI to select a chat.
type OpenPayload struct {
	Session string `json:"session"`
}

// NoticePayload is a message for the agent.
type NoticePayload struct {
	Kind string `json:"kind"` // info, warning, error
	Text string `json:"text"` // English: the UI says Code in its language where it knows it
	Code string `json:"code,omitempty"`
}

// ConfigData is the data of Desk.Config.
type ConfigData struct {
	Server       string `json:"server"`
	ServerLocked bool   `json:"serverLocked"`
	Login        string `json:"login"`
	Remember     bool   `json:"remember"`
	Language     string `json:"language"`
	Muted        bool   `json:"muted"`
	Window       string `json:"window"`
	HasToken     bool   `json:"hasToken"`
	// Handover: a dashboard window was handed a sign-in by the desk window
	// that opened it; Resume uses it.
	Handover bool `json:"handover"`
}

// LoginRequest is what the login form sends.
type LoginRequest struct {
	Server   string `json:"server"`
	Login    string `json:"login"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
}

// ClientIDData is the data of Desk.Send.
type ClientIDData struct {
	ClientID string `json:"clientId"`
}
