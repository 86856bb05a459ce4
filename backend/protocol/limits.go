package protocol

// Limits on what people type. The relay's domain (backend/chat) enforces
// them; the schema, the UI's types and docs/protocol.md read them from here.
const (
	MaxText     = 8000 // bytes in one message
	MaxName     = 100  // characters in a visitor's name
	MaxEmail    = 254  // bytes in a visitor's e-mail address
	MaxQuestion = 2000 // characters in a visitor's question
	MaxComment  = 1000 // characters in a transfer's comment
	MaxTitle    = 200  // characters in a request's title
	MaxAnswer   = 8000 // bytes in a request's answer
)

// Limit is one bound on a payload field: a string's length, a list's items
// or a number's maximum. Required means the field must not be empty (the
// relay answers bad_request).
type Limit struct {
	Type     any    // the payload type, a zero value such as ChatStart{}
	Field    string // its JSON name
	Max      int    // 0: no maximum
	Unit     string // characters, bytes, items or value
	Required bool
}

// Limits are every field bound the relay enforces on commands.
var Limits = []Limit{
	{Type: MessageSend{}, Field: "client_id", Max: MaxIDLen, Unit: "bytes", Required: true},
	{Type: MessageSend{}, Field: "text", Max: MaxText, Unit: "bytes"}, // required unless file is set
	{Type: FileUpload{}, Field: "name", Max: MaxFileName, Unit: "bytes"},
	{Type: ChatStart{}, Field: "name", Max: MaxName, Unit: "characters", Required: true},
	{Type: ChatStart{}, Field: "email", Max: MaxEmail, Unit: "bytes", Required: true},
	{Type: ChatStart{}, Field: "question", Max: MaxQuestion, Unit: "characters"},
	{Type: TransferStart{}, Field: "comment", Max: MaxComment, Unit: "characters"},
	{Type: RequestCreate{}, Field: "title", Max: MaxTitle, Unit: "characters", Required: true},
	{Type: RequestAnswer{}, Field: "text", Max: MaxAnswer, Unit: "bytes", Required: true},
	{Type: RequestList{}, Field: "limit", Max: MaxRequestList, Unit: "value"},
	{Type: QuickReplies{}, Field: "replies", Max: MaxQuickReplies, Unit: "items"},
	{Type: QuickReply{}, Field: "title", Max: MaxQuickReplyTitle, Unit: "characters"},
	{Type: QuickReply{}, Field: "text", Max: MaxQuickReplyText, Unit: "characters", Required: true},
}
