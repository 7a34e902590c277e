# meshc's developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: build test example golden scripts bench fuzz vet clean

build:
	$(GO) build -o bin/meshc ./cmd/meshc

test:
	$(GO) test ./...

example:
	$(GO) run ./cmd/meshc build topologies/multiple-control-planes.yaml -o out/

# Rewrite golden/ from the example topologies; review the diff before committing.
golden:
	$(GO) test ./compiler -run 'TestGolden' -update

# Re-pin the testscript outputs of the CLI and its diagnostics.
scripts:
	MESHC_UPDATE_SCRIPTS=1 $(GO) test ./internal/cli -run 'TestScript'

bench:
	$(GO) test ./compiler -run '^$$' -bench Fleet -benchmem -benchtime 3x

fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz FuzzCompile -fuzztime 120s -fuzzminimizetime 5s
	$(GO) test ./compiler/load -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	$(GO) test ./compiler/render -run '^$$' -fuzz FuzzMarshalYAML -fuzztime 60s

vet:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"

clean:
	rm -rf bin out
