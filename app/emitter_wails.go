//go:build desktop

package app

import (
	"context"
	"sync"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// wailsEmitter sends events to the UI with runtime.EventsEmit. Wails hands
// out its context only at startup, so events emitted before that (or after
// shutdown) are dropped.
type wailsEmitter struct {
	mu  sync.RWMutex
	ctx context.Context
}

func (w *wailsEmitter) attach(ctx context.Context) {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
}

func (w *wailsEmitter) Emit(event string, data ...any) {
	w.mu.RLock()
	ctx := w.ctx
	w.mu.RUnlock()
	if ctx == nil {
		return
	}
	runtime.EventsEmit(ctx, event, data...)
}
