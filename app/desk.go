package app

import "encoding/json"

// Desk is the one service bound to the UI: window.go.app.Desk.<Method>.
// Every method returns a Result and never panics. Wails 2.9.2 on Linux
// aborts the whole process on a nil dereference inside a bound method (a
// recover does not help there), so each method is a nil-checked one-liner
// over the core, where the logic lives and is tested. The relay's commands
// all go through Command (command.go); the other methods are the app's own
// actions: signing in and out, the outbox, settings, windows.
type Desk struct {
	c *core
}

func newDesk(c *core) *Desk { return &Desk{c: c} }

var notReady = failResult(CodeNoDesk, "the desk is still starting")

func (d *Desk) core() *core {
	if d == nil {
		return nil
	}
	return d.c
}

// Version returns the app's version.
func (d *Desk) Version() string { return Version }

// Config returns {server, serverLocked, login, remember, language, muted, window, hasToken}.
func (d *Desk) Config() Result {
	if c := d.core(); c != nil {
		return c.config()
	}
	return notReady
}

// Login signs in with a password; data: the AgentWelcome.
func (d *Desk) Login(req LoginRequest) Result {
	if c := d.core(); c != nil {
		return c.login(req)
	}
	return notReady
}

// Resume signs in with the remembered token; data: the AgentWelcome.
func (d *Desk) Resume() Result {
	if c := d.core(); c != nil {
		return c.resume()
	}
	return notReady
}

// Logout revokes the token on the relay and forgets it here.
func (d *Desk) Logout() Result {
	if c := d.core(); c != nil {
		return c.logout()
	}
	return notReady
}

// Command sends an agent command of the protocol's registry (name:
// "session.pick", ...) with data as its payload; data: the relay's reply.
// An unknown name, a visitor's command, one the app runs itself (see
// appOwned) or data of the wrong shape is refused without reaching the relay.
func (d *Desk) Command(name string, data json.RawMessage) Result {
	if c := d.core(); c != nil {
		return c.relayCommand(name, data)
	}
	return notReady
}

// Send queues a message; data: {clientId}. Its fate comes as relay:outbox.
func (d *Desk) Send(session, text string) Result {
	if c := d.core(); c != nil {
		return c.send(session, text)
	}
	return notReady
}

// SendFile sends a message carrying a file already stored on the relay (by
// its id), through the outbox: Retry of a failed line with a file.
func (d *Desk) SendFile(session, text, file string) Result {
	if c := d.core(); c != nil {
		return c.sendFile(session, text, file)
	}
	return notReady
}

// Upload stores a file on the relay (progress comes as app:upload) and
// queues the message carrying it; data: {clientId, file}. CancelUpload
// stops it, and then nothing is sent.
func (d *Desk) Upload(req UploadRequest) Result {
	if c := d.core(); c != nil {
		return c.upload(req)
	}
	return notReady
}

// UploadPath is Upload of a file dropped from a file manager, by its path.
func (d *Desk) UploadPath(req UploadPathRequest) Result {
	if c := d.core(); c != nil {
		return c.uploadPath(req)
	}
	return notReady
}

// CancelUpload stops the upload the UI named id.
func (d *Desk) CancelUpload(id string) Result {
	if c := d.core(); c != nil {
		return c.cancelUpload(id)
	}
	return notReady
}

// Preview fetches an image of a chat for a thumbnail; data: {url (data:), type}.
func (d *Desk) Preview(session, file string) Result {
	if c := d.core(); c != nil {
		return c.preview(session, file)
	}
	return notReady
}

// SaveFile asks where to save a file of a chat and downloads it there; data: {path}.
func (d *Desk) SaveFile(session, file, name string) Result {
	if c := d.core(); c != nil {
		return c.saveAs(session, file, name)
	}
	return notReady
}

// SetMuted mutes or unmutes waiting-chat and warning notifications.
func (d *Desk) SetMuted(muted bool) Result {
	if c := d.core(); c != nil {
		return c.setMuted(muted)
	}
	return notReady
}

// SetLanguage sets auto, en or sv.
func (d *Desk) SetLanguage(lang string) Result {
	if c := d.core(); c != nil {
		return c.setLanguage(lang)
	}
	return notReady
}

// OpenDashboard opens the dashboard window (needs listen or manage), signed
// in as the same agent without asking again (a one-time token on the new
// process's standard input).
func (d *Desk) OpenDashboard() Result {
	if c := d.core(); c != nil {
		return c.openDashboard()
	}
	return notReady
}

// Quit ends the app (without logging out).
func (d *Desk) Quit() Result {
	if c := d.core(); c != nil {
		return c.quit()
	}
	return notReady
}
