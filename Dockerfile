# FixServe in a container: build with the Swift toolchain, run on a slim Debian with only the
# shared libraries the server links.
#   docker build -t fixserve .                                   # the server
#   docker build --target trainer -t fixserve-trainer .          # plus Fashion-MNIST, for training jobs
#   docker run -p 8080:8080 fixserve
FROM swift:6.1-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libopenblas-dev liblapacke-dev libnghttp2-dev libssl-dev libspng-dev \
      libturbojpeg0-dev libhttp-parser-dev zlib1g-dev libyajl-dev libfast-float-dev libjemalloc-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product fixserve --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/fixserve" /usr/local/bin/fixserve

# The runtime packages are exactly those that own the libraries `ldd fixserve` lists, less the
# ones debian:bookworm-slim already has (libc6, libgcc-s1, libstdc++6); the Swift runtime is
# linked statically. Tests/FixServeServiceTests/DeploymentTests.swift keeps this list in step.
FROM debian:bookworm-slim AS runtime
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgfortran5 libhttp-parser2.9 libjemalloc2 liblapacke libnghttp2-14 libopenblas0-pthread libquadmath0 \
      libspng0 libssl3 libtmglib3 libturbojpeg0 libyajl2 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 fixserve \
    && useradd --system --uid 10001 --gid fixserve --home-dir /srv/fixserve --no-create-home fixserve \
    && mkdir -p /srv/fixserve/state && chown -R 10001:10001 /srv/fixserve
COPY --from=build /usr/local/bin/fixserve /usr/local/bin/fixserve
COPY --chown=10001:10001 models /srv/fixserve/models
WORKDIR /srv/fixserve
# Numeric, so that Kubernetes' runAsNonRoot can check it without a runAsUser.
USER 10001:10001
# On 0.0.0.0 the server needs API keys (FIXSERVE_AUTH_FILE or FIXSERVE_API_KEYS) or
# FIXSERVE_INSECURE_PUBLIC=true; with neither it stops at once and says so (README.md).
ENV FIXSERVE_HOST=0.0.0.0 FIXSERVE_PORT=8080 FIXSERVE_MODELS=/srv/fixserve/models FIXSERVE_STATE=/srv/fixserve/state
EXPOSE 8080
# No curl in the image: bash asks for readiness over HTTP/1.1 on the server's port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD bash -c 'exec 3<>"/dev/tcp/127.0.0.1/${FIXSERVE_PORT:-8080}" && printf "GET /v2/health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && read -r _ status _ <&3 && [ "$status" = 200 ]'
STOPSIGNAL SIGTERM
ENTRYPOINT ["fixserve", "serve"]

# The trainer (deploy/kubernetes/trainer.yaml): the same server with the Fashion-MNIST files
# that training jobs on the dataset "fashion-mnist" read from /usr/share/datasets.
FROM runtime AS trainer
USER root
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/*
USER 10001:10001

# The default target: the server alone.
FROM runtime
