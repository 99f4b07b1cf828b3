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

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	./scripts/bench.sh

clean:
	rm -rf bin demo-artifacts
