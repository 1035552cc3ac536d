-- The people side of an incident: who leads it, its last status update (the cadence reminder
-- counts from it), where each timeline event came from (chat or the terminal), and how far the
-- incident channel has caught up with what was done from the terminal.
ALTER TABLE incidents
    ADD COLUMN lead           text NOT NULL DEFAULT '',
    ADD COLUMN last_update    text NOT NULL DEFAULT '',
    ADD COLUMN last_update_at timestamptz,
    ADD COLUMN reminded_at    timestamptz,
    ADD COLUMN caught_up_seq  bigint NOT NULL DEFAULT 0;
ALTER TABLE timeline_events ADD COLUMN via text NOT NULL DEFAULT '';
CREATE INDEX timeline_events_terminal ON timeline_events (incident_id, seq) WHERE via = 'terminal';
