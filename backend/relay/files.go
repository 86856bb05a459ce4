package relay

import (
	"context"
	"errors"
	"net/http"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Attachments: the desk decides who may upload into and read from a chat
// and issues signed URLs for it (backend/files); the bytes travel over
// HTTP, never through the websocket. A message carries a file only once
// its bytes are stored, and the store ties the file to that message in the
// message's own commit.

// OriginAllowed says whether a browser's origin may use the relay (its
// websocket allowlist): the file endpoints take uploads from the same.
func (g *Gate) OriginAllowed(r *http.Request) bool { return g.checkOrigin(r) }

func (s *Server) noFiles() *protocol.Error {
	return protocol.Errorf(protocol.CodeUnavailable, "this relay keeps no files")
}

// uploadSlot answers file.upload: authorized as message.send, and sized
// against the channel's limit.
func (c *conn) uploadSlot(id string, p protocol.FileUpload) {
	s := c.srv
	if s.cfg.Files == nil {
		c.fail(id, s.noFiles())
		return
	}
	s.mu.Lock()
	if perr := s.writeRefusal(); perr != nil {
		s.mu.Unlock()
		c.fail(id, perr)
		return
	}
	sid := chat.SessionID(p.Session)
	var rules chat.FileRules
	var perr *protocol.Error
	if c.role == protocol.RoleVisitor {
		if perr = c.ownSession(p.Session); perr == nil {
			sid = c.session
			rules, perr = s.desk.VisitorMayAttach(sid, p.Size)
		}
	} else {
		rules, perr = s.desk.MayAttach(c.agent, sid, p.Size)
	}
	sess, _ := s.desk.Session(sid)
	s.mu.Unlock()
	if perr != nil {
		c.fail(id, perr)
		return
	}
	c.answer(id, s.cfg.Files.UploadSlot(sid, sess.Channel, files.Uploader(c.agent), p.Name, rules))
}

// fileURLs answers file.url for a file sent in a chat the reader may read.
func (c *conn) fileURLs(id string, p protocol.FileURLRequest) {
	s := c.srv
	if s.cfg.Files == nil {
		c.fail(id, s.noFiles())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sid, perr := c.mayReadChat(ctx, p.Session)
	if perr != nil {
		c.fail(id, perr)
		return
	}
	f, err := s.store.File(ctx, p.File)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && (f.Session != sid || f.Seq == 0)):
		c.fail(id, protocol.Errorf(protocol.CodeNotFound, "no such file in this chat"))
	case err != nil:
		c.fail(id, protocol.Errorf(protocol.CodeUnavailable, "the file cannot be read now"))
	case f.State == store.FilePurged:
		c.fail(id, protocol.Errorf(protocol.CodeFileGone, "this file was deleted"))
	case f.State != store.FileStored:
		c.fail(id, protocol.Errorf(protocol.CodeNotFound, "no such file in this chat"))
	default:
		c.answer(id, s.cfg.Files.DownloadURLs(f, files.Uploader(c.agent)))
	}
}

// mayReadChat: the visitor reads their own chat; an agent what session.log
// lets them read.
func (c *conn) mayReadChat(ctx context.Context, session string) (chat.SessionID, *protocol.Error) {
	s := c.srv
	sid := chat.SessionID(session)
	if sid == "" && c.role != protocol.RoleVisitor {
		return "", protocol.Errorf(protocol.CodeBadRequest, "session is required")
	}
	s.mu.Lock()
	if c.role == protocol.RoleVisitor {
		perr := c.ownSession(session)
		sid = c.session
		s.mu.Unlock()
		return sid, perr
	}
	_, inDesk := s.desk.Session(sid)
	allowed := s.desk.MayRead(c.agent, sid)
	agent, known := s.desk.Agent(c.agent)
	s.mu.Unlock()
	if !inDesk {
		row, err := s.store.SessionRow(ctx, sid)
		if err != nil {
			return "", protocol.Errorf(protocol.CodeNotFound, "no session %q", sid)
		}
		allowed = known && !agent.Disabled && s.tookPartOrWatches(ctx, agent, &row)
	}
	if !allowed {
		return "", protocol.Errorf(protocol.CodeForbidden, "you may not read this chat")
	}
	return sid, nil
}

// sendFile is message.send with a file: the file must be stored, in this
// chat, by this sender. A resend of a message already stored is answered
// by the desk as any resend, whatever became of its file.
func (c *conn) sendFile(id string, p protocol.MessageSend) {
	s := c.srv
	visitor := c.role == protocol.RoleVisitor
	sid := chat.SessionID(p.Session)
	s.mu.Lock()
	if visitor {
		sid = c.session
	}
	_, dup := s.desk.Resent(sid, visitor, c.agent, p.ClientID)
	s.mu.Unlock()
	var att *chat.Attachment
	if !dup {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		f, err := s.store.File(ctx, p.File)
		cancel()
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && (f.Session != sid || f.Uploader != files.Uploader(c.agent))):
			c.fail(id, protocol.Errorf(protocol.CodeNotFound, "no file of yours is stored under that id in this chat"))
			return
		case err != nil:
			c.fail(id, protocol.Errorf(protocol.CodeUnavailable, "the file cannot be read now"))
			return
		case f.State == store.FilePurged:
			c.fail(id, protocol.Errorf(protocol.CodeFileGone, "this file was deleted"))
			return
		case f.State != store.FileStored:
			c.fail(id, protocol.Errorf(protocol.CodeNotFound, "the file is not stored (its upload did not finish)"))
			return
		}
		att = files.Attachment(f)
	}
	c.decide(id, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
		var fx []chat.Effect
		var seq uint64
		var err *protocol.Error
		if visitor {
			if err := c.ownSession(p.Session); err != nil {
				return nil, nil, err
			}
			fx, seq, dup, err = s.desk.VisitorSendFile(now, c.session, p.ClientID, p.Text, att)
		} else {
			fx, seq, dup, err = s.desk.SendFile(now, c.agent, sid, p.ClientID, p.Text, att)
		}
		return fx, protocol.MessageAck{Seq: seq, Duplicate: dup}, err
	})
}

// handleFiles routes the attachment commands of both roles.
func (c *conn) handleFiles(cmd protocol.Command) {
	switch cmd.Cmd {
	case protocol.CmdFileUpload:
		if p, ok := payload[protocol.FileUpload](c, cmd); ok {
			c.uploadSlot(cmd.ID, p)
		}
	case protocol.CmdFileURL:
		if p, ok := payload[protocol.FileURLRequest](c, cmd); ok {
			c.fileURLs(cmd.ID, p)
		}
	}
}
