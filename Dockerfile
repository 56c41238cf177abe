# One image for the centre (server and worker) and the edge agent; the command picks the role.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY contract/package.json contract/
COPY server/package.json server/
COPY edge-agent/package.json edge-agent/
COPY web/package.json web/
COPY test-support/package.json test-support/
RUN npm install --no-audit --no-fund
COPY contract contract
COPY migrations migrations
COPY server server
COPY edge-agent edge-agent
COPY test-support test-support
COPY web web
COPY scripts scripts
RUN npm run build -w web --if-present
ENV NODE_ENV=production WEB_ROOT=/app/web/build
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "server/src/main.ts"]
