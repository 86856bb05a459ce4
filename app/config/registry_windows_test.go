//go:build windows

package config

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/windows/registry"
)

func TestReadRegistry(t *testing.T) {
	path := `Software\SwitchboardTest` + strconv.Itoa(os.Getpid())
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close(); registry.DeleteKey(registry.CURRENT_USER, path) })
	if err := k.SetStringValue("Server", " wss://chat.example.com "); err != nil {
		t.Fatal(err)
	}
	if err := k.SetStringsValue("Locked", []string{"server", "language"}); err != nil {
		t.Fatal(err)
	}
	vals, err := readRegistry(registry.CURRENT_USER, path)
	if err != nil {
		t.Fatal(err)
	}
	if vals["Server"] != "wss://chat.example.com" || vals["Locked"] != "server,language" {
		t.Fatalf("values = %q", vals)
	}
	if _, ok := vals["Language"]; ok {
		t.Fatalf("a missing Language read as %q", vals["Language"])
	}
	if vals, err := readRegistry(registry.CURRENT_USER, path+"Missing"); vals != nil || err != nil {
		t.Fatalf("missing key: %q, %v", vals, err)
	}
}

// dist-test runs this under wine after `msiexec /i ... SERVER=... LOCK=1`:
// the app's settings come from what the MSI wrote to the registry.
func TestInstalledMachineSettings(t *testing.T) {
	want := os.Getenv("SWITCHBOARD_TEST_MACHINE_SERVER")
	if want == "" {
		t.Skip("SWITCHBOARD_TEST_MACHINE_SERVER not set (dist-test sets it after installing the MSI)")
	}
	t.Setenv("SWITCHBOARD_SERVER", "")
	c, err := Load(Options{UserDir: t.TempDir(), MachineDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Settings(); s.Server != want || !c.Locked(KeyServer) {
		t.Fatalf("server = %q locked %v, want %q locked", s.Server, c.Locked(KeyServer), want)
	}
}
