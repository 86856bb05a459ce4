package app

import (
	"maps"
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

func uniqueID(w Window) string {
	if w == WindowDashboard {
		return InstanceDashboard
	}
	return InstanceMain
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
