-- Approval-gated action requests and their audit trail.
CREATE TABLE action_requests (
    id           uuid PRIMARY KEY,
    kind         text        NOT NULL,
    spec         jsonb       NOT NULL,
    requested_by text        NOT NULL,
    channel      text        NOT NULL DEFAULT '',
    incident_ref text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    status       text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'executing', 'succeeded', 'failed')),
    approved_by  text        NOT NULL DEFAULT '',
    denied_by    text        NOT NULL DEFAULT '',
    decided_at   timestamptz,
    finished_at  timestamptz,
    plan         text        NOT NULL DEFAULT '',
    plan_detail  jsonb,
    result       text        NOT NULL DEFAULT ''
);

CREATE INDEX action_requests_pending ON action_requests (expires_at) WHERE status = 'pending';

CREATE TABLE action_events (
    id         bigserial PRIMARY KEY,
    request_id uuid        NOT NULL REFERENCES action_requests (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    kind       text        NOT NULL,
    actor      text        NOT NULL DEFAULT '',
    detail     text        NOT NULL DEFAULT ''
);

CREATE INDEX action_events_request ON action_events (request_id, id);
