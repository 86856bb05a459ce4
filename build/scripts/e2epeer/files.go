package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"switchboard/backend/protocol"
)

// Attachments, as the widget sends and fetches them:
//
//	attach SESSION PATH     the visitor of SESSION uploads the file at PATH and
//	                        sends it; ok FILE-ID
//	fetch SESSION NAME OUT  wait until the visitor of SESSION got an agent's
//	                        entry carrying a file named NAME, download it into
//	                        OUT; ok TYPE SIZE

// httpBase is the relay's HTTP address beside its /ws.
func (p *peer) httpBase() string {
	return strings.Replace(strings.TrimSuffix(p.url, "/ws"), "ws", "http", 1)
}

func (p *peer) attach(session, path string) (string, error) {
	v := p.visitors[session]
	if v == nil {
		return "", fmt.Errorf("no visitor of %s here", session)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var slot protocol.FileSlot
	raw, err := v.call(protocol.CmdFileUpload, protocol.FileUpload{Session: session, Name: baseName(path), Size: int64(len(body))})
	if err == nil {
		err = json.Unmarshal(raw, &slot)
	}
	if err != nil {
		return "", fmt.Errorf("file.upload: %w", err)
	}
	req, err := http.NewRequest(http.MethodPut, p.httpBase()+slot.UploadURL, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("PUT: %d %s", resp.StatusCode, answer)
	}
	p.n++
	if _, err := v.call(protocol.CmdMessageSend, protocol.MessageSend{Session: session, ClientID: fmt.Sprintf("v%d", p.n), File: slot.File}); err != nil {
		return "", err
	}
	return slot.File, nil
}

func (p *peer) fetch(session, name, out string) (string, error) {
	v := p.visitors[session]
	if v == nil {
		return "", fmt.Errorf("no visitor of %s here", session)
	}
	var file *protocol.FileInfo
	got := func(e protocol.Entry) bool {
		if e.From.Kind == protocol.AuthorAgent && e.File != nil && e.File.Name == name {
			file = e.File
			return true
		}
		return false
	}
	for deadline := time.Now().Add(p.timeout); !v.saw(got); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("after %v the visitor of %s has no file %q", p.timeout, session, name)
		}
	}
	var u protocol.FileURL
	raw, err := v.call(protocol.CmdFileURL, protocol.FileURLRequest{Session: session, File: file.ID})
	if err == nil {
		err = json.Unmarshal(raw, &u)
	}
	if err != nil {
		return "", fmt.Errorf("file.url: %w", err)
	}
	resp, err := http.Get(p.httpBase() + u.URL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET: %d %s", resp.StatusCode, body)
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d", file.Type, len(body)), nil
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
