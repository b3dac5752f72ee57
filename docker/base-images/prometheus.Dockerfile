# Stand-in for prom/prometheus (see docs/offline-images.md): Debian's Prometheus server and promtool with the
# official image's contract: entrypoint the server, default flags reading /etc/prometheus/prometheus.yml and
# keeping the database in /prometheus, run as nobody, the UI and API on 9090. wget is there for the health check
# compose declares (the official image's busybox has one).
ARG ROOTFS=warren-base/debian:bookworm
FROM ${ROOTFS}
ARG FOR=prom/prometheus
LABEL org.warren.stand-in="true" org.warren.stand-in.for="${FOR}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus wget \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus /etc/prometheus \
 && chown nobody:nogroup /prometheus
# /bin is /usr/bin in Debian 12, so /bin/prometheus and /bin/promtool are where the official image has them
USER nobody
VOLUME /prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
