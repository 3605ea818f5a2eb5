# syntax=docker/dockerfile:1.10
# check=error=true
# Current BuildKit syntax that must not produce DL1000.
ARG BASE=alpine:3.20
FROM --platform=$BUILDPLATFORM golang:1.23-alpine AS build
ARG TARGETOS TARGETARCH
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
LABEL org.opencontainers.image.source="https://github.com/gitship/gitship" \
      org.opencontainers.image.licenses=MIT
WORKDIR /src
COPY --link --parents ./cmd/ ./internal/ /src/
COPY --exclude=*.md --chmod=644 . /src/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /tmp/
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=secret,id=netrc,target=/root/.netrc,required=true \
    --network=none \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app
RUN --mount=type=ssh git ls-remote git@github.com:gitship/gitship.git
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 CMD ["/out/app", "health"]

FROM ${BASE}
COPY --from=build --chown=10001:10001 /out/app /usr/local/bin/app
VOLUME ["/data"]
EXPOSE 8080/tcp 8125/udp 9000-9010
STOPSIGNAL SIGTERM
USER 10001
ONBUILD COPY . /app/
ENTRYPOINT ["app"]
CMD ["serve"]
