FROM gitship-test/busybox:1 AS build
WORKDIR /src
RUN echo hello
FROM build AS test
CMD ["sh"]
