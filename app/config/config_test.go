package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirs returns an empty user and machine directory.
func dirs(t *testing.T) (user, machine string) {
	root := t.TempDir()
	return filepath.Join(root, "user"), filepath.Join(root, "machine")
}

// Each layer beats the ones below it: defaults < machine < user < env < flag.
// Env tests cannot run in parallel (t.Setenv).
func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		machine, user, env, flg string
		want                    string
	}{
		{"default", "", "", "", "", ""},
		{"machine", "m", "", "", "", "wss://m"},
		{"user over machine", "m", "u", "", "", "wss://u"},
		{"env over user", "m", "u", "e", "", "wss://e"},
		{"flag over env", "m", "u", "e", "f", "wss://f"},
		{"flag alone", "", "", "", "f", "wss://f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, machine := dirs(t)
			if tc.machine != "" {
				write(t, machine, MachineFile, "server: wss://"+tc.machine+"\nlanguage: sv\n")
			}
			if tc.user != "" {
				write(t, user, UserFile, "server: wss://"+tc.user+"\n")
			}
			t.Setenv("SWITCHBOARD_SERVER", "")
			if tc.env != "" {
				t.Setenv("SWITCHBOARD_SERVER", "wss://"+tc.env)
			}
			var flags map[string]string
			if tc.flg != "" {
				flags = map[string]string{KeyServer: "wss://" + tc.flg}
			}
			c, err := Load(Options{UserDir: user, MachineDir: machine, Flags: flags})
			if err != nil {
				t.Fatal(err)
			}
			s := c.Settings()
			if s.Server != tc.want {
				t.Fatalf("server = %q, want %q", s.Server, tc.want)
			}
			// Keys not overridden keep the lower layer's value.
			if tc.machine != "" && s.Language != "sv" {
				t.Fatalf("language = %q, want the machine's sv", s.Language)
			}
			if c.Locked(KeyServer) {
				t.Fatal("server locked without a locked list")
			}
		})
	}
}

