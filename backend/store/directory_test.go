package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"switchboard/backend/chat"
)

func TestDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	must(t, s.Grant(ctx, "anna", "support", chat.PermRespond|chat.PermListen))
	must(t, s.SetAgentDisabled(ctx, "bert", true))
	d, err := s.Directory(ctx)
	must(t, err)
	v, err := s.DirectoryVersion(ctx)
	must(t, err)
	if d.Version != v {
		t.Errorf("version %d, want %d", d.Version, v)
	}
	if len(d.Channels) != 1 || d.Channels[0].ID != "support" || d.Channels[0].WarnAfter != 90*time.Second {
		t.Errorf("channels %+v", d.Channels)
	}
	if len(d.Agents) != 2 {
		t.Fatalf("agents %+v", d.Agents)
	}
	for _, a := range d.Agents {
		switch a.Login {
		case "anna":
			if a.ID != anna || a.Disabled || a.Perms["support"] != chat.PermRespond|chat.PermListen {
				t.Errorf("anna %+v", a)
			}
		case "bert":
			if !a.Disabled {
				t.Errorf("bert %+v", a)
			}
		}
	}
}

// TestPasswordChangeRevokesTokens: whoever held the old password (or a token
// got with it) is out once it changes.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, bert := fixture(t, s)
	now := time.Now()
	must(t, s.CreateToken(ctx, anna, "anna-1", time.Time{}))
	must(t, s.CreateToken(ctx, bert, "bert-1", time.Time{}))
	v0, _ := s.DirectoryVersion(ctx)
	must(t, s.SetPassword(ctx, "anna", []byte("new-hash")))
	if _, err := s.TokenAgent(ctx, "anna-1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("anna's old token after passwd: %v", err)
	}
	if id, err := s.TokenAgent(ctx, "bert-1", now); err != nil || id != bert {
		t.Errorf("bert's token: %d %v", id, err)
	}
	if v1, _ := s.DirectoryVersion(ctx); v1 == v0 {
		t.Error("a password change does not move the directory version; a relay would not notice")
	}
	if err := s.SetPassword(ctx, "nobody", []byte("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown login: %v", err)
	}
}

// TestHandoverTokensDieWithTheirParent: a token minted by a session (and the
// one its redemption issues, and further down) is revoked with it.
func TestHandoverTokensDieWithTheirParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	now := time.Now()
	later := now.Add(time.Hour)
	must(t, s.CreateToken(ctx, anna, "main", later))
	must(t, s.CreateToken(ctx, anna, "other", later))
	must(t, s.CreateHandoverToken(ctx, "main", "h1", now, now.Add(time.Minute)))
	id, err := s.RedeemToken(ctx, "h1", "dash", now, later)
	if err != nil || id != anna {
		t.Fatalf("redeem: %d %v", id, err)
	}
	if _, err := s.RedeemToken(ctx, "h1", "dash-again", now, later); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second redeem: %v", err)
	}
	// The dashboard hands on again: a grandchild.
	must(t, s.CreateHandoverToken(ctx, "dash", "h2", now, now.Add(time.Minute)))
	if _, err := s.RedeemToken(ctx, "h2", "dash2", now, later); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateHandoverToken(ctx, "h1", "h3", now, later); !errors.Is(err, ErrNotFound) {
		t.Errorf("minting from a used one-time token: %v", err)
	}
	must(t, s.RevokeToken(ctx, "main"))
	for _, h := range []string{"main", "dash", "dash2"} {
		if _, err := s.TokenAgent(ctx, h, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s still valid after its parent's logout: %v", h, err)
		}
	}
	if _, err := s.TokenAgent(ctx, "other", now); err != nil {
		t.Errorf("an unrelated session was revoked: %v", err)
	}
	if err := s.CreateHandoverToken(ctx, "main", "h4", now, later); !errors.Is(err, ErrNotFound) {
		t.Errorf("minting from a revoked token: %v", err)
	}
}
