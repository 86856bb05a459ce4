package tray

import (
	"slices"
	"strings"
	"testing"
)

func labels(m Menu) []string {
	var out []string
	for _, it := range m.Items {
		if !it.Separator() {
			out = append(out, it.Label)
		}
	}
	return out
}

func item(t *testing.T, m Menu, id string) Item {
	t.Helper()
	i := slices.IndexFunc(m.Items, func(it Item) bool { return it.ID == id })
	if i < 0 {
		t.Fatalf("no item %q in %v", id, labels(m))
	}
	return m.Items[i]
}

func TestBuild(t *testing.T) {
	t.Parallel()
	anna := Transfer{ID: 7, Session: "s-1", From: "Anna", Visitor: "Vera", Comment: "Knows the courier"}
	bo := Transfer{ID: 9, Session: "s-2", From: "Bertil", Visitor: "Bo"}
	for _, tc := range []struct {
		name    string
		s       State
		labels  []string
		icon    Icon
		tooltip string
	}{
		{
			name:    "offline",
			s:       State{Conn: "offline"},
			labels:  []string{"Open Switchboard", "Present", "Away", "Quit"},
			icon:    IconOffline,
			tooltip: "Switchboard: offline",
		},
		{
			name:    "present",
			s:       State{Conn: "connected", Status: "present", Chats: 2, Waiting: 3},
			labels:  []string{"Open Switchboard", "Present", "Away", "Quit"},
			icon:    IconPresent,
			tooltip: "Switchboard: Present · 2 chats · 3 waiting",
		},
		{
			name:    "away with dashboard",
			s:       State{Conn: "connected", Status: "away", Chats: 1, CanDashboard: true},
			labels:  []string{"Open Switchboard", "Present", "Away", "Dashboard", "Quit"},
			icon:    IconAway,
			tooltip: "Switchboard: Away · 1 chat · 0 waiting",
		},
		{
			name: "transfers",
			s:    State{Conn: "connected", Status: "present", Transfers: []Transfer{anna, bo}},
			labels: []string{"Open Switchboard", "Present", "Away",
				"Transfer from Anna: Vera (Knows the courier)", "Transfer from Bertil: Bo", "Quit"},
			icon:    IconTransfer,
			tooltip: "Switchboard: Present · 0 chats · 0 waiting · 2 transfers",
		},
		{
			name:    "open requests",
			s:       State{Conn: "connected", Status: "present", Requests: 2, Lang: "sv"},
			labels:  []string{"Öppna Switchboard", "Närvarande", "Borta", "Avsluta"},
			icon:    IconPresent,
			tooltip: "Switchboard: Närvarande · 0 chattar · 0 väntar · 2 öppna ärenden",
		},
		{
			name:    "reconnecting hides the transfer icon",
			s:       State{Conn: "reconnecting", Status: "present", Transfers: []Transfer{anna}},
			labels:  []string{"Open Switchboard", "Present", "Away", "Transfer from Anna: Vera (Knows the courier)", "Quit"},
			icon:    IconOffline,
			tooltip: "Switchboard: reconnecting…",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := Build(tc.s)
			if got := labels(m); !slices.Equal(got, tc.labels) {
				t.Errorf("labels = %q, want %q", got, tc.labels)
			}
			if m.Icon != tc.icon {
				t.Errorf("icon = %q, want %q", m.Icon, tc.icon)
			}
			if m.Tooltip != tc.tooltip {
				t.Errorf("tooltip = %q, want %q", m.Tooltip, tc.tooltip)
			}
		})
	}
}

func TestStatusItems(t *testing.T) {
	t.Parallel()
	m := Build(State{Conn: "connected", Status: "away"})
	if p, a := item(t, m, IDPresent), item(t, m, IDAway); p.Checked || !a.Checked || !p.Enabled || !p.Checkable {
		t.Fatalf("present %+v away %+v", p, a)
	}
	// Offline: nothing to choose, nothing checked.
	m = Build(State{Conn: "offline", Status: "present"})
	if p := item(t, m, IDPresent); p.Checked || p.Enabled {
		t.Fatalf("offline present %+v", p)
	}
	if q := item(t, m, IDQuit); !q.Enabled {
		t.Fatal("Quit must always work")
	}
}

func TestTransferIDs(t *testing.T) {
	t.Parallel()
	m := Build(State{Conn: "connected", Transfers: []Transfer{{ID: 42, From: "Anna", Visitor: "Vera"}}})
	it := item(t, m, TransferID(42))
	if id, ok := ParseTransferID(it.ID); !ok || id != 42 {
		t.Fatalf("ParseTransferID(%q) = %d, %v", it.ID, id, ok)
	}
	for _, bad := range []string{IDOpen, "transfer:", "transfer:x", ""} {
		if _, ok := ParseTransferID(bad); ok {
			t.Errorf("ParseTransferID(%q) ok", bad)
		}
	}
}

func TestSwedish(t *testing.T) {
	t.Parallel()
	s := State{Conn: "connected", Status: "away", Chats: 2, Waiting: 1, CanDashboard: true, Lang: "sv",
		Transfers: []Transfer{{ID: 7, From: "Anna", Visitor: "Vera"}}}
	m := Build(s)
	want := []string{"Öppna Switchboard", "Närvarande", "Borta", "Överföring från Anna: Vera", "Översikt", "Avsluta"}
	if got := labels(m); !slices.Equal(got, want) {
		t.Errorf("labels = %q, want %q", got, want)
	}
	if m.Tooltip != "Switchboard: Borta · 2 chattar · 1 väntar · 1 överföring" {
		t.Errorf("tooltip %q", m.Tooltip)
	}
	if got := Tooltip(State{Conn: "offline", Lang: "sv"}); got != "Switchboard: frånkopplad" {
		t.Errorf("offline tooltip %q", got)
	}
}

func TestTransferLabelTrims(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ä", 100)
	got := transferLabel(Transfer{From: " ", Visitor: "Vera", Comment: "line one\nline  two " + long}, english)
	if !strings.HasPrefix(got, "Transfer from ?: Vera (line one line two ä") || !strings.HasSuffix(got, "…)") {
		t.Fatalf("label %q", got)
	}
	if n := len([]rune(got)); n > 80 {
		t.Fatalf("label has %d runes", n)
	}
}

func TestIconsArePNGs(t *testing.T) {
	t.Parallel()
	for _, i := range []Icon{IconOffline, IconPresent, IconAway, IconTransfer, "nonsense"} {
		if b := PNG(i); len(b) < 8 || string(b[1:4]) != "PNG" {
			t.Errorf("icon %q is not a PNG", i)
		}
	}
}
