package widget_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// slowUploads reads upload bodies slowly, as over a real network, so that
// the browser shows its progress bar for a while.
func slowUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			r.Body = &slowReader{r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

type slowReader struct{ io.ReadCloser }

func (s *slowReader) Read(b []byte) (int, error) {
	time.Sleep(40 * time.Millisecond)
	return s.ReadCloser.Read(b[:min(len(b), 48<<10)])
}

// pasteShot pastes a noisy 640×400 screenshot (about a megabyte of PNG) into
// the message box, as a browser does with an image on the clipboard.
const pasteShot = `(() => {
  const c = document.createElement("canvas"); c.width = 640; c.height = 400;
  const g = c.getContext("2d"), d = g.createImageData(640, 400);
  for (let i = 0; i < d.data.length; i += 4) { d.data[i] = (i * 7) % 251; d.data[i + 1] = Math.random() * 255; d.data[i + 2] = 160; d.data[i + 3] = 255; }
  g.putImageData(d, 0, 0); g.fillStyle = "#24527a"; g.fillRect(40, 40, 560, 60);
  g.fillStyle = "#fff"; g.font = "28px sans-serif"; g.fillText("Error 0x80070057: the order could not be placed", 50, 80);
  return new Promise((ok) => c.toBlob((b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([b], "image.png", { type: "image/png" }));
    ok(b.size);
    window.__paste = dt;
  }, "image/png"));
})()`

func TestPasteAScreenshot(t *testing.T) {
	t.Parallel()
	d, anna, p, sid := chatWithAnna(t, "The checkout fails")
	if got := eval[string](p, sr(`return $("att").getAttribute("aria-label")`)); got != "Attach a file" {
		t.Fatalf("attach button: %q", got)
	}

	size := eval[float64](p, pasteShot)
	if size < 200_000 {
		t.Fatalf("the screenshot is only %v bytes", size)
	}
	eval[bool](p, sr(`$("msg").focus(); $("msg").dispatchEvent(new ClipboardEvent("paste", { clipboardData: window.__paste, bubbles: true, cancelable: true })); return true`))
	p.wait("the progress bar", sr(`return vis("up") && $("upn").textContent === "Uploading image.png"`))
	p.shot("file-uploading")
	seen := eval[float64](p, sr(`return new Promise((ok) => { let m = 0; const i = setInterval(() => { m = Math.max(m, $("upp").value); if (!vis("up")) { clearInterval(i); ok(m); } }, 20); })`))
	if seen <= 0 {
		t.Fatalf("the progress bar never moved (max %v)", seen)
	}
	// The thumbnail: the image itself, loaded from the relay.
	p.wait("the thumbnail", sr(`const i = $("log").querySelector(".v .th img"); return i && i.complete && i.naturalWidth === 640`))

	// Anna's side: the entry with the file, and its bytes.
	es := anna.WaitEntries(sid, 3)
	e := es[len(es)-1]
	if e.File == nil || e.File.Type != "image/png" || e.File.Width != 640 || e.From.Kind != protocol.AuthorVisitor {
		t.Fatalf("Anna got %+v", e)
	}
	var u protocol.FileURL
	anna.OK(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: e.File.ID}, &u)
	resp, body := d.Get(u.URL)
	if resp.StatusCode != 200 {
		t.Fatalf("Anna's download: %d", resp.StatusCode)
	}
	if img, err := png.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx() != 640 {
		t.Fatalf("Anna's download is not the screenshot: %v", err)
	}

	// Anna sends a PDF: the visitor sees its name, type and size.
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	slot, up := d.Attach(anna, sid, "Order 1042.pdf", pdf)
	if up.Status != http.StatusCreated {
		t.Fatalf("Anna's upload: %+v", up)
	}
	anna.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "a1", Text: "Here is your order", File: slot.File}, nil)
	p.wait("the file", sr(`const f = $("log").querySelector(".a .fl"); return f && f.innerText.includes("Order 1042.pdf") && f.innerText.includes("application/pdf")`))
	p.shot("file-chat")

	// A file of a type the channel refuses gets a clear error; nothing is sent.
	eval[bool](p, sr(`const dt = new DataTransfer(); dt.items.add(new File(["<html><script>x</script></html>"], "cat.png", { type: "image/png" }));
		$("msg").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true })); return true`))
	p.waitText("nt", "That type of file is not accepted here.")

	// The transcript lists the attachments.
	anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, nil)
	p.wait("the transcript", sr(`return vis("done") && $("dl").href.startsWith("blob:")`))
	tr := eval[string](p, sr(`return fetch($("dl").href).then((r) => r.text())`))
	for _, want := range []string{"You: [File: image.png,", "Anna: Here is your order [File: Order 1042.pdf, 77 B]"} {
		if !strings.Contains(tr, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, tr)
		}
	}
}

