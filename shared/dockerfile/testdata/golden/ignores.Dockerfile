# hadolint global ignore=DL3003
FROM ubuntu
# hadolint ignore=DL3014,DL3015
RUN apt-get update && apt-get install curl && cd /opt
# gitship ignore=DL3007 because we want to track upstream
FROM nginx:latest AS web

FROM nginx:latest
RUN apt-get install curl
