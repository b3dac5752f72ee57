# The one Dockerfile for every Warren image: the five NestJS services and the bundled AMQP broker, chosen with
# the build argument APP (an app under apps/). Why one file and not one per app: every image comes out of the
# same workspace install and the same esbuild bundling step and differs only in which bundle it carries, so
# six near-identical files would only drift apart. What does differ is decided from the bundle, not by name:
# the packages an image carries are the ones its bundle requires (the broker's requires none: Node and one .js
# file); and the health check (docker/healthcheck.mjs) asks /health over HTTP for a service and speaks AMQP to
# the broker.
# docker-compose.yml and the e2e container runtime (e2e/support/containers.ts) both build this file.
#
# Build context: the repository root (see .dockerignore). Examples:
#   docker build -f docker/service.Dockerfile --build-arg APP=orders -t warren-orders .
#   docker build -f docker/service.Dockerfile --build-arg APP=broker -t warren-broker .
# Build arguments: APP (required); NODE_IMAGE (default node:20-bookworm-slim; without a registry, see
# docs/offline-images.md). A service listens on 3000 in its container (env PORT), the broker on 5672.
# Data (the broker's store, SQLite files when DATABASE_URL is unset) lives in /data, owned by the node user.
#
# Stages: manifests -> toolchain -> deps -> build (bundle APP)
#                                        -> prod-deps -> layout (what the image carries) -> runtime

ARG NODE_IMAGE=node:20-bookworm-slim

# --- the workspace's package.json files and the lockfile only, so the installs below stay cached until a
#     manifest changes (npm workspaces need every apps/*/package.json and libs/*/package.json to install).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -depth -type d -empty -delete

# --- a toolchain for native addons: better-sqlite3 compiles when no prebuilt binary matches
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=manifests /src/ ./

# --- every dependency, dev ones included (esbuild bundles the apps)
FROM toolchain AS deps
RUN npm ci --no-audit --no-fund

# --- production dependencies only: the same install with the dev dependencies pruned (nothing downloaded or
#     compiled twice). The workspace links (node_modules/@warren/*) go: the bundles already contain the
#     workspace libraries, and in the runtime image the links would dangle.
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@warren \
 && npm cache clean --force

# --- bundle one app into dist/apps/$APP/main.js (+ source map); npm packages stay external. An app with a web
#     front end (the console: apps/console/vite.config.ts) also gets it built, into dist/apps/$APP/web.
FROM deps AS build
COPY . .
ARG APP
RUN if [ -z "$APP" ]; then echo "build argument APP is required (e.g. --build-arg APP=orders)" >&2; exit 1; fi; \
    if [ ! -f "apps/$APP/src/main.ts" ]; then echo "no app '$APP': apps/$APP/src/main.ts does not exist" >&2; exit 1; fi; \
    node tools/scripts/bundle.mjs "apps/$APP/src/main.ts" "dist/apps/$APP/main.js"; \
    if [ -f "apps/$APP/vite.config.ts" ]; then node node_modules/vite/bin/vite.js build -c "apps/$APP/vite.config.ts" --logLevel warn; fi

# --- /out is exactly what the runtime image gets: the bundle under dist/app/ (CMD cannot expand $APP, so one
#     fixed path), the health check, and from the production install only the packages the bundle requires and
#     their dependencies (tools/scripts/image-deps.mjs; none for the broker, whose bundle requires no package).
#     Native addons keep their compiled .node files and lose their sources and build intermediates.
FROM prod-deps AS layout
ARG APP
COPY --from=build /app/dist/apps/${APP}/ /out/dist/app/
COPY docker/healthcheck.mjs /out/healthcheck.mjs
COPY tools/scripts/image-deps.mjs /tmp/image-deps.mjs
RUN node /tmp/image-deps.mjs /out/dist/app/main.js /out \
 && for gyp in $(find /out/node_modules -name binding.gyp 2>/dev/null); do \
      pkg=$(dirname "$gyp"); [ -f "$pkg/package.json" ] || continue; rm -rf "$pkg/deps" "$pkg/src"; \
      if [ -d "$pkg/build" ]; then find "$pkg/build" -type f ! -name '*.node' -delete; find "$pkg/build" -depth -type d -empty -delete; fi; \
    done

FROM ${NODE_IMAGE} AS runtime
ARG APP
# Every service listens on 3000 inside its container (compose maps each to its own host port); the broker on
# 5672 (BROKER_PORT). One image per APP, whoever builds it: compose and the e2e runtime share them.
ENV NODE_ENV=production \
    SERVICE=${APP} \
    PORT=3000 \
    WARREN_DATA_DIR=/data
WORKDIR /app
COPY --from=layout /out/ ./
# /data for durable state, owned by node (a fresh named volume mounted there inherits that); /app/.data points
# at it, so the broker's default --data-dir (.data/broker) lands in /data/broker
RUN mkdir /data && chown node:node /data && ln -s /data /app/.data
USER node
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 CMD ["node", "healthcheck.mjs"]
CMD ["node", "--enable-source-maps", "dist/app/main.js"]
