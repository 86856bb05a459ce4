package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
	"switchboard/backend/widget"
)

// withStore runs f on the opened database. It names the database on stderr
// first: run from another directory, an admin command would otherwise
// quietly create and change a second, empty SQLite file.
func (a *app) withStore(f func(ctx context.Context, db store.Store, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "database: %s\n", a.databaseName())
		db, err := a.openStore(cmd.Context())
		if err != nil {
			return err
		}
		defer db.Close()
		return f(cmd.Context(), db, cmd.OutOrStdout())
	}
}

// databaseName is the database setting as messages show it: a SQLite file's
// absolute path, a PostgreSQL address without its password.
func (a *app) databaseName() string {
	if open.IsPostgres(a.st.Database) {
		return open.Redact(a.st.Database)
	}
	if abs, err := filepath.Abs(a.st.Database); err == nil {
		return abs
	}
	return a.st.Database
}

// readPassword reads a password from a file or the first line of stdin; it is
// never taken from the command line, where other users could see it.
func readPassword(file string, stdin io.Reader) (string, error) {
	var r io.Reader = stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password given: pipe it on stdin or use --password-file")
	}
	return pw, nil
}

// readPasswordHash reads a password (see readPassword) and hashes it.
func readPasswordHash(file string, stdin io.Reader) ([]byte, error) {
	pw, err := readPassword(file, stdin)
	if err != nil {
		return nil, err
	}
	return relay.HashPassword(pw)
}

func (a *app) agentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Create, disable and list agents"}
	var name, pwFile string
	add := &cobra.Command{
		Use:   "add LOGIN",
		Short: "Create an agent; the password is read from stdin or --password-file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, err := readPasswordHash(pwFile, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				n := name
				if n == "" {
					n = args[0]
				}
				id, err := db.CreateAgent(ctx, args[0], n, hash)
				if errors.Is(err, store.ErrExists) {
					return fmt.Errorf("agent %q already exists", args[0])
				}
				if err == nil {
					fmt.Fprintf(out, "agent %s created (id %d)\n", args[0], id)
				}
				return err
			})(cmd, args)
		},
	}
	add.Flags().StringVar(&name, "name", "", "display name shown to visitors (default: the login)")
	add.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file instead of stdin")

	passwd := &cobra.Command{
		Use:   "passwd LOGIN",
		Short: "Set an agent's password (stdin or --password-file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, err := readPasswordHash(pwFile, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				return notFound(db.SetPassword(ctx, args[0], hash), "agent", args[0])
			})(cmd, args)
		},
	}
	passwd.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file instead of stdin")

	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{Use: use + " LOGIN", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
					return notFound(db.SetAgentDisabled(ctx, args[0], disabled), "agent", args[0])
				})(cmd, args)
			}}
	}
	list := &cobra.Command{Use: "list", Short: "List agents and their permissions", Args: cobra.NoArgs,
		RunE: a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
			agents, err := db.ListAgents(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tLOGIN\tNAME\tSTATE\tPERMISSIONS")
			for _, ag := range agents {
				state := "enabled"
				if ag.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", ag.ID, ag.Login, ag.Name, state, permsText(ag.Perms))
			}
			return w.Flush()
		})}
	cmd.AddCommand(add, passwd, setDisabled("disable", "Disable an agent and revoke their tokens", true),
		setDisabled("enable", "Enable a disabled agent", false), list)
	return cmd
}

func notFound(err error, what, key string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no %s %q", what, key)
	}
	return err
}

