#!/usr/bin/python3
"""Finds and drives controls of the running desktop app by what they are,
for build/scripts/dashboard-e2e.sh and build/scripts/desk-e2e.sh.

WebKitGTK publishes the page's accessibility tree on the AT-SPI bus: every
button, field, table row and status line with its role and accessible name
(the same names a screen reader speaks). This helper looks controls up
there, by process and by role and name, and acts on them with real input:
xdotool moves the pointer to the control's centre and clicks, or types into
the focused field. So a test says "click the button 'Listen: Vera Lind' of
the dashboard" instead of counting Tab presses or pixels.

It reads one command a line on stdin, fields separated by tabs, and answers
each with one line: "ok [value]" or "err reason".

  wait PID ROLE NAME [SECONDS]    until a visible control matches; ok X Y (its centre)
  gone PID ROLE NAME [SECONDS]    until none matches
  box PID ROLE NAME [SECONDS]     like wait; ok X Y W H (its extents on screen)
  click PID ROLE NAME [SECONDS] [IN_ROLE IN_NAME]
                                  wait, then click its centre; with IN_ROLE and IN_NAME,
                                  only a control inside that one (a dialog, a row)
  type PID ROLE NAME TEXT         click the field, select all, type TEXT
  key KEYSYM...                   xdotool key
  text PID PATTERN [SECONDS]      until some text in the window matches; ok TEXT
  focus PID ROLE NAME [SECONDS]   until the focused control matches; ok ROLE NAME
  english PID WORDS [ALLOWED]     the words of WORDS (a file, one a line) that the window
                                  shows or names (except ALLOWED, comma-separated); ok WORD...
  tabto PID ROLE NAME [MAX]       press Tab (at most MAX times, default 60) until the
                                  focused control matches: reachable by keyboard alone
  notext PID PATTERN              no text in the window matches now
  dump PID                        the tree, to stderr

ROLE is an AT-SPI role name ("push button", "entry", "table row", ...) or
"*"; NAME and PATTERN are Python regular expressions, searched in the
accessible name (NAME) or in names and text contents (PATTERN). PID is the
app's process id: each window is its own process.

Needs python3-gi and gir1.2-atspi-2.0 (Debian), an accessibility bus (the
test starts at-spi-bus-launcher) and DISPLAY.
"""

import re
import subprocess
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

DEFAULT_TIMEOUT = 45.0
POLL = 0.2


def log(*a):
    print("dashboard-e2e-ui:", *a, file=sys.stderr, flush=True)


def app_of(pid):
    desk = Atspi.get_desktop(0)
    for i in range(desk.get_child_count()):
        a = desk.get_child_at_index(i)
        if a is None:
            continue
        try:
            if a.get_process_id() == pid:
                # Nothing here runs an event loop, so cached names and
                # children would go stale: read everything afresh.
                a.clear_cache()
                return a
        except Exception:
            continue
    return None


def walk(node, depth=0):
    if node is None or depth > 80:
        return
    yield node
    try:
        n = node.get_child_count()
    except Exception:
        return
    for i in range(n):
        try:
            c = node.get_child_at_index(i)
        except Exception:
            continue
        yield from walk(c, depth + 1)


def role(n):
    try:
        return n.get_role_name()
    except Exception:
        return ""


def name(n):
    try:
        return n.get_name() or ""
    except Exception:
        return ""


def showing(n):
    """Rendered (not display:none or hidden); it may still be scrolled out
    of view, which click() deals with."""
    try:
        return n.get_state_set().contains(Atspi.StateType.VISIBLE)
    except Exception:
        return False


def extents(n):
    try:
        e = n.get_extents(Atspi.CoordType.SCREEN)
        return e.x, e.y, e.width, e.height
    except Exception:
        return None


def text_of(n):
    try:
        return Atspi.Text.get_text(n, 0, Atspi.Text.get_character_count(n)) or ""
    except Exception:
        return ""


def find(pid, want_role, pattern, scope=None):
    app = app_of(pid)
    if app is None:
        return None
    if scope:
        app = find_in(app, scope[0], scope[1])
        if app is None:
            return None
    return find_in(app, want_role, pattern)


def find_in(root, want_role, pattern):
    rx = re.compile(pattern)
    for n in walk(root):
        if want_role != "*" and role(n) != want_role:
            continue
        # A table's cell or header has its text, not a name, in WebKitGTK.
        label = name(n)
        if not label and role(n) in ("column header", "row header", "table cell"):
            label = text_of(n).replace("\ufffc", "")
        if rx.search(label) and showing(n):
            e = extents(n)
            if e and e[2] > 0 and e[3] > 0:
                return n
    return None


