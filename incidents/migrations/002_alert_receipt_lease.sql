-- An alert receipt is a claim until the alert has been handled: claimed_at starts a lease and
-- done_at ends it. A claim that was never completed (the process died while handling the alert)
-- may be taken again once its lease has passed, so Alertmanager's retry is handled instead of
-- being answered as a duplicate. Receipts from before this migration count as done.
ALTER TABLE alert_receipts ADD COLUMN claimed_at timestamptz, ADD COLUMN done_at timestamptz;
UPDATE alert_receipts SET claimed_at = received_at, done_at = received_at;
ALTER TABLE alert_receipts ALTER COLUMN claimed_at SET NOT NULL;
