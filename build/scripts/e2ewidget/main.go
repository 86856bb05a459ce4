// Command e2ewidget is the visitor of build/scripts/requests-e2e.sh: it
// opens the relay's demo page in headless Chromium, fills the widget's
// offline form (the channel has nobody Present) and sends it, then prints
//
//	ok NUMBER
//
// with the request number the thank-you shows, or "err reason". With -shot
// it saves a screenshot of the thank-you.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	page := flag.String("url", "", "the demo page, http://HOST:PORT/demo?channel=support")
	name := flag.String("name", "", "the visitor's name")
	email := flag.String("email", "", "the visitor's e-mail")
	question := flag.String("question", "", "the message")
	shot := flag.String("shot", "", "a PNG of the thank-you")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the browser")
	timeout := flag.Duration("timeout", 45*time.Second, "for the whole visit")
	flag.Parse()
	n, err := visit(*page, *name, *email, *question, *shot, *chromium, *timeout)
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	fmt.Println("ok", n)
}

// sr wraps a function body that reaches into the widget's shadow root.
func sr(body string) string {
	return `(() => { const host = document.querySelector("switchboard-widget"); const R = host && host.shadowRoot;
		if (!R) return null; const $ = (id) => R.getElementById(id); const vis = (id) => $(id) && $(id).getClientRects().length > 0;
		` + body + ` })()`
}

func node(id string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector("switchboard-widget").shadowRoot.getElementById(` + strconv.Quote(id) + `)`)
}

func visit(page, name, email, question, shot, chromium string, timeout time.Duration) (string, error) {
	dir, err := os.MkdirTemp("", "e2ewidget-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(dir), chromedp.WindowSize(1000, 760),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		return "", fmt.Errorf("start %s: %w", chromium, err)
	}
	base := ctx
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	defer cancelT()
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(page),
		poll(sr(`return vis("l")`)),
		chromedp.Click(node("l")),
		poll(sr(`return vis("fn")`)),
		chromedp.SendKeys(node("fn"), name),
		chromedp.SendKeys(node("fm"), email),
		chromedp.SendKeys(node("fq"), question),
		chromedp.Click(node("fs")),
		poll(sr(`return vis("ty") && /\d/.test($("tyn").textContent)`)),
	)
	if err != nil {
		sctx, cancel := context.WithTimeout(base, 3*time.Second)
		defer cancel()
		shows, _ := chromedp.Run(sctx, chromedp.Evaluate[string](sr(`return $("p").hidden ? "(closed)" : $("p").innerText`)))
		return "", fmt.Errorf("the offline form: %w; the widget shows %q", err, shows)
	}
	thanks, err := chromedp.Run(ctx, chromedp.Evaluate[string](sr(`return $("tyn").textContent + " " + $("tym").textContent`)))
	if err != nil {
		return "", err
	}
	if shot != "" {
		_ = chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(shot, png, 0o644)
		}
	}
	n := regexp.MustCompile(`\d+`).FindString(thanks)
	if n == "" {
		return "", fmt.Errorf("no number in the thank-you %q", thanks)
	}
	fmt.Fprintln(os.Stderr, "the widget says:", thanks)
	return n, nil
}
