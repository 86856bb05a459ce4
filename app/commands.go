package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"switchboard/app/config"
	"switchboard/app/notify"
	"switchboard/app/tray"
	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

// do runs one relay command and returns its reply data as-is.
func (c *core) do(cmd string, data any) (Result, json.RawMessage) {
	cl := c.current()
	if cl == nil {
		return failResult(CodeOffline, "not signed in"), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var raw json.RawMessage
	if err := cl.Do(ctx, cmd, data, &raw); err != nil {
		return errResult(err), nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return okResult(nil), nil
	}
	return okResult(raw), raw
}

// send queues a message in the relay client's outbox: it is delivered once,
// across reconnects. A chat the agent only listens to is refused here, so
// no message sits in the outbox only to fail.
func (c *core) send(session, text string) Result {
	return c.sendFile(session, text, "")
}

// sendFile is send with an attachment already stored on the relay (file is
// its id): a failed line that carries a file is sent again this way, without
// uploading the file again. Text may then be empty.
func (c *core) sendFile(session, text, file string) Result {
	if strings.TrimSpace(text) == "" && file == "" {
		return failResult(protocol.CodeBadRequest, "the message is empty")
	}
	cl, perr := c.writer(session)
	if perr != nil {
		return Result{Error: perr}
	}
	return okResult(ClientIDData{ClientID: cl.SendFile(session, text, file)})
}

// writer returns the relay client if the agent may write in session.
func (c *core) writer(session string) (*client.Client, *protocol.Error) {
	if session == "" {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "session is required")
	}
	c.mu.Lock()
	cl, readOnly := c.client, c.view.readOnly(session)
	c.mu.Unlock()
	if cl == nil {
		return nil, protocol.Errorf(CodeOffline, "not signed in")
	}
	if readOnly {
		return nil, protocol.Errorf(protocol.CodeListenOnly, "you are listening to this chat and cannot write")
	}
	return cl, nil
}

func (c *core) setMuted(muted bool) Result {
	if err := c.cfg.Set(config.KeyMuted, muted); err != nil {
		return settingErr(err)
	}
	c.mu.Lock()
	c.muted = muted
	c.mu.Unlock()
	return okResult(nil)
}

func (c *core) setLanguage(lang string) Result {
	if !slices.Contains(config.Languages, lang) {
		return failResult(protocol.CodeBadRequest, "language must be one of %s", strings.Join(config.Languages, ", "))
	}
	if err := c.cfg.Set(config.KeyLanguage, lang); err != nil {
		return settingErr(err)
	}
	c.mu.Lock()
	c.lang = notifyLang(lang)
	c.mu.Unlock()
	c.pushTray() // the tray speaks the new language
	return okResult(nil)
}

func settingErr(err error) Result {
	if errors.Is(err, config.ErrLocked) {
		return failResult(CodeLocked, "this setting is locked by your administrator")
	}
	return failResult(protocol.CodeInternal, "could not save the setting: %v", err)
}

// quit closes the connection (without logging out) and ends the app.
func (c *core) quit() Result {
	go func() {
		c.shutdown()
		if c.shell != nil {
			c.shell.Quit()
		}
	}()
	return okResult(nil)
}

// show raises the window and, for a chat, asks the UI to select it.
func (c *core) show(session string) {
	if c.shell != nil {
		c.shell.Show()
	}
	if session != "" {
		c.emit.Emit(EventOpen, OpenPayload{Session: session})
	}
}

// onTrayClick acts on a tray menu item.
func (c *core) onTrayClick(id string) {
	switch id {
	case tray.IDOpen:
		c.show("")
	case tray.IDPresent, tray.IDAway:
		if res := c.relayCommandOf(protocol.CmdStatusSet, protocol.StatusSet{Status: id}); !res.OK {
			c.noticeCode("error", string(res.Error.Code), "Could not change status: "+res.Error.Message)
		}
	case tray.IDDashboard:
		if res := c.openDashboard(); !res.OK {
			c.noticeCode("error", string(res.Error.Code), res.Error.Message)
		}
	case tray.IDQuit:
		c.trayQuit()
	default:
		if tid, ok := tray.ParseTransferID(id); ok {
			c.mu.Lock()
			t := c.view.incoming[tid]
			c.mu.Unlock()
			c.show(t.Session)
		}
	}
}

// trayQuit quits at once, unless the agent answers chats: then the window
// comes up and asks first (saying what becomes of them), and its Quit
// button goes on.
func (c *core) trayQuit() {
	c.mu.Lock()
	chats, grace := c.view.trayState().Chats, c.view.grace
	c.mu.Unlock()
	if chats == 0 {
		c.quit()
		return
	}
	c.show("")
	c.emit.Emit(EventConfirmQuit, ConfirmQuitPayload{Chats: chats, Grace: grace})
}

// onNoteAction acts on a notification's button.
func (c *core) onNoteAction(n notify.Note, action string) {
	switch action {
	case notify.ActionAccept:
		if res := c.relayCommandOf(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: n.Transfer}); !res.OK {
			c.show(n.Session)
			switch res.Error.Code {
			case protocol.CodeInvalidState, protocol.CodeNotFound, protocol.CodeNotParticipant:
				// The transfer ended while its note was up: say what became
				// of it, in the desk's language.
				c.mu.Lock()
				lang := c.lang
				c.mu.Unlock()
				c.notice("error", c.decider.Stale(n.Transfer, lang))
			default: // not connected, say: the desk says that by its code
				c.noticeCode("error", string(res.Error.Code), res.Error.Message)
			}
			return
		}
		c.show(n.Session)
	case notify.ActionOpen, notify.ActionDefault:
		c.show(n.Session)
	}
}
