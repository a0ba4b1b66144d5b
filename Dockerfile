# FixServe in a container: build with the Swift toolchain, run on a slim Debian with only the
# shared libraries the server links.
#   docker build -t fixserve .
#   docker run -p 8080:8080 fixserve
FROM swift:6.1-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libopenblas-dev liblapacke-dev libnghttp2-dev libssl-dev libspng-dev \
      libturbojpeg0-dev libhttp-parser-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product fixserve --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/fixserve" /usr/local/bin/fixserve

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libopenblas0-pthread liblapacke libnghttp2-14 libssl3 libspng0 libturbojpeg0 \
      libhttp-parser2.9 zlib1g ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /srv/fixserve fixserve
COPY --from=build /usr/local/bin/fixserve /usr/local/bin/fixserve
COPY models /srv/fixserve/models
WORKDIR /srv/fixserve
USER fixserve
ENV FIXSERVE_HOST=0.0.0.0 FIXSERVE_PORT=8080 FIXSERVE_MODELS=/srv/fixserve/models FIXSERVE_STATE=/srv/fixserve/state
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/v2/health/ready || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["fixserve", "serve"]
