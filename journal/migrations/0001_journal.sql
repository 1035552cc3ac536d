-- Work Slack handed to perfbot (slash commands, events), kept from before its ack until it is done,
-- so a replica that dies or restarts mid-command leaves it to another replica instead of losing it.
CREATE TABLE IF NOT EXISTS work_journal (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    payload     bytea NOT NULL,
    progress    jsonb NOT NULL DEFAULT '{}'::jsonb,
    owner       text NOT NULL,
    lease_until timestamptz NOT NULL,
    attempts    int NOT NULL DEFAULT 1,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'abandoned')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX IF NOT EXISTS work_journal_open ON work_journal (lease_until) WHERE state = 'open';
