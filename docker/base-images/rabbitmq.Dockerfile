# Stand-in for rabbitmq:3-management (see docs/offline-images.md): Debian's RabbitMQ with the management and
# Prometheus plugins, the official image's environment (RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS,
# RABBITMQ_DEFAULT_VHOST), guest allowed from other hosts (loopback_users none), logs on stdout (testcontainers
# waits for "Server startup complete"), data in /var/lib/rabbitmq keyed by the container's hostname.
ARG ROOTFS=warren-base/debian:bookworm
FROM ${ROOTFS}
ARG FOR=rabbitmq:3-management
LABEL org.warren.stand-in="true" org.warren.stand-in.for="${FOR}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* /var/lib/rabbitmq/mnesia /var/log/rabbitmq/* \
 && printf '[rabbitmq_management,rabbitmq_prometheus].\n' > /etc/rabbitmq/enabled_plugins \
 && mkdir -p /etc/rabbitmq/conf.d \
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV RABBITMQ_LOGS=- \
    HOME=/var/lib/rabbitmq \
    PATH=/usr/lib/rabbitmq/bin:$PATH
VOLUME /var/lib/rabbitmq
EXPOSE 4369 5671 5672 15671 15672 15692 25672
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rabbitmq-server"]
