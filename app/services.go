package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"switchboard/app/attention"
	"switchboard/app/notify"
	notifynative "switchboard/app/notify/native"
	"switchboard/app/tray"
	traynative "switchboard/app/tray/native"
)

// noteTimeout bounds showing one notification; noteQueue how many may wait.
const (
	noteTimeout = 5 * time.Second
	noteQueue   = 32
)

// services are the desk's desktop integrations: the tray icon and the
// notifications. They need no window toolkit (on Linux both are D-Bus), so
// they are built without the desktop tag and tested under dbus-run-session.
type services struct {
	log    *slog.Logger
	tray   *traynative.Tray // nil without a tray host
	attn   *attention.Follower
	sender notifynative.Sender
	kick   chan struct{} // the tray should re-read the core's state
	notes  chan notify.Note
	stopc  chan struct{}
	wg     sync.WaitGroup
}

type servicesOptions struct {
	Tray   bool // show a tray icon (if a tray host exists)
	Notify bool
	Logger *slog.Logger
	// Sender replaces the platform notifier (tests).
	Sender func(notifynative.OnAction) notifynative.Sender
	// Attention asks the window for the agent's eye while an offer waits
	// (nil: nobody is asked).
	Attention attention.Setter
	// NotifyAfter, when set, holds back connecting the notifier until it is
	// closed (the window has loaded its page): asking the notification server
	// what it can do may start it through D-Bus activation, which the first
	// frame need not wait for. Notifications raised meanwhile wait in the
	// queue. Nil: connect at once.
	NotifyAfter <-chan struct{}
}

// startServices attaches tray and notifications to c. TrayHost reports
// whether a tray icon is up: only then may closing the window hide it.
func startServices(c *core, o servicesOptions) (s *services, trayHost bool) {
	s = &services{log: o.Logger, kick: make(chan struct{}, 1), notes: make(chan notify.Note, noteQueue), stopc: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.Tray {
		s.startTray(c)
	}
	if o.Attention != nil {
		s.attn = attention.NewFollower(o.Attention)
	}
	if s.tray != nil || s.attn != nil {
		s.follow(c)
	}
	if o.Notify {
		newSender := o.Sender
		if newSender == nil {
			newSender = func(a notifynative.OnAction) notifynative.Sender { return notifynative.New(a, s.log) }
		}
		c.setNoteHook(func(n notify.Note) {
			select {
			case s.notes <- n:
			default:
				s.log.Warn("notification dropped: too many waiting", "title", n.Title)
			}
		})
		if o.NotifyAfter == nil {
			s.sender = newSender(c.onNoteAction)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if s.sender == nil {
				select {
				case <-o.NotifyAfter:
				case <-s.stopc:
					return
				}
				s.sender = newSender(c.onNoteAction)
			}
			s.showNotes()
		}()
	}
	return s, s.tray != nil
}

func (s *services) startTray(c *core) {
	host, err := traynative.HostAvailable()
	if !host {
		s.log.Warn("no system tray host (nobody owns "+traynative.WatcherName+"); closing the window will quit the app", "err", err)
		return
	}
	t, err := traynative.Start(tray.Build(c.trayState()), c.onTrayClick, func() { c.show("") }, s.log)
	if err != nil {
		s.log.Warn("tray icon not started", "err", err)
		return
	}
	s.tray = t
}

// follow re-reads the core's state on every change, newest first, for the
// tray and the window's attention request.
func (s *services) follow(c *core) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.kick:
				st := c.trayState()
				s.tray.Apply(tray.Build(st))
				s.attn.Follow(offerIDs(st.Transfers))
			case <-s.stopc:
				return
			}
		}
	}()
	c.setTrayHook(func() {
		select {
		case s.kick <- struct{}{}:
		default: // a refresh is already due; it will read the newest state
		}
	})
}

func offerIDs(ts []tray.Transfer) []int64 {
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// showNotes shows notifications one at a time, off the relay's callback
// goroutine, each bounded by noteTimeout.
func (s *services) showNotes() {
	for {
		select {
		case n := <-s.notes:
			ctx, cancel := context.WithTimeout(context.Background(), noteTimeout)
			if n.Withdraw {
				if err := s.sender.Withdraw(ctx, n.Key); err != nil {
					s.log.Warn("notification not withdrawn", "key", n.Key, "err", err)
				}
			} else if err := s.sender.Send(ctx, n); err != nil {
				s.log.Warn("notification not shown", "title", n.Title, "err", err)
			}
			cancel()
		case <-s.stopc:
			return
		}
	}
}

// stop ends the goroutines, removes the tray icon and closes the notifier.
func (s *services) stop() {
	if s == nil {
		return
	}
	close(s.stopc)
	s.wg.Wait()
	s.tray.Stop()
	if s.sender != nil {
		_ = s.sender.Close()
	}
}
