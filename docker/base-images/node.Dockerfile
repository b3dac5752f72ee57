# Stand-in for node:20-bookworm-slim (see docs/offline-images.md). The context is assembled by build.mjs: the
# Node.js binary, npm and Node's headers of the machine running the script, and its TLS trust store.
ARG ROOTFS=warren-base/debian:bookworm
FROM ${ROOTFS}
ARG FOR=node:20-bookworm-slim
LABEL org.warren.stand-in="true" org.warren.stand-in.for="${FOR}"
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
COPY ca-certificates.crt /usr/local/share/warren/ca-certificates.crt
# the official image's layout: node and npm/npx on PATH under /usr/local, a `node` user (uid/gid 1000)
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
# Node and npm trust the machine's store (it may hold a TLS-inspecting proxy's CA); node-gyp builds native addons
# against the headers above instead of downloading them.
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/warren/ca-certificates.crt \
    npm_config_cafile=/usr/local/share/warren/ca-certificates.crt \
    npm_config_nodedir=/usr/local
CMD ["node"]