func permsText(p map[chat.ChannelID]chat.Perm) string {
	keys := make([]string, 0, len(p))
	for c := range p {
		keys = append(keys, string(c))
	}
	sort.Strings(keys)
	var parts []string
	for _, c := range keys {
		parts = append(parts, c+":"+strings.Join(p[chat.ChannelID(c)].Names(), ","))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func (a *app) channelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "channel", Short: "Create, change and list channels"}
	var (
		row       store.ChannelRow
		key       string
		templates []string
		fileMaxMB int64
	)
	set := &cobra.Command{
		Use:   "set KEY",
		Short: "Create a channel, or change the options passed of an existing one",
		Long: "Create a channel, or change an existing one: only the options passed change, the others keep\ntheir values (a new channel takes the defaults shown). Opening hours look like \"mon-fri 08:00-12:00,13:00-17:00; sat 10:00-14:00\"\n" +
			"(empty = always open) in --timezone (IANA name). A transfer timeout of 0 waits for a manual cancel.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key = args[0]
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				chans, err := db.ListChannels(ctx)
				if err != nil {
					return err
				}
				row.FileMaxBytes = fileMaxMB << 20
				if fileMaxMB <= 0 {
					row.FileMaxBytes = -1
				}
				ch, created := mergeChannel(chans, chat.ChannelID(key), row, templates, cmd.Flags().Changed)
				if !slices.Contains(store.Languages, ch.Language) {
					return fmt.Errorf("language %q: use %s", ch.Language, strings.Join(store.Languages, " or "))
				}
				loc, err := time.LoadLocation(ch.TimeZone)
				if err != nil {
					return fmt.Errorf("timezone: %w", err)
				}
				if _, err := chat.ParseHours(ch.Hours, loc); err != nil {
					return err
				}
				if err := db.PutChannel(ctx, ch); err != nil {
					return err
				}
				verb := "updated"
				if created {
					verb = "created"
				}
				fmt.Fprintf(out, "channel %s %s\n", key, verb)
				return nil
			})(cmd, args)
		},
	}
	f := set.Flags()
	f.StringVar(&row.Name, "name", "", "display name (default: the key)")
	f.StringVar(&row.Hours, "hours", "", "opening hours (empty = always open)")
	f.StringVar(&row.TimeZone, "timezone", "UTC", "time zone of the opening hours")
	f.BoolVar(&row.OfflineForm, "offline-form", true, "offer the offline form when closed")
	f.DurationVar(&row.WarnAfter, "warn-after", 60*time.Second, "warn Present agents with notify when a chat waits this long (0 = never)")
	f.DurationVar(&row.ManagerWarnAfter, "manager-warn-after", 3*time.Minute, "warn managers when a chat waits this long (0 = never)")
	f.DurationVar(&row.TransferTimeout, "transfer-timeout", chat.DefaultTransferTimeout, "a pending transfer expires after this (0 = wait for cancel)")
	f.StringArrayVar(&templates, "template", nil, "a reply template (repeatable)")
	f.StringVar(&row.Language, "language", "en", "language of the e-mails visitors get from the channel: "+strings.Join(store.Languages, " or "))
	f.Int64Var(&fileMaxMB, "file-max-mb", protocol.DefaultFileMaxBytes>>20, "largest attachment in MiB (0 = attachments off)")
	f.StringSliceVar(&row.FileTypes, "file-types", nil, "attachment types allowed: image, pdf, text, office or MIME types (comma-separated; default all four classes)")

	list := &cobra.Command{Use: "list", Short: "List channels", Args: cobra.NoArgs,
		RunE: a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
			chans, err := db.ListChannels(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KEY\tNAME\tHOURS\tTZ\tOFFLINE FORM\tWARN\tMANAGER WARN\tTRANSFER TIMEOUT\tLANGUAGE")
			for _, c := range chans {
				hours := c.Hours
				if hours == "" {
					hours = "always"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\n", c.Key, c.Name, hours, c.TimeZone, c.OfflineForm,
					c.WarnAfter, c.ManagerWarnAfter, c.TransferTimeout, c.Language)
			}
			return w.Flush()
		})}
	cmd.AddCommand(set, list)
	return cmd
}

