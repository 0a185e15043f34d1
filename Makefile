# The two commands a newcomer needs: `make run` and `make test`.
GO ?= go

.PHONY: run test build bench fuzz vet

build:
	$(GO) build -o bin/skillvault ./cmd/skillvault

run: build
	./bin/skillvault serve

# Every test: unit, real-PostgreSQL, HTTP and browser tests.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/database/

vet:
	$(GO) vet ./...
