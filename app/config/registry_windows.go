//go:build windows

package config

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"
)

func init() {
	readMachineRegistry = func() (map[string]string, error) {
		return readRegistry(registry.LOCAL_MACHINE, RegistryKey)
	}
}

// readRegistry reads the settings under root\path (HKLM\Software\Switchboard,
// in the 64-bit view, where the MSI writes). A missing key or value is not an
// error.
func readRegistry(root registry.Key, path string) (map[string]string, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf(`config: registry %s: %w`, path, err)
	}
	defer k.Close()
	vals := map[string]string{}
	for _, name := range registryNames() {
		if s, _, err := k.GetStringValue(name); err == nil {
			vals[name] = strings.TrimSpace(s)
		} else if ss, _, err := k.GetStringsValue(name); err == nil { // REG_MULTI_SZ
			vals[name] = strings.Join(ss, ",")
		}
	}
	return vals, nil
}
