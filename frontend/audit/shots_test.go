package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestComposerUploadingShot pictures the composer while an attachment
// uploads (the stand-in Go side keeps it at 40 %), for the docs: the real
// app uploads a file on this machine too fast to catch. It writes
// composer-uploading.png into AUDIT_SHOTS (docs/screenshots refreshes the
// docs'), and only then.
func TestComposerUploadingShot(t *testing.T) {
	dir := os.Getenv("AUDIT_SHOTS")
	if dir == "" {
		t.Skip("AUDIT_SHOTS is not set")
	}
	p := newPage(t, 1100, 720)
	p.open("desk", "en")
	p.shows("offer-bar-item")
	p.chat("Vera")
	p.shows("attachment-thumb")
	eval[bool](p, `window.audit.attaching(), true`)
	p.wait("the upload's progress", `(document.querySelector('[data-testid=upload-progress]') || {}).value > 0`)
	p.wait("animations to end", `document.getAnimations().length === 0`)
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "composer-uploading.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
