//go:build desktop && linux

package attention

/*
#cgo pkg-config: gtk+-3.0
#include <gtk/gtk.h>

// The agent looked: the request has done its work.
static gboolean sb_focus_in(GtkWidget *w, GdkEvent *e, gpointer data) {
	gtk_window_set_urgency_hint(GTK_WINDOW(w), FALSE);
	return FALSE;
}

// Runs on GTK's main loop, the only thread that may touch windows. A window
// that already has the focus needs no hint (and would keep it until the
// next focus change).
static gboolean sb_apply(gpointer data) {
	gboolean on = GPOINTER_TO_INT(data);
	GList *all = gtk_window_list_toplevels();
	for (GList *l = all; l != NULL; l = l->next) {
		GtkWindow *w = GTK_WINDOW(l->data);
		if (gtk_window_get_window_type(w) != GTK_WINDOW_TOPLEVEL || !gtk_widget_get_visible(GTK_WIDGET(w))) {
			continue;
		}
		if (g_object_get_data(G_OBJECT(w), "switchboard-attention") == NULL) {
			g_signal_connect(w, "focus-in-event", G_CALLBACK(sb_focus_in), NULL);
			g_object_set_data(G_OBJECT(w), "switchboard-attention", GINT_TO_POINTER(1));
		}
		gtk_window_set_urgency_hint(w, on && !gtk_window_is_active(w));
	}
	g_list_free(all);
	return G_SOURCE_REMOVE;
}

static void sb_attention(int on) {
	g_idle_add(sb_apply, GINT_TO_POINTER(on));
}
*/
import "C"

// Window sets or clears the urgency hint of the app's visible GTK windows
// (WM_HINTS urgency on X11; window managers show it in the taskbar). Safe
// from any goroutine: the work is queued to GTK's main loop.
func Window(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.sb_attention(v)
}
