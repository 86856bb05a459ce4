package app

import (
	"context"
	"errors"
	"fmt"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

// Result is what every bound method returns: ok with the relay's reply
// data, or an error with a stable code and a human message.
type Result struct {
	OK    bool            `json:"ok"`
	Data  any             `json:"data,omitempty"`
	Error *protocol.Error `json:"error,omitempty"`
}

// Codes the app adds to the relay's (protocol.Code*).
const (
	CodeOffline protocol.Code = "offline"  // not signed in, or the connection is not up
	CodeLocked  protocol.Code = "locked"   // the administrator locked that setting
	CodeNoToken protocol.Code = "no_token" // Resume: nothing remembered
	CodeNoDesk  protocol.Code = "not_ready"
	// CodeNoDashboard: the dashboard needs listen or manage in a channel.
	CodeNoDashboard protocol.Code = "dashboard_forbidden"
	// CodeRetrying: the server cannot be reached yet; the app keeps trying.
	CodeRetrying protocol.Code = "retrying"
)

func okResult(data any) Result { return Result{OK: true, Data: data} }

func failResult(code protocol.Code, format string, args ...any) Result {
	return Result{Error: protocol.Errorf(code, format, args...)}
}

// errResult maps the relay client's errors onto codes the UI can act on.
func errResult(err error) Result {
	var pe *protocol.Error
	switch {
	case err == nil:
		return okResult(nil)
	case errors.As(err, &pe):
		return Result{Error: pe}
	case errors.Is(err, client.ErrOffline):
		return failResult(CodeOffline, "not connected to the server")
	case errors.Is(err, client.ErrConnectionLost):
		return failResult(protocol.CodeUnavailable, "the connection dropped before the server answered; it may or may not have been done")
	case errors.Is(err, context.DeadlineExceeded):
		return failResult(protocol.CodeUnavailable, "the server did not answer in time")
	default:
		return failResult(protocol.CodeInternal, "%v", err)
	}
}

func (r Result) String() string {
	if r.OK {
		return "ok"
	}
	if r.Error == nil {
		return "failed"
	}
	return fmt.Sprintf("%s: %s", r.Error.Code, r.Error.Message)
}
