# syntax=docker/dockerfile:1
#
# medallion image: one multi-call binary `medallion` (CLI), linked as `medallion-scheduler` and
# `medallion-executor` (started under either name it is that service), built with the `image`
# profile (release without debug info or symbols, fat LTO: a 121.5 MB binary, an image of about
# 210 MB), on Debian bookworm-slim, run as the non-root
# user medallion (uid 10001).
#
#   docker build -t medallion:0.1.0 .
#   docker run --rm medallion:0.1.0                          # medallion --help
#   docker run --rm medallion:0.1.0 medallion-scheduler --help
#
# Stages: chef (toolchain + cargo-chef) -> planner (dependency recipe) -> builder (dependencies
# cooked in their own layer, rebuilt only when a Cargo.toml or Cargo.lock changes; then the
# workspace) -> runtime.

# Must be >= the workspace's rust-version (Cargo.toml); jobs/tests/deploy_manifests.rs checks it.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS chef
# protoc is only needed if the scheduler is built with ballista-scheduler's `keda-scaler` feature
# (KEDA external scaler, see k8s/keda/); it is small, so it is always there.
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ENV CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0
COPY --from=planner /src/recipe.json recipe.json
# Dependency layer: only the manifests and Cargo.lock decide what is compiled here.
RUN cargo chef cook --profile image --locked --recipe-path recipe.json
# The workspace itself (job plans under jobs/sql and the reference data in data/ are embedded).
COPY . .
RUN cargo build --profile image --locked -p medallion-jobs --bin medallion \
 && mkdir -p /out \
 && cp target/image/medallion /out/

FROM debian:bookworm-slim AS runtime
# ca-certificates: TLS to S3 / MySQL; curl: the compose healthchecks; hostname: the compose
# executors advertise `hostname -i`; tini: PID 1 that forwards SIGTERM and reaps children (the
# scheduler installs no signal handler of its own).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl hostname tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 medallion \
 && useradd --system --uid 10001 --gid 10001 --home-dir /opt/medallion --shell /usr/sbin/nologin medallion
COPY --from=builder /out/medallion /usr/local/bin/medallion
RUN ln -s medallion /usr/local/bin/medallion-scheduler \
 && ln -s medallion /usr/local/bin/medallion-executor
WORKDIR /opt/medallion
COPY data/ /opt/medallion/data/
# /lake (Silver), /gold (Parquet Gold) and /work-dir (executor shuffle files) are the mount points
# of docker-compose.yml's volumes; owned by medallion so a fresh named volume is writable.
RUN mkdir -p /lake /gold /work-dir /opt/medallion/lake /opt/medallion/gold \
 && chown -R 10001:10001 /lake /gold /work-dir /opt/medallion
USER 10001:10001
ENV RUST_LOG=info
# 50050 scheduler gRPC + REST + /healthz /readyz; 50051 executor Arrow Flight (shuffle);
# 50052 executor gRPC; 50053 executor /healthz /readyz.
EXPOSE 50050 50051 50052 50053
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["medallion", "--help"]
