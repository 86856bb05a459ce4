package chat

import (
	"slices"
	"testing"
	"time"
)

// directory is the test cast as the store would list it, for ApplyDirectory.
func directory(edit func(chs map[ChannelID]*Channel, ags map[AgentID]*Agent)) ([]Channel, []Agent) {
	snap := testSnapshot()
	chs := map[ChannelID]*Channel{}
	for i := range snap.Channels {
		chs[snap.Channels[i].ID] = &snap.Channels[i]
	}
	ags := map[AgentID]*Agent{}
	for i := range snap.Agents {
		ags[snap.Agents[i].ID] = &snap.Agents[i]
	}
	if edit != nil {
		edit(chs, ags)
	}
	var outC []Channel
	for _, c := range chs {
		outC = append(outC, *c)
	}
	var outA []Agent
	for _, a := range ags {
		outA = append(outA, *a)
	}
	return outC, outA
}

func TestApplyDirectory(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fixture)
		edit  func(chs map[ChannelID]*Channel, ags map[AgentID]*Agent)
		check func(t *testing.T, f *fixture, fx []Effect)
	}{{
		name: "no change changes nothing",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Listen(f.now, L, "s1"))
		},
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if len(fx) != 0 {
				t.Errorf("effects %s, want none", describe(fx))
			}
		},
	}, {
		name: "a listener whose listen grant is removed stops listening, told alone",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Listen(f.now, L, "s1"))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { delete(ags[L].Perms, support) },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); s.IsListener(L) {
				t.Errorf("listeners %v still hold Leo", s.Listeners)
			}
			sc := one[SessionChanged](t, fx)
			sameIDs(t, "told", sc.Notify, []AgentID{L})
			if slices.Contains(f.d.RecipientsOf("s1"), L) {
				t.Error("Leo still receives the chat")
			}
			if f.d.MayRead(L, "s1") {
				t.Error("Leo may still read the chat")
			}
			if f.d.CanWatchAny(L) {
				t.Error("Leo may still watch the dashboard")
			}
		},
	}, {
		name: "a supervisor who loses manage but keeps listen goes on listening",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Listen(f.now, M, "s1"))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[M].Perms[support] = PermListen },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); !s.IsListener(M) {
				t.Error("Mia was dropped")
			}
			if len(all[SessionChanged](fx)) != 0 {
				t.Errorf("effects %s, want no session change", describe(fx))
			}
		},
	}, {
		name: "a former owner in listen mode keeps listening while they may answer",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Accept(f.now, B, f.transfer(A, "s1", B)))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[A].Perms[support] = PermRespond },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); !s.IsListener(A) {
				t.Error("Anna was dropped although she still answers in support")
			}
		},
	}, {
		name: "a former owner in listen mode who loses respond stops listening",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Accept(f.now, B, f.transfer(A, "s1", B)))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[A].Perms[support] = PermNotify },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); s.IsListener(A) {
				t.Error("Anna still listens")
			}
			sameIDs(t, "told", one[SessionChanged](t, fx).Notify, []AgentID{A})
		},
	}, {
		name: "a disabled agent stops listening and is no longer Present for the channel",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Listen(f.now, M, "s1"))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[M].Disabled = true },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); s.IsListener(M) {
				t.Error("Mia still listens")
			}
			if f.d.MayRead(M, "s1") {
				t.Error("a disabled agent may read")
			}
			if one[AgentChanged](t, fx).Agent != M {
				t.Error("Mia's change not announced")
			}
		},
	}, {
		name: "a pending transfer to an agent who lost respond is voided",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.transfer(A, "s1", B)
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { delete(ags[B].Perms, support) },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			tc := one[TransferChanged](t, fx)
			if tc.Transfer.State != TransferVoided {
				t.Errorf("transfer %s, want voided", tc.Transfer.State)
			}
			s := f.session("s1")
			if s.Pending != 0 || s.Owner != A {
				t.Errorf("session pending %d owner %d", s.Pending, s.Owner)
			}
			if slices.Contains(f.d.RecipientsOf("s1"), B) {
				t.Error("Bo still receives the chat")
			}
		},
	}, {
		name: "an owner who may no longer answer returns the chat to the head of the queue",
		setup: func(f *fixture) {
			f.chat("s0")
			f.active("s1", A)
			f.transfer(A, "s1", B)
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[A].Perms[support] = PermNotify },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); s.Owner != 0 || s.State != Queued || s.Pending != 0 {
				t.Errorf("owner %d state %s pending %d", s.Owner, s.State, s.Pending)
			}
			if q := f.d.Waiting(support); !slices.Equal(q, []SessionID{"s1", "s0"}) {
				t.Errorf("queue %v, want s1 first", q)
			}
			if tc := one[TransferChanged](t, fx); tc.Transfer.State != TransferVoided {
				t.Errorf("transfer %s", tc.Transfer.State)
			}
			if public, _ := notes(fx); len(public) != 1 {
				t.Errorf("visitor notes %v", public)
			}
			if f.d.Load(A) != 0 {
				t.Errorf("Anna's load %d", f.d.Load(A))
			}
			if code := f.send(A, "s1", "m1"); code == "" {
				t.Error("the former owner may still write")
			}
		},
	}, {
		name: "a supervisor who took over keeps the chat while they may manage",
		setup: func(f *fixture) {
			f.active("s1", A)
			fx, _, err := f.d.TakeOver(f.now, M, "s1")
			f.ok(fx, err)
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) {
			ags[M].Perms[support] = PermManage | PermNotify
		},
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if s := f.session("s1"); s.Owner != M || s.State != Active {
				t.Errorf("owner %d state %s", s.Owner, s.State)
			}
		},
	}, {
		name: "presence and the log's seq survive",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.SetStatus(f.now, B, Away))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { ags[B].Name = "Bosse" },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			b, _ := f.d.Agent(B)
			if b.Name != "Bosse" || b.Conns != 1 || b.Chosen != Away || b.Status() != Away {
				t.Errorf("Bo = %+v", b)
			}
			seq := f.session("s1").Seq
			_, got, _, err := f.d.Send(f.now, A, "s1", "m-next", "still here")
			if err != nil || got != seq+1 {
				t.Errorf("next seq %d (err %v), want %d", got, err, seq+1)
			}
			if f.d.Load(A) != 1 {
				t.Errorf("Anna's load %d", f.d.Load(A))
			}
		},
	}, {
		name: "a new agent and a new channel are added; a channel change is applied in place",
		setup: func(f *fixture) {
			f.chat("s1")
		},
		edit: func(chs map[ChannelID]*Channel, ags map[AgentID]*Agent) {
			chs["billing"] = &Channel{ID: "billing", Name: "Billing"}
			chs[support].Name = "Customer support"
			chs[support].WarnAfter = time.Minute
			ags[7] = &Agent{ID: 7, Login: "olle", Name: "Olle", Perms: map[ChannelID]Perm{"billing": PermRespond}}
		},
		check: func(t *testing.T, f *fixture, fx []Effect) {
			if c, _ := f.d.Channel(support); c.Name != "Customer support" || c.WarnAfter != time.Minute {
				t.Errorf("support = %+v", c)
			}
			if q := f.d.Waiting(support); !slices.Equal(q, []SessionID{"s1"}) {
				t.Errorf("queue %v", q)
			}
			o, ok := f.d.Agent(7)
			if !ok || o.Status() != Offline || o.Disabled {
				t.Fatalf("Olle = %+v, %v", o, ok)
			}
			f.ok(f.d.Connect(f.now, 7))
			f.ok(f.d.StartChat(f.now, "s2", "billing", "Vera", "vera@example.com", "", "h2"))
			var queues []ChannelID
			for _, q := range all[QueueChanged](fx) {
				queues = append(queues, q.Channel)
			}
			if !slices.Equal(queues, []ChannelID{"billing", support}) {
				t.Errorf("queue changes %v", queues)
			}
		},
	}, {
		name: "an agent missing from the directory is disabled and keeps their name",
		setup: func(f *fixture) {
			f.active("s1", A)
			f.ok(f.d.Listen(f.now, L, "s1"))
		},
		edit: func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { delete(ags, L) },
		check: func(t *testing.T, f *fixture, fx []Effect) {
			l, ok := f.d.Agent(L)
			if !ok || !l.Disabled || l.Name != "Leo" {
				t.Errorf("Leo = %+v, %v", l, ok)
			}
			if s := f.session("s1"); s.IsListener(L) {
				t.Error("Leo still listens")
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			chs, ags := directory(tc.edit)
			fx := f.d.ApplyDirectory(f.at(time.Second), chs, ags)
			tc.check(t, f, fx)
		})
	}
}