def focused(pid):
    """The control that has the keyboard focus in the app of pid: the
    deepest focused node (the window and the page are focused too)."""
    app = app_of(pid)
    if app is None:
        return None
    last = None
    for n in walk(app):
        try:
            if n.get_state_set().contains(Atspi.StateType.FOCUSED):
                last = n
        except Exception:
            continue
    return last


def matches(n, want_role, pattern):
    return n is not None and (want_role == "*" or role(n) == want_role) and re.search(pattern, name(n))


def poll(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"after {timeout:.0f}s: {what}")
        time.sleep(POLL)


def centre(n):
    x, y, w, h = extents(n)
    return x + w // 2, y + h // 2


def viewport(n):
    """The extents of the page (document) that holds n: what is on screen."""
    p = n
    while p is not None:
        if role(p) == "document web":
            return extents(p)
        try:
            p = p.get_parent()
        except Exception:
            return None
    return None


def centre_in(e, b):
    x, y = e[0] + e[2] // 2, e[1] + e[3] // 2
    return b[0] <= x < b[0] + b[2] and b[1] <= y < b[1] + b[3]


def inside(n):
    v, e = viewport(n), extents(n)
    if not v or not e:
        return True
    return centre_in(e, v)


def clipped(n):
    """Whether n's centre lies outside a box around it: a list that scrolls
    in its own box has scrolled it away (a popup menu may stand outside its
    box too, so this only asks for a scroll)."""
    e = extents(n)
    p = n
    while e and p is not None and role(p) != "document web":
        try:
            p = p.get_parent()
        except Exception:
            return False
        b = extents(p) if p is not None else None
        if b and b[2] > 0 and b[3] > 0 and not centre_in(e, b):
            return True
    return False


def on_screen(n):
    """Scrolls a control into view when its centre is outside the page's
    visible part (a long dashboard) or its own box's (a scrolled list)."""
    for _ in range(3):
        if inside(n) and not clipped(n):
            return
        try:
            n.scroll_to(Atspi.ScrollType.ANYWHERE)
        except Exception as e:
            log(f"could not scroll {role(n)} {name(n)!r} into view: {e}")
            return
        time.sleep(0.4)
    if not inside(n):
        raise RuntimeError(f"{role(n)} {name(n)!r} at {extents(n)} stays outside the window {viewport(n)}")


def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)


def click(n):
    on_screen(n)
    x, y = centre(n)
    xdotool("mousemove", "--sync", str(x), str(y))
    time.sleep(0.15)
    xdotool("click", "1")
    time.sleep(0.3)
    return f"{x} {y}"


def dump(pid):
    app = app_of(pid)
    if app is None:
        log(f"no application with pid {pid} on the accessibility bus")
        return

    def rec(n, d):
        if d > 60:
            return
        r, nm, txt = role(n), name(n), text_of(n).replace("\ufffc", "")
        if nm or txt.strip() or r in ("table", "table row", "dialog", "frame", "document web"):
            shown = repr(nm) + (f" text={txt[:60]!r}" if txt.strip() and txt != nm else "")
            log("  " * d + f"{r} {shown} {extents(n)}")
        try:
            k = n.get_child_count()
        except Exception:
            return
        for i in range(k):
            try:
                rec(n.get_child_at_index(i), d + 1)
            except Exception:
                pass

    rec(app, 0)


def timeout_arg(f, i):
    return float(f[i]) if len(f) > i and f[i] else DEFAULT_TIMEOUT


def shown_text(pid, rx):
    """The first name or text on screen in pid's window that rx matches."""
    app = app_of(pid)
    if app is None:
        return None
    for n in walk(app):
        for s in (name(n), text_of(n)):
            if s and rx.search(s) and showing(n):
                return s
    return None


