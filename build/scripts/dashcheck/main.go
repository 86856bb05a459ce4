// Command dashcheck checks on the relay what build/scripts/dashboard-e2e.sh
// did in the dashboard window: a supervisor took a chat over from its owner.
//
//	dashcheck -url ws://127.0.0.1:PORT/ws -password PW -session S -from anna -by cecilia
//
// Signed in as the supervisor it reads the session's transfer history (one
// take-over, by the supervisor, from the former owner, to the supervisor)
// and the dashboard (the supervisor owns the active chat, no transfer
// pending); signed in as the former owner, on a connection of its own, it
// reads the welcome (the chat is theirs to listen to). It prints "ok" or
// "err reason" and exits 0 or 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

func main() {
	url := flag.String("url", "", "the relay's websocket URL")
	password := flag.String("password", "", "the demo agents' password")
	session := flag.String("session", "", "the chat taken over")
	from := flag.String("from", "", "its former owner's login")
	by := flag.String("by", "", "the supervisor's login")
	flag.Parse()
	if *url == "" || *password == "" || *session == "" || *from == "" || *by == "" {
		fmt.Fprintln(os.Stderr, "dashcheck: -url, -password, -session, -from and -by are required")
		os.Exit(2)
	}
	if err := check(*url, *password, *session, *from, *by); err != nil {
		fmt.Printf("err %v\n", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}

func check(url, password, session, from, by string) error {
	sup, _, err := hello(url, by, password)
	if err != nil {
		return err
	}
	defer sup.Leave("")
	var hist []protocol.TransferInfo
	if err := sup.Do(context.Background(), protocol.CmdTransferHistory, protocol.TransferHistory{Session: session}, &hist); err != nil {
		return fmt.Errorf("transfer.history: %w", err)
	}
	var take *protocol.TransferInfo
	for i := range hist {
		if hist[i].Kind == "takeover" {
			if take != nil {
				return fmt.Errorf("two take-overs in the history of %s", session)
			}
			take = &hist[i]
		}
	}
	if take == nil {
		return fmt.Errorf("no take-over in the history of %s: %d entries", session, len(hist))
	}
	if take.State != protocol.TransferAccepted || take.By.Login != by || take.To.Login != by || take.From.Login != from || take.EndedAt == nil {
		b, _ := json.Marshal(take)
		return fmt.Errorf("take-over: want %s from %s, done: %s", by, from, b)
	}
	var db protocol.Dashboard
	if err := sup.Do(context.Background(), protocol.CmdDashboardWatch, nil, &db); err != nil {
		return fmt.Errorf("dashboard.watch: %w", err)
	}
	var found *protocol.DashSession
	for i := range db.Sessions {
		if db.Sessions[i].ID == session {
			found = &db.Sessions[i]
		}
	}
	if found == nil || found.State != protocol.StateActive || found.Owner == nil || found.Owner.Login != by || found.Transfer != "" {
		b, _ := json.Marshal(found)
		return fmt.Errorf("dashboard: %s is %s, want active and owned by %s", session, b, by)
	}
	// The former owner sees the chat in listen mode.
	c, w, err := hello(url, from, password)
	if err != nil {
		return err
	}
	defer c.Leave("")
	for _, s := range w.Sessions {
		if s.ID == session {
			if s.Role != protocol.ViewListener {
				return fmt.Errorf("%s sees %s as %q, want listener", from, session, s.Role)
			}
			return nil
		}
	}
	return fmt.Errorf("%s no longer has %s in their list", from, session)
}

const timeout = 20 * time.Second

// hello signs login in on a connection of its own; events are not needed.
func hello(url, login, password string) (*client.Conn, protocol.AgentWelcome, error) {
	var w protocol.AgentWelcome
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, _, err := client.Dial(ctx, url, client.Options{IDPrefix: "d", Timeout: timeout})
	if err != nil {
		return nil, w, err
	}
	w, err = c.HelloAgent(ctx, protocol.Hello{Login: login, Password: password, Client: "dashcheck"})
	if err != nil {
		c.Close()
		return nil, w, fmt.Errorf("hello as %s: %w", login, err)
	}
	return c, w, nil
}
