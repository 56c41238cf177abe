# One image for the centre (server and worker) and the edge agent; the command picks the role.
FROM node:20-bookworm-slim
# Run-time tools (nothing is downloaded at run time):
# - ffmpeg/ffprobe: the agent's recorder, the centre's segment checks, pack MP4 cuts and disclosure masking;
# - chromium + fonts-ipafont-gothic: the pack report's PDF (headless print, Japanese text), CHROMIUM_PATH=/usr/bin/chromium;
# - python3-opencv + opencv-data: the disclosure face detector (Haar cascade, server/src/adapters/face-detector.ts);
RUN apt-get update && apt-get install -y --no-install-recommends \
      ffmpeg ca-certificates tini \
      chromium fonts-ipafont-gothic \
      python3-opencv opencv-data \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY contract/package.json contract/
COPY server/package.json server/
COPY edge-agent/package.json edge-agent/
COPY web/package.json web/
COPY test-support/package.json test-support/
COPY verifier/package.json verifier/
RUN npm install --no-audit --no-fund
COPY contract contract
COPY migrations migrations
COPY server server
COPY edge-agent edge-agent
COPY test-support test-support
COPY verifier verifier
COPY web web
COPY scripts scripts
RUN npm run build -w web --if-present
ENV NODE_ENV=production WEB_ROOT=/app/web/build CHROMIUM_PATH=/usr/bin/chromium
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "server/src/main.ts"]
