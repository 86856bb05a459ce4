//go:build !desktop

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunWithoutDesktopTagExplains(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(nil, nil, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "without the desktop tag") {
		t.Fatalf("stderr = %q, want it to explain the missing desktop tag", errOut.String())
	}
}
