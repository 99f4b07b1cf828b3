# The two commands a new user needs are `make demo` and `make test`; the rest
# serve development. Every target works on a fresh clone with only Go installed.
GO      ?= go
BIN     ?= bin/dbtlink
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/dbtlink/dbtlink/internal/cli.Version=$(VERSION)

.PHONY: build demo test lint bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dbtlink

# Starts the built-in dbt Cloud emulator, adds a connection to it, runs a job
# with live progress and downloads its artifacts into ./demo-artifacts.
demo: build
	./scripts/demo.sh $(BIN)

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

clean:
	rm -rf bin demo-artifacts
