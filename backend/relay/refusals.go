package relay

import (
	"time"

	"switchboard/backend/protocol"
)

// Refusals that end a connection are answered first: every command gets
// exactly one reply, also the one that closes the connection, and a
// rate_limited reply says in retry_after_s how long to wait.

// maxFailedHellos: a connection whose hello failed this many times is
// closed, after the last reply.
const maxFailedHellos = 5

// waitSeconds is a wait in whole seconds, rounded up, at least one.
func waitSeconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// rateLimited is a rate_limited refusal that says in retry_after_s how long
// to wait.
func rateLimited(wait time.Duration, format string, args ...any) *protocol.Error {
	perr := protocol.Errorf(protocol.CodeRateLimited, format, args...)
	perr.RetryAfter = waitSeconds(wait)
	return perr
}

// tooManyHellos answers the hello that fails for the last time on this
// connection: it names the cause and how long the address must wait before
// its next sign-in is even checked (at least a second).
func (c *conn) tooManyHellos(last *protocol.Error) *protocol.Error {
	wait := c.srv.throttle.addrWait(c.srv.now(), addrKey(c.ip).String())
	return rateLimited(wait, "%d failed hellos on this connection, the last: %s (%s); it closes: connect again in %d s",
		maxFailedHellos, last.Code, last.Message, waitSeconds(wait))
}

// frameTooLarge answers a frame over the size limit. Its id was never read,
// so the reply names none, like that of any frame that cannot be parsed.
func (c *conn) frameTooLarge() *protocol.Error {
	return protocol.Errorf(protocol.CodeTooLarge, "frame exceeds %d bytes; the connection closes (1009)", c.srv.cfg.MaxFrameBytes)
}

// flooding answers the command that ends a flood.
func flooding(n int) *protocol.Error {
	return rateLimited(time.Second, "refused %d commands in a row: the connection closes (1008)", n)
}
