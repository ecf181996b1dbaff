# blocktorch — the two commands: `make demo` runs the product, `make test` runs the tests.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
# geth for integration tests and benchmarks, at the go-ethereum version of go.mod.
GETH_VERSION := $(shell awk '$$1=="github.com/ethereum/go-ethereum"{print $$2}' go.mod)
GETH := $(BIN)/geth-$(GETH_VERSION)
export BLOCKTORCH_GETH := $(GETH)
# victoria-logs for the external records engine's tests (single node and cluster) and benchmarks.
VICTORIALOGS_VERSION := $(shell awk '$$1=="github.com/VictoriaMetrics/VictoriaLogs"{print $$2}' go.mod)
VICTORIALOGS := $(BIN)/victoria-logs-$(VICTORIALOGS_VERSION)
export BLOCKTORCH_VICTORIALOGS := $(VICTORIALOGS)

.PHONY: all build demo test test-short contracts contracts-deps geth victoria-logs bench-index bench-trace bench-logs bench-alert bench-patch bench-guard bench-pg bench-auth fuzz vet clean

all: build

build: ui
	$(GO) build -o $(BIN)/blocktorch ./cmd/blocktorch

## demo: embedded chain + demo app + server on http://127.0.0.1:8080
demo: ui build
	$(BIN)/blocktorch demo $(ARGS)

## test: every test, with the race detector (needs node/npm and builds geth and victoria-logs once). It builds
## the binary first: tests that run it as a process build it again from the warm build cache.
test: ui contracts-deps geth victoria-logs build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## test-short: the fast unit tests only
test-short:
	$(GO) test -short ./...

## ui: the web UI's assets (chart library, scripts, styles) into internal/web/ui/dist, embedded by go build
ui: web/ui/node_modules/.package-lock.json
	node web/ui/build.js

web/ui/node_modules/.package-lock.json: web/ui/package.json web/ui/package-lock.json
	cd web/ui && npm ci --no-audit --no-fund

CONTRACTS := internal/demo/contracts

contracts-deps: $(CONTRACTS)/node_modules/.package-lock.json

$(CONTRACTS)/node_modules/.package-lock.json: $(CONTRACTS)/package.json $(CONTRACTS)/package-lock.json
	cd $(CONTRACTS) && npm ci --no-audit --no-fund

## contracts: recompile the demo contracts into internal/demo/contracts/build, and the debugger's test builds
## (optimized, via-IR, and the failure-origin fixtures three ways) into internal/debugger/testdata (all committed)
DBG_TESTDATA := ../../debugger/testdata
# Chainlink's aggregator and proxy as published (exact pragma 0.8.26), for the oracle tests;
# internal/demo/artifacts_test.go checks the build with the same arguments.
CHAINLINK_BUILD := --src none --solc solc-0826 --out build/chainlink \
	--lib @chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol \
	--lib @chainlink/contracts/src/v0.8/data-feeds/test/helpers/DataFeedsLegacyAggregatorProxy.sol
# The Safe (singleton and proxy factory) as published in the pinned @safe-global/safe-contracts, optimized as
# Safe deploys it (unoptimized it passes the contract size limit), for the demo's 2-of-3 pauser Safe;
# internal/demo/artifacts_test.go checks the build with the same arguments.
SAFE_BUILD := --src none --optimize --out build/safe \
	--lib @safe-global/safe-contracts/contracts/Safe.sol \
	--lib @safe-global/safe-contracts/contracts/proxies/SafeProxyFactory.sol
