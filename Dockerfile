# A minimal image of meshc: one static binary on a distroless base (no
# shell, no package manager, runs as nonroot). Build it with
#
#	docker build --build-arg VERSION=$(git describe --tags --always) -t meshc .
#
# and run it on the current folder:
#
#	docker run --rm -v "$PWD:/work" meshc build topology.yaml -o out/
#
# diff --base needs git and graph --format svg needs Graphviz, neither of
# which the image holds: run those with a release binary.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a source change reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
	-ldflags "-s -w -X meshc.dev/meshc/internal/cli.Version=${VERSION}" \
	-o /out/meshc ./cmd/meshc

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/meshc /usr/local/bin/meshc
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/meshc"]
CMD ["--help"]
