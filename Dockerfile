# perfbot: the Performance Degradation Runbook as a Slack bot.
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) -t perfbot:v0.1.0 .
#   docker run --rm -e SLACK_APP_TOKEN -e SLACK_BOT_TOKEN -v $PWD/perfbot.yaml:/etc/perfbot/perfbot.yaml perfbot:v0.1.0
# In a cluster: helm install perfbot deploy/helm/perfbot (see the README).
#
# The image holds one static binary, CA certificates, time zone data and an unprivileged user:
# no shell, no package manager. It runs as 65532:65532.

FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/perfbot ./cmd/perfbot
RUN mkdir -p /out/etc /out/tmp && chmod 1777 /out/tmp \
    && echo 'perfbot:x:65532:65532:perfbot:/nonexistent:/sbin/nologin' > /out/etc/passwd \
    && echo 'perfbot:x:65532:' > /out/etc/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/tmp /tmp
COPY --from=build /out/perfbot /usr/local/bin/perfbot
COPY deploy/slack-app-manifest.yaml /usr/share/perfbot/slack-app-manifest.yaml
USER 65532:65532
EXPOSE 18081
ENTRYPOINT ["/usr/local/bin/perfbot"]
CMD ["-config", "/etc/perfbot/perfbot.yaml", "-log-format", "json", "run"]
