# Switchboard build and test entry points. `make help` lists the targets.
#
# Sections: setup, frontend, desktop app, relay, tests, packaging,
# housekeeping. Add new components as their own section and hook their
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
	xvfb xauth xdotool imagemagick chromium dbus dbus-x11 openbox \
	at-spi2-core python3-gi gir1.2-atspi-2.0 x11-utils postgresql haproxy nginx-light

##@ Setup

# $(call install-debs,name,packages): install the missing ones as root, or
# print the apt-get line and fail.
define install-debs
missing=$$(for p in $(2); do \
	dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || echo "$$p"; \
done | xargs); \
if [[ -z $$missing ]]; then echo "$(1): all Debian packages are installed"; exit 0; fi; \
if [[ $$(id -u) -ne 0 ]]; then \
	echo "$(1): missing Debian packages. Install them with:"; \
	echo "  sudo apt-get install -y $$missing"; \
	exit 1; \
fi; \
echo "$(1): installing $$missing"; \
export DEBIAN_FRONTEND=noninteractive; \
apt-get install -y $$missing || { apt-get update && apt-get install -y $$missing; }
endef

define newline


endef

.PHONY: deps
deps: ## Install missing Debian packages (as root), or say which are missing
	@$(call install-debs,deps,$(DEB_PACKAGES))

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

