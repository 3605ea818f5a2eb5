FROM gitship-test/busybox:1
WORKDIR /src
COPY a.txt ./
RUN for i in $(seq 1 40); do echo "test line $i"; done; echo "FAIL: TestThing" >&2; exit 3
