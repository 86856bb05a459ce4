package app

import (
	"time"

	"switchboard/app/config"
)

// EventLanguage tells the UI the language setting changed in another window
// of this profile: LanguagePayload.
const EventLanguage = "app:language"

// LanguagePayload is the new language setting: auto, en or sv.
type LanguagePayload struct {
	Language string `json:"language"`
}

// languagePoll is how often a dashboard window rereads the setting: the
// file is a few lines, and a change should show at once.
const languagePoll = 500 * time.Millisecond

// followLanguage keeps a dashboard window in the language its desk window
// sets. Both are processes of one profile: the desk writes the setting to
// the profile's file, the dashboard rereads it until stop is closed.
func (c *core) followLanguage(stop <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.refreshLanguage()
		}
	}
}

// refreshLanguage adopts a language setting another window saved and tells
// the UI; it reports whether there was one.
func (c *core) refreshLanguage() bool {
	lang, changed := c.cfg.Refresh(config.KeyLanguage)
	if !changed {
		return false
	}
	c.mu.Lock()
	c.lang = notifyLang(lang)
	title := windowTitle(c.window, c.lang)
	c.mu.Unlock()
	c.emit.Emit(EventLanguage, LanguagePayload{Language: lang})
	if c.shell != nil {
		c.shell.SetTitle(title)
	}
	return true
}
