package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

func contextBG() context.Context { return context.Background() }

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func numCPU() int     { return runtime.NumCPU() }
func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

// idleRun starts a fresh relay, opens n visitor connections that say hello
// and then only answer pings, and reports how much the relay's resident
// memory grew per connection once it has settled.
func (o options) idleRun(dir string, logf func(string, ...any)) (*idleResult, error) {
	t, err := o.startTarget(dir, 0)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	if t.pid <= 0 {
		return nil, fmt.Errorf("idle: the relay's pid is unknown (give --relay-pid)")
	}
	time.Sleep(2 * time.Second)
	before, err := readProc(t.pid)
	if err != nil {
		return nil, err
	}
	var (
		mu  sync.Mutex
		all []*client.Conn
	)
	start := time.Now()
	d := &websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	err = parallel(o.idle, 64, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cn, resp, err := client.Dial(ctx, t.url, client.Options{Dialer: d, Logger: quiet})
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			return fmt.Errorf("idle connection %d: %w", i, err)
		}
		if _, err := cn.HelloVisitor(ctx, protocol.Hello{Channel: o.cfg.Channel}); err != nil {
			cn.Close()
			return fmt.Errorf("idle connection %d: hello: %v", i, err)
		}
		mu.Lock()
		all = append(all, cn)
		mu.Unlock()
		return nil
	})
	connected := time.Since(start)
	defer func() {
		for _, cn := range all {
			cn.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	logf("idle: %d connections open in %s; letting the relay settle", len(all), connected.Round(time.Millisecond))
	// The relay's heap holds the handshakes' garbage until a GC, and freed
	// pages go back to the OS gradually: take the lowest reading of a few.
	var after procStat
	for i := 0; i < 10; i++ {
		time.Sleep(time.Second)
		ps, err := readProc(t.pid)
		if err != nil {
			return nil, err
		}
		if i == 0 || ps.RSS < after.RSS {
			after = ps
		}
	}
	res := &idleResult{Connections: int64(len(all)), RSSBefore: before.RSS, RSSAfter: after.RSS, Seconds: connected.Seconds()}
	res.PerConn = float64(after.RSS-before.RSS) / float64(len(all))
	return res, nil
}
