package dockerfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gitship/gitship/shared/finding"
)

// ruleCase is one Dockerfile and what one rule must say about it.
type ruleCase struct {
	name    string
	rule    string
	src     string
	targets []string
	cfg     Config
	// line is where the finding must be; 0 means the rule must stay silent.
	line int
	// col, when set, is the column the finding must have.
	col int
	// msg, when set, must be part of the finding's message.
	msg string
}

// ruleCases has, for every rule, cases that must fire (line > 0) and the
// fix that must not (line 0).
var ruleCases = []ruleCase{
	// DL1000
	{name: "unterminated heredoc", rule: ruleSyntax, src: "FROM alpine:3.20\nRUN <<EOF\necho hi\n", line: 2, msg: "unterminated heredoc"},
	{name: "unknown instruction", rule: ruleSyntax, src: "FROM alpine:3.20\nRUNN echo hi\n", line: 2, msg: "unknown instruction: RUNN"},
	{name: "copy without destination", rule: ruleSyntax, src: "FROM alpine:3.20\n\nCOPY app\n", line: 3, msg: "COPY requires at least two arguments"},
	{name: "from without image", rule: ruleSyntax, src: "FROM\n", line: 1},
	{name: "empty file", rule: ruleSyntax, src: "", line: 1, msg: "no instructions"},
	{name: "terminated heredoc", rule: ruleSyntax, src: "FROM alpine:3.20\nRUN <<EOF\necho hi\nEOF\n", line: 0},
	{name: "known flags", rule: ruleSyntax, src: "FROM alpine:3.20\nCOPY --link --chmod=644 a /b\nRUN --mount=type=cache,target=/root/.cache make\n", line: 0},

	// DL1001, off by default
	{name: "inline pragma", rule: ruleInlinePragma, src: "FROM alpine:3.20\n# hadolint ignore=DL3003\n\nRUN cd /tmp\n", cfg: enable(ruleInlinePragma), line: 2},
	{name: "inline pragma not enabled", rule: ruleInlinePragma, src: "FROM alpine:3.20\n# hadolint ignore=DL3003\nRUN cd /tmp\n", line: 0},
	{name: "global pragma", rule: ruleInlinePragma, src: "# hadolint global ignore=DL3003\nFROM alpine:3.20\n# hadolint shell=bash\nRUN cd /tmp\n", cfg: enable(ruleInlinePragma), line: 0},

	// DL3000
	{name: "relative workdir", rule: ruleWorkdirRelative, src: "FROM alpine:3.20\nWORKDIR app\n", line: 2, col: 9},
	{name: "relative workdir in onbuild", rule: ruleWorkdirRelative, src: "FROM alpine:3.20\nONBUILD WORKDIR app\n", line: 2},
	{name: "quoted relative workdir", rule: ruleWorkdirRelative, src: "FROM alpine:3.20\nWORKDIR \"app\"\n", line: 2},
	{name: "absolute workdir", rule: ruleWorkdirRelative, src: "FROM alpine:3.20\nWORKDIR /app\n", line: 0},
	{name: "variable workdir", rule: ruleWorkdirRelative, src: "FROM alpine:3.20\nWORKDIR $HOME/app\n", line: 0},
	{name: "windows workdir", rule: ruleWorkdirRelative, src: "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nWORKDIR C:\\app\n", line: 0},

	// DL3002
	{name: "final user root", rule: ruleRootUser, src: "FROM alpine:3.20\nUSER root\n", line: 2},
	{name: "final user uid 0 with group", rule: ruleRootUser, src: "FROM alpine:3.20\nUSER app\nFROM alpine:3.20\nUSER 0:0\n", line: 4},
	{name: "final user root with group", rule: ruleRootUser, src: "FROM alpine:3.20\nUSER root:root\nRUN id\n", line: 2},
	{name: "root inherited from parent stage", rule: ruleRootUser, src: "FROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN id\n", line: 2},
	{name: "root then unprivileged", rule: ruleRootUser, src: "FROM alpine:3.20\nUSER root\nRUN apk add --no-cache curl\nUSER 10001\n", line: 0},
	{name: "root only in build stage", rule: ruleRootUser, src: "FROM alpine:3.20 AS build\nUSER root\nFROM alpine:3.20\nUSER app\n", line: 0},
	{name: "rootless user name", rule: ruleRootUser, src: "FROM alpine:3.20\nUSER rootless\n", line: 0},

	// DL3003
	{name: "cd in run", rule: ruleCd, src: "FROM alpine:3.20\nRUN cd /tmp && make\n", line: 2, col: 5},
	{name: "cd in continued run", rule: ruleCd, src: "FROM alpine:3.20\nRUN make \\\n && cd /tmp \\\n && make install\n", line: 2},
	{name: "cd in heredoc script", rule: ruleCd, src: "FROM alpine:3.20\nRUN <<EOF\ncd /tmp\nmake\nEOF\n", line: 2},
	{name: "cd in heredoc script with CRLF", rule: ruleCd, src: "FROM alpine:3.20\r\nRUN <<EOF\r\nif true; then\r\n  cd /tmp\r\nfi\r\nEOF\r\n", line: 2},
	{name: "workdir instead of cd", rule: ruleCd, src: "FROM alpine:3.20\nWORKDIR /tmp\nRUN make\n", line: 0},
	{name: "cd as an argument", rule: ruleCd, src: "FROM alpine:3.20\nRUN echo cd /tmp\n", line: 0},
	{name: "cd in heredoc data", rule: ruleCd, src: "FROM alpine:3.20\nRUN cat <<EOF > /etc/motd\ncd /tmp\nEOF\n", line: 0},

	// DL3004
	{name: "sudo in run", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN sudo apt-get update\n", line: 2, col: 5},
	{name: "sudo in sh -c", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN sh -c 'sudo make install'\n", line: 2},
	{name: "sudo in exec form", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN [\"sudo\", \"make\"]\n", line: 2},
	{name: "sudo behind env", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN env A=1 sudo make\n", line: 2},
	{name: "no sudo", rule: ruleSudo, src: "FROM ubuntu:24.04\nUSER root\nRUN make install\nUSER app\n", line: 0},
	{name: "sudo only looked up", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN command -v sudo || echo none\n", line: 0},
	{name: "sudo as an argument", rule: ruleSudo, src: "FROM ubuntu:24.04\nRUN apt-get install -y --no-install-recommends sudo\n", line: 0},

	// DL3006
	{name: "untagged image", rule: ruleUntagged, src: "FROM golang\n", line: 1, col: 6, msg: `base image "golang" has no tag`},
	{name: "untagged image after platform flag", rule: ruleUntagged, src: "ARG X=1\nFROM --platform=linux/amd64 golang AS build\n", line: 2, col: 29},
	{name: "registry port is not a tag", rule: ruleUntagged, src: "FROM localhost:5000/app\n", line: 1},
	{name: "variable registry", rule: ruleUntagged, src: "FROM ${REGISTRY}/golang\n", line: 1},
	{name: "tagged image", rule: ruleUntagged, src: "FROM golang:1.22\n", line: 0},
	{name: "registry port and tag", rule: ruleUntagged, src: "FROM localhost:5000/app:1.0\n", line: 0},
	{name: "digest", rule: ruleUntagged, src: "FROM golang@sha256:4c2b7a2d8f5c2ba9d5d1f0e6f4c8b8a96d3e2e1f0a9b8c7d6e5f4a3b2c1d0e9f\n", line: 0},
	{name: "scratch", rule: ruleUntagged, src: "FROM scratch\n", line: 0},
	{name: "earlier stage", rule: ruleUntagged, src: "FROM golang:1.22 AS build\nFROM build\n", line: 0},
	{name: "earlier stage other case", rule: ruleUntagged, src: "FROM golang:1.22 AS Build\nFROM BUILD\n", line: 0},
	{name: "only a variable", rule: ruleUntagged, src: "ARG BASE=alpine:3.20\nFROM $BASE\n", line: 0},
	{name: "only a braced variable", rule: ruleUntagged, src: "ARG BASE=alpine:3.20\nFROM ${BASE}\n", line: 0},

	// DL3007
	{name: "latest", rule: ruleLatest, src: "FROM alpine:latest\n", line: 1, col: 6},
	{name: "latest from registry", rule: ruleLatest, src: "FROM ghcr.io/org/app:latest AS app\n", line: 1},
	{name: "pinned tag", rule: ruleLatest, src: "FROM alpine:3.20\n", line: 0},
	{name: "latest pinned by digest", rule: ruleLatest, src: "FROM alpine:latest@sha256:4c2b7a2d8f5c2ba9d5d1f0e6f4c8b8a96d3e2e1f0a9b8c7d6e5f4a3b2c1d0e9f\n", line: 0},

	// DL3009
	{name: "apt lists kept", rule: ruleAptLists, src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n", line: 2},
	{name: "apt lists kept with var/cache/apt cache only", rule: ruleAptLists, src: "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl\n", line: 2},
	{name: "apt lists removed", rule: ruleAptLists, src: "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n && rm -rf /var/lib/apt/lists/*\n", line: 0},
	{name: "apt lists in cache mount", rule: ruleAptLists, src: "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n    apt-get update && apt-get install -y --no-install-recommends curl\n", line: 0},
	{name: "apt lists in tmpfs", rule: ruleAptLists, src: "FROM debian:12\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends curl\n", line: 0},
	{name: "apt update", rule: ruleAptLists, src: "FROM debian:12\nRUN apt update && apt install -y curl\n", line: 2, col: 5, msg: "apt update without"},
	{name: "aptitude update", rule: ruleAptLists, src: "FROM debian:12\nRUN aptitude update && aptitude install -y curl\n", line: 2, msg: "aptitude update without"},
	{name: "apt lists kept in a base stage", rule: ruleAptLists, src: "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM base\nRUN true\n", line: 2},
	{name: "apt lists kept in a target stage", rule: ruleAptLists, src: "FROM debian:12 AS test\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM scratch\n", targets: []string{"test"}, line: 2},
	{name: "apt lists kept in an onbuild trigger of an unused stage", rule: ruleAptLists, src: "FROM debian:12 AS tools\nONBUILD RUN apt-get update\nFROM scratch\n", line: 2},
	{name: "apt lists kept in a stage nothing uses", rule: ruleAptLists, src: "FROM debian:12 AS tools\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM scratch\nCOPY --from=tools /usr/bin/curl /curl\n", line: 0},
	{name: "install without update writes no lists", rule: ruleAptLists, src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", line: 0},

	// DL3011
	{name: "port too high", rule: rulePort, src: "FROM alpine:3.20\nEXPOSE 80 70000\n", line: 2, col: 11},
	{name: "port range too high", rule: rulePort, src: "FROM alpine:3.20\nEXPOSE 65000-65536/udp\n", line: 2},
	{name: "port not a number", rule: rulePort, src: "FROM alpine:3.20\nEXPOSE http\n", line: 2},
	{name: "valid ports", rule: rulePort, src: "FROM alpine:3.20\nEXPOSE 80/tcp 53/udp 9000-9010 ${PORT}\n", line: 0},

	// DL3012
	{name: "two healthchecks", rule: ruleHealthchecks, src: "FROM alpine:3.20\nHEALTHCHECK CMD [\"a\"]\nHEALTHCHECK CMD [\"b\"]\n", line: 3},
	{name: "one healthcheck per stage", rule: ruleHealthchecks, src: "FROM alpine:3.20\nHEALTHCHECK CMD [\"a\"]\nFROM alpine:3.20\nHEALTHCHECK CMD [\"b\"]\n", line: 0},

	// DL3014
	{name: "apt-get install without yes", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get install --no-install-recommends curl\n", line: 2, col: 5},
	{name: "single quiet is not yes", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get -q install --no-install-recommends curl\n", line: 2},
	{name: "apt-get install in exec form", rule: ruleAptYes, src: "FROM debian:12\nRUN [\"apt-get\", \"install\", \"--no-install-recommends\", \"curl\"]\n", line: 2},
	{name: "apt-get -y", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", line: 0},
	{name: "apt-get --yes", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get install --yes --no-install-recommends curl\n", line: 0},
	{name: "apt-get --assume-yes", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get --assume-yes install --no-install-recommends curl\n", line: 0},
	{name: "apt-get -qq", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get -qq install --no-install-recommends curl\n", line: 0},
	{name: "apt-get -q=2", rule: ruleAptYes, src: "FROM debian:12\nRUN apt-get -q=2 install --no-install-recommends curl\n", line: 0},
	{name: "apt-get -qy cluster", rule: ruleAptYes, src: "FROM debian:12\nRUN DEBIAN_FRONTEND=noninteractive apt-get -qy install --no-install-recommends curl\n", line: 0},

	// DL3015
	{name: "recommends", rule: ruleAptRecommends, src: "FROM debian:12\nRUN apt-get install -y curl\n", line: 2},
	{name: "no-install-recommends", rule: ruleAptRecommends, src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", line: 0},
	{name: "install-recommends option", rule: ruleAptRecommends, src: "FROM debian:12\nRUN apt-get install -y -o APT::Install-Recommends=false curl\n", line: 0},
	{name: "apt-get update only", rule: ruleAptRecommends, src: "FROM debian:12\nRUN apt-get update\n", line: 0},

	// DL3020
	{name: "add local file", rule: ruleAdd, src: "FROM alpine:3.20\nADD app.py /app/\n", line: 2, msg: `"app.py"`},
	{name: "add local dir in onbuild", rule: ruleAdd, src: "FROM alpine:3.20\nONBUILD ADD . /app/\n", line: 2},
	{name: "add heredoc", rule: ruleAdd, src: "FROM alpine:3.20\nADD <<EOF /etc/conf\nx\nEOF\n", line: 2},
	{name: "add url", rule: ruleAdd, src: "FROM alpine:3.20\nADD https://example.com/tool /usr/local/bin/tool\n", line: 0},
	{name: "add archive", rule: ruleAdd, src: "FROM alpine:3.20\nADD rootfs.tar.xz /\n", line: 0},
	{name: "add tgz", rule: ruleAdd, src: "FROM alpine:3.20\nADD [\"vendor.tgz\", \"/opt/\"]\n", line: 0},
	{name: "add git", rule: ruleAdd, src: "FROM alpine:3.20\nADD git@github.com:moby/buildkit.git /src\n", line: 0},
	{name: "add variable", rule: ruleAdd, src: "FROM alpine:3.20\nARG URL\nADD $URL /tmp/\n", line: 0},
	{name: "copy local file", rule: ruleAdd, src: "FROM alpine:3.20\nCOPY app.py /app/\n", line: 0},

	// DL3021
	{name: "several sources to a file", rule: ruleCopyDest, src: "FROM alpine:3.20\nCOPY a.txt b.txt /dest\n", line: 2},
	{name: "several sources in json form", rule: ruleCopyDest, src: "FROM alpine:3.20\nCOPY [\"a.txt\", \"b.txt\", \"/dest\"]\n", line: 2},
	{name: "several sources to a dir", rule: ruleCopyDest, src: "FROM alpine:3.20\nCOPY a.txt b.txt /dest/\n", line: 0},
	{name: "one source to a file", rule: ruleCopyDest, src: "FROM alpine:3.20\nCOPY a.txt /dest\n", line: 0},

	// DL3022
	{name: "from unknown stage", rule: ruleCopyFromUnknown, src: "FROM golang:1.22 AS build\nFROM alpine:3.20\nCOPY --from=builder /out /app\n", line: 3, col: 6},
	{name: "from later stage", rule: ruleCopyFromUnknown, src: "FROM alpine:3.20\nCOPY --from=build /out /app\nFROM golang:1.22 AS build\n", line: 2},
	{name: "from index out of range", rule: ruleCopyFromUnknown, src: "FROM golang:1.22\nFROM alpine:3.20\nCOPY --from=2 /out /app\n", line: 3},
	{name: "from earlier stage", rule: ruleCopyFromUnknown, src: "FROM golang:1.22 AS build\nFROM alpine:3.20\nCOPY --from=build /out /app\n", line: 0},
	{name: "from earlier stage other case", rule: ruleCopyFromUnknown, src: "FROM golang:1.22 AS Build\nFROM alpine:3.20\nCOPY --from=BUILD /out /app\n", line: 0},
	{name: "from earlier index", rule: ruleCopyFromUnknown, src: "FROM golang:1.22\nFROM alpine:3.20\nCOPY --from=0 /out /app\n", line: 0},
	{name: "from image", rule: ruleCopyFromUnknown, src: "FROM alpine:3.20\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n", line: 0},
	{name: "from variable", rule: ruleCopyFromUnknown, src: "ARG SRC=build\nFROM alpine:3.20\nCOPY --from=$SRC /out /app\n", line: 0},

	// DL3023
	{name: "from own stage by name", rule: ruleCopyFromSelf, src: "FROM golang:1.22 AS build\nCOPY --from=build /out /app\n", line: 2},
	{name: "from own stage by index", rule: ruleCopyFromSelf, src: "FROM golang:1.22\nCOPY --from=0 /out /app\n", line: 2},
	{name: "from previous stage", rule: ruleCopyFromSelf, src: "FROM golang:1.22 AS build\nFROM alpine:3.20 AS final\nCOPY --from=build /out /app\n", line: 0},

	// DL3024
	{name: "duplicate stage", rule: ruleDuplicateStage, src: "FROM golang:1.22 AS build\nRUN make\nFROM golang:1.23 AS Build\n", line: 3, col: 21, msg: "line 1"},
	{name: "distinct stages", rule: ruleDuplicateStage, src: "FROM golang:1.22 AS build\nFROM golang:1.23 AS test\n", line: 0},

	// DL3025
	{name: "shell form cmd", rule: ruleShellForm, src: "FROM alpine:3.20\nCMD app --port 8080\n", line: 2, msg: `CMD ["app", "--port", "8080"]`},
	{name: "shell form entrypoint", rule: ruleShellForm, src: "FROM alpine:3.20\nENTRYPOINT exec app \"$@\"\n", line: 2, msg: `["executable", "param"]`},
	{name: "shell form healthcheck", rule: ruleShellForm, src: "FROM alpine:3.20\nHEALTHCHECK --interval=5s CMD wget -q -O- http://localhost/\n", line: 2, msg: "HEALTHCHECK CMD"},
	{name: "json healthcheck", rule: ruleShellForm, src: "FROM alpine:3.20\nHEALTHCHECK CMD [\"/healthz\"]\n", line: 0},
	{name: "healthcheck none", rule: ruleShellForm, src: "FROM alpine:3.20\nHEALTHCHECK NONE\n", line: 0},
	{name: "json cmd", rule: ruleShellForm, src: "FROM alpine:3.20\nCMD [\"app\", \"--port\", \"8080\"]\n", line: 0},
	{name: "json entrypoint", rule: ruleShellForm, src: "FROM alpine:3.20\nENTRYPOINT [\"app\"]\n", line: 0},

	// DL3027
	{name: "apt", rule: ruleApt, src: "FROM debian:12\nRUN apt install -y curl\n", line: 2},
	{name: "apt-get", rule: ruleApt, src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", line: 0},

	// DL3001
	{name: "service in run", rule: ruleUselessCmd, src: "FROM debian:12\nRUN service nginx start\n", line: 2, col: 5},
	{name: "ssh as a package", rule: ruleUselessCmd, src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends ssh=1:9.2p1-2\n", line: 0},

	// DL3008
	{name: "apt-get unpinned", rule: ruleAptPin, src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl git=1:2.39.5-0+deb12u1\n", line: 2, msg: `"curl"`},
	{name: "apt-get unpinned in exec form", rule: ruleAptPin, src: "FROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n", line: 2},
	{name: "apt-get pinned with target release", rule: ruleAptPin, src: "FROM debian:12\nRUN apt-get install -y -t bookworm-backports --no-install-recommends curl=7.88.1-10\n", line: 0},
	{name: "apt-get local deb", rule: ruleAptPin, src: "FROM debian:12\nRUN apt-get install -y ./tool_1.0_amd64.deb\n", line: 0},
	{name: "apt-get version from a variable", rule: ruleAptPin, src: "FROM debian:12\nARG V\nRUN apt-get install -y curl=$V\n", line: 0},

	// DL3013
	{name: "pip unpinned", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir requests==2.32.3 flask\n", line: 2, msg: `"flask"`},
	{name: "python -m pip unpinned", rule: rulePipPin, src: "FROM python:3.12\nRUN python3 -m pip install --no-cache-dir -i https://pypi.example.com/simple flask\n", line: 2, msg: `"flask"`},
	{name: "pip git without ref", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir git+https://github.com/org/repo.git#egg=repo\n", line: 2},
	{name: "pip requirements", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt\n", line: 0},
	{name: "pip ranges and constraints", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir 'a>=1' 'b<2' c~=1.0 && pip install --no-cache-dir d -c constraints.txt\n", line: 0},
	{name: "pip git with ref", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir git+https://github.com/org/repo.git@v1.2#egg=repo\n", line: 0},
	{name: "pip local package", rule: rulePipPin, src: "FROM python:3.12\nRUN pip install --no-cache-dir . dist/app-1.0-py3-none-any.whl\n", line: 0},
	{name: "pipx is not pip", rule: rulePipPin, src: "FROM python:3.12\nRUN pipx install black\n", line: 0},

	// DL3016
	{name: "npm unpinned", rule: ruleNpmPin, src: "FROM node:22\nRUN npm install -g typescript@5.6.3 @scope/tool\n", line: 2, msg: `"@scope/tool"`},
	{name: "npm git without commit", rule: ruleNpmPin, src: "FROM node:22\nRUN npm install git+https://github.com/npm/cli.git\n", line: 2},
	{name: "npm registry value is not a package", rule: ruleNpmPin, src: "FROM node:22\nRUN npm install --registry https://npm.example.com @scope/tool@1.2.3\n", line: 0},
	{name: "npm install from package.json", rule: ruleNpmPin, src: "FROM node:22\nRUN npm ci && npm install --omit dev\n", line: 0},

	// DL3018
	{name: "apk unpinned", rule: ruleApkPin, src: "FROM alpine:3.20\nRUN apk add --no-cache ca-certificates tzdata=2024b-r0\n", line: 2, col: 5, msg: `"ca-certificates"`},
	{name: "apk pinned", rule: ruleApkPin, src: "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps -X https://dl-cdn.alpinelinux.org/alpine/edge/testing git~2.45 curl=8.9.1-r0\n", line: 0},
	{name: "apk local package", rule: ruleApkPin, src: "FROM alpine:3.20\nRUN apk add --no-cache --allow-untrusted /tmp/tool-1.0.apk\n", line: 0},

	// DL3019
	{name: "apk add keeps the index", rule: ruleApkCache, src: "FROM alpine:3.20\nRUN apk add curl=8.9.1-r0\n", line: 2},
	{name: "apk add with a cache mount elsewhere", rule: ruleApkCache, src: "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/foo apk add curl=8.9.1-r0\n", line: 2},
	{name: "apk add --no-cache", rule: ruleApkCache, src: "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0\n", line: 0},
	{name: "apk add with a cache mount", rule: ruleApkCache, src: "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add -U curl=8.9.1-r0\n", line: 0},

	// DL3028
	{name: "gem unpinned", rule: ruleGemPin, src: "FROM ruby:3.3\nRUN gem install --no-document bundler:2.5.22 rails\n", line: 2, msg: `"rails"`},
	{name: "gem pinned with -v", rule: ruleGemPin, src: "FROM ruby:3.3\nRUN gem install bundler -v 2.5.22\n", line: 0},
	{name: "gem build flags after --", rule: ruleGemPin, src: "FROM ruby:3.3\nRUN gem install nokogiri:1.16.7 -- --use-system-libraries true\n", line: 0},

	// DL3030, DL3032, DL3033
	{name: "yum install without -y", rule: ruleYumYes, src: "FROM centos:7\nRUN yum install httpd-2.4.6 && yum clean all\n", line: 2, col: 5},
	{name: "yum -y before install", rule: ruleYumYes, src: "FROM centos:7\nRUN yum -y install httpd-2.4.6 && yum clean all\n", line: 0},
	{name: "yum cache kept", rule: ruleYumClean, src: "FROM centos:7\nRUN yum install -y httpd-2.4.6\n", line: 2},
	{name: "yum cache cleaned before install only", rule: ruleYumClean, src: "FROM centos:7\nRUN yum clean all && yum install -y httpd-2.4.6\n", line: 2},
	{name: "yum cache removed", rule: ruleYumClean, src: "FROM centos:7\nRUN yum install -y httpd-2.4.6 && rm -rf /var/cache/yum\n", line: 0},
	{name: "yum cache in a cache mount", rule: ruleYumClean, src: "FROM centos:7\nRUN --mount=type=cache,target=/var/cache/yum yum install -y httpd-2.4.6\n", line: 0},
	{name: "yum unpinned", rule: ruleYumPin, src: "FROM centos:7\nRUN yum install -y --setopt=tsflags=nodocs httpd rpm-sign-4.11.3 && yum clean all\n", line: 2, msg: `"httpd"`},
	{name: "yum pinned with epoch", rule: ruleYumPin, src: "FROM centos:7\nRUN yum install -y --enablerepo extras openssl-1:1.0.2k && yum clean all\n", line: 0},

	// DL3034, DL3035, DL3036, DL3037
	{name: "zypper install without -n", rule: ruleZypperYes, src: "FROM opensuse/leap:15.6\nRUN zypper install curl=8.6.0 && zypper clean\n", line: 2},
	{name: "zypper -n before install", rule: ruleZypperYes, src: "FROM opensuse/leap:15.6\nRUN zypper -n install curl=8.6.0 && zypper clean\n", line: 0},
	{name: "zypper dup", rule: ruleZypperDup, src: "FROM opensuse/leap:15.6\nRUN zypper -n dup && zypper clean\n", line: 2},
	{name: "zypper update", rule: ruleZypperDup, src: "FROM opensuse/leap:15.6\nRUN zypper -n update && zypper clean\n", line: 0},
	{name: "zypper cache kept", rule: ruleZypperClean, src: "FROM opensuse/leap:15.6\nRUN zypper -n install curl=8.6.0\n", line: 2},
	{name: "zypper cc", rule: ruleZypperClean, src: "FROM opensuse/leap:15.6\nRUN zypper -n install curl=8.6.0 && zypper cc -a\n", line: 0},
	{name: "zypper unpinned", rule: ruleZypperPin, src: "FROM opensuse/leap:15.6\nRUN zypper -n install -t pattern devel_basis curl && zypper clean\n", line: 2, msg: `"curl"`},
	{name: "zypper pinned with a range", rule: ruleZypperPin, src: "FROM opensuse/leap:15.6\nRUN zypper -n install 'curl>=8' && zypper clean\n", line: 0},

	// DL3038, DL3040, DL3041
	{name: "dnf install without -y", rule: ruleDnfYes, src: "FROM fedora:41\nRUN dnf install httpd-2.4.62 && dnf clean all\n", line: 2},
	{name: "microdnf needs no -y", rule: ruleDnfYes, src: "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.5\nRUN microdnf install httpd-2.4.62 && microdnf clean all\n", line: 0},
	{name: "dnf cleaned by another tool", rule: ruleDnfClean, src: "FROM fedora:41\nRUN dnf install -y httpd-2.4.62 && microdnf clean all\n", line: 2},
	{name: "dnf cache removed", rule: ruleDnfClean, src: "FROM fedora:41\nRUN dnf install -y httpd-2.4.62 && rm -rf /var/cache/dnf\n", line: 0},
	{name: "dnf module unpinned", rule: ruleDnfPin, src: "FROM fedora:41\nRUN dnf module install -y nodejs && dnf clean all\n", line: 2},
	{name: "dnf module pinned", rule: ruleDnfPin, src: "FROM fedora:41\nRUN dnf module install -y nodejs:20 && dnf clean all\n", line: 0},

	// DL3010
	{name: "archive copied then extracted", rule: ruleAddArchive, src: "FROM alpine:3.20\nCOPY dist/app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n", line: 3, col: 5},
	{name: "archive copied from a stage", rule: ruleAddArchive, src: "FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --from=b /app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz\n", line: 0},
	{name: "archive copied, not extracted", rule: ruleAddArchive, src: "FROM alpine:3.20\nCOPY app.tar.gz /srv/\nRUN tar -czf /tmp/other.tar.gz /etc\n", line: 0},

	// DL3026
	{name: "untrusted registry", rule: ruleRegistry, src: "FROM quay.io/org/app:1.0\n", cfg: Config{TrustedRegistries: []string{"docker.io", "*.example.com"}}, line: 1, col: 6, msg: "quay.io"},
	{name: "trusted registries", rule: ruleRegistry, src: "FROM alpine:3.20 AS a\nFROM library/alpine:3.20 AS b\nFROM reg.example.com/app:1 AS c\nFROM a\nFROM scratch\n", cfg: Config{TrustedRegistries: []string{"docker.io", "*.example.com"}}, line: 0},
	{name: "no trusted registries configured", rule: ruleRegistry, src: "FROM quay.io/org/app:1.0\n", line: 0},

	// DL3029
	{name: "fixed platform", rule: rulePlatform, src: "FROM --platform=linux/amd64 alpine:3.20\n", line: 1, col: 6},
	{name: "build platform", rule: rulePlatform, src: "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\n", line: 0},

	// DL3043
	{name: "onbuild from", rule: ruleOnbuildTrigger, src: "FROM alpine:3.20\nONBUILD FROM alpine:3.20\n", line: 2},
	{name: "onbuild run", rule: ruleOnbuildTrigger, src: "FROM alpine:3.20\nONBUILD RUN make\n", line: 0},

	// DL3044
	{name: "env self reference", rule: ruleEnvSelfRef, src: "FROM alpine:3.20\nENV APP=/app BIN=${APP}/bin\n", line: 2},
	{name: "env reference to an earlier env", rule: ruleEnvSelfRef, src: "FROM alpine:3.20\nENV APP=/app\nENV BIN=$APP/bin PATH=/x:$PATH APPX=$APPLE\n", line: 0},

	// DL3046
	{name: "useradd high uid", rule: ruleUseradd, src: "FROM debian:12\nRUN useradd -u 1000000 app\n", line: 2},
	{name: "useradd high uid with -l", rule: ruleUseradd, src: "FROM debian:12\nRUN useradd --no-log-init -u 1000000 app && useradd -u 10001 b\n", line: 0},

	// DL3048
	{name: "reserved label namespace", rule: ruleLabelKey, src: "FROM alpine:3.20\nLABEL com.docker.extension=x\n", line: 2},
	{name: "bad label key", rule: ruleLabelKey, src: "FROM alpine:3.20\nLABEL org..example=x\n", line: 2},
	{name: "good label keys", rule: ruleLabelKey, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.title=x io.gitship.step=lint maintainer=me\n", line: 0},

	// DL3060
	{name: "yarn cache kept", rule: ruleYarnCache, src: "FROM node:22\nRUN yarn install --frozen-lockfile\n", line: 2},
	{name: "yarn cache kept in an unused stage", rule: ruleYarnCache, src: "FROM node:22 AS deps\nRUN yarn install --frozen-lockfile\nFROM node:22\nCOPY --from=deps /node_modules /node_modules\n", line: 0},
	{name: "yarn cache cleaned", rule: ruleYarnCache, src: "FROM node:22\nRUN yarn install --frozen-lockfile && yarn cache clean\n", line: 0},

	// DL3062
	{name: "go install unpinned", rule: ruleGoPin, src: "FROM golang:1.23\nRUN go install golang.org/x/tools/cmd/goimports\n", line: 2},
	{name: "go install pinned and local", rule: ruleGoPin, src: "FROM golang:1.23\nRUN go install golang.org/x/tools/cmd/goimports@v0.24.0 && go install ./cmd/app && go install -v .\n", line: 0},

	// DL3042
	{name: "pip cache kept", rule: rulePipCache, src: "FROM python:3.12\nRUN pip install requests==2.32.3\n", line: 2},
	{name: "pip cache off but not inherited", rule: rulePipCache, src: "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM python:3.12\nRUN pip install requests==2.32.3\n", line: 4},
	{name: "pip cache off with a false value", rule: rulePipCache, src: "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=false pip install requests==2.32.3\n", line: 2},
	{name: "pip --no-cache-dir", rule: rulePipCache, src: "FROM python:3.12\nRUN pip install --no-cache-dir requests==2.32.3\n", line: 0},
	{name: "pip cache off by ENV of the base stage", rule: rulePipCache, src: "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install requests==2.32.3\n", line: 0},
	{name: "pip cache off by export", rule: rulePipCache, src: "FROM python:3.12\nRUN export PIP_NO_CACHE_DIR=on && pip install requests==2.32.3\n", line: 0},
	{name: "pip cache in a cache mount", rule: rulePipCache, src: "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install requests==2.32.3\n", line: 0},

	// DL3045
	{name: "copy to relative without workdir", rule: ruleCopyRelative, src: "FROM alpine:3.20\nCOPY app.conf conf/\n", line: 2, col: 15},
	{name: "copy to relative with workdir of another stage", rule: ruleCopyRelative, src: "FROM alpine:3.20 AS a\nWORKDIR /app\nFROM alpine:3.20\nCOPY . .\n", line: 4},
	{name: "copy to relative after workdir", rule: ruleCopyRelative, src: "FROM alpine:3.20\nWORKDIR /app\nCOPY . .\n", line: 0},
	{name: "copy to relative with inherited workdir", rule: ruleCopyRelative, src: "FROM alpine:3.20 AS base\nWORKDIR /app\nFROM base\nCOPY . .\n", line: 0},
	{name: "copy to absolute and variable", rule: ruleCopyRelative, src: "FROM alpine:3.20\nCOPY a /etc/a\nCOPY b ${DEST}\nCOPY c C:\\app\n", line: 0},
	{name: "onbuild copy after onbuild workdir", rule: ruleCopyRelative, src: "FROM alpine:3.20\nONBUILD WORKDIR /app\nONBUILD COPY . .\n", line: 0},

	// DL3047
	{name: "wget without progress", rule: ruleWgetProgress, src: "FROM alpine:3.20\nRUN wget https://example.com/f.tgz\n", line: 2, col: 5},
	{name: "wget quiet", rule: ruleWgetProgress, src: "FROM alpine:3.20\nRUN wget -qO- https://example.com/f.tgz | tar xz\n", line: 0},
	{name: "wget progress", rule: ruleWgetProgress, src: "FROM alpine:3.20\nRUN wget --progress=dot:giga https://example.com/f.tgz && wget -nv x && wget -o /tmp/log y\n", line: 0},

	// DL3049-DL3058: label-schema
	{name: "schema label missing", rule: ruleLabelMissing, src: "FROM alpine:3.20 AS base\nLABEL org.opencontainers.image.source=https://example.com/x\nFROM alpine:3.20\n", cfg: sourceCfg, line: 3, msg: `"org.opencontainers.image.source"`},
	{name: "schema label inherited", rule: ruleLabelMissing, src: "FROM alpine:3.20 AS base\nLABEL org.opencontainers.image.source=https://example.com/x\nFROM base\n", cfg: sourceCfg, line: 0},
	{name: "superfluous label", rule: ruleLabelExtra, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.source=https://example.com/x team=core\n", cfg: labelCfg, line: 2, msg: `"team"`},
	{name: "no superfluous label without strict-labels", rule: ruleLabelExtra, src: "FROM alpine:3.20\nLABEL team=core\n", cfg: Config{LabelSchema: labelCfg.LabelSchema}, line: 0},
	{name: "empty schema label", rule: ruleLabelEmpty, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.source=\"\"\n", cfg: labelCfg, line: 2},
	{name: "filled schema label", rule: ruleLabelEmpty, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.source=$SRC\n", cfg: labelCfg, line: 0},
	{name: "url label", rule: ruleLabelURL, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.source=github.com/x\n", cfg: labelCfg, line: 2},
	{name: "url label ok", rule: ruleLabelURL, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.source=https://github.com/x\n", cfg: labelCfg, line: 0},
	{name: "time label", rule: ruleLabelTime, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.created=2024-01-02\n", cfg: labelCfg, line: 2},
	{name: "time label ok", rule: ruleLabelTime, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.created=2024-01-02T03:04:05Z\n", cfg: labelCfg, line: 0},
	{name: "spdx label", rule: ruleLabelSPDX, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.licenses=Apache2\n", cfg: labelCfg, line: 2},
	{name: "spdx expression", rule: ruleLabelSPDX, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.licenses=\"(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0\"\n", cfg: labelCfg, line: 0},
	{name: "hash label", rule: ruleLabelHash, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.revision=main\n", cfg: labelCfg, line: 2},
	{name: "hash label ok", rule: ruleLabelHash, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.revision=75d7370\n", cfg: labelCfg, line: 0},
	{name: "semver label", rule: ruleLabelSemVer, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.version=v1.2\n", cfg: labelCfg, line: 2},
	{name: "semver label ok", rule: ruleLabelSemVer, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.version=1.2.3-rc.1+build.5\n", cfg: labelCfg, line: 0},
	{name: "email label", rule: ruleLabelEmail, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=\"Jane <jane@example.com>\"\n", cfg: labelCfg, line: 2},
	{name: "email label ok", rule: ruleLabelEmail, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=jane@example.com\n", cfg: labelCfg, line: 0},

	// DL3057, off by default
	{name: "no healthcheck", rule: ruleHealthMissing, src: "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"true\"]\nFROM alpine:3.20\n", cfg: enable(ruleHealthMissing), line: 3},
	{name: "no healthcheck, not enabled", rule: ruleHealthMissing, src: "FROM alpine:3.20\n", line: 0},
	{name: "inherited healthcheck", rule: ruleHealthMissing, src: "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"true\"]\nFROM base\n", cfg: enable(ruleHealthMissing), line: 0},

	// DL3059
	{name: "consecutive runs", rule: ruleRunConsecutive, src: "FROM alpine:3.20\nRUN a\n# a comment\nRUN b\n", line: 4, msg: "line 2"},
	{name: "consecutive runs with equal mounts", rule: ruleRunConsecutive, src: "FROM alpine:3.20\nRUN --mount=type=secret,id=a a\nRUN --mount=type=secret,id=a b\n", line: 3},
	{name: "runs with different mounts", rule: ruleRunConsecutive, src: "FROM alpine:3.20\nRUN --mount=type=secret,id=a a\nRUN b\n", line: 0},
	{name: "runs with chained commands", rule: ruleRunConsecutive, src: "FROM alpine:3.20\nRUN a && b\nRUN c\nWORKDIR /x\nRUN d\n", line: 0},

	// DL4001
	{name: "wget and curl in one stage", rule: ruleWgetCurl, src: "FROM alpine:3.20\nRUN wget -q x\nRUN echo\nRUN curl -fsS y\n", line: 4},
	{name: "wget and curl in different stages", rule: ruleWgetCurl, src: "FROM alpine:3.20\nRUN wget -q x\nFROM alpine:3.20\nRUN curl -fsS y\n", line: 0},

	// DL4005
	{name: "ln to /bin/sh", rule: ruleShellLink, src: "FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n", line: 2},
	{name: "ln elsewhere", rule: ruleShellLink, src: "FROM debian:12\nRUN ln -sf /usr/bin/python3 /usr/bin/python\n", line: 0},

	// DL3061
	{name: "run before from", rule: ruleOrder, src: "RUN echo hi\nFROM alpine:3.20\n", line: 1},
	{name: "arg before from", rule: ruleOrder, src: "ARG TAG=3.20\nFROM alpine:$TAG\n", line: 0},

	// DL4000
	{name: "maintainer", rule: ruleMaintainer, src: "FROM alpine:3.20\nMAINTAINER jane@example.com\n", line: 2},
	{name: "authors label", rule: ruleMaintainer, src: "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=jane@example.com\n", line: 0},

	// DL4003
	{name: "two cmds", rule: ruleCmds, src: "FROM alpine:3.20\nCMD [\"a\"]\nCMD [\"b\"]\n", line: 3, msg: "first at line 2"},
	{name: "one cmd per stage", rule: ruleCmds, src: "FROM alpine:3.20\nCMD [\"a\"]\nFROM alpine:3.20\nCMD [\"b\"]\n", line: 0},

	// DL4004
	{name: "two entrypoints", rule: ruleEntrypoints, src: "FROM alpine:3.20\nENTRYPOINT [\"a\"]\nRUN true\nENTRYPOINT [\"b\"]\n", line: 4},
	{name: "one entrypoint", rule: ruleEntrypoints, src: "FROM alpine:3.20\nENTRYPOINT [\"a\"]\nCMD [\"b\"]\n", line: 0},

	// DL4006
	{name: "pipe without pipefail", rule: rulePipefail, src: "FROM alpine:3.20\nRUN curl -fsSL https://example.com/install.sh | sh\n", line: 2, col: 47},
	{name: "pipe in heredoc", rule: rulePipefail, src: "FROM alpine:3.20\nRUN <<EOF\nwget -O- https://example.com | tar x\nEOF\n", line: 2},
	{name: "pipe before set pipefail", rule: rulePipefail, src: "FROM alpine:3.20\nRUN a | b; set -o pipefail\n", line: 2},
	{name: "pipefail shell of another stage", rule: rulePipefail, src: "FROM debian:12 AS a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nFROM debian:12\nRUN a | b\n", line: 4},
	{name: "shell without pipefail", rule: rulePipefail, src: "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nRUN a | b\n", line: 3},
	{name: "pipefail shell", rule: rulePipefail, src: "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n", line: 0},
	{name: "pipefail shell through env", rule: rulePipefail, src: "FROM debian:12\nSHELL [\"/usr/bin/env\", \"bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n", line: 0},
	{name: "sh with pipefail", rule: rulePipefail, src: "FROM debian:12\nSHELL [\"/bin/sh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n", line: 3},
	{name: "pipefail shell cluster", rule: rulePipefail, src: "FROM debian:12\nSHELL [\"/bin/bash\", \"-euxo\", \"pipefail\", \"-c\"]\nRUN a | b\n", line: 0},
	{name: "pipefail inherited from parent stage", rule: rulePipefail, src: "FROM debian:12 AS base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nFROM base\nRUN a | b\n", line: 0},
	{name: "set pipefail first", rule: rulePipefail, src: "FROM alpine:3.20\nRUN set -eo pipefail && a | b\n", line: 0},
	{name: "exec form", rule: rulePipefail, src: "FROM alpine:3.20\nRUN [\"sh\", \"-c\", \"a | b\"]\n", line: 0},
	{name: "or is not a pipe", rule: rulePipefail, src: "FROM alpine:3.20\nRUN a || b\n", line: 0},
	{name: "powershell", rule: rulePipefail, src: "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Get-ChildItem | Out-Null\n", line: 0},
	{name: "unparsable shell", rule: rulePipefail, src: "FROM alpine:3.20\nRUN a | b; if then fi (\n", line: 0},

	// GS1001
	{name: "missing target", rule: ruleTargetMissing, src: "FROM golang:1.22 AS build\nFROM alpine:3.20 AS app\n", targets: []string{"test"}, line: 1, msg: "stages: build, app"},
	{name: "missing target without named stages", rule: ruleTargetMissing, src: "FROM alpine:3.20\n", targets: []string{"app"}, line: 1, msg: "no named stages"},
	{name: "existing targets", rule: ruleTargetMissing, src: "FROM golang:1.22 AS build\nFROM build AS test\nFROM alpine:3.20 AS app\n", targets: []string{"app", "Test"}, line: 0},
}

// labelCfg is a label-schema with one label of each type, strict.
var labelCfg = Config{StrictLabels: true, LabelSchema: map[string]string{
	"org.opencontainers.image.source":   labelURL,
	"org.opencontainers.image.created":  labelRFC3339,
	"org.opencontainers.image.licenses": labelSPDX,
	"org.opencontainers.image.revision": labelHash,
	"org.opencontainers.image.version":  labelSemVer,
	"org.opencontainers.image.authors":  labelEmail,
	"org.opencontainers.image.title":    labelText,
}}

// enable switches on a rule that is off by default, at warning.
func enable(id string) Config {
	return Config{Override: map[string]finding.Severity{id: finding.Warning}}
}

// sourceCfg is a label-schema of one label.
var sourceCfg = Config{LabelSchema: map[string]string{"org.opencontainers.image.source": labelURL}}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			fs := Lint("Dockerfile", []byte(tc.src), Options{Targets: tc.targets, Config: tc.cfg})
			var got []finding.Finding
			for _, f := range fs {
				if f.RuleID == tc.rule {
					got = append(got, f)
				}
			}
			if tc.line == 0 {
				if len(got) > 0 {
					t.Fatalf("want no %s, got:\n%s", tc.rule, render(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one %s at line %d, got %d:\n%s\nall findings:\n%s", tc.rule, tc.line, len(got), render(got), render(fs))
			}
			f := got[0]
			if f.Line != tc.line {
				t.Errorf("line = %d, want %d: %s", f.Line, tc.line, f)
			}
			if tc.col != 0 && f.Column != tc.col {
				t.Errorf("column = %d, want %d: %s", f.Column, tc.col, f)
			}
			if tc.msg != "" && !strings.Contains(f.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", f.Message, tc.msg)
			}
			if err := checkMessage(f.Message); err != nil {
				t.Error(err)
			}
			if f.File != "Dockerfile" {
				t.Errorf("file = %q, want Dockerfile", f.File)
			}
			want := defaultSeverity(tc.rule)
			if sev, ok := tc.cfg.Override[tc.rule]; ok {
				want = sev
			}
			if f.Severity != want {
				t.Errorf("severity = %s, want %s", f.Severity, want)
			}
		})
	}
}

// TestRuleCasesCoverRules makes sure every rule has a case that fires and
// a case that does not, so a rule that stops working fails a test.
func TestRuleCasesCoverRules(t *testing.T) {
	pos, neg := map[string]bool{}, map[string]bool{}
	for _, tc := range ruleCases {
		if tc.line > 0 {
			pos[tc.rule] = true
		} else {
			neg[tc.rule] = true
		}
	}
	for _, r := range Rules() {
		if !pos[r.ID] {
			t.Errorf("%s has no case where it fires", r.ID)
		}
		if !neg[r.ID] {
			t.Errorf("%s has no case where it stays silent", r.ID)
		}
	}
}

func TestRulesMetadata(t *testing.T) {
	rs := Rules()
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	if !slices.IsSortedFunc(rs, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Rules() is not sorted by ID")
	}
	seen := map[string]bool{}
	names := map[string]bool{}
	for _, r := range rs {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if names[r.Name] {
			t.Errorf("%s: duplicate name %q", r.ID, r.Name)
		}
		names[r.Name] = true
		if r.Name == "" || r.Name != strings.ToLower(r.Name) || strings.ContainsAny(r.Name, " _") {
			t.Errorf("%s: name %q is not kebab-case", r.ID, r.Name)
		}
		if r.Summary == "" || strings.Contains(r.Summary, "\n") {
			t.Errorf("%s: summary must be one non-empty line", r.ID)
		}
		switch {
		case r.Severity == finding.None && !strings.HasPrefix(r.Summary, "off by default"):
			t.Errorf("%s: off by default, and the summary does not say so", r.ID)
		case r.Severity != finding.Info && r.Severity != finding.Warning && r.Severity != finding.Error && r.Severity != finding.None:
			t.Errorf("%s: invalid severity %v", r.ID, r.Severity)
		}
		if !strings.HasPrefix(r.HelpURI, "https://") {
			t.Errorf("%s: HelpURI %q", r.ID, r.HelpURI)
		}
		if strings.HasPrefix(r.ID, "DL") && r.HelpURI != "https://github.com/hadolint/hadolint/wiki/"+r.ID {
			t.Errorf("%s: HelpURI %q is not hadolint's wiki page", r.ID, r.HelpURI)
		}
	}
	// Rules hands out a copy: changing it must not change the table.
	rs[0].ID = "XX0000"
	if Rules()[0].ID == "XX0000" {
		t.Error("Rules() exposes the rule table")
	}
}

// TestEmittedRulesAreListed lints every case and testdata file and checks
// that each rule ID in the output is one Rules() lists.
func TestEmittedRulesAreListed(t *testing.T) {
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	inputs := map[string][]byte{}
	for _, tc := range ruleCases {
		inputs[tc.name] = []byte(tc.src)
	}
	for name, src := range testdataFiles(t) {
		inputs[name] = src
	}
	for name, src := range inputs {
		for _, f := range Lint(name, src, Options{Targets: []string{"build", "nope"}}) {
			if !known[f.RuleID] {
				t.Errorf("%s: rule %s is not in Rules()", name, f.RuleID)
			}
		}
	}
}

func TestModernSyntaxIsClean(t *testing.T) {
	src := readFile(t, "testdata/modern.Dockerfile")
	if fs := Lint("modern.Dockerfile", src, Options{Targets: []string{"build"}}); len(fs) > 0 {
		t.Errorf("want no findings for current BuildKit syntax, got:\n%s", render(fs))
	}
}

func TestFindingsAreSorted(t *testing.T) {
	src := readFile(t, "testdata/golden/multistage.Dockerfile")
	fs := Lint("multistage.Dockerfile", src, Options{})
	if len(fs) < 2 {
		t.Fatalf("want several findings, got %d", len(fs))
	}
	sorted := slices.Clone(fs)
	finding.Sort(sorted)
	if !slices.Equal(fs, sorted) {
		t.Errorf("findings are not in finding.Sort order:\n%s", render(fs))
	}
}

// TestLintConcurrent runs Lint from several goroutines; with -race it shows
// that no state is shared between calls.
func TestLintConcurrent(t *testing.T) {
	src := readFile(t, "testdata/golden/multistage.Dockerfile")
	want := render(Lint("x", src, Options{}))
	done := make(chan string)
	for range 8 {
		go func() { done <- render(Lint("x", src, Options{})) }()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("concurrent Lint differs:\n%s\nwant:\n%s", got, want)
		}
	}
}

// checkMessage enforces the message style: one line, lower-case start.
func checkMessage(m string) error {
	r, _ := utf8.DecodeRuneInString(m)
	switch {
	case m == "":
		return errors.New("empty message")
	case strings.ContainsAny(m, "\n\r"):
		return fmt.Errorf("message is not one line: %q", m)
	case unicode.IsUpper(r):
		return fmt.Errorf("message starts upper-case: %q", m)
	}
	return nil
}

func render(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintln(&b, f.String())
	}
	return b.String()
}
