package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// testFilesLifecycle: an upload is begun once (a second begin of the same
// id is ErrExists: the one-time URL), finished, tied to the entry that
// carries it when that message commits, and read back with the entry.
func testFilesLifecycle(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	fixture(t, s)
	k1, err := s.FileKey(ctx)
	must(t, err)
	k2, err := s.FileKey(ctx)
	must(t, err)
	if len(k1) < 32 || !bytes.Equal(k1, k2) {
		t.Fatalf("file key not made once: %x then %x", k1, k2)
	}
	sess := queued("s1", at(0))
	sess.State = chat.Active
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess}}))

	f := store.FileRow{ID: "f1", Session: "s1", Channel: "support", Uploader: "visitor", Name: "shot.png", Created: at(time.Second)}
	must(t, s.BeginFile(ctx, f))
	if err := s.BeginFile(ctx, f); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second begin of one file: %v, want ErrExists", err)
	}
	got, err := s.File(ctx, "f1")
	must(t, err)
	if got.State != store.FilePending || got.Seq != 0 {
		t.Fatalf("begun file %+v", got)
	}
	f.State, f.Type, f.Size, f.Width, f.Height, f.SHA256, f.Stored = store.FileStored, "image/png", 1234, 640, 480, "ab12", at(2*time.Second)
	must(t, s.FinishFile(ctx, f))
	if err := s.FinishFile(ctx, f); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second finish: %v, want ErrNotFound", err)
	}
	if _, err := s.File(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown file: %v", err)
	}

	e := msg("s1", 1, at(3*time.Second), chat.ByVisitor, 0, "Vera", "c1", "")
	e.Entry.File = &chat.Attachment{ID: "f1", Name: "shot.png", Type: "image/png", Size: 1234, Width: 640, Height: 480}
	must(t, s.Apply(ctx, []chat.Effect{e}))
	entries, err := s.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(entries) != 1 || !reflect.DeepEqual(entries[0], e.Entry) {
		t.Fatalf("entry with a file read back:\n got %+v\nwant %+v", entries, e.Entry)
	}
	got, err = s.File(ctx, "f1")
	must(t, err)
	want := f
	want.Seq = 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored file:\n got %+v\nwant %+v", got, want)
	}
}

// testFilesPurge: purging by channel and age marks files purged and
// returns them once; unsent files go after their own age.
func testFilesPurge(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	fixture(t, s)
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "sales", Name: "Sales", TimeZone: "UTC"}))
	sess := queued("s1", at(0))
	sess.State = chat.Active
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess}}))
	for i, f := range []store.FileRow{
		{ID: "old", Channel: "support", Created: at(0)},
		{ID: "new", Channel: "support", Created: at(48 * time.Hour)},
		{ID: "sales", Channel: "sales", Created: at(0)},
		{ID: "sent", Channel: "support", Created: at(0)},
	} {
		f.Session, f.Uploader, f.Name = "s1", "agent:1", "a.txt"
		must(t, s.BeginFile(ctx, f))
		f.State, f.Stored = store.FileStored, f.Created
		must(t, s.FinishFile(ctx, f))
		_ = i
	}
	e := msg("s1", 1, at(time.Minute), chat.ByAgent, 1, "Anna", "c1", "here")
	e.Entry.File = &chat.Attachment{ID: "sent", Name: "a.txt", Type: "text/plain", Size: 3}
	must(t, s.Apply(ctx, []chat.Effect{e}))

	unsent, err := s.PurgeUnsent(ctx, at(time.Hour))
	must(t, err)
	if ids := fileIDs(unsent); !reflect.DeepEqual(ids, []string{"old", "sales"}) {
		t.Fatalf("unsent purged %v, want old and sales", ids)
	}
	purged, err := s.PurgeFiles(ctx, "support", at(24*time.Hour))
	must(t, err)
	if ids := fileIDs(purged); !reflect.DeepEqual(ids, []string{"sent"}) {
		t.Fatalf("purged %v, want sent (old was purged already)", ids)
	}
	for id, state := range map[string]string{"old": store.FilePurged, "sent": store.FilePurged, "new": store.FileStored} {
		f, err := s.File(ctx, id)
		must(t, err)
		if f.State != state {
			t.Fatalf("file %s is %s, want %s", id, f.State, state)
		}
	}
	all, err := s.PurgeFiles(ctx, "", at(72*time.Hour))
	must(t, err)
	if ids := fileIDs(all); !reflect.DeepEqual(ids, []string{"new"}) {
		t.Fatalf("purged in every channel %v, want new", ids)
	}
}

// testChannelFileRules: a channel's attachment limits round-trip, and a
// type browsers run is refused.
func testChannelFileRules(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "a", Name: "A", TimeZone: "UTC", FileMaxBytes: 2048, FileTypes: []string{"pdf", "image/png"}}))
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "b", Name: "B", TimeZone: "UTC"}))
	if err := s.PutChannel(ctx, store.ChannelRow{Key: "c", Name: "C", TimeZone: "UTC", FileTypes: []string{"text/html"}}); err == nil {
		t.Fatal("a channel taking HTML was stored")
	}
	snap, err := s.Load(ctx, at(0), at(0))
	must(t, err)
	rules := map[chat.ChannelID]chat.FileRules{}
	for _, c := range snap.Channels {
		rules[c.ID] = c.Files
	}
	if r := rules["a"]; r.MaxBytes != 2048 || !reflect.DeepEqual(r.Types, []string{"application/pdf", "image/png"}) {
		t.Fatalf("channel a's rules %+v", r)
	}
	if r := rules["b"]; r.MaxBytes != 10<<20 || !r.Allows("image/jpeg") || !r.Allows("application/pdf") || r.Allows("text/html") {
		t.Fatalf("channel b's default rules %+v", r)
	}
}

func fileIDs(fs []store.FileRow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}
