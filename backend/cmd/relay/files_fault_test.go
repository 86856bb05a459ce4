package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// TestKillBetweenUploadAndSend kills the relay process with SIGKILL after
// an upload was acknowledged but before its message was sent, and during
// another upload: after a restart the acknowledged file is there and can
// be sent and read; the interrupted one is visible to nobody.
func TestKillBetweenUploadAndSend(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchboard-relay")
	if out, err := exec.Command("go", "build", "-o", bin, "switchboard/backend/cmd/relay").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "switchboard.db")
	seed(t, db)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--database", db, "--listen", addr, "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if r, err := http.Get(base + "/healthz"); err == nil && r.StatusCode == 200 {
				r.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("the relay did not start")
			}
		}
	}
	proc := start()
	url := "ws://" + addr + "/ws"
	anna := relaytest.Dial(t, url, "")
	anna.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: relaytest.Password}, nil)
	vera := relaytest.Dial(t, url, "")
	vera.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	var st protocol.ChatStarted
	vera.OK(protocol.CmdChatStart, protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Invoice"}, &st)
	sid := st.Session
	deadline := time.Now().Add(5 * time.Second)
	for r := anna.Do(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}); !r.OK; r = anna.Do(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}) {
		if time.Now().After(deadline) {
			t.Fatalf("pick: %v", r.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}

	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	var done protocol.FileSlot
	vera.OK(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "acked.pdf", Size: int64(len(pdf))}, &done)
	req, _ := http.NewRequest(http.MethodPut, base+done.UploadURL, bytes.NewReader(pdf))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %v %v", resp, err)
	}
	resp.Body.Close()
	// Another upload is under way when the relay dies.
	var cut protocol.FileSlot
	vera.OK(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "cut.pdf", Size: 1 << 20}, &cut)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(append([]byte("%PDF-1.4\n"), make([]byte, 64<<10)...))
		time.Sleep(5 * time.Second)
		pw.Close()
	}()
	go func() {
		req, _ := http.NewRequest(http.MethodPut, base+cut.UploadURL, pr)
		req.ContentLength = 1 << 20
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
	proc.Wait()
	anna.Close()
	vera.Close()

	start()
	vera = relaytest.Dial(t, url, "")
	vera.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: st.Token}, nil)
	// The interrupted upload is nobody's to send or read; its bytes are gone.
	vera.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v-cut", File: cut.File}, protocol.CodeNotFound)
	if left, _ := os.ReadDir(filepath.Join(dir, "switchboard-files", "tmp")); len(left) != 0 {
		t.Fatalf("temporary files left after the restart: %v", left)
	}
	// The acknowledged one is sent now, and read intact.
	var ack protocol.MessageAck
	vera.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v-1", File: done.File}, &ack)
	anna = relaytest.Dial(t, url, "")
	anna.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: relaytest.Password}, nil)
	anna.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: cut.File}, protocol.CodeNotFound)
	var u protocol.FileURL
	anna.OK(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: done.File}, &u)
	r, body := relaytest.Get(t, base+u.URL)
	if r.StatusCode != 200 || !bytes.Equal(body, pdf) {
		t.Fatalf("after the kill: %d, %d bytes", r.StatusCode, len(body))
	}
}

// seed makes the database: a channel and an agent who answers.
func seed(t *testing.T, path string) {
	t.Helper()
	st, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC", TransferTimeout: chat.DefaultTransferTimeout}); err != nil {
		t.Fatal(err)
	}
	hash, err := relay.HashPassword(relaytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAgent(ctx, "anna", "Anna", hash); err != nil {
		t.Fatal(err)
	}
	if err := st.Grant(ctx, "anna", "support", chat.PermRespond); err != nil {
		t.Fatal(err)
	}
}
