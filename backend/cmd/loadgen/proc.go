package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procStat is what /proc says of a process: resident memory and CPU time.
type procStat struct {
	RSS, HWM int64         // bytes: current and peak resident set
	CPU      time.Duration // user + system
	Threads  int
}

// clockTick is USER_HZ: /proc/<pid>/stat counts CPU time in these. It is
// 100 on every Linux architecture Go supports.
const clockTick = 100

func readProc(pid int) (procStat, error) {
	var ps procStat
	p := "self"
	if pid > 0 {
		p = strconv.Itoa(pid)
	}
	status, err := os.ReadFile("/proc/" + p + "/status")
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			ps.RSS = n << 10
		case "VmHWM:":
			ps.HWM = n << 10
		case "Threads:":
			ps.Threads = int(n)
		}
	}
	stat, err := os.ReadFile("/proc/" + p + "/stat")
	if err != nil {
		return ps, err
	}
	// The command name (field 2) may hold spaces; fields count from its ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return ps, fmt.Errorf("/proc/%s/stat: unexpected format", p)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return ps, fmt.Errorf("/proc/%s/stat: too few fields", p)
	}
	// After ')': state(3) ... utime(14) stime(15): indexes 11 and 12 here.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	ps.CPU = time.Duration(ut+st) * time.Second / clockTick
	return ps, nil
}

// cpuShare is the CPU a process used between two readings, in cores (1.0 =
// one core busy the whole time).
func cpuShare(a, b procStat, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(b.CPU-a.CPU) / float64(wall)
}

// hostBusy is the CPU time every process on the machine used so far (from
// /proc/stat), to tell how much of the machine others took during a run.
func hostBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, v := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTick
}

// readProcs adds up the figures of several processes (a cluster's nodes).
func readProcs(pids []int) (procStat, error) {
	var sum procStat
	for _, pid := range pids {
		ps, err := readProc(pid)
		if err != nil {
			return sum, err
		}
		sum.RSS += ps.RSS
		sum.HWM += ps.HWM
		sum.CPU += ps.CPU
		sum.Threads += ps.Threads
	}
	return sum, nil
}
