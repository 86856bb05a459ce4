//go:build !desktop

package app

import (
	"errors"
	"testing"
)

func TestRunWithoutDesktopTag(t *testing.T) {
	t.Parallel()
	if err := Run(Options{}); !errors.Is(err, ErrNoDesktop) {
		t.Fatalf("Run() = %v, want ErrNoDesktop in a build without the desktop tag", err)
	}
}
