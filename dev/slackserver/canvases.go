package slackserver

import (
	"encoding/json"
	"strings"
)

// maxCanvas is the largest canvas document Slack accepts (1 MiB).
const maxCanvas = 1 << 20

// documentMarkdown reads a document_content argument ({"type":"markdown","markdown":…}).
func documentMarkdown(raw string, failCode string) (string, error) {
	if raw == "" {
		return "", nil
	}
	var doc struct {
		Type     string `json:"type"`
		Markdown string `json:"markdown"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil || doc.Type != "markdown" {
		return "", errCode(failCode, "document_content must be {\"type\":\"markdown\",\"markdown\":…} [json-pointer:/document_content]")
	}
	if len(doc.Markdown) > maxCanvas {
		return "", errCode(failCode, "canvas content is larger than 1 MiB [json-pointer:/document_content/markdown]")
	}
	return doc.Markdown, nil
}

func (s *Server) addCanvas(title, channelID, markdown string) *Canvas {
	cv := &Canvas{ID: s.ws.nextID('F'), Title: title, ChannelID: channelID, Markdown: markdown}
	s.ws.canvases[cv.ID] = cv
	s.ws.canvasList = append(s.ws.canvasList, cv.ID)
	return cv
}

// channelCanvasCreate answers conversations.canvases.create: one canvas tab per channel.
func (s *Server) channelCanvasCreate(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel_id"))
	if ch == nil {
		return nil, errCode("channel_canvas_creation_failed", "channel not found [json-pointer:/channel_id]")
	}
	if ch.CanvasID != "" {
		return nil, errCode("channel_canvas_already_exists")
	}
	md, err := documentMarkdown(c.arg("document_content"), "channel_canvas_creation_failed")
	if err != nil {
		return nil, err
	}
	cv := s.addCanvas(c.arg("title"), ch.ID, md)
	ch.CanvasID = cv.ID
	return map[string]any{"canvas_id": cv.ID}, nil
}

// canvasCreate answers canvases.create; free workspaces need channel_id (a channel tab).
func (s *Server) canvasCreate(c *call) (map[string]any, error) {
	md, err := documentMarkdown(c.arg("document_content"), "canvas_creation_failed")
	if err != nil {
		return nil, err
	}
	chID := c.arg("channel_id")
	if chID == "" {
		if s.opts.FreePlan {
			return nil, errCode("free_teams_cannot_create_standalone_canvases")
		}
		return map[string]any{"canvas_id": s.addCanvas(c.arg("title"), "", md).ID}, nil
	}
	ch := s.ws.channelByRef(chID)
	if ch == nil {
		return nil, errCode("canvas_creation_failed", "channel not found [json-pointer:/channel_id]")
	}
	if s.opts.FreePlan && ch.CanvasID != "" {
		return nil, errCode("free_team_canvas_tab_already_exists")
	}
	cv := s.addCanvas(c.arg("title"), ch.ID, md)
	if ch.CanvasID == "" {
		ch.CanvasID = cv.ID
	}
	return map[string]any{"canvas_id": cv.ID}, nil
}

// canvasChange is one entry of canvases.edit's changes.
type canvasChange struct {
	Operation       string `json:"operation"`
	SectionID       string `json:"section_id"`
	DocumentContent struct {
		Type     string `json:"type"`
		Markdown string `json:"markdown"`
	} `json:"document_content"`
	TitleContent struct {
		Markdown string `json:"markdown"`
	} `json:"title_content"`
}

// canvasEdit answers canvases.edit. Sections are not modelled: inserts before/after a
// section go to the start/end, replace/delete of a section act on the whole document.
func (s *Server) canvasEdit(c *call) (map[string]any, error) {
	cv := s.ws.canvases[c.arg("canvas_id")]
	if cv == nil {
		return nil, errCode("canvas_not_found")
	}
	if s.opts.FreePlan && cv.ChannelID == "" {
		return nil, errCode("free_teams_cannot_edit_standalone_canvases")
	}
	var changes []canvasChange
	if err := json.Unmarshal([]byte(c.arg("changes")), &changes); err != nil || len(changes) == 0 {
		return nil, errCode("canvas_editing_failed", "changes must be a non-empty JSON array [json-pointer:/changes]")
	}
	doc, title := cv.Markdown, cv.Title
	for _, ch := range changes {
		md := ch.DocumentContent.Markdown
		switch ch.Operation {
		case "insert_at_end", "insert_after":
			doc = joinMarkdown(doc, md)
		case "insert_at_start", "insert_before":
			doc = joinMarkdown(md, doc)
		case "replace":
			doc = md
		case "delete":
			doc = ""
		case "rename":
			title = ch.TitleContent.Markdown
		default:
			return nil, errCode("canvas_editing_failed", "unknown operation "+ch.Operation+" [json-pointer:/changes/operation]")
		}
	}
	if len(doc) > maxCanvas {
		return nil, errCode("canvas_too_large")
	}
	cv.History = append(cv.History, cv.Markdown)
	cv.Markdown, cv.Title = doc, title
	cv.Edits++
	return map[string]any{}, nil
}

func joinMarkdown(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasSuffix(a, "\n"):
		return a + b
	}
	return a + "\n" + b
}
