// Command switchboard-relay runs the Switchboard relay and administers its
// database: agents, channels, permissions, backups.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/widget"
)

// Version is stamped at build time with -ldflags "-X main.Version=...".
var Version = "0.0.0-dev"

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// app carries what every subcommand shares.
type app struct {
	v          *viper.Viper
	configPath string
	st         Settings
}

func rootCmd() *cobra.Command {
	a := &app{v: newViper()}
	root := &cobra.Command{
		Use:           "switchboard-relay",
		Short:         "The Switchboard relay: live chat sessions, presence, queues and transfers",
		Long:          "The Switchboard relay holds chat sessions, presence, queues and transfer routing, and stores\neverything in SQLite. Settings come from flags, SWITCHBOARD_* environment variables\n(e.g. SWITCHBOARD_LISTEN, SWITCHBOARD_LIMITS_RATE) and a YAML file (--config, or relay.yaml\nin the working directory or /etc/switchboard), in that order of precedence.",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindFlags(a.v, cmd.Flags()); err != nil {
				return err
			}
			st, err := loadSettings(a.v, a.configPath)
			a.st = st
			return err
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context()) },
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (YAML); default relay.yaml in . or /etc/switchboard")
	addFlags(root.PersistentFlags())
	root.AddCommand(
		&cobra.Command{Use: "serve", Short: "Run the relay (the default)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context()) }},
		&cobra.Command{Use: "check-config", Short: "Validate the configuration and print the effective settings", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return a.checkConfig(cmd) }},
		&cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "switchboard-relay", Version) }},
		a.backupCmd(), a.agentCmd(), a.channelCmd(), a.grantCmd(), a.seedCmd(), a.snippetCmd(),
		a.requestCmd(),
	)
	return root
}

func (a *app) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(a.st.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if a.st.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stdout, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, opts))
}

func (a *app) openStore() (*store.SQLite, error) {
	st, err := store.OpenSQLiteWith(a.st.Database, a.st.relayConfig(Version).StoreOptions())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", a.st.Database, err)
	}
	return st, nil
}

func (a *app) publicURL() string { return a.st.publicURL() }

// serve runs the relay until SIGINT or SIGTERM, then shuts down gracefully:
// stop accepting, commit what was decided, close clients with "going away".
func (a *app) serve(ctx context.Context) error {
	log := a.logger()
	db, err := a.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	cfg := a.st.relayConfig(Version)
	srv, err := relay.New(cfg, db, log)
	if err != nil {
		return err
	}
	mux := a.handler(srv)
	ln, err := net.Listen("tcp", a.st.Listen)
	if err != nil {
		return err
	}
	hs := cfg.HTTPServer(mux)
	srv.Start()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if a.st.TLS.Cert != "" {
			errc <- hs.ServeTLS(ln, a.st.TLS.Cert, a.st.TLS.Key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("relay listening", "addr", ln.Addr().String(), "database", a.st.Database, "version", Version,
		"tls", a.st.TLS.Cert != "", "widget", a.publicURL()+"/widget.js")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx) // stop accepting; websockets are hijacked and closed below
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	if err := db.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// handler serves the relay's endpoints and the widget (with the demo page
// only when the demo is on).
func (a *app) handler(srv *relay.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", widget.Handler(a.publicURL(), a.st.Demo))
	mux.Handle("/ws", srv.Handler())
	mux.Handle("/healthz", srv.Handler())
	mux.Handle("/metrics", srv.Handler())
	return mux
}

func (a *app) checkConfig(cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	if f := a.v.ConfigFileUsed(); f != "" {
		fmt.Fprintln(out, "config file:", f)
	} else {
		fmt.Fprintln(out, "config file: none (defaults, environment and flags)")
	}
	for _, s := range settingsTable() {
		fmt.Fprintf(out, "%-20s %v\n", s.key, a.v.Get(s.key))
	}
	if a.st.TLS.Cert != "" {
		for _, f := range []string{a.st.TLS.Cert, a.st.TLS.Key} {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("tls: %w", err)
			}
		}
	}
	fmt.Fprintln(out, "configuration is valid")
	return nil
}

func (a *app) backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write an online, consistent copy of the database to FILE (the relay may keep running)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "backup written to", args[0])
			return nil
		},
	}
}
