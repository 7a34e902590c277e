# meshc's developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: build install release schema test e2e e2e-binaries example golden scripts bench fleet-bench fuzz vet clean

# The version stamped into binaries: the tag of HEAD, else its commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X meshc.dev/meshc/internal/cli.Version=$(VERSION)
# The platforms of a release: static binaries, no cgo.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/meshc ./cmd/meshc

install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/meshc

# dist/meshc-<version>-<os>-<arch> for every platform, and SHA256SUMS.
release:
	rm -rf dist && mkdir -p dist
	set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "building $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o dist/meshc-$(VERSION)-$$os-$$arch ./cmd/meshc; \
	done
	cd dist && sha256sum meshc-* > SHA256SUMS
	cat dist/SHA256SUMS

# Rewrite schema/topology.schema.json (the examples' modelines point at it)
# from the CUE schema.
schema:
	$(GO) run ./cmd/meshc schema -o schema/topology.schema.json

test:
	$(GO) test ./...

# The real API server and istiod suites: builds etcd, kube-apiserver, Helm 3
# and pilot-discovery once into ~/.cache/meshc-e2e (MESHC_E2E_CACHE), then
# applies every example × target × delivery to real API servers on
# 127.0.0.1, and runs the seeds' verification steps against real istiods
# (see e2e/README.md).
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
	$(GO) test ./compiler -run '^$$' -bench 'Fleet|ManyMeshes' -benchmem -benchtime 3x -timeout 60m

# The README's fleet figures with the CLI, side by side with cp -r and helm
# template (scripts/fleet-bench.sh; run it on a quiet machine).
fleet-bench:
	bash scripts/fleet-bench.sh

fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz FuzzCompile -fuzztime 120s -fuzzminimizetime 5s
	$(GO) test ./compiler/load -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	$(GO) test ./compiler/render -run '^$$' -fuzz FuzzMarshalYAML -fuzztime 60s

vet:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"

clean:
	rm -rf bin dist out
