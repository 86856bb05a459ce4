package relaytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"switchboard/backend/protocol"
)

// Upload is one PUT of a file's bytes: the relay's status and answer.
type Upload struct {
	Status int
	File   protocol.FileInfo // on 201
	Error  protocol.Error    // otherwise
}

// Put PUTs body to a path the relay issued (an upload URL).
func (h *Harness) Put(path string, body []byte) Upload {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodPut, h.HTTP.URL+path, bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	out := Upload{Status: resp.StatusCode}
	b, _ := io.ReadAll(resp.Body)
	target := any(&out.Error)
	if resp.StatusCode == http.StatusCreated {
		target = &out.File
	}
	if err := json.Unmarshal(b, target); err != nil {
		h.T.Fatalf("PUT %s: %d %q", path, resp.StatusCode, b)
	}
	return out
}

// Attach asks c for an upload slot in a session and PUTs body to it.
func (h *Harness) Attach(c *Client, session, name string, body []byte) (protocol.FileSlot, Upload) {
	h.T.Helper()
	var slot protocol.FileSlot
	c.OK(protocol.CmdFileUpload, protocol.FileUpload{Session: session, Name: name, Size: int64(len(body))}, &slot)
	return slot, h.Put(slot.UploadURL, body)
}

// Get GETs a path on the relay (a download URL).
func (h *Harness) Get(path string) (*http.Response, []byte) {
	h.T.Helper()
	return Get(h.T, h.HTTP.URL+path)
}

// Get GETs a URL and reads its body.
func Get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
