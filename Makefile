# The two commands a newcomer needs: `make run` and `make test`.
GO ?= go

.PHONY: run test build bench fuzz vet test-db-stop

build:
	$(GO) build -o bin/skillvault ./cmd/skillvault

# Runs Skillvault with the embedded database on http://127.0.0.1:8080.
run: build
	./bin/skillvault serve

# Every test: unit, real-PostgreSQL, HTTP, MCP, CLI and browser tests, then
# a short run of every fuzz target. The preflight says what is missing
# before anything runs.
# The real clients of the interop tests (skills CLI, MCP Inspector, ...)
# are installed here from npm by scripts/test-tools.sh.
TOOLS ?= /tmp/skillvault-test-tools
export SKILLVAULT_SKILLS_CLI ?= $(TOOLS)/skills/node_modules/.bin/skills
export SKILLVAULT_INSPECTOR_DIR ?= $(TOOLS)/inspector
export SKILLVAULT_MCP_SDK_DIR ?= $(TOOLS)/mcp-sdk
export SKILLVAULT_CLAUDE_CLI ?= $(TOOLS)/claude/node_modules/.bin/claude

test:
	@scripts/preflight.sh
	@scripts/test-tools.sh $(TOOLS) || true
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	@if [ -x scripts/fuzz.sh ]; then scripts/fuzz.sh; fi

# The benchmark suite; results are written down in BENCHMARKS.md.
bench: build
	./bin/skillvault bench

fuzz:
	FUZZTIME=60s scripts/fuzz.sh

vet:
	$(GO) vet ./...

# The tests share one PostgreSQL cluster (/tmp/skillvault-test-pg) and
# leave it running between runs; this stops it.
test-db-stop:
	$(GO) run ./internal/dbtest/stopcluster
