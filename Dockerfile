# perfbot: the Performance Degradation Runbook as a Slack bot.
#   docker build -t perfbot .
#   docker run --rm -e SLACK_APP_TOKEN -e SLACK_BOT_TOKEN -v $PWD/perfbot.yaml:/etc/perfbot/perfbot.yaml perfbot
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/perfbot ./cmd/perfbot

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 perfbot
COPY --from=build /out/perfbot /usr/local/bin/perfbot
COPY deploy/slack-app-manifest.yaml /usr/share/perfbot/slack-app-manifest.yaml
USER 10001
EXPOSE 18081
ENTRYPOINT ["/usr/local/bin/perfbot", "-config", "/etc/perfbot/perfbot.yaml", "-log-level", "info"]
CMD ["run"]
