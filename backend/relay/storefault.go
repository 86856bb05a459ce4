package relay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// When the database stops taking writes (a full disk, a read-only file or
// mount, an I/O error), memory must still never run ahead of it, and the
// relay must neither die nor pretend:
//
//   - the batch whose commit failed is refused to its clients with
//     "unavailable", and so is every job queued after it: those were
//     decided on top of it;
//   - the desk is restored from what the store holds (reads still work on a
//     full disk or a read-only file), keeping live presence;
//   - the relay is degraded until a probe write succeeds: commands that
//     write are refused at once, reads and pings go on, connections stay
//     open, /healthz answers 503 with the reason, timers wait. A probe
//     retries with back-off (StoreRetry .. StoreRetryMax) and ends it.

// writeFault is why the relay is degraded.
type writeFault struct {
	reason string // a few words: "disk full"
	err    error  // the failure itself, for the log and /healthz
	since  time.Time
	// stale: the desk could not be restored after the failure; it is
	// restored before the relay takes writes again.
	stale bool
}

// storeTimeout bounds one probe write or one reload of the desk.
const storeTimeout = 10 * time.Second

// writeRefusal is the error a command that writes gets now, or nil if it
// may go ahead. Caller holds s.mu.
func (s *Server) writeRefusal() *protocol.Error {
	if s.closing {
		return protocol.Errorf(protocol.CodeUnavailable, "the relay is restarting; reconnect")
	}
	if f := s.fault; f != nil {
		return storeUnavailable(f.reason)
	}
	return nil
}

func storeUnavailable(reason string) *protocol.Error {
	return protocol.Errorf(protocol.CodeUnavailable, "the relay cannot write to its database: %s; try again shortly", reason)
}

// degradedErr is the write failure the relay is degraded by, or nil. It
// reads an atomic first, so the committer's hot path takes no lock.
func (s *Server) degradedErr() error {
	if s.metrics.degradedSince.Load() == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == nil {
		return nil
	}
	return s.fault.err
}

// refuseWrites says whether writes are refused now (shutting down or degraded).
func (s *Server) refuseWrites() *protocol.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeRefusal()
}

// commitFailed handles a batch the store did not commit: it refuses it and
// everything decided after it, puts the desk back to what the store holds
// and degrades the relay. It runs on the committer, so nothing commits
// meanwhile.
func (s *Server) commitFailed(batch []*job, err error, d *deliveries) {
	// Batches committed before this one reach their clients first: their
	// replies are "ok", and the restore below must not overtake them.
	barrier := &job{done: make(chan struct{})}
	d.handOff([]*job{barrier}, false)
	<-barrier.done

	s.mu.Lock()
	defer s.mu.Unlock()
	already := s.fault != nil
	s.degrade(err)
	// Every decision is pushed under s.mu, so with the lock held the queue
	// holds all that was decided after the failed batch, and no more comes.
	refused := append(batch, s.pipe.takeAll()...)
	perr := storeUnavailable(s.fault.reason)
	for _, j := range refused {
		j.refuse(perr)
	}
	switch {
	case already:
		// Degraded already (a disconnect, an admin change: decisions that
		// answer nobody): reloading for each would hold the lock for a
		// store read every time. The desk is restored once, before the
		// relay takes writes again.
		s.fault.stale = true
	default:
		if rerr := s.restoreDesk(); rerr != nil {
			s.fault.stale = true
			s.log.Error("could not reload the desk from the database after a failed write; will retry", "err", rerr)
		}
	}
	for _, j := range refused {
		if j.done != nil {
			close(j.done)
		}
	}
}

// storeWriteFailed degrades the relay after a write outside the committer
// (quick replies) failed for want of a writable database. Nothing of the
// desk depends on such a write, so the desk stays as it is.
func (s *Server) storeWriteFailed(err error) *protocol.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.degrade(err)
	return storeUnavailable(s.fault.reason)
}

// degrade records a failed write; the first one of an outage logs it and
// starts the probe. Caller holds s.mu.
func (s *Server) degrade(err error) {
	s.metrics.writeFailures.Add(1)
	if s.fault != nil {
		s.fault.err = err
		return
	}
	now := s.now()
	s.fault = &writeFault{reason: store.WriteFailure(err), err: err, since: now}
	s.metrics.degradedSince.Store(now.UnixNano())
	s.log.Error("the database does not take writes; refusing writes until it does",
		"reason", s.fault.reason, "err", err)
	if s.closing {
		return // shutting down: nothing more will be written anyway
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.probeStore() }()
}

