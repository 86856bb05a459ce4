package app

// Version is the desktop app's version. Release builds stamp it with
//
//	go build -ldflags "-X switchboard/app.Version=1.2.3" ...
//
// and the Makefile stamps it from `git describe`.
var Version = "0.0.0-dev"
