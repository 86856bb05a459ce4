//go:build tools

// Package main pins module dependencies that are not yet imported by code.
package main

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/gorilla/websocket"
	_ "github.com/spf13/viper"
	_ "github.com/wailsapp/wails/v2"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/time/rate"
	_ "modernc.org/sqlite"
)
