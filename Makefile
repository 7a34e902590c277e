# meshc's developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: build test e2e e2e-binaries example golden scripts bench fuzz vet clean

build:
	$(GO) build -o bin/meshc ./cmd/meshc

test:
	$(GO) test ./...

# The real API server suite: builds etcd, kube-apiserver and Helm 3 once
# into ~/.cache/meshc-e2e (MESHC_E2E_CACHE), then applies every example ×
# target × delivery to real API servers on 127.0.0.1 (see e2e/).
e2e: e2e-binaries
	MESHC_E2E=1 $(GO) test ./e2e -count=1 -timeout 60m

e2e-binaries:
	bash e2e/build-binaries.sh

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