// dropFile drops a file of n bytes onto the chat, as a browser does with a
// file dragged from the desktop: dragover (which must be accepted), drop.
func dropFile(name, typ string, n int) string {
	return `return (() => {
  const body = new Uint8Array(` + strconv.Itoa(n) + `); const head = "%PDF-1.4\n";
  for (let i = 0; i < body.length; i++) body[i] = i < head.length ? head.charCodeAt(i) : 32 + (i % 90);
  const dt = new DataTransfer(); dt.items.add(new File([body], "` + name + `", { type: "` + typ + `" }));
  const chat = R.getElementById("chat");
  const over = new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true });
  chat.dispatchEvent(over);
  const accepted = over.defaultPrevented && chat.classList.contains("drop");
  chat.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  return accepted;
})()`
}

// A file dropped onto the chat is sent; an upload cancelled while its bar
// shows sends nothing, and the visitor can go on writing.
func TestDropAFileAndCancelAnother(t *testing.T) {
	t.Parallel()
	_, anna, p, sid := chatWithAnna(t, "Here is my invoice")
	before := len(anna.WaitEntries(sid, 2))

	if !eval[bool](p, sr(dropFile("invoice.pdf", "application/pdf", 4<<10))) {
		t.Fatal("the chat did not accept a dragged file")
	}
	p.wait("the dropped file in the log", sr(`const f = $("log").querySelector(".v .fl"); return f && f.innerText.includes("invoice.pdf")`))
	es := anna.WaitEntries(sid, uint64(before+1))
	if e := es[len(es)-1]; e.File == nil || e.File.Name != "invoice.pdf" || e.File.Type != "application/pdf" {
		t.Fatalf("Anna got %+v", e)
	}

	// A large one, read slowly by the relay (slowUploads): cancel it.
	eval[bool](p, sr(dropFile("scan.pdf", "application/pdf", 3<<20)))
	p.wait("the progress bar", sr(`return vis("up") && $("upn").textContent === "Uploading scan.pdf"`))
	p.click("upc")
	p.wait("the bar to go, the focus back in the message box", sr(`return !vis("up") && R.activeElement && R.activeElement.id === "msg"`))
	time.Sleep(500 * time.Millisecond) // a message sent anyway would have arrived by now
	if got := anna.Entries(sid); len(got) != before+1 {
		t.Fatalf("after the cancel Anna has %d entries, want %d: %+v", len(got), before+1, got[len(got)-1])
	}
	if strings.Contains(eval[string](p, sr(`return $("log").innerText`)), "scan.pdf") {
		t.Fatal("the cancelled file shows in the log")
	}
	p.keys("msg", "Sorry, wrong file")
	p.do(chromedp.KeyEvent(kb.Enter))
	if es := anna.WaitEntries(sid, uint64(before+2)); es[len(es)-1].Text != "Sorry, wrong file" {
		t.Fatalf("the next message: %+v", es[len(es)-1])
	}
}

// chatWithAnna opens the demo page in a browser, starts Vera's chat with
// question, and has Anna (an agent over the protocol) pick it up.
func chatWithAnna(t *testing.T, question string) (*desk, *relaytest.Client, *page, string) {
	t.Helper()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.startChat("Vera", "vera@example.com", question)
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "You are chatting with Anna")
	return d, anna, p, sid
}

// A file whose upload finished while the websocket was down waits, with
// its message, in the outbox (localStorage too): it survives a reload and
// is sent once the network is back.
func TestFileMessageSurvivesAReload(t *testing.T) {
	t.Parallel()
	d, anna, p, sid := chatWithAnna(t, "Photo of the damage")
	before := len(anna.WaitEntries(sid, 2))
	// The upload is slow (slowUploads); the websocket drops while it runs,
	// so its message cannot be sent when it finishes.
	eval[bool](p, sr(dropFile("damage.pdf", "application/pdf", 512<<10)))
	p.wait("the progress bar", sr(`return vis("up")`))
	d.net.cut()
	p.wait("the pending file line", sr(`const m = $("log").lastChild; return !vis("up") && m && m.classList.contains("p") && m.textContent.includes("damage.pdf")`))
	out := eval[map[string]any](p, `(() => { for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i);
		if (k.endsWith(":support:out")) return JSON.parse(localStorage.getItem(k)); } return {}; })()`)
	if len(out) != 1 {
		t.Fatalf("outbox in localStorage: %v", out)
	}
	p.do(chromedp.Reload())
	p.wait("the pending file line after a reload", sr(`const m = $("log").lastChild; return m && m.classList.contains("p") && m.textContent.includes("damage.pdf")`))
	d.net.restore()
	es := anna.WaitEntries(sid, uint64(before+1))
	if e := es[len(es)-1]; e.File == nil || e.File.Name != "damage.pdf" {
		t.Fatalf("Anna got %+v", e)
	}
	p.wait("the line to be sent", sr(`const m = $("log").lastChild; return m && !m.classList.contains("p") && m.textContent.includes("damage.pdf")`))
	if n := len(anna.Entries(sid)); n != before+1 {
		t.Fatalf("Anna has %d entries; want %d (the file once)", n, before+1)
	}
}
