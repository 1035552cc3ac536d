-- Where each request's approval message is, who runs an executing request and until when its lease
-- holds, the deadline it runs under, and outcomes decided by the clock that still have to be told
-- (the approval message updated, the incident timeline written).
ALTER TABLE action_requests
    ADD COLUMN message_channel text        NOT NULL DEFAULT '',
    ADD COLUMN message_ts      text        NOT NULL DEFAULT '',
    ADD COLUMN lease_owner     text        NOT NULL DEFAULT '',
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN deadline_at     timestamptz,
    ADD COLUMN announce_at     timestamptz,
    ADD COLUMN announce_tries  integer     NOT NULL DEFAULT 0;

CREATE INDEX action_requests_executing ON action_requests (lease_until) WHERE status = 'executing';
CREATE INDEX action_requests_announce ON action_requests (announce_at) WHERE announce_at IS NOT NULL;
