# Build: one release binary. pq-sys builds libpq from source (bundled) and
# links the system OpenSSL; SQLite is bundled too.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p adosexo-api --bin adosexo

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/adosexo adosexo
COPY --from=build /src/target/release/adosexo /usr/local/bin/adosexo
USER adosexo
WORKDIR /var/lib/adosexo
# Two malloc arenas and no growing mmap threshold: a bounded footprint
# (README, docs/PERFORMANCE.md).
ENV ADOSEXO_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/adosexo/data/adosexo.db \
    ADOSEXO_LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["adosexo"]
CMD ["serve"]
