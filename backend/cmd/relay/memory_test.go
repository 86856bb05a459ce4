package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The memory settings reach the relay's configuration and the store's page
// caches, from the file, the environment or flags; nonsense is refused.
func TestMemorySettings(t *testing.T) {
	load := func(t *testing.T, args ...string) (Settings, error) {
		t.Helper()
		v := newViper()
		fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
		addFlags(fl)
		if err := fl.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := bindFlags(v, fl); err != nil {
			t.Fatal(err)
		}
		return loadSettings(v, "")
	}
	t.Chdir(t.TempDir()) // no relay.yaml around
	st, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.relayConfig("t"); c.MemoryLimit != 0 || c.GCPercent != 50 || c.GCFloor != 32<<20 || c.StoreOptions().CacheKiB != 4096 || c.StoreOptions().ReaderCacheKiB != 1024 {
		t.Fatalf("defaults: limit %d, store %+v", c.MemoryLimit, c.StoreOptions())
	}
	t.Setenv("SWITCHBOARD_MEMORY_READER_CACHE_KIB", "512")
	st, err = load(t, "--memory-limit-mib", "64", "--memory-gc-percent", "50", "--memory-gc-floor-mib", "0", "--memory-cache-kib", "2048")
	if err != nil {
		t.Fatal(err)
	}
	c := st.relayConfig("t")
	if c.MemoryLimit != 64<<20 || c.GCPercent != 50 || c.GCFloor != 0 || c.StoreOptions().CacheKiB != 2048 || c.StoreOptions().ReaderCacheKiB != 512 {
		t.Fatalf("set: limit %d, store %+v", c.MemoryLimit, c.StoreOptions())
	}
	for _, bad := range [][]string{{"--memory-limit-mib", "-1"}, {"--memory-gc-percent", "-5"}, {"--memory-gc-floor-mib", "-1"}, {"--memory-cache-kib", "10"}, {"--memory-reader-cache-kib", "0"}} {
		if _, err := load(t, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// check-config names them.
	out, err := run(t, "", "check-config", "--database", filepath.Join(t.TempDir(), "x.db"), "--memory-limit-mib", "80")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"memory.limit_mib", "80", "memory.cache_kib", "memory.reader_cache_kib"} {
		if !strings.Contains(out, want) {
			t.Fatalf("check-config lacks %q:\n%s", want, out)
		}
	}
}
