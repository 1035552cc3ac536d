package incidents

import (
	"context"
	"fmt"
	"time"
)

// DefaultAlertLease is how long a claimed alert receipt stays claimed without being completed
// before a redelivery may claim it again (see Options.AlertLease).
const DefaultAlertLease = 2 * time.Minute

// AlertClaim is a held receipt of one alert notification. Its holder completes it when the alert
// was handled, or releases it when handling failed.
type AlertClaim struct {
	Alert Alert
	// ClaimedAt identifies this claim: a later claim of the same receipt has a later time,
	// because it can only be taken once this one's lease has passed.
	ClaimedAt time.Time
}

// ClaimAlert claims the receipt of one alert notification and reports whether this caller should
// handle it (fresh). Alerts are the same when fingerprint, startsAt and status match, so
// Alertmanager's repeats and redeliveries are handled once while the later resolved notification
// still gets through. A receipt that was claimed but never completed (its process died while
// handling the alert) is claimable again once the lease (Options.AlertLease) has passed; a
// completed one never is. Concurrent claimers of one receipt get fresh once between them.
func (s *Store) ClaimAlert(ctx context.Context, a Alert) (claim AlertClaim, fresh bool, err error) {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `INSERT INTO alert_receipts AS r (fingerprint, starts_at, status, received_at, claimed_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (fingerprint, starts_at, status) DO UPDATE SET claimed_at = EXCLUDED.claimed_at
		WHERE r.done_at IS NULL AND r.claimed_at <= $5`,
		a.Fingerprint, a.StartsAt, a.Status, now, now.Add(-s.opts.AlertLease))
	if err != nil {
		return AlertClaim{}, false, fmt.Errorf("claim alert %s: %w", a.Fingerprint, err)
	}
	return AlertClaim{Alert: a, ClaimedAt: now}, tag.RowsAffected() == 1, nil
}

// CompleteAlert marks a claimed receipt handled, so every later delivery is a duplicate.
func (s *Store) CompleteAlert(ctx context.Context, c AlertClaim) error {
	a := c.Alert
	if _, err := s.pool.Exec(ctx, `UPDATE alert_receipts SET done_at = $4
		WHERE fingerprint = $1 AND starts_at = $2 AND status = $3 AND done_at IS NULL`,
		a.Fingerprint, a.StartsAt, a.Status, s.now()); err != nil {
		return fmt.Errorf("complete alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// ReleaseAlert forgets a claimed receipt after handling failed, so a redelivery is handled again
// at once. It leaves a receipt alone that was completed, or claimed again by someone else after
// this claim's lease passed.
func (s *Store) ReleaseAlert(ctx context.Context, c AlertClaim) error {
	a := c.Alert
	if _, err := s.pool.Exec(ctx, `DELETE FROM alert_receipts
		WHERE fingerprint = $1 AND starts_at = $2 AND status = $3 AND done_at IS NULL AND claimed_at = $4`,
		a.Fingerprint, a.StartsAt, a.Status, c.ClaimedAt); err != nil {
		return fmt.Errorf("release alert %s: %w", a.Fingerprint, err)
	}
	return nil
}
