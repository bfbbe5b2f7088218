# rxprobe — see README.md. `make demo` and `make test` are the two entry points.
SHELL   := /bin/bash
GO      ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := bin/rxprobe

.PHONY: all build demo test setup lint gotest deploy-check fuzz bench-rx bench-jitter bench-observer bench-capture bench-report-shot bench-ndr clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rxprobe

# The embedded default: veth + AF_XDP as root (installing what is missing
# first), net_null without hugepages otherwise.
demo:
	@if [ "$$(id -u)" -eq 0 ]; then bash .ci/setup --packages; \
	else echo "make demo: not root: no packages installed, no veth; rxprobe demo will run net_null with --no-huge"; fi
	@$(MAKE) --no-print-directory build
	./$(BIN) demo

# Every test, on a fresh Debian 12 machine too: as root, `setup` first
# installs what is missing and reserves and mounts what the tests need.
# Packages run one at a time (-p 1): several of them start DPDK processes
# whose poll loops share the RX CPU.
test: setup
	@$(MAKE) --no-print-directory lint gotest deploy-check

# Idempotent, one line per thing it does; nothing without root.
setup:
	@if [ "$$(id -u)" -eq 0 ]; then bash .ci/setup --packages --hugepages --shot; \
	else echo "make test: not root: nothing installed, reserved or mounted; what needs root is skipped (listed at the end)"; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@c=$$(grep -rl --include='*.go' '^import "C"' . | xargs -r -n1 dirname | sort -u); \
	if [ "$$c" != "./rx/internal/dpdk" ]; then echo "import \"C\" outside rx/internal/dpdk: $$c"; exit 1; fi

# go test's own ok/FAIL lines and exit status, then one line per skip
# reason with the number of tests it skipped (internal/testsummary).
gotest:
	@$(GO) build -o bin/testsummary ./internal/testsummary
	set -o pipefail; $(GO) test -json -p 1 -count=1 ./... | bin/testsummary

# Prometheus rules (promtool check + unit tests), scrape config, dashboard.
deploy-check:
	bash deploy/check.sh

# Run each fuzzer for FUZZTIME (default 30s); new corpus entries land in
# the packages' testdata/fuzz and belong in the next commit.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Benchmarks (root, hugepages, a quiet machine): each harness is built and
# run as a binary so that its exit status survives: 0 a result, 1 a result
# below -require, 2 could not measure, 3 NOT A RESULT (LOADED machine or
# fewer than 5 rounds; the block is printed marked as such). BENCH_ARGS
# adds flags, e.g. BENCH_ARGS="-markdown /tmp/rx.md".
# rxprobe vs dpdk-testpmd rxonly on net_null: 7 rounds x 2 tools x 5 s (~2 min).
bench-rx: build
	$(GO) build -o bin/benchrx ./bench/cmd/benchrx
	bin/benchrx -rxprobe $(BIN) $(BENCH_ARGS)

# Observer effect on the RX CPU: 5 rounds x 4 scenarios x 60 s (~22 min).
bench-observer: build
	$(GO) build -o bin/benchobserver ./bench/cmd/benchobserver
	bin/benchobserver -rxprobe $(BIN) $(BENCH_ARGS)

# The RX loop's gap histogram next to oslat on the same CPU: 5 rounds x 3
# runs x 30 s (~8 min).
bench-jitter: build
	$(GO) build -o bin/benchjitter ./bench/cmd/benchjitter
	bin/benchjitter -rxprobe $(BIN) $(BENCH_ARGS)

# Capture vs the disk's O_DIRECT bandwidth, dpdk-dumpcap and tcpdump on a
# veth feed, and capture's cost on the RX loop: a search per tool x frame
# size x target, then 5 rounds (~14 min). Installs tcpdump and fio first
# if missing (bench only). BENCH_ARGS=-quick: a smoke run (~4 min).
bench-capture: build
	.ci/setup --bench-packages
	$(GO) build -o bin/benchcapture ./bench/cmd/benchcapture
	bin/benchcapture -rxprobe $(BIN) $(BENCH_ARGS)

# A headless-Chromium screenshot of a `rxprobe bench ndr` report: DIR/index.png
# from DIR/index.html, SHOT_WIDTH CSS pixels wide (1600: two plots a row),
# failing if a plot does not render. Installs the npm packages of bench/shot
# (Chromium from npm, puppeteer-core) into ~/.cache/rxprobe-shot the first
# time (needs node and npm, not root).
DIR ?= bench/ndr/testdata/example
SHOT_WIDTH ?= 1600
bench-report-shot:
	@bash bench/shot/install.sh
	node bench/shot/shot.js $(DIR)/index.html $(DIR)/index.png $(SHOT_WIDTH)

# The NDR harness on bench/scenarios/veth-quick.yaml: 5 rounds x (an MLR
# search with the latency phase + a binary search), order alternating
# (~15 min): agreement of the NDRs, their 5 repeats, trials and time per
# algorithm, latency at 10/50/90 % of the PDR.
bench-ndr: build
	$(GO) build -o bin/benchndr ./bench/cmd/benchndr
	bin/benchndr -rxprobe $(BIN) $(BENCH_ARGS)

clean:
	rm -rf bin