def do(f):
    cmd = f[0]
    if cmd == "wait":
        pid, r, pat, t = int(f[1]), f[2], f[3], timeout_arg(f, 4)
        n = poll(f"no {r} matching {pat!r} in pid {pid}", lambda: find(pid, r, pat), t)
        x, y = centre(n)
        return f"{x} {y}"
    if cmd == "box":
        pid, r, pat, t = int(f[1]), f[2], f[3], timeout_arg(f, 4)
        n = poll(f"no {r} matching {pat!r} in pid {pid}", lambda: find(pid, r, pat), t)
        return " ".join(str(v) for v in extents(n))
    if cmd == "gone":
        pid, r, pat, t = int(f[1]), f[2], f[3], timeout_arg(f, 4)
        poll(f"a {r} matching {pat!r} is still there in pid {pid}", lambda: find(pid, r, pat) is None, t)
        return ""
    if cmd == "click":
        pid, r, pat, t = int(f[1]), f[2], f[3], timeout_arg(f, 4)
        scope = (f[5], f[6]) if len(f) > 6 else None
        where = f" inside the {scope[0]} {scope[1]!r}" if scope else ""
        n = poll(f"no {r} matching {pat!r}{where} to click in pid {pid}", lambda: find(pid, r, pat, scope), t)
        return click(n)
    if cmd == "type":
        pid, r, pat, text = int(f[1]), f[2], f[3], f[4]
        n = poll(f"no {r} matching {pat!r} to type in, pid {pid}", lambda: find(pid, r, pat), DEFAULT_TIMEOUT)
        click(n)
        xdotool("key", "--clearmodifiers", "ctrl+a")
        time.sleep(0.2)
        xdotool("type", "--clearmodifiers", "--delay", "30", text)
        time.sleep(0.3)
        return ""
    if cmd == "key":
        for k in f[1:]:
            xdotool("key", "--clearmodifiers", k)
            time.sleep(0.3)
        return ""
    if cmd == "text":
        pid, pat, t = int(f[1]), f[2], timeout_arg(f, 3)
        rx = re.compile(pat)
        return " ".join(poll(f"no text matching {pat!r} in pid {pid}", lambda: shown_text(pid, rx), t).split())
    if cmd == "notext":
        pid, rx = int(f[1]), re.compile(f[2])
        if app_of(pid) is None:
            raise RuntimeError(f"no window of pid {pid}")
        s = shown_text(pid, rx)
        if s is not None:
            raise RuntimeError(f"pid {pid} shows {' '.join(s.split())!r}")
        return ""
    if cmd == "focus":
        pid, r, pat, t = int(f[1]), f[2], f[3], timeout_arg(f, 4)

        def on():
            n = focused(pid)
            return n if matches(n, r, pat) else None

        try:
            n = poll(f"the focus is not on a {r} matching {pat!r}", on, t)
        except TimeoutError as e:
            n = focused(pid)
            raise TimeoutError(f"{e}; it is on {role(n)} {name(n)!r}" if n else f"{e}; nothing has it") from None
        return f"{role(n)} {name(n)}"
    if cmd == "tabto":
        pid, r, pat = int(f[1]), f[2], f[3]
        most = int(f[4]) if len(f) > 4 and f[4] else 60
        seen = []
        for _ in range(most + 1):
            n = focused(pid)
            if matches(n, r, pat):
                return f"{role(n)} {name(n)} after {len(seen)} Tab"
            seen.append(f"{role(n)} {name(n)!r}" if n else "nothing")
            xdotool("key", "--clearmodifiers", "Tab")
            time.sleep(0.25)
        raise RuntimeError(f"Tab never reached a {r} matching {pat!r}; it went {' > '.join(seen[:25])}")
    if cmd == "english":
        pid = int(f[1])
        with open(f[2], encoding="utf-8") as wf:
            listed = {w.strip() for w in wf if w.strip()}
        listed -= {w.strip().lower() for w in (f[3] if len(f) > 3 else "").split(",")}
        app = app_of(pid)
        if app is None:
            raise RuntimeError(f"no application with pid {pid}")
        found = {}
        for n in walk(app):
            if not showing(n):
                continue
            for s_ in (name(n), text_of(n).replace("\ufffc", " ")):
                for w in re.findall(r"[^\W\d_]+", s_.lower()):
                    if w in listed and w not in found:
                        found[w] = f"{w} ({role(n)} {s_[:50]!r})"
        return "; ".join(found.values())
    if cmd == "dump":
        dump(int(f[1]))
        return ""
    raise ValueError(f"unknown command {cmd!r}")


def main():
    print("ready", flush=True)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        f = line.split("\t")
        if f[0] == "quit":
            print("ok", flush=True)
            return
        try:
            out = do(f)
            print(f"ok {out}".rstrip(), flush=True)
        except Exception as e:  # one line back, whatever went wrong
            msg = " ".join(str(e).split()) or type(e).__name__
            print(f"err {msg}", flush=True)


if __name__ == "__main__":
    main()
