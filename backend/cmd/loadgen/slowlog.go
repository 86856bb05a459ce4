package main

import (
	"bufio"
	"os"
	"strconv"
	"sync"
	"time"
)

// slowLog keeps the deliveries slower than a bound with the time they were
// sent, so that the tail can be laid beside a profile taken with the same
// clock (perf record -k CLOCK_REALTIME): slow deliveries come in episodes,
// and what runs during them is their cause (docs/performance.md, "The tail").
type slowLog struct {
	over time.Duration
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	b    []byte
}

func newSlowLog(path string, over time.Duration) (*slowLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &slowLog{over: over, f: f, w: bufio.NewWriter(f)}, nil
}

// note writes "sent_unix_us latency_us" for a delivery over the bound; a nil
// log keeps nothing.
func (l *slowLog) note(sentAt time.Time, d time.Duration) {
	if l == nil || d < l.over {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = strconv.AppendInt(l.b[:0], sentAt.UnixMicro(), 10)
	l.b = append(l.b, ' ')
	l.b = strconv.AppendInt(l.b, d.Microseconds(), 10)
	l.b = append(l.b, '\n')
	_, _ = l.w.Write(l.b)
}

func (l *slowLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		l.f.Close()
		return err
	}
	return l.f.Close()
}
