package incidents

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CatchUp tells an incident's channel what was done from the terminal (when Slack was down): it
// gets the incident and those events, oldest first, and may create the channel first.
type CatchUp func(ctx context.Context, inc Incident, events []Event) error

// CatchUpTerminal hands every incident with terminal events its channel has not been told about
// to tell, one incident at a time under an advisory lock (another replica skips it), and marks
// them told when tell succeeds. It returns how many incidents caught up.
func (s *Store) CatchUpTerminal(ctx context.Context, tell CatchUp) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT i.id FROM incidents i JOIN timeline_events e ON e.incident_id = i.id
		WHERE e.via = 'terminal' AND e.seq > i.caught_up_seq`)
	if err != nil {
		return 0, fmt.Errorf("find incidents to catch up: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("find incidents to catch up: %w", err)
	}
	done := 0
	for _, id := range ids {
		ok, err := s.catchUpOne(ctx, id, tell)
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

func (s *Store) catchUpOne(ctx context.Context, id uuid.UUID, tell CatchUp) (bool, error) {
	told := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('perfbot-catchup:' || $1::uuid::text))`, id).Scan(&locked); err != nil || !locked {
			return err
		}
		var inc Incident
		var from int64
		inc, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+`, caught_up_seq FROM incidents WHERE id = $1`, id), &from)
		if err != nil {
			return err
		}
		events, err := s.events(ctx, tx, `WHERE incident_id = $1 AND via = 'terminal' AND seq > $2 ORDER BY occurred_at, seq`, id, from)
		if err != nil || len(events) == 0 {
			return err
		}
		if err := tell(ctx, inc, events); err != nil {
			return fmt.Errorf("catch incident #%d up: %w", inc.Number, err)
		}
		last := events[0].Seq
		for _, e := range events {
			last = max(last, e.Seq)
		}
		if _, err := tx.Exec(ctx, `UPDATE incidents SET caught_up_seq = $2 WHERE id = $1`, id, last); err != nil {
			return err
		}
		_, err = s.insertEvent(ctx, tx, inc.ID, Event{Kind: KindCaughtUp, Actor: "perfbot",
			Summary:   fmt.Sprintf("The incident channel caught up on %d event(s) from the terminal", len(events)),
			DedupeKey: fmt.Sprintf("caught_up:%d", last)})
		told = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("catch up: %w", err)
	}
	return told, nil
}
