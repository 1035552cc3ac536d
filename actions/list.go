package actions

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
)

// List returns the newest requests, at most limit, pending ones first.
func (s *Service) List(ctx context.Context, limit int) ([]Request, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.store.pool.Query(ctx, `SELECT `+requestColumns+` FROM action_requests
		ORDER BY status = 'pending' DESC, created_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list action requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) { return scanRequest(r) })
	if err != nil {
		return nil, fmt.Errorf("list action requests: %w", err)
	}
	return out, nil
}

var idPrefix = regexp.MustCompile(`^[0-9a-f-]{8,36}$`)

// Find returns the request whose ID is ref or starts with it (at least 8 characters, as the
// terminal shows them); a prefix that matches several requests is Invalid.
func (s *Service) Find(ctx context.Context, ref string) (Request, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if !idPrefix.MatchString(ref) {
		return Request{}, errs.Invalidf("%q is not a request ID (at least its first 8 characters, as /perf actions lists them)", ref)
	}
	rows, err := s.store.pool.Query(ctx, `SELECT `+requestColumns+` FROM action_requests
		WHERE id::text LIKE $1 || '%' LIMIT 2`, ref)
	if err != nil {
		return Request{}, fmt.Errorf("find action request %s: %w", ref, err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) { return scanRequest(r) })
	if err != nil {
		return Request{}, fmt.Errorf("find action request %s: %w", ref, err)
	}
	switch len(found) {
	case 0:
		return Request{}, errs.NotFoundf("no action request %s", ref)
	case 1:
		return found[0], nil
	}
	return Request{}, errs.Invalidf("%s matches several requests; give more of its ID", ref)
}
