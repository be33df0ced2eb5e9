# syntax=docker/dockerfile:1

# falproxy container image: one static binary on a distroless base, run as a
# non-root user. The root filesystem may be mounted read-only: falproxy
# writes nothing, and reads its configuration from the environment or from
# /app/.env when such a file is mounted there.

# Build stage. It runs on the builder's own platform and cross-compiles for
# the target one, so a multi-arch build needs no emulation for the compiler.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/falproxy ./cmd/falproxy \
    && mkdir -p /out/app

# Run stage. distroless/static carries CA certificates (for https to fal),
# time zone data and an unprivileged user, and has no shell or package
# manager; the health check therefore uses falproxy itself.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/falproxy /falproxy
# The working directory belongs to the user falproxy runs as, so that the
# default SQLite store (falproxy.db) can be created there, on a volume
# mounted at /app (as compose.yaml does) or in the container's own layer.
COPY --from=build --chown=65532:65532 /out/app /app
WORKDIR /app
USER 65532:65532
EXPOSE 8000
# During the start period the check runs every 2 s, so that a new container
# is healthy within seconds instead of after the first 30 s interval.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --start-interval=2s --retries=3 \
    CMD ["/falproxy", "healthcheck"]
ENTRYPOINT ["/falproxy"]
CMD ["serve"]
