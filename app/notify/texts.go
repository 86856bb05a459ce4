package notify

// Notification texts. The UI translates itself; these few lines are the
// only words the Go side shows, so they live here rather than in a catalog.
type strs struct {
	transferFrom, visitor, comment, accept, open string
	newWaiting, manyWaiting, stillWaiting        string
	unanswered                                   string
}

var catalog = map[string]strs{
	"en": {
		transferFrom: "Chat transfer from %s", visitor: "Visitor: %s", comment: "Comment: %s",
		accept: "Accept", open: "Open",
		newWaiting: "New chat waiting in %s", manyWaiting: "%d new chats waiting",
		stillWaiting: "A chat has waited %d min", unanswered: "Nobody has answered %s for %d min",
	},
	"sv": {
		transferFrom: "Chattöverföring från %s", visitor: "Besökare: %s", comment: "Kommentar: %s",
		accept: "Acceptera", open: "Öppna",
		newWaiting: "Ny chatt väntar i %s", manyWaiting: "%d nya chattar väntar",
		stillWaiting: "En chatt har väntat %d min", unanswered: "Ingen har svarat %s på %d min",
	},
}

func texts(lang string) strs {
	if t, ok := catalog[lang]; ok {
		return t
	}
	return catalog["en"]
}