// mergeChannel is what `channel set` saves: a new channel takes every flag
// (defaults where not passed); an existing one changes only the flags that
// were passed, so `channel set support --warn-after 30s` keeps its hours.
func mergeChannel(existing []store.ChannelRow, key chat.ChannelID, flags store.ChannelRow, templates []string, changed func(string) bool) (store.ChannelRow, bool) {
	flags.Key = key
	if flags.Name == "" {
		flags.Name = string(key)
	}
	flags.Templates = templates
	i := slices.IndexFunc(existing, func(c store.ChannelRow) bool { return c.Key == key })
	if i < 0 {
		return flags, true
	}
	out := existing[i]
	for name, apply := range map[string]func(){
		"name":               func() { out.Name = flags.Name },
		"hours":              func() { out.Hours = flags.Hours },
		"timezone":           func() { out.TimeZone = flags.TimeZone },
		"offline-form":       func() { out.OfflineForm = flags.OfflineForm },
		"warn-after":         func() { out.WarnAfter = flags.WarnAfter },
		"manager-warn-after": func() { out.ManagerWarnAfter = flags.ManagerWarnAfter },
		"transfer-timeout":   func() { out.TransferTimeout = flags.TransferTimeout },
		"template":           func() { out.Templates = flags.Templates },
		"language":           func() { out.Language = flags.Language },
		"file-max-mb":        func() { out.FileMaxBytes = flags.FileMaxBytes },
		"file-types":         func() { out.FileTypes = flags.FileTypes },
	} {
		if changed(name) {
			apply()
		}
	}
	return out, false
}

func (a *app) grantCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "grant LOGIN CHANNEL [respond,notify,listen,manage]",
		Short: "Set an agent's permissions in a channel (replaces them; none = revoke)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []string
			if len(args) == 3 && args[2] != "" && args[2] != "none" {
				names = strings.Split(args[2], ",")
			}
			perms, ok := chat.ParsePerms(names)
			if !ok {
				return fmt.Errorf("permissions %q: use respond, notify, listen, manage", args[2])
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				if err := notFound(db.Grant(ctx, args[0], chat.ChannelID(args[1]), perms), "agent or channel", args[0]+"/"+args[1]); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s in %s: %s\n", args[0], args[1], strings.Join(perms.Names(), ","))
				return nil
			})(cmd, args)
		},
	}
}

// Demo accounts for `make run`; their password is the same for all and is
// printed by the seed command.
var demoAgents = []struct{ login, name, perms string }{
	{"anna", "Anna Berg", "respond,notify"},
	{"bertil", "Bertil Ek", "respond,notify"},
	{"cecilia", "Cecilia Lind", "respond,notify,listen,manage"},
}

func (a *app) seedCmd() *cobra.Command {
	var pwFile string
	cmd := &cobra.Command{
		Use:   "seed-demo",
		Short: "Create the demo channel \"support\" and demo agents anna, bertil and cecilia (a supervisor)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, err := readPasswordHash(pwFile, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				if err := db.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Customer support", TimeZone: "Europe/Stockholm",
					OfflineForm: true, WarnAfter: time.Minute, ManagerWarnAfter: 3 * time.Minute, TransferTimeout: chat.DefaultTransferTimeout,
					Templates: []string{"Hello! How can I help you today?", "Thank you for waiting.", "Is there anything else I can help you with?"}}); err != nil {
					return err
				}
				for _, d := range demoAgents {
					if _, err := db.CreateAgent(ctx, d.login, d.name, hash); err != nil && !errors.Is(err, store.ErrExists) {
						return err
					}
					perms, _ := chat.ParsePerms(strings.Split(d.perms, ","))
					if err := db.Grant(ctx, d.login, "support", perms); err != nil {
						return err
					}
				}
				fmt.Fprintln(out, "demo channel \"support\" with agents anna, bertil, cecilia (supervisor)")
				return nil
			})(cmd, args)
		},
	}
	cmd.Flags().StringVar(&pwFile, "password-file", "", "read the demo password from this file instead of stdin")
	return cmd
}

func (a *app) snippetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "snippet CHANNEL",
		Short: "Print the <script> tag that embeds the widget for a channel on a website",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), widget.Snippet(a.publicURL(), args[0]))
			return nil
		},
	}
}
