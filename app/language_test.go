package app

import (
	"path/filepath"
	"testing"
	"time"

	"switchboard/app/config"
)

// TestDashboardFollowsTheDesksLanguage: the desk window saves a language;
// the dashboard window of the same profile (another process, its own
// Config) tells its UI at once, and words its own texts in it.
func TestDashboardFollowsTheDesksLanguage(t *testing.T) {
	t.Parallel()
	user, machine := filepath.Join(t.TempDir(), "user"), filepath.Join(t.TempDir(), "machine")
	load := func() *config.Config {
		cfg, err := config.Load(config.Options{UserDir: user, MachineDir: machine, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	deskCfg := load()
	if err := deskCfg.Set(config.KeyLanguage, "en"); err != nil {
		t.Fatal(err)
	}
	rec, shell := &Recorder{}, &fakeShell{}
	dash := newCore(coreOptions{Emitter: rec, Config: load(), Window: WindowDashboard, Shell: shell, Logger: testLogger()})
	desk := newCore(coreOptions{Emitter: &Recorder{}, Config: deskCfg, Window: WindowMain, Logger: testLogger()})

	stop := make(chan struct{})
	defer close(stop)
	go dash.followLanguage(stop, 10*time.Millisecond)
	if res := desk.setLanguage("sv"); !res.OK {
		t.Fatalf("SetLanguage: %+v", res.Error)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !hasLanguageEvent(rec, "sv") {
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard was not told of sv; events %v", rec.Names())
		}
		time.Sleep(5 * time.Millisecond)
	}
	dash.mu.Lock()
	lang := dash.lang
	dash.mu.Unlock()
	if lang != "sv" {
		t.Errorf("the dashboard's own texts are in %q", lang)
	}
	shell.mu.Lock()
	title := shell.title
	shell.mu.Unlock()
	if title != "Switchboard Översikt" {
		t.Errorf("the dashboard window's title is %q", title)
	}
	// Nothing new: nothing told.
	n := len(rec.Events())
	if dash.refreshLanguage() || len(rec.Events()) != n {
		t.Errorf("told again without a change: %v", rec.Names())
	}
}

func hasLanguageEvent(r *Recorder, lang string) bool {
	for _, e := range r.Events() {
		if e.Name == EventLanguage && len(e.Data) == 1 {
			if p, ok := e.Data[0].(LanguagePayload); ok && p.Language == lang {
				return true
			}
		}
	}
	return false
}