// TestApplyDirectoryTwiceIsQuiet: applying what the desk already holds
// changes nothing, so a relay may apply the directory as often as it likes.
func TestApplyDirectoryTwiceIsQuiet(t *testing.T) {
	f := newFixture(t)
	f.active("s1", A)
	edit := func(_ map[ChannelID]*Channel, ags map[AgentID]*Agent) { delete(ags[L].Perms, support) }
	chs, ags := directory(edit)
	f.d.ApplyDirectory(f.now, chs, ags)
	before := dump(f.d)
	chs, ags = directory(edit)
	if fx := f.d.ApplyDirectory(f.now, chs, ags); len(fx) != 0 {
		t.Errorf("second apply: %s", describe(fx))
	}
	unchanged(t, before, f.d)
}

// A desk loaded from a store whose directory changed without the
// consequences being decided (a restart or a restore right after an admin
// change) is brought in line by Reconcile; a desk in line is left alone.
func TestReconcileHoldsSessionsToCurrentRights(t *testing.T) {
	f := newFixture(t)
	f.active("s1", A)
	f.ok(f.d.Listen(f.now, L, "s1"))
	f.active("s2", B)
	f.transfer(B, "s2", A)
	if fx := f.d.Reconcile(f.now); len(fx) != 0 {
		t.Fatalf("a desk in line: effects %s", describe(fx))
	}
	// What a snapshot taken after the admin change holds, with nothing decided.
	delete(f.d.agents[A].Perms, support)
	delete(f.d.agents[L].Perms, support)
	fx := f.d.Reconcile(f.now)
	if s := f.session("s1"); s.State != Queued || s.Owner != 0 {
		t.Errorf("s1 is %v, owner %d: want back in the queue", s.State, s.Owner)
	}
	if s := f.session("s1"); s.IsListener(L) {
		t.Error("Leo still listens without the grant")
	}
	if s := f.session("s2"); s.State != Active || s.Owner != B || f.d.pending(f.d.sessions["s2"]) != nil {
		t.Errorf("s2: the transfer to Anna, who may no longer answer, is still pending (%+v)", s)
	}
	if len(fx) == 0 {
		t.Fatal("no effects to commit")
	}
	if again := f.d.Reconcile(f.now); len(again) != 0 {
		t.Errorf("second Reconcile: effects %s", describe(again))
	}
}
