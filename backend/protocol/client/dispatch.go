package client

import "sync"

// dispatcher runs callbacks one at a time, in the order they were queued, on
// its own goroutine: the read loop never waits for the UI, and a callback
// may call Do without deadlocking the reader that would deliver the reply.
type dispatcher struct {
	mu    sync.Mutex
	q     []func()
	wake  chan struct{}
	stopc chan struct{}
	done  chan struct{}
}

func (d *dispatcher) push(f func()) {
	d.mu.Lock()
	d.q = append(d.q, f)
	wake := d.wake
	d.mu.Unlock()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// start runs the queue (including what was queued while stopped).
func (d *dispatcher) start() {
	d.mu.Lock()
	if d.wake == nil {
		d.wake = make(chan struct{}, 1)
	}
	d.stopc, d.done = make(chan struct{}), make(chan struct{})
	stop, done := d.stopc, d.done
	d.mu.Unlock()
	go d.run(stop, done)
}

// stop waits until the queue is empty, then ends the goroutine.
func (d *dispatcher) stop() {
	d.mu.Lock()
	stop, done := d.stopc, d.done
	d.mu.Unlock()
	close(stop)
	<-done
}

func (d *dispatcher) run(stop, done chan struct{}) {
	defer close(done)
	for {
		d.mu.Lock()
		q := d.q
		d.q = nil
		d.mu.Unlock()
		for _, f := range q {
			f()
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-d.wake:
		case <-stop:
			d.mu.Lock()
			empty := len(d.q) == 0
			d.mu.Unlock()
			if empty {
				return
			}
		}
	}
}
