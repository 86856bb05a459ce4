package baseline

import (
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The durable hub stores a message before its ack and before its receivers
// get it, and delivers a chat's messages in seq order.
func TestDurableHubCommitsBeforeAck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "durable.db")
	hub, err := NewDurable(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	agent, _, err := websocket.DefaultDialer.Dial(url+"?chat=7&role=agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	vis, _, err := websocket.DefaultDialer.Dial(url+"?chat=7&role=visitor", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer vis.Close()
	time.Sleep(50 * time.Millisecond) // the agent's registration runs after its upgrade

	reader, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	stored := func(cid string) bool {
		var n int
		_ = reader.QueryRow("SELECT count(*) FROM entries WHERE chat = '7' AND client_id = ?", cid).Scan(&n)
		return n == 1
	}
	const n = 50
	for i := 1; i <= n; i++ {
		cmd := fmt.Sprintf(`{"id":"%d","cmd":"message.send","data":{"session":"7","client_id":"c%d","text":"hi"}}`, i, i)
		if err := vis.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		var a ack
		if err := vis.ReadJSON(&a); err != nil {
			t.Fatal(err)
		}
		if !stored("c" + a.Re) {
			t.Fatalf("ack %s came before its message was stored", a.Re)
		}
		var e entry
		if err := agent.ReadJSON(&e); err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i) || e.Data.ClientID != fmt.Sprintf("c%d", i) || !stored(e.Data.ClientID) {
			t.Fatalf("entry %d: seq %d, client id %s (stored %v)", i, e.Seq, e.Data.ClientID, stored(e.Data.ClientID))
		}
	}
	var mode string
	if err := reader.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v", mode, err)
	}
}