func TestDefaultsAndBadValues(t *testing.T) {
	t.Setenv("SWITCHBOARD_LANGUAGE", "klingon")
	t.Setenv("SWITCHBOARD_MUTED", "true")
	user, machine := dirs(t)
	c, err := Load(Options{UserDir: user, MachineDir: machine, Flags: map[string]string{KeyStartHidden: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings()
	if s.Language != "auto" || !s.Muted || !s.StartHidden || s.Remember {
		t.Fatalf("settings = %+v", s)
	}
}

func TestMachineDirFromEnv(t *testing.T) {
	user, machine := dirs(t)
	write(t, machine, MachineFile, "server: wss://corp\n")
	t.Setenv(EnvMachineDir, machine)
	t.Setenv("SWITCHBOARD_SERVER", "")
	c, err := Load(Options{UserDir: user})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Settings().Server; got != "wss://corp" {
		t.Fatalf("server = %q", got)
	}
}

// A locked key keeps the machine value over user file, env and flag, and
// Set refuses it; other keys stay free.
func TestLocked(t *testing.T) {
	user, machine := dirs(t)
	write(t, machine, MachineFile, "server: wss://corp.example\nmuted: true\nlocked: [server, muted, nonsense]\n")
	write(t, user, UserFile, "server: wss://mine\nmuted: false\nlanguage: en\n")
	t.Setenv("SWITCHBOARD_SERVER", "wss://env")
	t.Setenv("SWITCHBOARD_MUTED", "false")
	c, err := Load(Options{UserDir: user, MachineDir: machine, Flags: map[string]string{KeyServer: "wss://flag"}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings()
	if s.Server != "wss://corp.example" || !s.Muted || s.Language != "en" {
		t.Fatalf("settings = %+v", s)
	}
	if !c.Locked(KeyServer) || !c.Locked(KeyMuted) || c.Locked(KeyLanguage) {
		t.Fatal("locked set wrong")
	}
	before, _ := os.ReadFile(filepath.Join(user, UserFile))
	if err := c.Set(KeyServer, "wss://other"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Set(server) = %v, want ErrLocked", err)
	}
	if err := c.Set(KeyMuted, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("Set(muted) = %v, want ErrLocked", err)
	}
	after, _ := os.ReadFile(filepath.Join(user, UserFile))
	if string(before) != string(after) {
		t.Fatalf("a refused Set rewrote the user file:\n%s", after)
	}
	if err := c.Set(KeyLanguage, "sv"); err != nil {
		t.Fatal(err)
	}
	if c.Settings().Language != "sv" || c.Settings().Server != "wss://corp.example" {
		t.Fatalf("after Set: %+v", c.Settings())
	}
}

// An unlocked locked-list entry of a missing machine value locks the default.
func TestLockedWithoutValueLocksDefault(t *testing.T) {
	user, machine := dirs(t)
	write(t, machine, MachineFile, "locked: [remember]\n")
	write(t, user, UserFile, "remember: true\n")
	c, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings().Remember {
		t.Fatal("remember should stay at its default when locked")
	}
}

// Set writes only the user's keys to the user's file and applies at once.
func TestSetWritesUserFile(t *testing.T) {
	user, machine := dirs(t)
	write(t, machine, MachineFile, "server: wss://corp\n")
	t.Setenv("SWITCHBOARD_MUTED", "")
	c, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(KeyMuted, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(KeyLogin, "anna"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("password", "x"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Set(password) = %v", err)
	}
	b, err := os.ReadFile(filepath.Join(user, UserFile))
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if !strings.Contains(body, "muted: true") || !strings.Contains(body, "login: anna") || strings.Contains(body, "corp") || strings.Contains(body, "language") {
		t.Fatalf("user file:\n%s", body)
	}
	// A new load sees the written values.
	c2, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.Settings(); !s.Muted || s.Login != "anna" || s.Server != "wss://corp" {
		t.Fatalf("reloaded: %+v", s)
	}
}

func TestBrokenFileIsAnError(t *testing.T) {
	user, machine := dirs(t)
	write(t, user, UserFile, "server: [unclosed\n")
	if _, err := Load(Options{UserDir: user, MachineDir: machine}); err == nil {
		t.Fatal("want an error for a broken user file")
	}
}

func TestDefaultMachineDir(t *testing.T) {
	if d := DefaultMachineDir(); d == "" || !filepath.IsAbs(d) && !strings.Contains(d, `\`) {
		t.Fatalf("DefaultMachineDir() = %q", d)
	}
}

// The registry values the MSI writes on Windows (HKLM\Software\Switchboard)
// are machine settings over app.yaml, and Locked locks them.
func TestMachineRegistry(t *testing.T) {
	reg := map[string]string{}
	saved := readMachineRegistry
	readMachineRegistry = func() (map[string]string, error) { return reg, nil }
	t.Cleanup(func() { readMachineRegistry = saved })

	user, machine := dirs(t)
	write(t, machine, MachineFile, "server: wss://file\nlanguage: sv\n")
	reg["Server"] = "wss://registry"
	reg["Locked"] = "server, language"
	write(t, user, UserFile, "server: wss://user\nlanguage: en\nmuted: true\n")
	t.Setenv("SWITCHBOARD_SERVER", "wss://env")
	c, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings()
	if s.Server != "wss://registry" || s.Language != "sv" || !s.Muted {
		t.Fatalf("settings = %+v, want the registry's server, the file's locked language, the user's muted", s)
	}
	if !c.Locked(KeyServer) || !c.Locked(KeyLanguage) || c.Locked(KeyMuted) {
		t.Fatal("Locked should lock server and language only")
	}
	if err := c.Set(KeyServer, "wss://other"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Set(server) = %v, want ErrLocked", err)
	}

	// Without app.yaml, and without Locked: a default the user may change.
	user2, machine2 := dirs(t)
	delete(reg, "Locked")
	t.Setenv("SWITCHBOARD_SERVER", "")
	c, err = Load(Options{UserDir: user2, MachineDir: machine2})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Settings(); s.Server != "wss://registry" || c.Locked(KeyServer) {
		t.Fatalf("server = %q locked %v, want wss://registry unlocked", s.Server, c.Locked(KeyServer))
	}
	if err := c.Set(KeyServer, "wss://mine"); err != nil {
		t.Fatal(err)
	}
	if s := c.Settings(); s.Server != "wss://mine" {
		t.Fatalf("server = %q after Set", s.Server)
	}
}

// Refresh adopts what another process of the profile wrote, once; a locked
// key keeps the machine's value whatever the user's file says.
func TestRefresh(t *testing.T) {
	user, machine := dirs(t)
	write(t, machine, MachineFile, "muted: true\nlocked: [muted]\n")
	write(t, user, UserFile, "language: en\n")
	c, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	if v, changed := c.Refresh(KeyLanguage); changed || v != "en" {
		t.Fatalf("nothing written: %q %v", v, changed)
	}
	other, err := Load(Options{UserDir: user, MachineDir: machine})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Set(KeyLanguage, "sv"); err != nil {
		t.Fatal(err)
	}
	if v, changed := c.Refresh(KeyLanguage); !changed || v != "sv" || c.Settings().Language != "sv" {
		t.Fatalf("after the other window chose sv: %q %v, settings %+v", v, changed, c.Settings())
	}
	if _, changed := c.Refresh(KeyLanguage); changed {
		t.Fatal("the same value twice is a change")
	}
	write(t, user, UserFile, "language: sv\nmuted: false\n")
	if v, changed := c.Refresh(KeyMuted); changed || v != "true" || !c.Settings().Muted {
		t.Fatalf("a locked key moved: %q %v", v, changed)
	}
}