// probeStore tries a small durable write, waiting longer after each
// failure, until one succeeds; then the relay takes writes again.
func (s *Server) probeStore() {
	wait := s.cfg.StoreRetry
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := s.store.WriteProbe(ctx)
		cancel()
		if err == nil && s.writesWork() {
			return
		}
		if err != nil {
			s.metrics.writeFailures.Add(1)
		}
		wait = min(2*wait, max(s.cfg.StoreRetryMax, s.cfg.StoreRetry))
	}
}

// writesWork ends the degraded state after a probe write succeeded; false
// if the desk still has to be restored and that failed.
func (s *Server) writesWork() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f == nil {
		return true
	}
	if f.stale {
		if err := s.restoreDesk(); err != nil {
			s.log.Warn("could not reload the desk from the database; will retry", "err", err)
			return false
		}
		f.stale = false
	}
	s.fault = nil
	d := s.now().Sub(f.since)
	s.metrics.degradedNanos.Add(int64(d))
	s.metrics.degradedSince.Store(0)
	s.log.Info("the database takes writes again", "was", f.reason, "after", d.Round(time.Millisecond))
	// What was refused meanwhile was never told: an admin change's
	// consequences, an agent who went offline. Decide them again, and tell
	// every agent the presence and channels the desk holds now.
	if fx := s.desk.Reconcile(s.now()); len(fx) > 0 {
		s.pipe.push(&job{fx: fx})
	}
	for _, a := range s.desk.Agents() {
		s.presenceChanged(chat.AgentID(a.ID))
	}
	for a := range s.agentConns {
		s.tellChannels(a)
	}
	return true
}

// restoreDesk replaces the desk by what the store holds, then re-applies
// what only memory knows and what is true of the connections still open:
// agents' connections and attached visitors. The agents' chosen status comes
// from the store, where every change of it is committed; the one in memory
// may be a refused one. Each connection's seen seqs stay valid: they only
// ever hold delivered, so committed, entries. Caller holds s.mu, with no
// job waiting to commit.
func (s *Server) restoreDesk() error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	snap, ver, err := s.readDesk(ctx)
	if err != nil {
		return err
	}
	s.installDesk(snap, ver)
	now := s.now()
	for id, set := range s.agentConns {
		for range set {
			s.desk.Connect(now, id)
		}
	}
	for sid, set := range s.visitorConns {
		for range set {
			s.desk.VisitorAttach(now, sid)
		}
	}
	s.dashDirty = true
	s.log.Info("desk reloaded from the database after a failed write")
	return nil
}

// tick runs the desk's timers unless writes are refused. Caller holds s.mu.
func (s *Server) tick(now time.Time) []chat.Effect {
	if s.fault != nil {
		return nil
	}
	return s.desk.Tick(now)
}

// serveDegraded answers /healthz with 503 and the reason while the relay
// cannot write; false when it can.
func (s *Server) serveDegraded(w http.ResponseWriter) bool {
	s.mu.Lock()
	f := s.fault
	var body []byte
	if f != nil {
		body, _ = json.Marshal(struct {
			Status  string    `json:"status"`
			Reason  string    `json:"reason"`
			Error   string    `json:"error"`
			Since   time.Time `json:"since"`
			Version string    `json:"version"`
		}{"unavailable", "database does not take writes: " + f.reason, f.err.Error(), f.since.UTC(), s.cfg.Version})
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(append(body, '\n'))
	return true
}

// writeFailed answers a write outside the committer (a token, quick
// replies) that the store refused: unavailable, degrading the relay, when
// the database does not take writes; otherwise internal, saying what.
func (s *Server) writeFailed(err error, what string) *protocol.Error {
	if isWriteFailure(err) {
		return s.storeWriteFailed(err)
	}
	return protocol.Errorf(protocol.CodeInternal, "could not %s", what)
}

// isWriteFailure tells a failed write (degrade) from an answer of the store
// about the data (not found, exists).
func isWriteFailure(err error) bool {
	return err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExists)
}
