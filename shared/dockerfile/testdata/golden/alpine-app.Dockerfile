# A two-stage Go service on Alpine, written like podinfo's and the
# cloudnativedevops demo's Dockerfiles (not copied): the apk add in the
# final stage pins nothing, which is what those real files trip.
FROM golang:1.22-alpine AS build
ARG REVISION
RUN mkdir -p /src/
WORKDIR /src
COPY . .
RUN go mod download
RUN CGO_ENABLED=0 go build -ldflags "-s -w -X main.revision=${REVISION}" -o bin/app ./cmd/app

FROM alpine:3.20
LABEL maintainer="someone"
RUN addgroup -S app \
    && adduser -S -G app app \
    && apk --no-cache add \
    ca-certificates curl netcat-openbsd
WORKDIR /home/app
COPY --from=build /src/bin/app .
RUN chown -R app:app ./
USER app
CMD ["./app"]
