# ecrguard in a container: `docker build -t ecrguard .`, then
#   docker run --rm -v "$PWD:/work:ro" ecrguard scan /work
# A multi-stage build: the release binary is built on the Rust image and copied alone into a
# minimal runtime (distroless: glibc, CA certificates, no shell), run as a non-root user.

# The current stable toolchain (the locked dependencies need a recent one).
FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so that a change to the code alone reuses their layer.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY data ./data
RUN cargo build --release --locked -p ecrguard \
 && install -D -m 0755 target/release/ecrguard /out/ecrguard

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ecrguard /usr/local/bin/ecrguard
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/ecrguard"]
CMD ["scan", "."]
