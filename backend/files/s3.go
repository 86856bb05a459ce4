package files

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config reaches an S3-compatible object store.
type S3Config struct {
	Endpoint  string // host:port
	Bucket    string
	Prefix    string // put before every object's name, e.g. "switchboard/"
	AccessKey string
	SecretKey string
	Region    string
	TLS       bool
}

// S3 keeps files as objects; a successful PutObject is durable.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
}

// NewS3 connects to the object store (path-style, which every
// S3-compatible server speaks).
func NewS3(cfg S3Config) (*S3, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.TLS,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("files: s3: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// EnsureBucket makes the bucket if it does not exist.
func (s *S3) EnsureBucket(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("files: s3: %w", err)
	}
	if !ok {
		if err := s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("files: s3: %w", err)
		}
	}
	return nil
}

// Put uploads a file.
func (s *S3) Put(ctx context.Context, id string, r io.Reader, size int64) error {
	_, err := s.c.PutObject(ctx, s.bucket, s.prefix+id, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("files: s3 put: %w", err)
	}
	return nil
}

// Get downloads a file.
func (s *S3) Get(ctx context.Context, id string) (io.ReadCloser, error) {
	o, err := s.c.GetObject(ctx, s.bucket, s.prefix+id, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("files: s3 get: %w", err)
	}
	if _, err := o.Stat(); err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, ErrNoBlob
		}
		return nil, fmt.Errorf("files: s3 get: %w", err)
	}
	return o, nil
}

// Delete removes a file.
func (s *S3) Delete(ctx context.Context, id string) error {
	return s.c.RemoveObject(ctx, s.bucket, s.prefix+id, minio.RemoveObjectOptions{})
}
