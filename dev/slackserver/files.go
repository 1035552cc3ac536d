package slackserver

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// maxUpload is the largest file Slack accepts (1 GB).
const maxUpload = 1 << 30

// getUploadURL answers files.getUploadURLExternal with an upload URL on this host.
func (s *Server) getUploadURL(c *call) (map[string]any, error) {
	n, err := strconv.Atoi(c.arg("length"))
	if err != nil || n <= 0 {
		return nil, errCode("missing_argument")
	}
	if n > maxUpload {
		return nil, errCode("file_upload_size_restricted")
	}
	if runeLen(c.arg("alt_txt")) > 1000 {
		return nil, errCode("alt_txt_too_large")
	}
	f := &File{
		ID: s.ws.nextID('F'), Name: c.arg("filename"), Length: n, User: s.opts.BotUserID,
		AltText: c.arg("alt_txt"), SnippetType: c.arg("snippet_type"), Created: s.clock.Now(),
	}
	s.ws.files[f.ID] = f
	s.ws.fileOrder = append(s.ws.fileOrder, f.ID)
	return map[string]any{"upload_url": "http://" + c.host + "/upload/v1/" + f.ID, "file_id": f.ID}, nil
}

// handleUpload receives the bytes of a file (multipart field "file", or a raw body).
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := readUpload(r)
	if err != nil {
		http.Error(w, "unreadable upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := path.Base(r.URL.Path)
	s.mu.Lock()
	f := s.ws.files[id]
	if f != nil && !f.Completed {
		f.Bytes, f.Uploaded = data, true
	}
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	s.notify()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

func readUpload(r *http.Request) ([]byte, error) {
	body := io.LimitReader(r.Body, maxUpload+1)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return io.ReadAll(body)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if part.FormName() == "file" {
			return io.ReadAll(part)
		}
	}
}

// completeUpload answers files.completeUploadExternal: it shares uploaded files into a
// channel (or thread) as one file_share message.
func (s *Server) completeUpload(c *call) (map[string]any, error) {
	var want []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(c.arg("files")), &want); err != nil || len(want) == 0 {
		return nil, errCode("invalid_arguments", "files must be a JSON array of {id, title} [json-pointer:/files]")
	}
	var files []*File
	for _, w := range want {
		f := s.ws.files[w.ID]
		if f == nil || !f.Uploaded || f.Completed {
			return nil, errCode("file_not_found")
		}
		files = append(files, f)
	}
	chRef := c.arg("channel_id")
	if chRef == "" && c.arg("channels") != "" {
		chRef = strings.Split(c.arg("channels"), ",")[0]
	}
	ct := content{text: c.arg("initial_comment"), threadTS: c.arg("thread_ts")}
	if b := strings.TrimSpace(c.arg("blocks")); b != "" && b != "null" {
		if err := ValidateBlocks(json.RawMessage(b)); err != nil {
			return nil, errCode("invalid_blocks", err.(*BlockError).Messages...)
		}
		ct.blocks, ct.hasBlocks = json.RawMessage(b), true
	}
	var ch *Channel
	if chRef != "" {
		var err error
		if ch, err = s.postingChannel(chRef); err != nil {
			return nil, err
		}
		if ct.threadTS, err = s.threadParent(ch, ct.threadTS); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, len(files))
	var ids []string
	for i, f := range files {
		f.Title, f.Completed = want[i].Title, true
		if f.Title == "" {
			f.Title = f.Name
		}
		if ch != nil {
			f.ChannelID, f.ThreadTS, f.InitialComment = ch.ID, ct.threadTS, ct.text
		}
		ids = append(ids, f.ID)
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	if ch != nil {
		m := s.appendMessage(ch, s.opts.BotUserID, ct)
		m.Subtype, m.Files = "file_share", ids
	}
	return map[string]any{"files": out}, nil
}
