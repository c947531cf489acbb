# infra-check as a container: the image a runner's Cloud Run Job runs
# (docs/runners.md). Small (Node's slim image, the start-up bundle and the
# runtime dependencies only), non-root, entrypoint `infra-check`.
#   docker build -t REGION-docker.pkg.dev/PROJECT/tools/infra-check:VERSION .
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist-bundle ./dist-bundle
COPY --from=build /src/schema ./schema
COPY --from=build /src/config ./config
# The image's own user, never root: the job only needs to open connections and print.
USER node
ENTRYPOINT ["node", "/app/bin/infra-check.js"]
CMD ["--help"]
