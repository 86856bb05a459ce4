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

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"switchboard/backend/cluster"
	"switchboard/backend/files"
	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
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
	files      *files.Service // set by serve
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
		a.requestCmd(), a.fileCmd(),
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

func (a *app) openStore(ctx context.Context) (store.Store, error) {
	st, err := open.Store(ctx, a.st.Database, a.st.relayConfig(Version).StoreOptions())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", open.Redact(a.st.Database), err)
	}
	return st, nil
}

func (a *app) publicURL() string { return a.st.publicURL() }

// serve runs the relay until SIGINT or SIGTERM, then shuts down gracefully:
// stop accepting, commit what was decided, close clients with "going away".
func (a *app) serve(ctx context.Context) error {
	log := a.logger()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg := a.st.relayConfig(Version)
	svc, filesDone, err := a.filesService(ctx, db, cfg, log)
	if err != nil {
		return err
	}
	defer filesDone()
	cfg.Files, a.files = svc, svc
	go svc.Sweep(ctx)
	ln, err := net.Listen("tcp", a.st.Listen)
	if err != nil {
		return err
	}
	var desk http.Handler
	var srv *relay.Server
	var node *cluster.Node
	nodeDone := make(chan error, 1)
	if fencer, ok := db.(cluster.Fencer); ok {
		nc, err := a.connectNATS(log)
		if err != nil {
			return err
		}
		if nc != nil {
			defer nc.Close()
		}
		node = a.node(ln, fencer, log, func(term int64) (cluster.Desk, error) {
			c := cfg
			c.Role, c.Term = "leader", term
			if nc != nil {
				c.NATS = func() string {
					if nc.IsConnected() {
						return "ok"
					}
					return "unreachable"
				}
			}
			s, err := relay.New(c, db, log)
			if err != nil {
				return nil, err
			}
			s.Start()
			return s, nil
		})
		node.NATS, node.Gate = nc, relay.NewGate(cfg)
		desk = node.Handler()
		go func() { nodeDone <- node.Run(ctx) }()
	} else {
		if srv, err = relay.New(cfg, db, log); err != nil {
			return err
		}
		desk = srv.Handler()
		srv.Start()
	}
	hs := cfg.HTTPServer(a.handler(desk))
	errc := make(chan error, 1)
	go func() {
		if a.st.TLS.Cert != "" {
			errc <- hs.ServeTLS(ln, a.st.TLS.Cert, a.st.TLS.Key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("relay listening", "addr", ln.Addr().String(), "database", open.Redact(a.st.Database), "version", Version,
		"tls", a.st.TLS.Cert != "", "widget", a.publicURL()+"/widget.js")
	select {
	case err := <-errc:
		return err
	case err := <-nodeDone:
		if err != nil {
			return err
		}
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx) // stop accepting; websockets are hijacked and closed below
	if node != nil {
		stop() // the node steps down: its desk is shut down, the lease released
		<-nodeDone
	} else if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	if err := db.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// handler serves the relay's endpoints (desk: the relay's handler, or a
// cluster node's) and the widget (with the demo page only when the demo is
// on).
func (a *app) handler(desk http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", widget.Handler(a.publicURL(), a.st.Demo))
	mux.Handle("/ws", desk)
	mux.Handle("/healthz", desk)
	mux.Handle("/metrics", desk)
	if a.files != nil {
		// Any node takes uploads and serves downloads: the URLs are signed
		// with the database's key, and the bytes are where every node reads.
		mux.Handle(files.Prefix, a.files.Handler())
	}
	return mux
}

// connectNATS connects to the cluster's NATS servers, if configured. The
// node starts even while they are unreachable and keeps trying: it takes
// no lease and no clients meanwhile.
func (a *app) connectNATS(log *slog.Logger) (*nats.Conn, error) {
	if a.st.NATS == "" {
		return nil, nil
	}
	nc, err := nats.Connect(a.st.NATS, nats.Name("switchboard "+a.st.Cluster.Node),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.PingInterval(time.Second), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("cluster: NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("cluster: NATS connected", "server", c.ConnectedUrlRedacted()) }))
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", a.st.NATS, err)
	}
	return nc, nil
}

// node makes this relay a node of a cluster on the shared database: it
// leads the desk while it holds the lease (docs/cluster.md).
func (a *app) node(ln net.Listener, f cluster.Fencer, log *slog.Logger, lead func(int64) (cluster.Desk, error)) *cluster.Node {
	name := a.st.Cluster.Node
	if name == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		name = host + ":" + port
	}
	return &cluster.Node{DSN: a.st.Database, Name: name, Fencer: f, Lead: lead, Log: log}
}

func (a *app) checkConfig(cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	if f := a.v.ConfigFileUsed(); f != "" {
		fmt.Fprintln(out, "config file:", f)
	} else {
		fmt.Fprintln(out, "config file: none (defaults, environment and flags)")
	}
	for _, s := range settingsTable() {
		v := a.v.Get(s.key)
		if s.key == "database" {
			v = open.Redact(a.st.Database)
		}
		fmt.Fprintf(out, "%-20s %v\n", s.key, v)
	}
	if open.IsPostgres(a.st.Database) {
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		version, err := open.Reach(ctx, a.st.Database)
		if err != nil {
			return fmt.Errorf("database %s: %w", open.Redact(a.st.Database), err)
		}
		fmt.Fprintln(out, "database reachable:", version)
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
			db, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "backup written to", args[0])
			if err := a.backupFiles(args[0], cmd.OutOrStdout()); err != nil {
				return err
			}
			return nil
		},
	}
}
