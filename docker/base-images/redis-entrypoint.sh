#!/bin/sh
# redis:7-alpine's entrypoint contract, for Debian's redis-server.
set -e
# `docker run redis --appendonly yes` and `docker run redis /path/redis.conf` mean redis-server with those
case "$1" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ]; then
  # no config file (or one that does not set it): a container is reached from other hosts, so protected mode off
  if [ ! -f "${2:-}" ] || ! grep -q '^protected-mode' "$2"; then set -- "$@" --protected-mode no; fi
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
