package chat

import (
	"fmt"

	"switchboard/backend/protocol"
)

// Error is a refused command. The desk is unchanged when one is returned.
type Error = protocol.Error

func refuse(code protocol.Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Short names for the codes the domain uses.
const (
	codeBadRequest      = protocol.CodeBadRequest
	codeTooLarge        = protocol.CodeTooLarge
	codeForbidden       = protocol.CodeForbidden
	codeNotFound        = protocol.CodeNotFound
	codeNotParticipant  = protocol.CodeNotParticipant
	codeListenOnly      = protocol.CodeListenOnly
	codeInvalidState    = protocol.CodeInvalidState
	codeTransferPending = protocol.CodeTransferPending
	codeInvalidTarget   = protocol.CodeInvalidTarget
	codeNoAgent         = protocol.CodeNoAgent
	codeQueueEmpty      = protocol.CodeQueueEmpty
	codeChannelClosed   = protocol.CodeChannelClosed
)
