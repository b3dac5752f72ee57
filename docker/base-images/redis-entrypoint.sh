#!/bin/sh
# redis:7-alpine's entrypoint contract, for Debian's redis-server.
set -e
# `docker run redis --appendonly yes` and `docker run redis /path/redis.conf` mean redis-server with those
case "$1" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ]; then
  # No config file, or one that does not set it: a container is reached from other hosts, so protected mode
  # off, placed after the config file and before the other arguments (an explicit --protected-mode yes wins).
  config=
  if [ -f "${2:-}" ]; then config=$2; fi
  if [ -z "$config" ] || ! grep -q '^protected-mode' "$config"; then
    shift
    if [ -n "$config" ]; then shift; fi
    set -- --protected-mode no "$@"
    if [ -n "$config" ]; then set -- "$config" "$@"; fi
    set -- redis-server "$@"
  fi
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
