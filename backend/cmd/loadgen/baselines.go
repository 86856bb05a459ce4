package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"switchboard/backend/cmd/loadgen/baseline"
)

// The baseline hubs the relay is measured against, each in its own process:
// "memory" is the bare gorilla fan-out hub, "durable" the same hub committing
// every message to SQLite before its ack (DESIGN.md "Budgets").
const (
	baseMemory  = "memory"
	baseDurable = "durable"
)

// targetOf names a baseline's results: the in-memory hub keeps the name it
// always had in build/load.json.
func targetOf(kind string) string {
	if kind == baseDurable {
		return "durable"
	}
	return "baseline"
}

// baselineFlag is --baseline: alone it means the in-memory hub (as before
// there were two); --baseline durable or --baseline memory,durable choose.
type baselineFlag []string

func (b *baselineFlag) String() string   { return strings.Join(*b, ",") }
func (b *baselineFlag) IsBoolFlag() bool { return true }

func (b *baselineFlag) Set(v string) error {
	switch v {
	case "true":
		v = baseMemory
	case "false":
		*b = nil
		return nil
	case "all", "both":
		v = baseMemory + "," + baseDurable
	}
	*b = nil
	for _, k := range strings.Split(v, ",") {
		if k != baseMemory && k != baseDurable {
			return fmt.Errorf("unknown baseline %q (want memory, durable or memory,durable)", k)
		}
		if !slices.Contains(*b, k) {
			*b = append(*b, k)
		}
	}
	return nil
}

// joinBaselineArg turns "--baseline durable" into "--baseline=durable": the
// flag package gives a boolean flag no separate value.
func joinBaselineArg(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--baseline" || a == "-baseline") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			var probe baselineFlag
			if probe.Set(args[i+1]) == nil {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// serveBaseline runs a baseline hub on addr until interrupted: the durable
// one when db names its SQLite file.
func serveBaseline(addr, db, cpuProfile string) {
	if cpuProfile != "" {
		// The whole life of the hub: setup is cheap here (no logins).
		if f, err := os.Create(cpuProfile); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	hub := baseline.New()
	if db != "" {
		var err error
		if hub, err = baseline.NewDurable(db); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	ctx, stop := signal.NotifyContext(contextBG(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func (o options) baselineRound(dir string, round int, kind string, logf func(string, ...any)) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return result{}, err
	}
	args := []string{"--serve-baseline", addr}
	if kind == baseDurable {
		args = append(args, "--baseline-db", filepath.Join(dir, fmt.Sprintf("durable-%d-%d.db", round, time.Now().UnixNano())))
	}
	if o.pprofOut != "" {
		prof, _ := filepath.Abs(fmt.Sprintf("%s.%s%s.%d", o.pprofOut, o.scenarioTag(), targetOf(kind), round))
		args = append(args, "--pprof", prof)
	}
	p, err := startProcess(self, args, addr, filepath.Join(dir, "baseline.log"), nil)
	if err != nil {
		return result{}, err
	}
	defer p.stop(10 * time.Second)
	r := newRun(targetOf(kind), false, "ws://"+addr+"/ws", o.cfg)
	r.pid, r.logf = p.pid(), logf
	return o.measure(r, round)
}
