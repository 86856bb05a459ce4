package relay

import (
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// dashboardRefresh: figures such as "longest wait" move with the clock, so
// watchers get a fresh picture this often even when nothing happened.
const dashboardRefresh = 5 * time.Second

// dashboardLoop pushes the dashboard to its watchers, at most once per
// DashboardInterval, coalescing every change in between.
func (s *Server) dashboardLoop() {
	t := time.NewTicker(s.cfg.DashboardInterval)
	defer t.Stop()
	last := s.now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			now := s.now()
			s.history.observe(now, s.desk.QueueFigures(now))
			if len(s.watchers) > 0 && (s.dashDirty || now.Sub(last) >= dashboardRefresh) {
				frames := map[chat.AgentID][]byte{}
				for c := range s.watchers {
					f, ok := frames[c.agent]
					if !ok {
						f = encodeEvent(protocol.EvDashboard, "", 0, s.dashboard(now, c.agent))
						frames[c.agent] = f
					}
					c.enqueue(f)
				}
				last = now
			}
			s.dashDirty = false
			s.mu.Unlock()
		}
	}
}

// dashboard is the desk's picture for one viewer plus the queue history.
// Caller holds s.mu.
func (s *Server) dashboard(now time.Time, viewer chat.AgentID) protocol.Dashboard {
	db := s.desk.Dashboard(now, viewer)
	s.history.attach(&db)
	countRequests(&db, s.desk.OpenRequestCounts())
	return db
}
