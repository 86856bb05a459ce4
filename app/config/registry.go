package config

import (
	"strings"
)

// On Windows the MSI writes the machine-wide settings to the registry,
// HKLM\Software\Switchboard, because it cannot write app.yaml: string values
// Server and Language, and Locked (the keys users may not change, separated
// by commas or spaces, e.g. "server"). They are read as part of the machine
// layer, over %ProgramData%\Switchboard\app.yaml. Elsewhere there is no such
// layer.
const RegistryKey = `Software\Switchboard`

// registryValues maps the registry value names to their keys.
var registryValues = map[string]string{"Server": KeyServer, "Language": KeyLanguage}

// registryLocked names the value that lists the locked keys.
const registryLocked = "Locked"

// registryNames are the values read: the settings and the locked list.
func registryNames() []string {
	names := []string{registryLocked}
	for name := range registryValues {
		names = append(names, name)
	}
	return names
}

// readMachineRegistry returns the registry's machine settings by registry
// value name (Server, Language, Locked); set on Windows, nil elsewhere.
var readMachineRegistry = func() (map[string]string, error) { return nil, nil }

// machinePolicy turns the registry values into settings and locked keys.
func machinePolicy(vals map[string]string) (settings map[string]any, locked []string) {
	for name, val := range vals {
		if name == registryLocked {
			locked = append(locked, strings.FieldsFunc(val, func(r rune) bool {
				return r == ',' || r == ';' || r == ' ' || r == '\t'
			})...)
			continue
		}
		if k, ok := registryValues[name]; ok && val != "" {
			if settings == nil {
				settings = map[string]any{}
			}
			settings[k] = val
		}
	}
	return settings, locked
}
