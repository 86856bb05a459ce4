package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The dashboard window is a second process of this program. It signs in as
// the agent of the window that opened it without asking again, and without
// the sign-in ever appearing on a command line or in an environment (both
// are readable by other users' tools: ps, /proc/<pid>/environ, crash
// reports). The opener asks the relay for a one-time token (token.handover,
// valid 60 s, revoked on first use), starts the child with
//
//	--window=dashboard --handover-stdin --server=<relay>
//
// and writes the token as the one and only line of the child's standard
// input, then closes it. The child reads that line before its window
// opens and signs in with it when its UI starts (Desk.Resume). A dashboard
// started by hand, without --handover-stdin, shows the normal login.

// HandoverFlag tells a dashboard process to read its one-time sign-in from
// standard input.
const HandoverFlag = "--handover-stdin"

// handoverReadTimeout bounds waiting for the opener's line: an opener that
// died before writing must not keep the dashboard from starting.
const handoverReadTimeout = 10 * time.Second

// maxHandoverLine caps the line; a relay token is under 100 bytes.
const maxHandoverLine = 1024

// errNoHandover: standard input held no usable token.
var errNoHandover = errors.New("no sign-in was handed over on standard input")

// ReadHandover reads the one line an opener wrote to standard input and
// returns the token on it. It gives up after timeout (a terminal, or an
// opener that never wrote), and refuses anything that is not one short
// printable word.
func ReadHandover(r io.Reader, timeout time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		br := bufio.NewReaderSize(io.LimitReader(r, maxHandoverLine+1), maxHandoverLine+1)
		line, err := br.ReadString('\n')
		if err == io.EOF && line != "" {
			err = nil // the last line without its newline is still the line
		}
		done <- result{line, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var res result
	select {
	case res = <-done:
	case <-timer.C:
		return "", fmt.Errorf("%w (nothing arrived within %s)", errNoHandover, timeout)
	}
	if res.err != nil {
		return "", fmt.Errorf("%w: %v", errNoHandover, res.err)
	}
	tok := strings.TrimRight(res.line, "\r\n")
	if tok == "" || len(tok) > maxHandoverLine || strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return "", errNoHandover
	}
	return tok, nil
}

// dashboardArgs are the child's arguments: never the token.
func dashboardArgs(server, language string, handover bool) []string {
	args := []string{"--window=" + string(WindowDashboard)}
	if handover {
		args = append(args, HandoverFlag)
	}
	if server != "" {
		args = append(args, "--server="+server)
	}
	// The desk's language, even one given on its command line; the
	// dashboard then follows what the desk saves (config.Refresh).
	if language != "" && language != "auto" {
		args = append(args, "--language="+language)
	}
	return args
}

// selfCommand is the command that starts this executable again with args;
// its output goes where ours goes.
func selfCommand(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, nil
}

// startWithStdin starts cmd with line (if any) as the only line of its
// standard input, and reaps it when it ends. The child outlives us if it
// wants to: closing the desk does not close the dashboard.
func startWithStdin(cmd *exec.Cmd, line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("the handed-over line must not contain a newline")
	}
	var stdin io.WriteCloser
	if line != "" {
		if cmd.Stdin != nil {
			return errors.New("the command's standard input is already set")
		}
		p, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		stdin = p
	}
	if err := cmd.Start(); err != nil {
		if stdin != nil {
			_ = stdin.Close()
		}
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it
	if stdin == nil {
		return nil
	}
	// A pipe buffer holds far more than one line, so this does not wait for
	// the child to read; closing tells it there is nothing more.
	_, werr := io.WriteString(stdin, line+"\n")
	cerr := stdin.Close()
	if werr != nil {
		return fmt.Errorf("handing the sign-in to the dashboard: %w", werr)
	}
	return cerr
}

// handoverFor reads a dashboard window's handed-over sign-in, if it was
// told to. Without one the dashboard shows the login form, so a failure
// here is logged, not fatal.
func handoverFor(o Options, log interface{ Warn(string, ...any) }) string {
	if o.Window != WindowDashboard || o.Handover == nil {
		return ""
	}
	tok, err := ReadHandover(o.Handover, handoverReadTimeout)
	if err != nil {
		log.Warn("the dashboard will ask for a sign-in", "err", err)
		return ""
	}
	return tok
}

// windowTitle is the title of a window kind in a language (en, sv): the
// title bar and the task bar speak the desk's language too.
func windowTitle(w Window, lang string) string {
	if w != WindowDashboard {
		return Title
	}
	if lang == "sv" {
		return "Switchboard Översikt"
	}
	return DashboardTitle
}
