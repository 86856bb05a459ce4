package notify

// Notification texts. The UI translates itself; these few lines are the
// only words the Go side shows, so they live here rather than in a catalog.
type strs struct {
	transferFrom, transferFor, visitor, comment string
	accept, open                                string
	newWaiting, manyWaiting, stillWaiting       string
	unanswered                                  string
	// An Accept pressed on a transfer that is no longer waiting.
	staleCancelled, staleExpired, staleAccepted, staleRejected, staleVoided, staleUnknown string
	// staleVoidedWhy names the reason (package wording says it).
	staleVoidedWhy string
}

var catalog = map[string]strs{
	"en": {
		transferFrom: "Chat transfer from %s", transferFor: "Chat transfer from %s, for %s", visitor: "Visitor: %s", comment: "Comment: %s",
		accept: "Accept", open: "Open",
		newWaiting: "New chat waiting in %s", manyWaiting: "%d new chats waiting",
		stillWaiting: "A chat has waited %d min", unanswered: "Nobody has answered %s for %d min",
		staleCancelled: "%s cancelled the transfer of the chat with %s: there is nothing to accept.",
		staleExpired:   "The transfer of the chat with %s expired before it was accepted.",
		staleAccepted:  "The transfer of the chat with %s was already accepted.",
		staleRejected:  "The transfer of the chat with %s was already rejected.",
		staleVoided:    "The transfer of the chat with %s no longer stands (the chat ended, or its sender left).",
		staleUnknown:   "That transfer is no longer waiting for you.",
		staleVoidedWhy: "The transfer of the chat with %s no longer stands: %s.",
	},
	"sv": {
		transferFrom: "Chattöverföring från %s", transferFor: "Chattöverföring från %s, för %s", visitor: "Besökare: %s", comment: "Kommentar: %s",
		accept: "Acceptera", open: "Öppna",
		newWaiting: "Ny chatt väntar i %s", manyWaiting: "%d nya chattar väntar",
		stillWaiting: "En chatt har väntat %d min", unanswered: "Ingen har svarat %s på %d min",
		staleCancelled: "%s avbröt överföringen av chatten med %s: det finns inget att acceptera.",
		staleExpired:   "Överföringen av chatten med %s gick ut innan den accepterades.",
		staleAccepted:  "Överföringen av chatten med %s är redan accepterad.",
		staleRejected:  "Överföringen av chatten med %s är redan avvisad.",
		staleVoided:    "Överföringen av chatten med %s gäller inte längre (chatten avslutades, eller avsändaren gick).",
		staleUnknown:   "Den överföringen väntar inte längre på dig.",
		staleVoidedWhy: "Överföringen av chatten med %s gäller inte längre: %s.",
	},
}

func texts(lang string) strs {
	if t, ok := catalog[lang]; ok {
		return t
	}
	return catalog["en"]
}
