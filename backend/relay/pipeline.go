package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// job is one decision on its way to the store: the effects a command (or a
// timer) caused, and what to do once they are durable.
type job struct {
	fx []chat.Effect
	// A command's answer (conn.commit): after the commit, reply goes to c
	// before anything else; refused, an error naming id instead. Fields, not
	// closures: most jobs are messages, and two closures cost each one three
	// allocations.
	c     *conn
	id    string
	reply []byte
	// pre runs under the server lock after the commit and before the effects
	// are delivered: replies go first, so a client hears "ok" before events.
	pre func()
	// post runs under the lock after delivery.
	post func()
	// fail runs under the lock instead of pre and post when this job is
	// refused: its commit failed, or that of a job decided before it (see
	// commitFailed). It answers the command with perr and releases what pre
	// would have. Jobs without a client to answer (timers) leave it nil.
	fail func(perr *protocol.Error)
	// marker jobs carry a channel closed once everything before them is done.
	done chan struct{}
}

// refuse answers a job that will not be committed (see fail). Caller holds
// s.mu.
func (j *job) refuse(perr *protocol.Error) {
	if j.c != nil {
		j.c.fail(j.id, perr)
	}
	if j.fail != nil {
		j.fail(perr)
	}
}

// pipeline is an unbounded FIFO of jobs. Jobs are pushed under the server
// lock, so their order is the order of decisions. It is unbounded so that a
// push never blocks while the lock is held; each connection bounds its own
// commands in flight, which bounds the queue.
type pipeline struct {
	mu     sync.Mutex
	queue  []*job
	wake   chan struct{}
	closed bool
}

func (p *pipeline) init() { p.wake = make(chan struct{}, 1) }

func (p *pipeline) push(j *job) {
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take waits for jobs and returns up to max of them; nil once closed and empty.
func (p *pipeline) take(max int) []*job {
	for {
		p.mu.Lock()
		if n := len(p.queue); n > 0 {
			if n > max {
				n = max
			}
			batch := make([]*job, n)
			copy(batch, p.queue)
			// Shift rather than reslice so the backing array does not grow forever.
			rest := copy(p.queue, p.queue[n:])
			clear(p.queue[rest:])
			p.queue = p.queue[:rest]
			p.mu.Unlock()
			return batch
		}
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return nil
		}
		<-p.wake
	}
}

// waiting reports whether jobs wait to be taken.
func (p *pipeline) waiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) > 0
}

// takeAll empties the queue without waiting.
func (p *pipeline) takeAll() []*job {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.queue
	p.queue = nil
	return out
}

// drain waits until every job pushed so far is committed and delivered, or
// refused.
func (p *pipeline) drain() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	m := &job{done: make(chan struct{})}
	p.queue = append(p.queue, m)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-m.done
}

func (p *pipeline) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// maxBatch bounds one group commit.
const maxBatch = 1024

// commitLoop is the only writer: it takes every job waiting and commits all
// their effects in one transaction (group commit is what lets one fsync carry
// hundreds of messages), then hands the batch on for delivery (see handOff)
// and goes on to commit the next one. Batches are delivered in the order they
// were committed, and only after their commit. A batch the store refuses is
// refused to its clients (see commitFailed).
func (s *Server) commitLoop() {
	var frames [][]byte // encoding scratch; never used by two deliveries at once (see deliveries)
	d := &deliveries{ch: make(chan []*job, 1), deliver: func(batch []*job) { frames = s.deliverBatch(batch, frames) }}
	delivered := make(chan struct{})
	go func() { defer close(delivered); d.run() }()
	defer func() { close(d.ch); <-delivered }()
	var all []chat.Effect
	for {
		batch := s.pipe.take(maxBatch)
		if batch == nil {
			return
		}
		all = all[:0]
		for _, j := range batch {
			all = append(all, j.fx...)
		}
		if persistable(all) {
			// Degraded: the probe says when writes work again; until then a
			// batch (a disconnect, an admin change) is refused unwritten.
			if err := s.degradedErr(); err != nil {
				clear(all)
				s.commitFailed(batch, err, d)
				continue
			}
			start := time.Now()
			if err := s.store.Apply(context.Background(), all); err != nil {
				clear(all)
				s.commitFailed(batch, err, d)
				continue
			}
			s.metrics.commit(len(batch), time.Since(start))
		}
		clear(all) // the jobs keep their effects; drop this batch's references
		d.handOff(batch, s.pipe.waiting())
	}
}

// deliveries takes committed batches from the committer to their clients,
// in commit order, in one of two ways. When more work waits to be committed,
// or the deliverer goroutine is still busy with an earlier batch, the batch
// is queued for that goroutine and the committer goes on, so the next commit
// overlaps this fan-out (what keeps a saturated relay's throughput up). When
// nothing waits, which is most of the time below saturation, the committer
// delivers the batch itself: each message then waits for one goroutine fewer
// to be scheduled on its way, and on two busy cores every such wake-up can
// cost a time slice (docs/performance.md, "Delivered by the committer").
type deliveries struct {
	ch      chan []*job
	deliver func(batch []*job)
	// pending counts the batches queued and not yet delivered. Only the
	// committer adds to it, so when it reads zero every earlier batch has
	// been delivered and none is on its way: delivering then cannot overtake.
	pending atomic.Int64
}

// handOff delivers a committed batch; more says that other jobs are already
// waiting to be committed. It runs on the committer only.
func (d *deliveries) handOff(batch []*job, more bool) {
	if !more && d.pending.Load() == 0 {
		d.deliver(batch)
		return
	}
	d.pending.Add(1)
	d.ch <- batch
}

// run is the deliverer goroutine: the queued batches, in order.
func (d *deliveries) run() {
	for batch := range d.ch {
		d.deliver(batch)
		d.pending.Add(-1)
	}
}

// deliverBatch fans one committed batch out. It encodes the batch's log
// entries before taking the server lock, so that the lock, which every read
// pump needs to decide a command, is held only for routing. frames is
// scratch, returned for reuse.
func (s *Server) deliverBatch(batch []*job, frames [][]byte) [][]byte {
	frames = frames[:0]
	for _, j := range batch {
		for _, e := range j.fx {
			if e, ok := e.(chat.EntryAdded); ok {
				frames = append(frames, encodeEntry(e.Session, e.Entry))
			}
		}
	}
	s.mu.Lock()
	next := frames
	var queue queueNews
	for _, j := range batch {
		if j.c != nil {
			j.c.enqueue(j.reply)
			j.c.done()
		}
		if j.pre != nil {
			j.pre()
		}
		next = s.deliver(j.fx, next, &queue)
		if j.post != nil {
			j.post()
		}
	}
	s.sendQueueNews(&queue, s.now())
	s.mu.Unlock()
	clear(frames)
	for _, j := range batch {
		if j.done != nil {
			close(j.done)
		}
	}
	return frames
}

func persistable(fx []chat.Effect) bool {
	for _, e := range fx {
		switch e.(type) {
		case chat.EntryAdded, chat.SessionChanged, chat.TransferChanged, chat.RequestCreated, chat.RequestChanged, chat.AgentChanged:
			return true
		}
	}
	return false
}