AUDIT_SRC := $(wildcard frontend/audit/*.ts frontend/audit/*.html) frontend/vite.audit.config.ts

build/audit/index.html: $(FRONTEND_DEPS) $(FRONTEND_SRC) $(AUDIT_SRC)
	cd frontend && $(NPM) exec -- vite build --config vite.audit.config.ts

.PHONY: audit-ui
audit-ui: build/audit/index.html ## Build the UI with a stand-in Go side into build/audit, for its accessibility audit (frontend/audit)

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
# The relay of `make run` listens on RUN_ADDR, or on SWITCHBOARD_LISTEN when that is set.
RUN_ADDR      ?= $(or $(SWITCHBOARD_LISTEN),127.0.0.1:8080)
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
test: check-generated frontend audit-ui desktop relay test-frontend test-go test-postgres test-schema-client test-faults test-dbus test-fuzz test-desktop-smoke test-desktop-e2e test-dashboard-e2e test-requests-e2e test-keyboard-e2e ## Build everything and run every test

# backend/protocol is the one source of the protocol: the JSON Schema
# (docs/protocol.schema.json), the UI's types (frontend/src/lib/protocol.ts)
# and the reference at the end of docs/protocol.md are generated from it.
.PHONY: generate
generate: $(FRONTEND_DEPS) ## Regenerate the protocol's schema, TypeScript types and reference tables
	$(GO) generate ./backend/protocol/

.PHONY: check-generated
check-generated: $(FRONTEND_DEPS) ## Fail when a generated protocol file is stale (run make generate)
	$(GO) run ./backend/protocol/gen -check

# A client that knows only docs/protocol.schema.json drives a real relay
# through the seed's flow and validates every frame against the schema.
.PHONY: test-schema-client
test-schema-client: relay ## Drive a demo relay with the schema-only Node client (build/scripts/schemaclient)
	build/scripts/schema-client.sh $(RELAY_BIN)

FUZZTIME ?= 5s
# Each new interesting input is minimized first, for up to a minute by
# default: a short run would spend all its time there and execute nothing.
FUZZMINIMIZE ?= 200x

.PHONY: test-fuzz
test-fuzz: ## Run each fuzz target briefly (FUZZTIME=5s)
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./backend/protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzDesk$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./backend/chat/

.PHONY: bench
bench: ## Run the relay's and the store's benchmarks
	$(GO) test -run '^$$' -bench . -benchtime 1000x ./backend/relay/ ./backend/store/

.PHONY: test-frontend
test-frontend: $(FRONTEND_DEPS) ## Type-check the UI and run its Vitest tests
	cd frontend && $(NPM) run check
	cd frontend && $(NPM) test

# Tests that need PostgreSQL (the store's conformance suite, the cluster)
# start a throw-away server of their own; here a missing one is an error,
# not a skip (make deps installs it).
export SWITCHBOARD_REQUIRE_POSTGRES ?= 1
# Likewise HAProxy and nginx, which the cluster tests put in front of it.
export SWITCHBOARD_REQUIRE_PROXIES ?= 1

.PHONY: test-go
test-go: ## go vet and go test -race over the whole module
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race ./...
	# Allocation counts mean something only without the race detector.
	$(GO) test -count=1 -run 'Allocate|ReusesItsBuffer' ./backend/relay/ ./backend/protocol/client/

.PHONY: test-postgres
test-postgres: ## The relay's and the app's tests again, on PostgreSQL instead of SQLite (a throw-away server)
	SWITCHBOARD_TEST_STORE=postgres $(GO) test -count=1 ./backend/relay/... ./backend/protocol/client/ ./app/

# test-go runs the fault tests under the race detector, which slows their
# clients, so they use fewer clients and four times the time budgets there;
# this runs the short versions again without it, against the real budgets.
.PHONY: test-faults
test-faults: ## Short fault tests without -race: kill -9 under load, slow client, reconnect storm, garbage, cluster failover (about 60 s)
	$(GO) test -count=1 -run '^Test(KillUnderLoad|SlowConsumerIsCutOffAlone|ReconnectStorm|GarbageFlood|AdminChurnUnderLoad|FullDiskUnderLoad|ClusterFailoverUnderLoad|ClusterOverNATSUnderLoad|ClusterBehindBalancers)$$' ./backend/cmd/loadgen/

SOAK_TIMEOUT ?= 30m

.PHONY: soak
soak: ## Fault tests at length (minutes): kill -9 under load, slow client, reconnect storm, garbage, cluster failover
	$(GO) test -count=1 -v -timeout $(SOAK_TIMEOUT) -run '^Test(KillUnderLoad|SlowConsumerIsCutOffAlone|ReconnectStorm|GarbageFlood|AdminChurnUnderLoad|FullDiskUnderLoad|ClusterFailoverUnderLoad|ClusterOverNATSUnderLoad|ClusterBehindBalancers)$$' \
		./backend/cmd/loadgen/ -args -soak

LOADGEN_BIN := build/bin/switchboard-loadgen

.PHONY: load
load: relay ## Measure the relay against the in-memory and the durable hub, flat out and at 12,500 deliveries/s (docs/performance.md); build/load.json, build/load.md
	$(GO) build -o $(LOADGEN_BIN) ./backend/cmd/loadgen
	$(LOADGEN_BIN) --relay-bin $(RELAY_BIN) --baseline memory,durable --rounds 3 --duration 10s \
		--latency-rate 6250 --latency-transfers 5 --json build/load.json --markdown build/load.md

.PHONY: load-cluster
load-cluster: ## What cluster mode costs: one relay on SQLite, one on PostgreSQL, three nodes on PostgreSQL and NATS, each beside the durable hub (build/cluster-load)
	build/scripts/cluster-load.sh

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

# Two app windows under Xvfb, two agents, a visitor over the protocol: a chat
# taken, transferred with a comment and accepted, checked on screen and on
# the relay; also times the start and reads the memory with 50 chats.
# E2E_OUT=dir keeps the screenshots and logs.
.PHONY: test-desktop-e2e
test-desktop-e2e: desktop relay ## Drive two agents' app windows through a transfer (Xvfb, xdotool); start time, memory; then the desk walk (offers, notifications, on-behalf texts, undo, reconnect; AT-SPI); then files (a PDF dragged in, the visitor downloads it)
	build/scripts/desktop-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)
	build/scripts/desk-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)
	build/scripts/files-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)

# Two agents' apps under Xvfb: the supervisor opens the dashboard window from
# her menu (a second process, signed in by a one-time token on its stdin),
# listens to a chat and takes it over; checked on screen (through the
# accessibility tree) and on the relay. Screenshots into build/dashboard-shots/
# (DASHBOARD_SHOTS=docs/screenshots refreshes those in the docs).
.PHONY: test-dashboard-e2e
test-dashboard-e2e: desktop relay ## Drive the supervisor dashboard window: listen, take over (Xvfb, AT-SPI)
	build/scripts/dashboard-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)

# The requests inbox: two offline messages from the widget (headless
# Chromium), anna's app lists them, she claims and answers one, and the
# e-mail arrives at a real SMTP server (STARTTLS) in the channel's language.
.PHONY: test-requests-e2e
test-requests-e2e: desktop relay ## Drive the requests inbox: offline form, answer in the app, e-mail at an SMTP server (Xvfb, AT-SPI)
	build/scripts/requests-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)

.PHONY: test-keyboard-e2e
test-keyboard-e2e: desktop relay ## The seed's flow with the keyboard alone, the focus checked at every step; again in Swedish, no English allowed (Xvfb, AT-SPI)
	build/scripts/keyboard-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)
	KBD_LANG=sv build/scripts/keyboard-e2e.sh $(DESKTOP_BIN) $(RELAY_BIN)

##@ Packaging (dist/: Linux .deb, Windows installer and MSI, relay binaries)

# One version for everything, stamped into both programs (--version, the
# app's About) and the packages; installers get numeric forms of it
# (build/scripts/version.sh). Override with `make dist VERSION=1.2.3`.
DIST_DIR    := dist
DEB_VERSION := $(shell build/scripts/version.sh deb '$(VERSION)')
WIN_VERSION := $(shell build/scripts/version.sh win '$(VERSION)')
MSI_VERSION := $(shell build/scripts/version.sh msi '$(VERSION)')

# Build tools from their own module (build/tools/go.mod pins Wails CLI
# v2.9.2 with a current golang.org/x/tools, and nfpm v2.45.2).
TOOLS_BIN := build/bin/tools
WAILS     := $(TOOLS_BIN)/wails
NFPM      := $(TOOLS_BIN)/nfpm

# Debian packages for building the packages, and for dist-test.
DIST_DEB_PACKAGES      := nsis wixl msitools imagemagick
DIST_TEST_DEB_PACKAGES := systemd curl wine64 desktop-file-utils

RELAY_PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64
relay-dist  = $(DIST_DIR)/switchboard-relay-$(VERSION)-$(1)-$(2)$(if $(filter windows,$(1)),.exe)
relay-build = CGO_ENABLED=0 GOOS=$(1) GOARCH=$(2) $(GO) build -trimpath -ldflags "$(RELAY_LDFLAGS)" \
	-o $(call relay-dist,$(1),$(2)) ./backend/cmd/relay

# SHA256SUMS over everything in dist/, rewritten by each dist target.
dist-sums = cd $(DIST_DIR) && ls | grep -vx SHA256SUMS | xargs -d '\n' sha256sum -- > SHA256SUMS

$(WAILS): build/tools/go.mod build/tools/go.sum
	cd build/tools && $(GO) build -o ../bin/tools/ github.com/wailsapp/wails/v2/cmd/wails

$(NFPM): build/tools/go.mod build/tools/go.sum
	cd build/tools && $(GO) build -o ../bin/tools/ github.com/goreleaser/nfpm/v2/cmd/nfpm

.PHONY: tools
tools: $(WAILS) $(NFPM) ## Build the packaging tools (Wails CLI, nfpm) into build/bin/tools

.PHONY: deps-dist
deps-dist: ## Install the Debian packages for dist and dist-test (as root), or say which are missing
	@$(call install-debs,deps-dist,$(DIST_DEB_PACKAGES) $(DIST_TEST_DEB_PACKAGES))

# The programs dist needs besides Go and Node; missing ones are named with
# the target that installs them, before anything is built.
DIST_TOOLS := makensis wixl msiinfo convert

.PHONY: dist-check-tools
dist-check-tools:
	@missing=$$(for t in $(DIST_TOOLS); do command -v $$t >/dev/null || echo $$t; done | xargs); \
	if [[ -n $$missing ]]; then \
		echo "dist: missing $$missing: run 'make deps-dist' (as root) first" >&2; exit 1; fi

.PHONY: dist
dist: dist-check-tools ## Build every package into dist/ (Linux, Windows, relay binaries) with SHA256SUMS
	rm -rf $(DIST_DIR)
	$(MAKE) --no-print-directory dist-relay dist-linux dist-windows
	@echo "dist: $(VERSION) (deb $(DEB_VERSION), windows $(WIN_VERSION))"; ls -l $(DIST_DIR)

.PHONY: dist-relay
dist-relay: ## Relay binaries for linux, windows, darwin on amd64 and arm64 (CGO_ENABLED=0)
	@mkdir -p $(DIST_DIR)
	$(foreach p,$(RELAY_PLATFORMS),$(call relay-build,$(word 1,$(subst /, ,$(p))),$(word 2,$(subst /, ,$(p))))$(newline))
	$(dist-sums)

.PHONY: dist-linux
dist-linux: desktop $(NFPM) ## The agent app's .deb (amd64) and the relay's .deb (amd64, arm64)
	@mkdir -p $(DIST_DIR)
	$(call relay-build,linux,amd64)
	$(call relay-build,linux,arm64)
	build/scripts/dist-linux.sh $(NFPM) $(DESKTOP_BIN) '$(DEB_VERSION)' $(DIST_DIR) $(DIST_DIR)/switchboard-relay-$(VERSION)-linux
	$(dist-sums)

# wails build -nsis compiles build/windows/installer/project.nsi (ours, not
# the Wails template); -s: the frontend is built by make; -skipbindings: the
# UI has its own typed bridge. The installer reads the version from the
# environment. The exe's own version resource comes from wails.json.
.PHONY: dist-windows
dist-windows: dist-check-tools frontend $(WAILS) ## Windows amd64: the NSIS installer (wails build -nsis) and the MSI (wixl)
	@mkdir -p $(DIST_DIR)
	SWITCHBOARD_VERSION='$(VERSION)' SWITCHBOARD_WIN_VERSION='$(WIN_VERSION)' \
		$(WAILS) build -platform windows/amd64 -nsis -s -skipbindings -m -nosyncgomod -trimpath \
		-ldflags "-X switchboard/app.Version=$(VERSION)"
	cp build/bin/switchboard-amd64-installer.exe $(DIST_DIR)/switchboard-$(VERSION)-windows-amd64-setup.exe
	build/scripts/build-msi.sh $(DIST_DIR)/switchboard-$(VERSION)-windows-amd64.msi '$(MSI_VERSION)' \
		build/bin/switchboard.exe build/windows/icon.ico
	$(dist-sums)
	@wv=$$(sed -n 's/.*"productVersion": *"\([^"]*\)".*/\1/p' wails.json); \
	if [[ $(MSI_VERSION) != 0.0.0 && $$wv != $(MSI_VERSION) ]]; then \
		echo "dist-windows: warning: wails.json productVersion $$wv differs from $(MSI_VERSION) (the exe's version resource)"; fi

