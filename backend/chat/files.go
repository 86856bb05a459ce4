package chat

import (
	"slices"
	"time"

	"switchboard/backend/protocol"
)

// Attachment is a stored file a message carries. The relay stores the bytes
// (backend/files); the domain only checks who may attach what, and keeps
// what the log shows of it.
type Attachment struct {
	ID     string
	Name   string
	Type   string // MIME type, sniffed on the relay
	Size   int64
	Width  int
	Height int
}

// FileRules are a channel's limits on attachments: MaxBytes 0 turns them
// off; Types are MIME types.
type FileRules struct {
	MaxBytes int64
	Types    []string
}

// Allows reports whether a file of that sniffed type is accepted.
func (r FileRules) Allows(mimeType string) bool { return slices.Contains(r.Types, mimeType) }

// MayAttach says whether an agent may upload a file of size bytes into a
// chat: as for Send, only its owner while it is active; and the channel's
// rules. It returns those rules, for the upload to enforce on the bytes.
func (d *Desk) MayAttach(a AgentID, id SessionID, size int64) (FileRules, *Error) {
	s, err := d.session(id)
	if err != nil {
		return FileRules{}, err
	}
	if _, err := d.agent(a); err != nil {
		return FileRules{}, err
	}
	if err := d.mayWrite(s, a); err != nil {
		return FileRules{}, err
	}
	return d.fileRules(s, size)
}

// VisitorMayAttach is MayAttach for the chat's visitor: while it has not ended.
func (d *Desk) VisitorMayAttach(id SessionID, size int64) (FileRules, *Error) {
	s, err := d.session(id)
	if err != nil {
		return FileRules{}, err
	}
	if s.State == Ended {
		return FileRules{}, refuse(codeInvalidState, "the chat has ended")
	}
	return d.fileRules(s, size)
}

func (d *Desk) fileRules(s *Session, size int64) (FileRules, *Error) {
	ch := d.channels[s.Channel]
	if ch == nil || ch.Files.MaxBytes <= 0 {
		return FileRules{}, refuse(codeForbidden, "this channel takes no attachments")
	}
	switch {
	case size <= 0:
		return FileRules{}, refuse(codeBadRequest, "size must be the file's size in bytes")
	case size > ch.Files.MaxBytes:
		return FileRules{}, refuse(codeTooLarge, "a file of %d bytes exceeds this channel's limit of %d", size, ch.Files.MaxBytes)
	}
	return ch.Files, nil
}

// SendFile is Send with an attachment (text may then be empty).
func (d *Desk) SendFile(now time.Time, a AgentID, id SessionID, clientID, text string, f *Attachment) ([]Effect, uint64, bool, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, 0, false, err
	}
	ag, err := d.agent(a)
	if err != nil {
		return nil, 0, false, err
	}
	if seq, dup := s.resent(ByAgent, a, clientID); dup {
		return nil, seq, true, nil
	}
	if err := d.mayWrite(s, a); err != nil {
		return nil, 0, false, err
	}
	return d.send(now, s, ByAgent, a, ag.Name, clientID, text, f)
}

// VisitorSendFile is VisitorSend with an attachment.
func (d *Desk) VisitorSendFile(now time.Time, id SessionID, clientID, text string, f *Attachment) ([]Effect, uint64, bool, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, 0, false, err
	}
	if seq, dup := s.resent(ByVisitor, 0, clientID); dup {
		return nil, seq, true, nil
	}
	if s.State == Ended {
		return nil, 0, false, refuse(codeInvalidState, "the chat has ended")
	}
	return d.send(now, s, ByVisitor, 0, s.Visitor.Name, clientID, text, f)
}

// Resent reports the seq of a message a sender already stored under a
// client id: a resend is answered before its file is looked at again.
func (d *Desk) Resent(id SessionID, visitor bool, a AgentID, clientID string) (uint64, bool) {
	s, ok := d.sessions[id]
	if !ok {
		return 0, false
	}
	if visitor {
		return s.resent(ByVisitor, 0, clientID)
	}
	return s.resent(ByAgent, a, clientID)
}

// fileInfo converts an attachment; none gives nil.
func fileInfo(f *Attachment) *protocol.FileInfo {
	if f == nil {
		return nil
	}
	return &protocol.FileInfo{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Width: f.Width, Height: f.Height}
}

func sameFiles(a, b FileRules) bool {
	return a.MaxBytes == b.MaxBytes && slices.Equal(a.Types, b.Types)
}
