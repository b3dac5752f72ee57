# Stand-in for redis:7-alpine (see docs/offline-images.md): Debian's redis-server with the official image's
# entrypoint behaviour (protected mode off when no config file is given; runs as the redis user; data in /data).
ARG ROOTFS=warren-base/debian:bookworm
FROM ${ROOTFS}
ARG FOR=redis:7-alpine
LABEL org.warren.stand-in="true" org.warren.stand-in.for="${FOR}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
