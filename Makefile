# scale-cluster-agent: build, run and test.
GO        ?= go
BIN       := bin/scale-cluster-agent
STATE_DIR ?= .scale-cluster-agent
RUN_ARGS  ?=

.PHONY: all build run test unit race e2e replay bench apidocs vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/scale-cluster-agent

run: build
	$(BIN) run --state-dir $(STATE_DIR) $(RUN_ARGS)

# Everything: static checks, unit tests, the race detector on the concurrent packages,
# end-to-end tests with the real kubectl, the replay of a real Rancher's traffic.
test: vet unit race e2e replay

vet:
	@unformatted=$$(gofmt -l cmd internal test hack 2>/dev/null); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 10m ./internal/... ./cmd/... ./hack/...

race:
	$(GO) test -race -count=1 -timeout 10m ./internal/mockapi/... ./internal/tunnel/... ./internal/fleet/... ./internal/rancher/...

e2e: build
	SCA_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 10m ./test/e2e/...

# The recorded Rancher v2.15 traffic, replayed through the tunnel against a simulated cluster;
# REPLAY_SEQ=from-to narrows it.
replay:
	$(GO) test -count=1 -timeout 5m ./test/replay/...

bench: build
	$(GO) run ./test/bench -binary $(CURDIR)/$(BIN)

# Regenerate internal/apidocs/data from the k8s.io/kubernetes module zips of the releases
# pinned in hack/apidocs (v1.36.3 and v1.32.4).
apidocs:
	$(GO) run ./hack/apidocs

fmt:
	gofmt -w cmd internal test hack

clean:
	rm -rf bin $(STATE_DIR)
