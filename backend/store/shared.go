package store

import (
	"time"

	"switchboard/backend/chat"
)

// What every implementation of Store reads and writes the same way, so that
// a value stored by one comes back from another as it went in.

// FirstRequest is the number the first ticket gets.
const FirstRequest = firstRequest

// TransferHistory is how far back Load reads transfers no longer pending.
const TransferHistory = transferHistory

// Channel turns a stored channel into the domain's, checking its hours and
// time zone (PutChannel refuses a channel this fails on).
func (c ChannelRow) Channel() (chat.Channel, error) { return c.channel() }

// StoredLanguage is the language a channel is stored with: en unless one of
// Languages.
func (c ChannelRow) StoredLanguage() string { return c.language() }

// Persists reports whether any of effects is to be written (Apply ignores
// those that only deliver).
func Persists(effects []chat.Effect) bool { return persists(effects) }

// EncodeParams writes a system line's params as stored ("" for none);
// DecodeParams reads them.
func EncodeParams(p chat.NoteParams) string { return encodeParams(p) }

// DecodeParams reads EncodeParams' output.
func DecodeParams(s string) (chat.NoteParams, error) { return decodeParams(s) }

// EncodeIDs writes agent ids (a session's listeners) as a JSON array.
func EncodeIDs(ids []chat.AgentID) string { return encodeIDs(ids) }

// DecodeIDs reads EncodeIDs' output.
func DecodeIDs(s string) ([]chat.AgentID, error) { return decodeIDs(s) }

// ParseState reads chat.State's String; 0 for an unknown one.
func ParseState(s string) chat.State { return parseState(s) }

// ParseTransferState reads chat.TransferState's String; 0 for an unknown one.
func ParseTransferState(s string) chat.TransferState { return parseTransferState(s) }

// Nanos stores a time as Unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) int64 { return nanos(t) }

// FromNanos is Nanos' inverse: 0 is the zero time, others are UTC.
func FromNanos(n int64) time.Time { return fromNanos(n) }

// DomainChannels turns stored channels into the domain's (see Channel).
func DomainChannels(rows []ChannelRow) ([]chat.Channel, error) {
	out := make([]chat.Channel, 0, len(rows))
	for _, r := range rows {
		c, err := r.channel()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
