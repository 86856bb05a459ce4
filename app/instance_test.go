package app

import (
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"switchboard/app/config"
)

// A D-Bus well-known name: dot-separated elements of [A-Za-z0-9_-] not
// starting with a digit, at most 255 bytes.
var dbusName = regexp.MustCompile(`^[A-Za-z_-][A-Za-z0-9_-]*(\.[A-Za-z_-][A-Za-z0-9_-]*)+$`)

func TestUniqueIDIsPerProfileAndWindow(t *testing.T) {
	t.Parallel()
	a, b := filepath.Join("/home/x/.config-a", "Switchboard"), filepath.Join("/home/x/.config-b", "Switchboard")
	ids := map[string]string{
		"main a": uniqueID(WindowMain, a), "main b": uniqueID(WindowMain, b),
		"dash a": uniqueID(WindowDashboard, a), "dash b": uniqueID(WindowDashboard, b),
	}
	seen := map[string]string{}
	for what, id := range ids {
		if prev, ok := seen[id]; ok {
			t.Errorf("%s and %s share the lock %q", what, prev, id)
		}
		seen[id] = what
		name := wailsInstanceName(id)
		if !dbusName.MatchString(name) || len(name) > 255 {
			t.Errorf("%s: %q is not a valid D-Bus name", what, name)
		}
	}
	if !strings.HasPrefix(ids["main a"], InstanceMain+".") || !strings.HasPrefix(ids["dash a"], InstanceDashboard+".") {
		t.Errorf("ids %v do not extend %s / %s", ids, InstanceMain, InstanceDashboard)
	}
	// The same directory, however spelled, is the same profile.
	if uniqueID(WindowMain, a) != uniqueID(WindowMain, a+"/") || uniqueID(WindowMain, a) != uniqueID(WindowMain, filepath.Join(a, "..", "Switchboard")) {
		t.Error("one directory, two locks")
	}
}

// Two agents on one machine: launched with different XDG_CONFIG_HOME, the
// apps load different user directories and so take different locks; the
// same XDG_CONFIG_HOME is the same app.
func TestProfileFollowsXDGConfigHome(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is how os.UserConfigDir works on Linux")
	}
	profile := func(home string) (dir, id string) {
		t.Setenv("XDG_CONFIG_HOME", home)
		t.Setenv(config.EnvMachineDir, t.TempDir())
		cfg, err := config.Load(config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg.UserDir(), uniqueID(WindowMain, cfg.UserDir())
	}
	homeA, homeB := t.TempDir(), t.TempDir()
	dirA, idA := profile(homeA)
	dirB, idB := profile(homeB)
	if dirA != filepath.Join(homeA, "Switchboard") || dirB != filepath.Join(homeB, "Switchboard") {
		t.Fatalf("user dirs %q, %q do not follow XDG_CONFIG_HOME", dirA, dirB)
	}
	if idA == idB {
		t.Fatalf("two profiles share the lock %q", idA)
	}
	if _, again := profile(homeA); again != idA {
		t.Fatalf("the same profile took %q, then %q", idA, again)
	}
}
