package chat

import (
	"maps"
	"slices"
	"time"
)

// ApplyDirectory brings the desk's channels and agents in line with what an
// administrator changed (the store's directory), in place: sessions, queues,
// transfers and presence (connections, chosen status) stay as they are.
// Rebuilding the desk instead would lose every decision not yet committed.
//
// channels and agents are the whole directory. An agent no longer in it is
// kept (old chats still name them) but disabled and stripped of grants; a
// channel no longer in it is forgotten, as at a restart.
//
// What someone may no longer do takes effect at once:
//   - a listener who may neither listen in (watch) nor answer chats of the
//     session's channel stops listening, told as when they leave. This covers
//     supervisors and former owners in listen mode alike: a former owner
//     follows the chat they handed on by virtue of answering in that channel;
//     with no right left there, they must not keep reading it;
//   - a pending transfer to an agent who may no longer answer in the channel
//     (or is disabled) is voided, since they could not accept it;
//   - an active chat whose owner may neither answer nor manage in its
//     channel any more (or is disabled) returns to the head of the queue, as
//     when an owner stays Offline: the visitor is served by someone who may,
//     at once, rather than wait for an agent who cannot write or come back.
func (d *Desk) ApplyDirectory(now time.Time, channels []Channel, agents []Agent) []Effect {
	var e effects
	changedChannels := d.applyChannels(channels)
	changedAgents := d.applyAgents(now, agents, changedChannels)
	d.enforceRights(&e, now, func(id AgentID) bool { return changedAgents[id] })
	for _, id := range sortedKeys(changedAgents) {
		d.agentChanged(&e, id)
	}
	for _, c := range sortedKeys(changedChannels) {
		if _, ok := d.channels[c]; ok {
			e.add(QueueChanged{Channel: c}) // openness, estimates and who sees the queue move
		}
	}
	return e.list
}

// Reconcile holds every open session to the rights agents have now, as
// ApplyDirectory does for the agents an admin change touched: an owner who
// may no longer answer loses the chat to the queue, a listener who may no
// longer follow it is dropped, a transfer to someone who may no longer
// answer is voided. A desk loaded from the store (at start, or restored
// after a failed write) runs it, since an admin change may have been
// committed without the consequences decided from it.
func (d *Desk) Reconcile(now time.Time) []Effect {
	var e effects
	d.enforceRights(&e, now, func(AgentID) bool { return true })
	return e.list
}

// enforceRights applies the rights of the agents that changed (by changed)
// to every open session.
func (d *Desk) enforceRights(e *effects, now time.Time, changed func(AgentID) bool) {
	for _, s := range d.sortedSessions() {
		if s.State == Ended {
			continue
		}
		if s.State == Active && changed(s.Owner) && !d.mayOwn(s.Owner, s.Channel) {
			d.requeue(e, s, now, VoidOwnerRevoked)
		}
		d.dropListeners(e, s, changed)
		if t := d.pending(s); t != nil && changed(t.To) {
			if a := d.agents[t.To]; a == nil || !a.Can(s.Channel, PermRespond) {
				before := d.involved(s)
				d.resolve(e, s, t, now, TransferVoided, VoidReceiverRevoked, t.To)
				d.changed(e, s, before)
			}
		}
	}
}

// mayOwn: an owner answers (respond) or steers (manage, after a take-over).
func (d *Desk) mayOwn(id AgentID, c ChannelID) bool {
	a := d.agents[id]
	return a != nil && (a.Can(c, PermRespond) || a.Can(c, PermManage))
}

// applyChannels updates, adds and forgets channels; it returns those changed.
func (d *Desk) applyChannels(channels []Channel) map[ChannelID]bool {
	changed := map[ChannelID]bool{}
	seen := make(map[ChannelID]bool, len(channels))
	for _, c := range channels {
		seen[c.ID] = true
		old, ok := d.channels[c.ID]
		if ok && sameChannel(*old, c) {
			continue
		}
		changed[c.ID] = true
		if ok {
			*old = c
		} else {
			nc := c
			d.channels[c.ID] = &nc
		}
	}
	for id := range d.channels {
		if !seen[id] {
			delete(d.channels, id)
			changed[id] = true
		}
	}
	return changed
}

func sameChannel(a, b Channel) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Hours.String() == b.Hours.String() &&
		locName(a.Hours.Loc) == locName(b.Hours.Loc) && a.OfflineForm == b.OfflineForm &&
		a.WarnAfter == b.WarnAfter && a.ManagerWarnAfter == b.ManagerWarnAfter &&
		a.TransferTimeout == b.TransferTimeout && slices.Equal(a.Templates, b.Templates) && sameFiles(a.Files, b.Files)
}

func locName(l *time.Location) string {
	if l == nil {
		return ""
	}
	return l.String()
}

// applyAgents updates, adds and disables agents, keeping presence; it returns
// the agents whose name, state or grants changed. The grants of the channels
// in gone count as changed for everyone holding them.
func (d *Desk) applyAgents(now time.Time, agents []Agent, channels map[ChannelID]bool) map[AgentID]bool {
	changed := map[AgentID]bool{}
	seen := make(map[AgentID]bool, len(agents))
	for _, in := range agents {
		seen[in.ID] = true
		perms := maps.Clone(in.Perms)
		if perms == nil {
			perms = map[ChannelID]Perm{}
		}
		a, ok := d.agents[in.ID]
		if !ok {
			na := Agent{ID: in.ID, Login: in.Login, Name: in.Name, Disabled: in.Disabled, Perms: perms,
				Chosen: in.Chosen, OfflineSince: now}
			if na.Chosen == Offline {
				na.Chosen = Present
			}
			d.agents[in.ID] = &na
			changed[in.ID] = true
			continue
		}
		if a.Login == in.Login && a.Name == in.Name && a.Disabled == in.Disabled && maps.Equal(a.Perms, perms) {
			continue
		}
		a.Login, a.Name, a.Disabled, a.Perms = in.Login, in.Name, in.Disabled, perms
		changed[in.ID] = true
	}
	for id, a := range d.agents {
		if !seen[id] && (!a.Disabled || len(a.Perms) > 0) {
			a.Disabled, a.Perms = true, map[ChannelID]Perm{}
			changed[id] = true
		}
	}
	for id, a := range d.agents {
		for c := range a.Perms {
			if channels[c] {
				changed[id] = true
			}
		}
	}
	return changed
}

// dropListeners takes out of s the listeners (among changed) who may no
// longer follow it; each is told, as when they leave.
func (d *Desk) dropListeners(e *effects, s *Session, changed func(AgentID) bool) {
	for _, id := range slices.Clone(s.Listeners) {
		if !changed(id) {
			continue
		}
		if a := d.agents[id]; a != nil && (a.CanWatch(s.Channel) || a.Can(s.Channel, PermRespond)) {
			continue
		}
		s.Listeners = removeID(s.Listeners, id)
		e.add(SessionChanged{Session: s.Clone(), Notify: []AgentID{id}})
	}
}

func sortedKeys[K ~string | ~int64](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
