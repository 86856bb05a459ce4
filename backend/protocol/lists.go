package protocol

import "encoding/json"

// Every list the relay sends is a JSON array, [] when empty, never null or
// absent, and every map an object: a client reads a field's length without
// first asking whether it is there. The types that hold lists make sure of
// it when they are encoded, whoever built them.

// orEmpty returns s, or an empty slice for nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

func (w AgentWelcome) MarshalJSON() ([]byte, error) {
	type plain AgentWelcome
	w.Channels, w.Sessions, w.Transfers = orEmpty(w.Channels), orEmpty(w.Sessions), orEmpty(w.Transfers)
	w.Queue, w.Agents = orEmpty(w.Queue), orEmpty(w.Agents)
	return json.Marshal(plain(w))
}

func (c ChannelInfo) MarshalJSON() ([]byte, error) {
	type plain ChannelInfo
	c.Perms, c.Templates = orEmpty(c.Perms), orEmpty(c.Templates)
	return json.Marshal(plain(c))
}

func (e QueueEvent) MarshalJSON() ([]byte, error) {
	type plain QueueEvent
	e.Removed, e.Added = orEmpty(e.Removed), orEmpty(e.Added)
	return json.Marshal(plain(e))
}

func (e ChannelsEvent) MarshalJSON() ([]byte, error) {
	type plain ChannelsEvent
	e.Channels, e.Queue = orEmpty(e.Channels), orEmpty(e.Queue)
	return json.Marshal(plain(e))
}

func (e PresenceEvent) MarshalJSON() ([]byte, error) {
	type plain PresenceEvent
	e.Agents = orEmpty(e.Agents)
	return json.Marshal(plain(e))
}

// MarshalJSON of Dashboard also fills its figures' lists and maps:
// ChannelFigures embeds Figures, so neither may have a MarshalJSON of its
// own (the embedded one would be promoted and encode the figures alone).
func (d Dashboard) MarshalJSON() ([]byte, error) {
	type plain Dashboard
	d.History, d.Agents, d.Sessions, d.Transfers = orEmpty(d.History), orEmpty(d.Agents), orEmpty(d.Sessions), orEmpty(d.Transfers)
	d.Overall.Transfers = orEmptyMap(d.Overall.Transfers)
	chs := make([]ChannelFigures, len(d.Channels))
	for i, c := range d.Channels {
		c.Transfers, c.History = orEmptyMap(c.Transfers), orEmpty(c.History)
		chs[i] = c
	}
	d.Channels = chs
	return json.Marshal(plain(d))
}

func (q QuickReplies) MarshalJSON() ([]byte, error) {
	type plain QuickReplies
	q.Replies = orEmpty(q.Replies)
	return json.Marshal(plain(q))
}

func (r RequestDetail) MarshalJSON() ([]byte, error) {
	type plain RequestDetail
	r.History = orEmpty(r.History)
	return json.Marshal(plain(r))
}

func (r SessionLogReply) MarshalJSON() ([]byte, error) {
	type plain SessionLogReply
	r.Entries = orEmpty(r.Entries)
	return json.Marshal(plain(r))
}

func (r RequestListReply) MarshalJSON() ([]byte, error) {
	type plain RequestListReply
	r.Requests = orEmpty(r.Requests)
	return json.Marshal(plain(r))
}
