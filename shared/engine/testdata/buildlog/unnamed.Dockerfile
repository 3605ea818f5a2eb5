FROM gitship-test/busybox:1
RUN true
