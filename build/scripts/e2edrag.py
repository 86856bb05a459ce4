#!/usr/bin/python3
"""A small window that offers one file for drag and drop, as a file manager
does (text/uri-list), for build/scripts/files-e2e.sh: xdotool presses the
pointer on it and moves it over the desktop app's chat.

  e2edrag.py PATH

The window is titled "drag source" and shows the file's name."""

import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

path = sys.argv[1]
uri = GLib.filename_to_uri(path, None)

win = Gtk.Window(title="drag source")
win.set_default_size(220, 120)
box = Gtk.EventBox()
label = Gtk.Label(label=path.rsplit("/", 1)[-1])
box.add(label)
win.add(box)
box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
box.drag_source_add_uri_targets()


def on_get(_w, _ctx, data, _info, _time):
    data.set_uris([uri])


def on_end(_w, _ctx):
    print("dropped", flush=True)


box.connect("drag-data-get", on_get)
box.connect("drag-end", on_end)
win.connect("destroy", Gtk.main_quit)
win.show_all()
print("ready", flush=True)
Gtk.main()
