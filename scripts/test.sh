#!/usr/bin/env bash
# The whole test suite: formatting, vet, unit, integration and acceptance
# tests with the race detector, and a short run of every fuzz target.
# Usage: ./scripts/test.sh            (from the repository root)
#        FUZZTIME=30s ./scripts/test.sh   (longer fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null)/bin"

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go mod tidy"
if ! go mod tidy -diff; then
	echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1
fi

if command -v npm >/dev/null && { [ ! -d test/node/node_modules/openai ] || ! compgen -G 'test/node/node_modules/@openai/codex-*-*' >/dev/null || [ ! -d test/node/node_modules/@openai/agents ]; }; then
	echo "== npm ci (openai, @openai/agents and @openai/codex npm packages for the Node tests)"
	npm ci --prefix test/node --no-audit --no-fund --loglevel=error
fi
if command -v npm >/dev/null && [ ! -d test/browser/node_modules/playwright-core ]; then
	echo "== npm ci (playwright-core for the playground browser test)"
	npm ci --prefix test/browser --no-audit --no-fund --loglevel=error
fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== reliability under load and faults (no -race: it caps goroutines)"
go test -count=1 -run 'Reliability' -v ./internal/server | grep -E '^(---|ok|FAIL|PASS)|load:|fault mix'

echo "== allocation budgets, stacks and the waiting heap (no -race: its frames and allocations differ)"
go test -count=1 -run '^(Test[A-Za-z]*Allocations|TestGoroutinesPerImageJob|TestWaitingImageJobStack|TestWaitingImageJobStackWithVirtualKey|TestCompletedImageJobStack|TestWaitingImageJobHeap)$' ./internal/server
go test -count=1 -run 'TestLogLineWithoutSecretsIsNotCopied' ./cmd/falproxy
go test -count=1 -run '^TestPassthroughRewriteAllocations$' ./internal/chat

echo "== benchmark smoke run (functional checks only, no timing)"
go run ./cmd/falbench -quick >/dev/null
echo "-- every in-process benchmark once (they must still run)"
go test -count=1 -run '^$' -bench . -benchtime 1x ./... >/dev/null

echo "== fuzz (${FUZZTIME:=5s} each)"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		echo "-- $pkg $target"
		# Quiet when it passes; the whole report when it fails. Before Go
		# 1.27 the fuzzing coordinator can end a clean run with "context
		# deadline exceeded" as -fuzztime runs out (go.dev/issue/75804),
		# writing no failing input: that run is repeated once; any other
		# failure, or a second one, is reported.
		if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
			if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input' <<<"$out"; then
				echo "   (the fuzzer's own deadline error, with no failing input: running it again)"
				out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1) || { echo "$out"; exit 1; }
			else
				echo "$out"; exit 1
			fi
		fi
	done
done
echo "all checks passed"
