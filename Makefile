# The two commands a new user needs are `make demo` and `make test`; the rest
# serve development. Every target works on a fresh clone with only Go installed.
GO      ?= go
BIN     ?= bin/dbtlink
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/dbtlink/dbtlink/internal/cli.Version=$(VERSION)

.PHONY: build demo demo-ui test lint bench fuzz screenshots extension clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dbtlink

# Starts the built-in dbt Cloud emulator, adds a connection to it, runs a job
# with live progress and downloads its artifacts into ./demo-artifacts.
demo: build
	./scripts/demo.sh $(BIN)

# The same demo behind a running `dbtlink serve`, for the web UI: prints
# the URL and a token to log in with, serves until Ctrl-C.
demo-ui: build
	./scripts/demo-ui.sh $(BIN)

test:
	$(GO) test -timeout 6m ./...

# staticcheck is pinned so a new release cannot turn CI red on its own; it
# runs outside the module (GOFLAGS cleared), so -mod=readonly cannot refuse it.
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOFLAGS= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	./scripts/bench.sh

# Runs each artifact reader's fuzz target for FUZZTIME on one worker, the way
# they were run before issue 3 was resolved. Crashers land in
# artifacts/testdata/fuzz and then run with every `make test`.
FUZZTIME ?= 10m
fuzz:
	for t in FuzzReadManifest FuzzReadRunResults FuzzReadCatalog FuzzReadSources; do \
		$(GO) test ./artifacts/ -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; \
	done

# PNGs of the web UI's main pages for the README, taken in headless
# chromium (apt-get install -y chromium) from an in-process server on the
# emulator, like the browser tests.
screenshots:
	DBTLINK_SCREENSHOTS=$(CURDIR)/docs/screenshots DBTLINK_REQUIRE_BROWSER=1 $(GO) test ./internal/web/ -run '^TestScreenshots$$' -count=1 -v
	DBTLINK_SCREENSHOTS=$(CURDIR)/docs/screenshots DBTLINK_REQUIRE_BROWSER=1 $(GO) test ./extension/ -run '^TestExtension$$' -count=1 -v

# The browser extension (extension/) as a zip to load unpacked (after
# unzipping) or to upload to a browser's store. Only the files the browser
# reads go in; the Go tests beside them stay out.
extension:
	mkdir -p dist
	rm -f dist/dbtlink-extension.zip
	cd extension && zip -q -r -X ../dist/dbtlink-extension.zip manifest.json options.html options.js src

clean:
	rm -rf bin demo-artifacts dist
