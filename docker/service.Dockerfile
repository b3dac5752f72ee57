# syntax=docker/dockerfile:1
#
# The one Dockerfile for every Warren image: the five NestJS services and the bundled AMQP broker, chosen with
# the build argument APP (an app under apps/). Why one file and not one per app: every image comes out of the
# same workspace install and the same esbuild bundling step and differs only in which bundle it carries, so
# six near-identical files would only drift apart. What does differ is decided from the bundle, not by name:
# the broker's bundle needs no npm package, so its image gets no node_modules (Node and one .js file); and the
# health check (docker/healthcheck.mjs) asks /health over HTTP for a service and speaks AMQP to the broker.
# docker-compose.yml and the e2e container runtime (e2e/support/containers.ts) both build this file.
#
# Build context: the repository root (see .dockerignore). Examples:
#   docker build -f docker/service.Dockerfile --build-arg APP=orders --build-arg PORT=3001 -t warren-orders .
#   docker build -f docker/service.Dockerfile --build-arg APP=broker --build-arg PORT=5672 -t warren-broker .
# Build arguments: APP (required); PORT, the port a service listens on in the container (env PORT; default
# 3000; compose passes each service's default port, listed under Ports in docs/architecture.md; the broker
# listens on 5672, or BROKER_PORT).
# Data (the broker's store, SQLite files when DATABASE_URL is unset) lives in /data, owned by the node user.
#
# Stages: manifests -> toolchain -> deps -> build (bundle APP)
#                                -> prod-deps -> layout (what the image carries) -> runtime

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

# --- production dependencies only. The workspace links (node_modules/@warren/*) go: the bundles already
#     contain the workspace libraries, and in the runtime image the links would dangle.
FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@warren \
 && npm cache clean --force

# --- bundle one app into dist/apps/$APP/main.js (+ source map); npm packages stay external
FROM deps AS build
COPY . .
ARG APP
RUN if [ -z "$APP" ]; then echo "build argument APP is required (e.g. --build-arg APP=orders)" >&2; exit 1; fi; \
    if [ ! -f "apps/$APP/src/main.ts" ]; then echo "no app '$APP': apps/$APP/src/main.ts does not exist" >&2; exit 1; fi; \
    node tools/scripts/bundle.mjs "apps/$APP/src/main.ts" "dist/apps/$APP/main.js"

# --- /out is exactly what the runtime image gets: the bundle under dist/app/ (CMD cannot expand $APP, so one
#     fixed path), the health check, and package.json + production node_modules only when the bundle
#     requires an npm package (the broker's does not).
FROM prod-deps AS layout
ARG APP
COPY --from=build /app/dist/apps/${APP}/ /out/dist/app/
COPY docker/healthcheck.mjs /out/healthcheck.mjs
RUN needs=$(node -e ' \
      const { isBuiltin } = require("node:module"); \
      const code = require("node:fs").readFileSync("/out/dist/app/main.js", "utf8"); \
      const external = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).filter((m) => !isBuiltin(m)); \
      console.log(external.length ? "yes" : "no");') \
 && case "$needs" in \
      yes) mv node_modules package.json /out/ ;; \
      no) echo "the $APP bundle requires no npm package: its image gets no node_modules" ;; \
      *) exit 1 ;; \
    esac

FROM ${NODE_IMAGE} AS runtime
ARG APP
ARG PORT=3000
ENV NODE_ENV=production \
    SERVICE=${APP} \
    PORT=${PORT} \
    WARREN_DATA_DIR=/data
WORKDIR /app
COPY --from=layout /out/ ./
# /data for durable state, owned by node (a fresh named volume mounted there inherits that); /app/.data points
# at it, so the broker's default --data-dir (.data/broker) lands in /data/broker
RUN mkdir /data && chown node:node /data && ln -s /data /app/.data
USER node
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 CMD ["node", "healthcheck.mjs"]
CMD ["node", "--enable-source-maps", "dist/app/main.js"]
