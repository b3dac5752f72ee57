#!/bin/sh
# rabbitmq:3-management's entrypoint contract, for Debian's RabbitMQ: the default user, password and vhost from
# RABBITMQ_DEFAULT_*, no loopback-only users, console logging; runs as the rabbitmq user.
set -e
if [ "$1" = rabbitmq-server ]; then
  if [ "$(id -u)" = 0 ]; then
    {
      echo 'loopback_users = none'
      echo 'listeners.tcp.default = 5672'
      echo 'management.tcp.port = 15672'
      echo 'log.console = true'
      echo 'log.console.level = info'
      echo "default_user = ${RABBITMQ_DEFAULT_USER:-guest}"
      echo "default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}"
      echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST:-/}"
    } > /etc/rabbitmq/conf.d/10-defaults.conf
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$0" "$@"
  fi
  cd /var/lib/rabbitmq
fi
exec "$@"
