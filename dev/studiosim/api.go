package studiosim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// The ideas list filters by category, which has no index: a sequential scan every time.
const (
	ideasSQL = `SELECT id, title, score FROM ideas
WHERE category = $1 AND status = 'open' ORDER BY score DESC, id LIMIT $2`
	ideasSlowSQL = `WITH delay AS MATERIALIZED (SELECT pg_sleep($3)) SELECT i.id, i.title, i.score FROM ideas i, delay
WHERE i.category = $1 AND i.status = 'open' ORDER BY i.score DESC, i.id LIMIT $2`
	ideasSummarySQL = `SELECT count(*), coalesce(avg(score), 0)::float8 FROM ideas WHERE category = $1`

	projectsSQL     = `SELECT id, name, owner, views FROM projects ORDER BY views DESC, id LIMIT 20`
	projectViewSQL  = `UPDATE projects SET views = views + 1, updated_at = now() WHERE id = $1`
	projectSlowSQL  = `WITH delay AS MATERIALIZED (SELECT pg_sleep($2)) UPDATE projects SET views = views + 1, updated_at = now() FROM delay WHERE id = $1`
	ideasPageLimit  = 20
	summaryCacheKey = ":cache:ideas:summary:"
)

// idea is one row of the ideas list.
type idea struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Score int    `json:"score"`
}

// ideasSummary is the cached per-category aggregate.
type ideasSummary struct {
	Count    int64   `json:"count"`
	AvgScore float64 `json:"avg_score"`
}

// handleIdeas lists the best open ideas of a category (a real sequential scan) next to a
// per-category summary kept in Redis.
func (s *Server) handleIdeas(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	category := r.URL.Query().Get("category")
	if category == "" {
		category = categories[rand.IntN(len(categories))]
	}
	summary, err := s.ideasSummary(ctx, category)
	if err != nil {
		return err
	}
	list := make([]idea, 0, ideasPageLimit)
	err = s.withConn(ctx, EndpointIdeas, "ideas", func(ctx context.Context, c *pgxpool.Conn) error {
		q, args := ideasSQL, []any{category, ideasPageLimit}
		if sec := s.faults.effects().sqlSleep(EndpointIdeas); sec > 0 {
			q, args = ideasSlowSQL, append(args, sec)
		}
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var i idea
			if err := rows.Scan(&i.ID, &i.Title, &i.Score); err != nil {
				return err
			}
			list = append(list, i)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"category": category, "summary": summary, "ideas": list})
	return nil
}

// ideasSummary reads the category's summary from Redis, computing and caching it on a miss.
// A Redis failure degrades to the database instead of failing the request.
func (s *Server) ideasSummary(ctx context.Context, category string) (ideasSummary, error) {
	var sum ideasSummary
	key := s.opts.KeyPrefix + summaryCacheKey + category
	b, err := s.rdb.Get(ctx, key).Bytes()
	if err == nil && json.Unmarshal(b, &sum) == nil {
		return sum, nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		s.log.Warn("cache get failed", "key", key, "error", err)
	}
	err = s.withConn(ctx, EndpointIdeas, "ideas", func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, ideasSummarySQL, category).Scan(&sum.Count, &sum.AvgScore)
	})
	if err != nil {
		return sum, err
	}
	b, _ = json.Marshal(sum)
	if err := s.rdb.Set(ctx, key, b, s.opts.CacheTTL).Err(); err != nil {
		s.log.Warn("cache set failed", "key", key, "error", err)
	}
	return sum, nil
}

// project is one row of the projects list.
type project struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner"`
	Views int64  `json:"views"`
}

// handleProjects lists the most viewed projects and counts a view on one of them: the UPDATE
// is what waits when the lock fault holds the projects rows.
func (s *Server) handleProjects(w http.ResponseWriter, r *http.Request) error {
	id := 1 + rand.IntN(s.opts.SeedProjects)
	if v := r.URL.Query().Get("view"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("view: want a project id, got %q", v)}
		}
		id = n
	}
	list := make([]project, 0, 20)
	err := s.withConn(r.Context(), EndpointProjects, "projects", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, projectsSQL)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (project, error) {
			var p project
			err := row.Scan(&p.ID, &p.Name, &p.Owner, &p.Views)
			return p, err
		})
		if err != nil {
			return err
		}
		if sec := s.faults.effects().sqlSleep(EndpointProjects); sec > 0 {
			_, err = c.Exec(ctx, projectSlowSQL, id, sec)
		} else {
			_, err = c.Exec(ctx, projectViewSQL, id)
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": list, "viewed": id})
	return nil
}
