package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
)

// FileSettings say where attachments live (docs/deploy.md, Attachments).
type FileSettings struct {
	Storage     string        `mapstructure:"storage"`
	Dir         string        `mapstructure:"dir"`
	UploadTTL   time.Duration `mapstructure:"upload_ttl"`
	DownloadTTL time.Duration `mapstructure:"download_ttl"`
	S3          struct {
		Endpoint      string `mapstructure:"endpoint"`
		Bucket        string `mapstructure:"bucket"`
		Prefix        string `mapstructure:"prefix"`
		Region        string `mapstructure:"region"`
		AccessKey     string `mapstructure:"access_key"`
		SecretKeyFile string `mapstructure:"secret_key_file"`
		TLS           bool   `mapstructure:"tls"`
	} `mapstructure:"s3"`
}

// storage is the configured storage, auto resolved.
func (a *app) storage() string {
	s := strings.ToLower(a.st.Files.Storage)
	if s == "" || s == "auto" {
		if open.IsPostgres(a.st.Database) {
			return "postgres"
		}
		return "disk"
	}
	return s
}

// filesDir is where storage disk keeps files.
func (a *app) filesDir() string {
	if a.st.Files.Dir != "" {
		return a.st.Files.Dir
	}
	return files.DirFor(a.st.Database)
}

// blobs opens the configured storage; done releases it.
func (a *app) blobs(ctx context.Context) (files.Blobs, func(), error) {
	switch a.storage() {
	case "disk":
		d, err := files.NewDisk(a.filesDir())
		return d, func() {}, err
	case "postgres":
		if !open.IsPostgres(a.st.Database) {
			return nil, nil, errors.New("files.storage postgres needs a postgres:// database")
		}
		pool, err := pgxpool.New(ctx, a.st.Database)
		if err != nil {
			return nil, nil, fmt.Errorf("files: %w", err)
		}
		return &files.Postgres{Pool: pool}, pool.Close, nil
	case "s3":
		c := a.st.Files.S3
		secret := ""
		if c.SecretKeyFile != "" {
			b, err := os.ReadFile(c.SecretKeyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("files.s3.secret_key_file: %w", err)
			}
			secret, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
		}
		s3, err := files.NewS3(files.S3Config{Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix, Region: c.Region,
			AccessKey: c.AccessKey, SecretKey: secret, TLS: c.TLS})
		if err != nil {
			return nil, nil, err
		}
		if err := s3.EnsureBucket(ctx); err != nil {
			return nil, nil, err
		}
		return s3, func() {}, nil
	}
	return nil, nil, fmt.Errorf("files.storage %q: use disk, postgres or s3", a.st.Files.Storage)
}

// filesService makes the service every node serves /files/ with.
func (a *app) filesService(ctx context.Context, db store.Store, cfg relay.Config, log *slog.Logger) (*files.Service, func(), error) {
	blobs, done, err := a.blobs(ctx)
	if err != nil {
		return nil, nil, err
	}
	svc, err := files.New(ctx, db, blobs, files.Options{UploadTTL: a.st.Files.UploadTTL, DownloadTTL: a.st.Files.DownloadTTL,
		CheckOrigin: relay.NewGate(cfg).OriginAllowed, Log: log})
	if err != nil {
		done()
		return nil, nil, err
	}
	return svc, done, nil
}

func (a *app) fileCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "file", Short: "Manage attachments"}
	var olderThan int
	var channel string
	purge := &cobra.Command{
		Use:   "purge",
		Short: "Delete attachments older than N days (of one channel, or of all); their messages stay, without the file",
		Args:  cobra.NoArgs,
		RunE: a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
			if olderThan < 0 {
				return errors.New("--older-than must be 0 or more days")
			}
			blobs, done, err := a.blobs(ctx)
			if err != nil {
				return err
			}
			defer done()
			before := time.Now().AddDate(0, 0, -olderThan)
			n, err := files.Purge(ctx, db, blobs, chat.ChannelID(channel), before)
			if err != nil {
				return err
			}
			where := "every channel"
			if channel != "" {
				where = "channel " + channel
			}
			fmt.Fprintf(out, "%d files older than %d days purged in %s\n", n, olderThan, where)
			return nil
		}),
	}
	purge.Flags().IntVar(&olderThan, "older-than", 0, "days: files made before then are deleted (required)")
	purge.Flags().StringVar(&channel, "channel", "", "only this channel's files")
	purge.MarkFlagRequired("older-than")
	cmd.AddCommand(purge)
	return cmd
}

// backupFiles copies the files directory next to a backup of a SQLite
// database (FILE-files); files stored in PostgreSQL are in the database's
// own backup, and an object store is backed up by its own means.
func (a *app) backupFiles(dst string, out io.Writer) error {
	if a.storage() != "disk" {
		fmt.Fprintf(out, "attachments are stored in %s: back them up with it (docs/deploy.md)\n", a.storage())
		return nil
	}
	src := a.filesDir()
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	target := files.DirFor(dst)
	n := 0
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "tmp" && d.IsDir() {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(target, rel), 0o700)
		}
		n++
		return copyFile(p, filepath.Join(target, rel))
	})
	if err != nil {
		return fmt.Errorf("backup files: %w", err)
	}
	fmt.Fprintf(out, "%d attachments copied to %s\n", n, target)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return errors.Join(out.Sync(), out.Close())
}
