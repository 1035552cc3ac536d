package slackserver_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

func TestUploadFileThreeSteps(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	_, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	_, parent, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("report", false))
	if err != nil {
		t.Fatal(err)
	}
	png := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1000)
	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(png), FileSize: len(png), Filename: "p95.png", Title: "p95 latency",
		Channel: ch, ThreadTimestamp: parent, InitialComment: "p95 by endpoint",
	})
	if err != nil {
		t.Fatalf("UploadFileContext: %v", err)
	}
	files := srv.Files(ch)
	if len(files) != 1 {
		t.Fatalf("files = %+v", files)
	}
	f := files[0]
	if f.ID != sum.ID || f.Name != "p95.png" || f.Title != "p95 latency" || f.ThreadTS != parent || !bytes.Equal(f.Bytes, png) {
		t.Fatalf("file = %+v (summary %+v)", f, sum)
	}
	msgs := srv.Messages(ch)
	if len(msgs) != 2 || msgs[1].Subtype != "file_share" || msgs[1].ThreadTS != parent || msgs[1].Files[0] != f.ID {
		t.Fatalf("file share message = %+v", msgs)
	}
	if srv.Calls("files.getUploadURLExternal") != 1 || srv.Calls("files.completeUploadExternal") != 1 {
		t.Fatal("the upload did not take the three steps")
	}
}

func TestUploadErrors(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	_, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.txt", FileSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.UploadURL, "http://"+srv.Addr()+"/") {
		t.Fatalf("upload URL %s is not on the API host", u.UploadURL)
	}
	// Completing before the bytes arrived is refused.
	_, err = api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID}}, Channel: ch})
	if se := slackErr(t, err); se.Err != "file_not_found" {
		t.Fatalf("error = %s", se.Err)
	}
	if err := api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Content: "abc", Filename: "a.txt"}); err != nil {
		t.Fatal(err)
	}
	_, err = api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID}}, Channel: "C404"})
	if se := slackErr(t, err); se.Err != "channel_not_found" {
		t.Fatalf("error = %s", se.Err)
	}
	resp, err := http.Post(u.UploadURL[:strings.LastIndex(u.UploadURL, "/")]+"/F404", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upload to an unknown file: %d", resp.StatusCode)
	}
}
