FROM gitship-test/busybox:1 AS build
WORKDIR /src
RUN echo hello && \
    echo world > /w.txt
FROM build AS test
RUN echo compiling && \
    echo boom-output >&2 && exit 7
