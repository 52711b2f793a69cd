# SETA service image: built with the official Swift image, run on a slim Debian with libpq.
FROM swift:6.0-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product seta --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl tzdata && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/.build/release/seta /app/seta
COPY Schema /app/Schema
COPY Data /app/Data
ENV SETA_SCHEMA_DIR=/app/Schema SETA_REFERENCE_DATA=/app/Data SETA_HOST=0.0.0.0 SETA_PORT=8080
EXPOSE 8080
USER nobody
ENTRYPOINT ["/app/seta"]
CMD ["serve"]
