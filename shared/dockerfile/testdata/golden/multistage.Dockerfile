# syntax=docker/dockerfile:1
# A typical Go service with the usual mistakes.
ARG GO_VERSION=1.22
FROM golang AS build
MAINTAINER Jane Doe <jane@example.com>
WORKDIR src/app
RUN apt-get update && apt-get install curl git
RUN cd /tmp && curl -fsSL https://example.com/install.sh | sh
COPY go.mod go.sum ./
ADD . .
RUN sudo make build

FROM build AS Build
COPY --from=builder /out/app /usr/local/bin/app

FROM alpine:latest
COPY --from=build /src/app/bin/app /usr/local/bin/app
COPY --from=3 /etc/passwd /etc/passwd
EXPOSE 8080 70000/tcp
USER root
CMD /usr/local/bin/app --port 8080
CMD ["app"]
ENTRYPOINT ["tini", "--"]
ENTRYPOINT ["dumb-init"]
