package app

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"path/filepath"
	"strings"

	"switchboard/app/config"
	"switchboard/app/internal/sessionbus"
)

// settingFlags are the command-line settings, --hidden included.
func settingFlags(o Options) map[string]string {
	flags := maps.Clone(o.Settings)
	if o.Hidden {
		if flags == nil {
			flags = map[string]string{}
		}
		flags[config.KeyStartHidden] = "true"
	}
	return flags
}

// Single-instance IDs: the main window and the dashboard are one instance
// each, so the dashboard can run beside the desk.
const (
	InstanceMain      = "com.switchboard.desk"
	InstanceDashboard = "com.switchboard.dashboard"
)

// uniqueID is the single-instance lock of a window in one profile. A profile
// is a user config directory (os.UserConfigDir()/Switchboard, so on Linux it
// follows XDG_CONFIG_HOME): a second launch with the same directory hands
// over to the first, while two directories are two independent apps, e.g.
// two agents on one machine (or one test desktop), each with their own
// settings, login and remembered token. The dashboard a desk spawns inherits
// the environment, so it lands in the same profile.
func uniqueID(w Window, profileDir string) string {
	base := InstanceMain
	if w == WindowDashboard {
		base = InstanceDashboard
	}
	return base + "." + profileKey(profileDir)
}

// profileKey names a config directory with letters and digits only, as
// D-Bus names (Linux), mutex names (Windows) and socket names (macOS) all
// accept, starting with a letter.
func profileKey(dir string) string {
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	sum := sha256.Sum256([]byte(filepath.Clean(dir)))
	return "p" + hex.EncodeToString(sum[:8])
}

// instanceRunning reports whether another process holds the single-instance
// lock of id. On Linux Wails owns a D-Bus name per id (the same name built
// the same way as in Wails' linux/single_instance.go); elsewhere this says
// false and Wails alone decides.
func instanceRunning(id string) bool {
	if !sessionbus.Needed() {
		return false
	}
	owned, err := sessionbus.HasOwner(wailsInstanceName(id))
	return err == nil && owned
}

func wailsInstanceName(id string) string {
	id = strings.ReplaceAll(strings.ReplaceAll(id, "-", "_"), ".", "_")
	return "org.wails_app_" + id + ".SingleInstance"
}