# The demo's own contracts, with OpenZeppelin's ERC1967Proxy as published: the LendingVault runs behind it;
# internal/demo/artifacts_test.go checks the build with the same arguments.
DEMO_LIBS := --lib @openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol
# The demo's fix of its incident: a patched LendingVault (contracts/patched) beside the sources it upgrades.
PATCHED_BUILD := --src patched --out build/patched
contracts: contracts-deps
	cd $(CONTRACTS) && node compile.js $(DEMO_LIBS)
	cd $(CONTRACTS) && node compile.js $(PATCHED_BUILD)
	cd $(CONTRACTS) && node compile.js $(CHAINLINK_BUILD)
	cd $(CONTRACTS) && node compile.js $(SAFE_BUILD)
	cd $(CONTRACTS) && node compile.js $(DEMO_LIBS) --out $(DBG_TESTDATA)/demo/optimized --optimize
	cd $(CONTRACTS) && node compile.js $(DEMO_LIBS) --out $(DBG_TESTDATA)/demo/viair --optimize --via-ir
	cd $(CONTRACTS) && node compile.js --src fixtures/origin --out $(DBG_TESTDATA)/origin/plain
	cd $(CONTRACTS) && node compile.js --src fixtures/origin --out $(DBG_TESTDATA)/origin/optimized --optimize
	cd $(CONTRACTS) && node compile.js --src fixtures/origin --out $(DBG_TESTDATA)/origin/viair --optimize --via-ir

geth: $(GETH)

victoria-logs: $(VICTORIALOGS)

$(VICTORIALOGS):
	@mkdir -p $(BIN)
	@echo "building victoria-logs $(VICTORIALOGS_VERSION) from the Go module proxy (first time only, ~2 min)…"
	cd $(shell mktemp -d) && GOBIN=$(BIN) $(GO) install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)
	mv $(BIN)/victoria-logs $(VICTORIALOGS)

$(GETH):
	@mkdir -p $(BIN)
	@echo "building geth $(GETH_VERSION) from the Go module proxy (first time only, ~2 min)…"
	cd $(shell mktemp -d) && GOBIN=$(BIN) $(GO) install github.com/ethereum/go-ethereum/cmd/geth@$(GETH_VERSION)
	mv $(BIN)/geth $(GETH)

## bench-index: indexing throughput vs the naive per-receipt baseline, geth --dev and the embedded chain
bench-index: geth
	$(GO) run ./bench/index $(ARGS)

## bench-logs: log ingest and search through our HTTP API on the embedded engine vs victoria-logs' own server, same run (ARGS="-lines 1000000", -records sqlite)
bench-logs: victoria-logs
	$(GO) run ./bench/logs $(ARGS)

## bench-trace: replaying a transaction at the gas cap vs geth's debug_traceTransaction on geth --dev
bench-trace: geth
	$(GO) run ./bench/trace $(ARGS)

## bench-patch: a patch check replaying 1,000 transactions against a new implementation vs the same replays one by one through geth's debug_traceCall with state overrides, same geth --dev (ARGS="-txs N")
bench-patch: geth contracts-deps
	$(GO) run ./bench/patch $(ARGS)

## bench-pg: the relational store on PostgreSQL vs SQLite (and PostgreSQL with partitioned chain tables), same run, same chain: WriteBlocks blocks/s and the read paths p50/p95, one and parallel readers; then serve processes on geth --dev: indexing, API p50/p95 from one node and from -nodes nodes on one PostgreSQL (ARGS="-blocks 20000 -partblocks 2000 -nodes 3"; -phases store|http; -pg URL, default BLOCKTORCH_TEST_POSTGRES)
bench-pg:
	$(GO) run ./bench/pg $(ARGS)

## bench-ui: home dashboard and Explore histogram latency over 5M records (-records N for quick runs: make bench-ui ARGS="-records 500000")
bench-ui: ui
	$(GO) run ./bench/ui $(ARGS)

## bench-auth: what accounts cost a request (open server vs operator key, session cookie, API key) and a password login (ARGS="-n 2000" for a quick run)
bench-auth:
	$(GO) run ./bench/auth $(ARGS)

## bench-guard: mempool guard, pending exploit seen to pause in the pool (p50/p99 over 200 attacks, 1 s blocks, demo traffic), attacks blocked, cost per pending tx, vs the post-inclusion monitor path in the same run (ARGS="-attacks 20 -peer 5" for a quick run)
bench-guard:
	$(GO) run ./bench/guard $(ARGS)

## bench-alert: block-to-webhook alert latency (p50/p99 over 1,000 alerts) with 100 monitors, evaluation cost per block, lag with 250 ms blocks
bench-alert:
	$(GO) run ./bench/alert $(ARGS)

## fuzz: run each fuzz target for a short while
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
