//go:build !desktop

package app

import "errors"

// ErrNoDesktop is returned by Run in binaries built without the desktop tag.
var ErrNoDesktop = errors.New("this binary was built without the desktop tag; rebuild with: go build -tags desktop,production")

// Run reports that this build has no desktop UI. The real Run lives in
// run_desktop.go, behind the desktop build tag, so that `go test ./...`
// and `go vet ./...` need neither cgo nor WebKitGTK.
func Run(Options) error { return ErrNoDesktop }
