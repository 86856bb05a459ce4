package app

import "sync"

// Emitter pushes events from the Go side to the UI. The desktop build
// implements it with Wails' runtime.EventsEmit; tests use a Recorder.
type Emitter interface {
	Emit(event string, data ...any)
}

// Event is one emitted event, as kept by a Recorder.
type Event struct {
	Name string
	Data []any
}

// Recorder is an Emitter that remembers every event, for tests.
// The zero value is ready to use and safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Emit records the event.
func (r *Recorder) Emit(event string, data ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Event{Name: event, Data: append([]any(nil), data...)})
}

// Events returns a copy of the events recorded so far, oldest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Names returns the names of the events recorded so far, oldest first.
func (r *Recorder) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.events))
	for i, e := range r.events {
		names[i] = e.Name
	}
	return names
}
