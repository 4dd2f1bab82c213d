# everywhere: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
BIN := bin/everywhere
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GO_BUILD := go build -ldflags "-X main.version=$(VERSION)"
BROKER_ADDR ?= 127.0.0.1:9092
HTTP_ADDR ?= 127.0.0.1:9464
DEMO_USERS ?= 5000
DEMO_SECONDS ?= 60

.PHONY: all build deps clickhouse clickhouse-stop broker engine migrate demo report stop \
	test test-unit soak cover check fmt vet bench clean

all: build

build:
	$(GO_BUILD) -o $(BIN) ./cmd/everywhere

deps:
	@dev/deps.sh

clickhouse: deps
	@dev/clickhouse.sh start

clickhouse-stop:
	@dev/clickhouse.sh stop

broker: build
	@dev/proc.sh start broker $(BIN) broker --addr $(BROKER_ADDR) --data-dir .run/broker-data
	@dev/proc.sh wait-port $(BROKER_ADDR) 30

migrate: build clickhouse
	$(BIN) migrate

engine: build broker migrate
	@dev/proc.sh start engine $(BIN) run --http-addr $(HTTP_ADDR)
	@dev/proc.sh wait-port $(HTTP_ADDR) 30

# The whole engine on real parts: dev broker, local ClickHouse, the engine
# and a simulated day of the city compressed into about a minute, then a
# report read back from ClickHouse and Kafka. Everything stays up until
# `make stop`.
demo: deps engine
	$(BIN) simulate --users $(DEMO_USERS) --duration 24h --speed $$((86400 / $(DEMO_SECONDS))) --labels .run/labels.jsonl
	@echo "waiting for the engine to catch up..."
	@for i in $$(seq 1 60); do \
		lag=$$($(BIN) report 2>/dev/null | awk '/^group .* lag/ {print $$NF}'); \
		[ "$$lag" = "0" ] && break; sleep 1; done; sleep 2
	@$(BIN) report
	@echo
	@$(BIN) score --labels .run/labels.jsonl
	@echo
	@echo "metrics:   http://$(HTTP_ADDR)/metrics   (ready: http://$(HTTP_ADDR)/readyz)"
	@echo "labels:    .run/labels.jsonl   logs: .run/engine.log .run/broker.log"
	@echo "stop with: make stop"

report: build
	@$(BIN) report

stop:
	@dev/proc.sh stop engine
	@dev/proc.sh stop broker
	@dev/clickhouse.sh stop

# vet, then every test with the race detector, unit and integration, against
# the in-process dev broker over TCP and the local ClickHouse.
test: deps clickhouse check
	go test -race -count=1 -timeout 15m ./...

test-unit:
	go test -race -count=1 -short ./...

# The damage tests at a heavier scale (see README, "Restarts, outages and
# bad input"): twenty kills over twelve hours of 10,000 users, two and
# three instances over the same city, a million malformed messages, and a
# replay of a day of 10,000 users. Without the race detector, for volume,
# and one at a time: at this scale each takes the two cores.
SOAK_TESTS := TestCrashesLoseAndDoubleNothing|TestScaleOutGivesTheSameOutputs|TestBadInputFlood|TestReplayGivesTheSameOutputs
soak: deps clickhouse
	SOAK=1 go test -count=1 -parallel 1 -timeout 85m -v -run '^($(SOAK_TESTS))$$' ./integration/

# What the tests run, unit and integration together: the unit tests with
# coverage of every package, and the engine the integration tests start
# built with coverage (COVER_ENGINE), its counters written at each exit.
# Prints the total and the functions that neither a unit test nor an
# engine under the integration tests runs; the profile stays in
# .run/cover/cover.txt (`go tool cover -html` reads it). Code that no
# test runs is where a bug can hide longest: this found one in the need
# router.
cover: deps clickhouse
	rm -rf .run/cover && mkdir -p .run/cover/unit .run/cover/engine
	go test -count=1 -cover -coverpkg=everywhere/... $$(go list ./... | grep -v /integration) \
		-args -test.gocoverdir=$(CURDIR)/.run/cover/unit
	COVER_ENGINE=$(CURDIR)/.run/cover/engine go test -count=1 -timeout 30m ./integration
	go tool covdata textfmt -i=.run/cover/unit,.run/cover/engine -o .run/cover/cover.txt
	@go tool cover -func=.run/cover/cover.txt | awk '$$NF == "0.0%" || /^total/'

check: vet
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

vet:
	go vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Every Go benchmark in one run, then one table of the figures against
# the budgets: catch-up throughput against a bare kafka-go reader at
# 10k, 100k and 1M users, the per-stage costs, latency at half the
# measured maximum rate (the median of three rounds; BENCH_ROUNDS), and
# memory at 1M users and 200k helpers. The raw
# output stays in .run/bench.txt. BENCH_PROFILE=dir saves a CPU profile
# and the allocations of each catch-up (BENCH_PROFILE_FROM and
# BENCH_PROFILE_SECONDS place the profile's window; 0s and 5 by
# default). One package at a time (-p 1): go
# test otherwise runs two packages' benchmarks at once on two cores. The
# per-stage benchmarks go first: after the integration ones ClickHouse is
# still merging and dropping their tables, which took a core from them.
bench: deps clickhouse
	@mkdir -p .run
	set -o pipefail; go test -p 1 -run '^$$' -bench . -benchmem -count 1 -timeout 60m \
		$$(go list ./... | grep -v /integration) ./integration | tee .run/bench.txt
	@echo
	@go run ./dev/benchtable < .run/bench.txt

# The local ClickHouse's tables go too, kept in memory or not (see
# dev/clickhouse.sh).
clean: stop
	@dev/clickhouse.sh drop
	rm -rf bin .run
