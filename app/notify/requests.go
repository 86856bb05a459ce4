package notify

import (
	"encoding/json"
	"fmt"
	"strings"

	"switchboard/backend/protocol"
)

// KindRequest: a new request (an offline message, or a ticket made from a
// chat) arrived, or one waits unclaimed past the manager delay.
const KindRequest Kind = "request"

// requestTexts are the words of request notes, per language.
var requestTexts = map[string]struct{ newRequest, unclaimed string }{
	"en": {newRequest: "New request #%d in %s", unclaimed: "Request #%d has waited %d min unclaimed"},
	"sv": {newRequest: "Nytt ärende #%d i %s", unclaimed: "Ärende #%d har väntat %d min utan att någon tagit det"},
}

// request decides on a request event: a new one is shown to whom the relay
// marked (Present, notify) unless muted; a manager warning to a Present,
// unmuted manager of the channel.
func (d *Decider) request(f protocol.ServerFrame, facts Facts) []Note {
	var ev protocol.RequestEvent
	if json.Unmarshal(f.Data, &ev) != nil || ev.Request.Number == 0 {
		return nil
	}
	tx, ok := requestTexts[facts.Lang]
	if !ok {
		tx = requestTexts["en"]
	}
	r := ev.Request
	switch {
	case ev.Warning == "manager":
		if !d.chatty(facts, r.Channel, true) {
			return nil
		}
		mins := max(1, (ev.Waited+30)/60)
		return []Note{{Kind: KindRequest, Title: fmt.Sprintf(tx.unclaimed, r.Number, mins),
			Body: fmt.Sprintf("%s · %s", name(r.Visitor.Name), d.channelName(r.Channel))}}
	case ev.Notify && ev.Action == protocol.StepCreated:
		if !d.chatty(facts, r.Channel, false) {
			return nil
		}
		body := name(r.Visitor.Name)
		if q := strings.TrimSpace(r.Title); q != "" {
			body += ": " + q
		}
		return []Note{{Kind: KindRequest, Title: fmt.Sprintf(tx.newRequest, r.Number, d.channelName(r.Channel)), Body: body}}
	}
	return nil
}