# Elsewhere it only says that it needs a Mac (and builds nothing first).
.PHONY: dist-macos
ifeq ($(shell uname -s),Darwin)
dist-macos: frontend $(WAILS)
endif
dist-macos: ## On a Mac: universal .app (wails build -platform darwin/universal) in a .dmg
	build/scripts/dist-macos.sh $(WAILS) '$(VERSION)' '$(MSI_VERSION)' $(DIST_DIR)

# CI runs this as root on Debian 12 (.ci/run): it installs and removes the
# .deb files on this machine. It builds only what it installs (the relay's
# other cross-builds take minutes from a cold cache and are checked when a
# `make dist` left them in dist/).
.PHONY: dist-test
dist-test: deps-dist dist-linux dist-windows ## Install and check the packages: .debs (dpkg), relay /healthz, MSI tables, NSIS and MSI under wine
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) test -c -trimpath -o build/bin/config_windows_test.exe ./app/config
	build/scripts/dist-test.sh $(DIST_DIR) '$(VERSION)' '$(DEB_VERSION)' build/bin/config_windows_test.exe

##@ Housekeeping

.PHONY: clean
clean: ## Remove build outputs (keeps node_modules)
	rm -rf build/bin build/smoke.png build/smoke.log $(DIST_DIR) \
		build/windows/installer/wails_tools.nsh build/windows/installer/tmp
	find frontend/dist -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

.PHONY: help
help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) } \
		/^[a-zA-Z0-9_-]+:.*## / { printf "  %-20s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
