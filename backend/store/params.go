package store

import (
	"encoding/json"
	"fmt"

	"switchboard/backend/chat"
)

// A system line's params are one JSON column: they are read with the line
// and never queried. Empty parties and fields are left out, so most lines
// store a few bytes; a line without params stores ''.

type partyRow struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type paramsRow struct {
	Agent   *partyRow `json:"agent,omitempty"`
	From    *partyRow `json:"from,omitempty"`
	To      *partyRow `json:"to,omitempty"`
	By      *partyRow `json:"by,omitempty"`
	Comment string    `json:"comment,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

func encodeParams(p chat.NoteParams) string {
	if p == (chat.NoteParams{}) {
		return ""
	}
	b, err := json.Marshal(paramsRow{Agent: toPartyRow(p.Agent), From: toPartyRow(p.From), To: toPartyRow(p.To),
		By: toPartyRow(p.By), Comment: p.Comment, Reason: p.Reason})
	if err != nil {
		// Strings and integers always encode; keep the line, lose nothing else.
		return ""
	}
	return string(b)
}

func decodeParams(s string) (chat.NoteParams, error) {
	if s == "" {
		return chat.NoteParams{}, nil
	}
	var r paramsRow
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return chat.NoteParams{}, fmt.Errorf("params %q: %w", s, err)
	}
	return chat.NoteParams{Agent: fromPartyRow(r.Agent), From: fromPartyRow(r.From), To: fromPartyRow(r.To),
		By: fromPartyRow(r.By), Comment: r.Comment, Reason: r.Reason}, nil
}

func toPartyRow(p chat.Party) *partyRow {
	if p == (chat.Party{}) {
		return nil
	}
	return &partyRow{ID: int64(p.ID), Name: p.Name}
}

func fromPartyRow(r *partyRow) chat.Party {
	if r == nil {
		return chat.Party{}
	}
	return chat.Party{ID: chat.AgentID(r.ID), Name: r.Name}
}
