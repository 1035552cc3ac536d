-- The incident state: incidents, their timelines, escalation schedules, postmortems and alert receipts.
CREATE TABLE incidents (
    id                uuid PRIMARY KEY,
    number            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    title             text NOT NULL,
    severity          text NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3')),
    service           text NOT NULL DEFAULT '',
    channel_id        text,
    channel_name      text,
    status            text NOT NULL CHECK (status IN ('open', 'resolved')),
    source            text NOT NULL DEFAULT '',
    alert_fingerprint text NOT NULL DEFAULT '',
    opened_by         text NOT NULL DEFAULT '',
    opened_at         timestamptz NOT NULL,
    detected_at       timestamptz NOT NULL,
    resolved_at       timestamptz,
    resolved_by       text NOT NULL DEFAULT '',
    root_cause        text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX incidents_channel_id ON incidents (channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX incidents_open_service ON incidents (service) WHERE status = 'open';

CREATE TABLE timeline_events (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor       text NOT NULL DEFAULT '',
    summary     text NOT NULL DEFAULT '',
    detail      jsonb,
    link        text NOT NULL DEFAULT '',
    dedupe_key  text,
    UNIQUE (incident_id, dedupe_key)
);
CREATE INDEX timeline_events_order ON timeline_events (incident_id, occurred_at, seq);

CREATE TABLE escalations (
    incident_id  uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    level        integer NOT NULL,
    name         text NOT NULL,
    page         text[] NOT NULL DEFAULT '{}',
    due_at       timestamptz NOT NULL,
    fired_at     timestamptz,
    claimed_by   text NOT NULL DEFAULT '',
    cancelled_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    retry_at     timestamptz,
    PRIMARY KEY (incident_id, level)
);
CREATE INDEX escalations_pending ON escalations (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE postmortems (
    incident_id  uuid PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    markdown     text NOT NULL,
    generated_at timestamptz NOT NULL
);

CREATE TABLE alert_receipts (
    fingerprint text NOT NULL,
    starts_at   timestamptz NOT NULL,
    status      text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (fingerprint, starts_at, status)
);
