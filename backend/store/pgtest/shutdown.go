package pgtest

import "os"

// Shutdown stops the process's cluster, if one was started, and removes
// its directory: for a TestMain that has more to do than Main.
func Shutdown() {
	mu.Lock()
	c := shared
	mu.Unlock()
	if c != nil {
		if c.running {
			c.run("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w")
		}
		os.RemoveAll(c.dir)
	}
}
