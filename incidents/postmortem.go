package incidents

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/errs"
)

//go:embed postmortem.md.tmpl
var postmortemText string

var postmortemTmpl = template.Must(template.New("postmortem").Funcs(template.FuncMap{
	"md":   md,
	"cell": mdCell,
	"code": code,
	"link": mdLink,
	"who":  who,
	"num":  fmtNum,
	"inc":  func(i int) int { return i + 1 },
}).Parse(postmortemText))

// Postmortem renders the incident's postmortem as Markdown from the runbook's review template,
// with times in UTC and in loc (nil: the store's configured zone), stores it, and returns it.
// It works on open incidents too, marked as a draft. People appear as PlainPerson shows them.
func (s *Store) Postmortem(ctx context.Context, id uuid.UUID, loc *time.Location) (string, error) {
	src, err := s.PostmortemSource(ctx, id, loc)
	if err != nil {
		return "", err
	}
	return s.SavePostmortem(ctx, src)
}

// PostmortemSource is an incident and its timeline as of one moment: what its postmortem is made of.
type PostmortemSource struct {
	inc    Incident
	events []Event
	now    time.Time
	loc    *time.Location
}

// PostmortemSource reads what the incident's postmortem is made of, for times in UTC and in loc
// (nil: the store's configured zone).
func (s *Store) PostmortemSource(ctx context.Context, id uuid.UUID, loc *time.Location) (PostmortemSource, error) {
	if loc == nil {
		loc = s.opts.Location
	}
	inc, err := s.Get(ctx, id)
	if err != nil {
		return PostmortemSource{}, err
	}
	events, err := s.Timeline(ctx, id)
	if err != nil {
		return PostmortemSource{}, err
	}
	return PostmortemSource{inc: inc, events: events, now: s.now(), loc: loc}, nil
}

// SavePostmortem renders src with people as PlainPerson shows them, stores it as the incident's
// postmortem, and returns it.
func (s *Store) SavePostmortem(ctx context.Context, src PostmortemSource) (string, error) {
	md, err := src.Markdown(nil)
	if err != nil {
		return "", err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO postmortems (incident_id, markdown, generated_at) VALUES ($1, $2, $3)
		ON CONFLICT (incident_id) DO UPDATE SET markdown = EXCLUDED.markdown, generated_at = EXCLUDED.generated_at`,
		src.inc.ID, md, src.now); err != nil {
		return "", fmt.Errorf("store postmortem: %w", err)
	}
	return md, nil
}

// Markdown renders the postmortem with each person shown by person (nil: PlainPerson).
func (src PostmortemSource) Markdown(person Person) (string, error) {
	return renderPostmortem(src.inc, src.events, src.now, src.loc, person)
}

// RenderPostmortem renders a postmortem from an incident and its timeline without storing it,
// with people as PlainPerson shows them.
func RenderPostmortem(inc Incident, events []Event, now time.Time, loc *time.Location) (string, error) {
	return renderPostmortem(inc, events, now, loc, nil)
}

func renderPostmortem(inc Incident, events []Event, now time.Time, loc *time.Location, person Person) (string, error) {
	if loc == nil {
		loc = time.UTC
	}
	tmpl := postmortemTmpl
	if person != nil {
		var err error
		if tmpl, err = postmortemTmpl.Clone(); err != nil {
			return "", fmt.Errorf("render postmortem: %w", err)
		}
		tmpl.Funcs(template.FuncMap{"who": whoWith(person)})
	}
	var b strings.Builder
	b.Grow(4096 + 160*len(events))
	if err := tmpl.Execute(&b, newReport(inc, events, now, loc)); err != nil {
		return "", fmt.Errorf("render postmortem: %w", err)
	}
	return b.String(), nil
}

// StoredPostmortem returns the last generated postmortem and when it was generated.
func (s *Store) StoredPostmortem(ctx context.Context, id uuid.UUID) (string, time.Time, error) {
	var md string
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT markdown, generated_at FROM postmortems WHERE incident_id = $1`, id).Scan(&md, &at)
	if isNoRows(err) {
		return "", time.Time{}, errs.NotFoundf("no postmortem generated yet for incident %s", id)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read postmortem: %w", err)
	}
	return md, at.UTC(), nil
}

// PostmortemFilename names the Markdown file of an incident's postmortem.
func PostmortemFilename(inc Incident) string {
	name := inc.ChannelName
	if name == "" {
		name = "incident-" + strconv.FormatInt(inc.Number, 10)
	}
	return "postmortem-" + name + ".md"
}

// PostmortemHandler serves GET /incidents/{id}/postmortem as text/markdown, regenerating it from
// the timeline; {id} is anything Lookup accepts (UUID, number, channel). The request must carry
// "Authorization: Bearer <token>"; an empty token refuses every request (an endpoint is never open
// by accident, and perfbot run does not mount it at all then). Mount it with a pattern, e.g.
// mux.Handle("GET /incidents/{id}/postmortem", incidents.PostmortemHandler(st, loc, token)).
func PostmortemHandler(st *Store, loc *time.Location, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		if token == "" || !bearerOK(r, token) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ref := r.PathValue("id")
		if ref == "" {
			ref = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/incidents/"), "/postmortem")
		}
		inc, err := st.Lookup(r.Context(), ref)
		if err == nil {
			var md string
			if md, err = st.Postmortem(r.Context(), inc.ID, loc); err == nil {
				w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
				w.Header().Set("Content-Disposition", `inline; filename="`+PostmortemFilename(inc)+`"`)
				_, _ = w.Write([]byte(md))
				return
			}
		}
		if errs.KindOf(err) == errs.NotFound {
			http.Error(w, "incident not found", http.StatusNotFound)
			return
		}
		st.log.Error("postmortem", "ref", ref, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	})
}
