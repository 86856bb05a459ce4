# Switchboard build and test entry points. `make help` lists the targets.
#
# Sections: setup, frontend, desktop app, tests, housekeeping. Add new
# components (the relay, packaging) as their own section and hook their
# tests into `test`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO  ?= go
NPM ?= npm

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)

# Debian 12 packages for building the desktop app (cgo, GTK, WebKitGTK 4.0)
# and for testing it headless (Xvfb, a window manager, xdotool, ImageMagick,
# D-Bus), plus Chromium for the browser tests.
DEB_PACKAGES := gcc pkg-config curl libgtk-3-dev libwebkit2gtk-4.0-dev \
	xvfb xauth xdotool imagemagick chromium dbus dbus-x11 openbox

##@ Setup

.PHONY: deps
deps: ## Install missing Debian packages (as root), or say which are missing
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || echo "$$p"; \
	done | xargs); \
	if [[ -z $$missing ]]; then echo "deps: all Debian packages are installed"; exit 0; fi; \
	if [[ $$(id -u) -ne 0 ]]; then \
		echo "deps: missing Debian packages. Install them with:"; \
		echo "  sudo apt-get install -y $$missing"; \
		exit 1; \
	fi; \
	echo "deps: installing $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y $$missing || { apt-get update && apt-get install -y $$missing; }

##@ Frontend (frontend/: Vite + Svelte + TypeScript)

FRONTEND_DEPS := frontend/node_modules/.package-lock.json
FRONTEND_SRC  := $(shell find frontend/src -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/svelte.config.js frontend/tsconfig.json

# npm ci writes node_modules/.package-lock.json, so it is newer than the
# lock file until the lock file changes.
$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	@touch $@

frontend/dist/index.html: $(FRONTEND_DEPS) $(FRONTEND_SRC)
	cd frontend && $(NPM) run build

.PHONY: frontend
frontend: frontend/dist/index.html ## Install npm packages if needed and build frontend/dist

##@ Desktop app

DESKTOP_BIN  := build/bin/switchboard
DESKTOP_TAGS := desktop,production
LDFLAGS      := -s -w -X switchboard/app.Version=$(VERSION)

.PHONY: desktop
desktop: frontend ## Build the desktop app into build/bin/switchboard
	CGO_ENABLED=1 $(GO) build -tags $(DESKTOP_TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(DESKTOP_BIN) .
	@echo "desktop: $(DESKTOP_BIN) $(VERSION)"

.PHONY: icons
icons: ## Redraw build/appicon.png and build/windows/icon.ico (ImageMagick)
	build/scripts/make-icons.sh

##@ Relay (backend/)

RELAY_BIN     := build/bin/switchboard-relay
RELAY_LDFLAGS := -s -w -X main.Version=$(VERSION)
RUN_DIR       := build/run
RUN_ADDR      ?= 127.0.0.1:8080
DEMO_PASSWORD ?= switchboard-demo

.PHONY: relay
relay: ## Build the relay into build/bin/switchboard-relay (pure Go)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(RELAY_LDFLAGS)" -o $(RELAY_BIN) ./backend/cmd/relay
	@echo "relay: $(RELAY_BIN) $(VERSION)"

.PHONY: run
run: deps desktop relay ## Run the relay (demo data in build/run) and the agent app; Ctrl+C stops both
	build/scripts/run-demo.sh $(RELAY_BIN) $(DESKTOP_BIN) $(RUN_DIR) $(RUN_ADDR) $(DEMO_PASSWORD)

##@ Tests

.PHONY: test
test: frontend desktop relay test-frontend test-go test-dbus test-fuzz test-desktop-smoke ## Build everything and run every test

FUZZTIME ?= 5s

.PHONY: test-fuzz
test-fuzz: ## Run each fuzz target briefly (FUZZTIME=5s)
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME) ./backend/protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzDesk$$' -fuzztime $(FUZZTIME) ./backend/chat/

.PHONY: bench
bench: ## Run the relay's and the store's benchmarks
	$(GO) test -run '^$$' -bench . -benchtime 1000x ./backend/relay/ ./backend/store/

.PHONY: test-frontend
test-frontend: $(FRONTEND_DEPS) ## Type-check the UI and run its Vitest tests
	cd frontend && $(NPM) run check
	cd frontend && $(NPM) test

.PHONY: test-go
test-go: ## go vet and go test -race over the whole module
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race ./...

# The tray and notifications over a private session bus: the test owns the
# tray host and the notification server itself. Once plainly (GetLayout, as
# a tray host reads the menu) and once under the race detector.
.PHONY: test-dbus
test-dbus: ## Tray and notification tests on a private D-Bus session (dbus-run-session)
	dbus-run-session -- $(GO) test -count=1 -run DBus ./app/...
	CGO_ENABLED=1 dbus-run-session -- $(GO) test -count=1 -race -run DBus ./app/...

.PHONY: test-app
test-app: ## The desktop app's Go side only (go test -race ./app/...)
	CGO_ENABLED=1 $(GO) test -race ./app/...

.PHONY: test-desktop-smoke
test-desktop-smoke: desktop ## Launch the built app under Xvfb and screenshot it to build/smoke.png
	build/scripts/desktop-smoke.sh $(DESKTOP_BIN) build/smoke.png

##@ Housekeeping

.PHONY: clean
clean: ## Remove build outputs (keeps node_modules)
	rm -rf build/bin build/smoke.png build/smoke.log
	find frontend/dist -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

.PHONY: help
help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) } \
		/^[a-zA-Z0-9_-]+:.*## / { printf "  %-20s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
