#!/bin/sh
# One node of docker-compose.yml's `cluster` profile: runs before the image's own entrypoint (rabbitmq:3-management,
# the official image or its stand-in, docs/offline-images.md) and then hands over to it. Mounted read-only.
#
# - The Erlang cookie all nodes share, from RABBITMQ_CLUSTER_COOKIE, in the rabbitmq user's HOME (the image's
#   entrypoint makes it the rabbitmq user's; rabbitmq-diagnostics in the health check reads it as well).
# - Cluster formation at start-up: classic config peer discovery with one node listed, the seed
#   RABBITMQ_CLUSTER_SEED. A node starting from empty data joins it; the seed, finding only itself, starts the
#   cluster at once. (Listing every node would have the seed try the others, still waiting for it, ten times.)
# - Only on that first start, a node other than the seed waits until the seed runs (up to
#   RABBITMQ_CLUSTER_WAIT_SECONDS, 300 by default): nodes booting together from empty data could otherwise each
#   find the others not yet up and form clusters of one. A node restarting from its data waits for no one:
#   the members of a cluster find each other again whichever starts first.
set -eu
: "${RABBITMQ_CLUSTER_COOKIE:?set RABBITMQ_CLUSTER_COOKIE: the Erlang cookie every node of the cluster shares}"
: "${RABBITMQ_CLUSTER_SEED:?set RABBITMQ_CLUSTER_SEED: the node the others join, e.g. rabbit@rabbitmq-1}"
home=/var/lib/rabbitmq
self="rabbit@$(hostname)"
seed=$RABBITMQ_CLUSTER_SEED

umask 077
printf '%s' "$RABBITMQ_CLUSTER_COOKIE" > "$home/.erlang.cookie"
chown rabbitmq:rabbitmq "$home/.erlang.cookie" 2>/dev/null || true
umask 022
printf '%s\n' 'cluster_formation.peer_discovery_backend = rabbit_peer_discovery_classic_config' \
  "cluster_formation.classic_config.nodes.1 = $seed" > /etc/rabbitmq/conf.d/20-warren-cluster.conf

if [ "$self" != "$seed" ] && [ ! -d "$home/mnesia/$self" ]; then
  limit=${RABBITMQ_CLUSTER_WAIT_SECONDS:-300}
  waited=0
  echo "$self: first start; waiting for $seed to run before joining it"
  until HOME=$home rabbitmq-diagnostics -q -n "$seed" check_running -t 5 >/dev/null 2>&1; do
    if [ "$waited" -ge "$limit" ]; then
      echo "$self: $seed did not run within $limit s; not starting (a node of its own would not be in the cluster)" >&2
      exit 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "$self: $seed runs; starting"
fi
exec docker-entrypoint.sh "$@"
