FROM gitship-test/busybox:1 AS base
WORKDIR /src
COPY a.txt ./

FROM base as left
RUN for i in 1 2 3 4 5; do printf '\033[32mleft %s\033[0m\n' $i; sleep 0.2; done

FROM base AS right
RUN for i in 10 20 30 40 50 60 70 80 90 100; do printf 'progress %s%%\r' $i; sleep 0.05; done; echo; echo right done >&2; sleep 0.3; echo right after

FROM base
COPY --from=left /src/a.txt /left.txt
COPY --from=right /src/a.txt /right.txt
CMD ["cat", "/left.txt"]
