// Package tray is the tray icon's menu model: from what the desk knows
// (status, connection, incoming transfers, permissions, counts) it builds the
// menu items, the tooltip and which icon to show. It is pure; a thin adapter
// (package tray/native) puts the model on screen.
package tray

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Transfer is a transfer offered to this agent, waiting for an answer.
type Transfer struct {
	ID      int64
	Session string
	From    string // the sender's name
	Visitor string
	Comment string
}

// State is what the menu is built from.
type State struct {
	Status       string // present, away (the agent's choice)
	Conn         string // offline, connecting, connected, reconnecting, auth_failed
	Transfers    []Transfer
	CanDashboard bool   // listen or manage in some channel
	Chats        int    // active chats owned
	Waiting      int    // visitors waiting in the agent's channels
	Requests     int    // requests nobody has claimed yet, in the agent's channels
	Lang         string // "sv" for Swedish; anything else is English
}

// texts are the tray's words in one language.
type texts struct {
	open, present, away, dashboard, quit string
	transferFrom                         string // "Transfer from %s: %s"
	connecting, reconnecting, offline    string
	chat, chats, waiting                 string
	transfer, transfers                  string
	request, requests                    string
}

var english = texts{
	open: "Open Switchboard", present: "Present", away: "Away", dashboard: "Dashboard", quit: "Quit",
	transferFrom: "Transfer from %s: %s",
	connecting:   "connecting…", reconnecting: "reconnecting…", offline: "offline",
	chat: "chat", chats: "chats", waiting: "waiting", transfer: "transfer", transfers: "transfers",
	request: "open request", requests: "open requests",
}

var swedish = texts{
	open: "Öppna Switchboard", present: "Närvarande", away: "Borta", dashboard: "Översikt", quit: "Avsluta",
	transferFrom: "Överföring från %s: %s",
	connecting:   "ansluter…", reconnecting: "återansluter…", offline: "frånkopplad",
	chat: "chatt", chats: "chattar", waiting: "väntar", transfer: "överföring", transfers: "överföringar",
	request: "öppet ärende", requests: "öppna ärenden",
}

func textsFor(lang string) texts {
	if lang == "sv" {
		return swedish
	}
	return english
}

// Icon names one of the tray icons.
type Icon string

const (
	IconOffline  Icon = "offline"
	IconPresent  Icon = "present"
	IconAway     Icon = "away"
	IconTransfer Icon = "transfer" // a transfer waits for an answer
)

// Item IDs. Transfer items are "transfer:<id>".
const (
	IDOpen      = "open"
	IDPresent   = "present"
	IDAway      = "away"
	IDDashboard = "dashboard"
	IDQuit      = "quit"
	IDSeparator = "-"

	transferPrefix = "transfer:"
)

// Item is one menu entry.
type Item struct {
	ID        string
	Label     string
	Checkable bool // a check mark shows Checked
	Checked   bool
	Enabled   bool
}

// Separator reports whether the item is a separator line.
func (it Item) Separator() bool { return it.ID == IDSeparator }

// Menu is the whole tray: items, tooltip, icon.
type Menu struct {
	Items   []Item
	Tooltip string
	Icon    Icon
}

// maxComment keeps a transfer's menu line readable.
const maxComment = 40

// Build makes the menu for s.
func Build(s State) Menu {
	online := s.Conn == "connected"
	tx := textsFor(s.Lang)
	sep := Item{ID: IDSeparator}
	items := []Item{
		{ID: IDOpen, Label: tx.open, Enabled: true},
		sep,
		{ID: IDPresent, Label: tx.present, Checkable: true, Checked: online && s.Status == "present", Enabled: online},
		{ID: IDAway, Label: tx.away, Checkable: true, Checked: online && s.Status == "away", Enabled: online},
	}
	if len(s.Transfers) > 0 {
		items = append(items, sep)
		for _, t := range s.Transfers {
			items = append(items, Item{ID: TransferID(t.ID), Label: transferLabel(t, tx), Enabled: true})
		}
	}
	items = append(items, sep)
	if s.CanDashboard {
		items = append(items, Item{ID: IDDashboard, Label: tx.dashboard, Enabled: online})
	}
	items = append(items, Item{ID: IDQuit, Label: tx.quit, Enabled: true})
	return Menu{Items: items, Tooltip: Tooltip(s), Icon: IconFor(s)}
}

// TransferID is the item ID of a transfer.
func TransferID(id int64) string { return transferPrefix + strconv.FormatInt(id, 10) }

// ParseTransferID returns the transfer of an item ID, if it is one.
func ParseTransferID(itemID string) (int64, bool) {
	rest, ok := strings.CutPrefix(itemID, transferPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// transferLabel: "Transfer from Anna: Vera (knows the courier)".
func transferLabel(t Transfer, tx texts) string {
	from, visitor := orDash(t.From), orDash(t.Visitor)
	label := fmt.Sprintf(tx.transferFrom, from, visitor)
	if c := strings.Join(strings.Fields(t.Comment), " "); c != "" {
		if utf8.RuneCountInString(c) > maxComment {
			c = string([]rune(c)[:maxComment-1]) + "…"
		}
		label += " (" + c + ")"
	}
	return label
}

func orDash(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "?"
	}
	return s
}

// IconFor: not connected beats everything; then a waiting transfer; then
// the agent's status.
func IconFor(s State) Icon {
	switch {
	case s.Conn != "connected":
		return IconOffline
	case len(s.Transfers) > 0:
		return IconTransfer
	case s.Status == "away":
		return IconAway
	default:
		return IconPresent
	}
}

// Tooltip: "Switchboard: Present · 2 chats · 3 waiting · 1 transfer".
func Tooltip(s State) string {
	tx := textsFor(s.Lang)
	var head string
	switch s.Conn {
	case "connected":
		head = tx.present
		if s.Status == "away" {
			head = tx.away
		}
	case "connecting":
		return "Switchboard: " + tx.connecting
	case "reconnecting":
		return "Switchboard: " + tx.reconnecting
	default:
		return "Switchboard: " + tx.offline
	}
	parts := []string{"Switchboard: " + head}
	parts = append(parts, plural(s.Chats, tx.chat, tx.chats), fmt.Sprintf("%d %s", s.Waiting, tx.waiting))
	if n := len(s.Transfers); n > 0 {
		parts = append(parts, plural(n, tx.transfer, tx.transfers))
	}
	if s.Requests > 0 {
		parts = append(parts, plural(s.Requests, tx.request, tx.requests))
	}
	return strings.Join(parts, " · ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
