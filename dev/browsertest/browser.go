package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium finds Debian's chromium binary; "" when it is not installed.
func Chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium tab that records every JavaScript error and console error.
type Browser struct {
	Ctx    context.Context
	cancel []context.CancelFunc

	mu      sync.Mutex
	errors  []string
	dialogs []string // messages of the JavaScript dialogs the page opened (accepted)
}

// Start starts headless Chromium at path with a window of w×h pixels.
func Start(ctx context.Context, path string, w, h int) (*Browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(w, h), chromedp.Flag("headless", "new"), chromedp.DisableGPU)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &Browser{Ctx: bctx, cancel: []context.CancelFunc{bcancel, acancel}}
	err := chromedp.Listen(bctx, b.listen)
	if err == nil {
		_, err = chromedp.Call(bctx, log.Enable, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(bctx, runtime.Enable, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(bctx, cdppage.Enable, cdppage.EnableParams{})
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return b, nil
}

func (b *Browser) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *cdppage.EventJavascriptDialogOpening:
		// A dialog blocks the page until answered: accept it (as a person clicking OK) and note it.
		go func() {
			ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
			defer cancel()
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
		}()
		b.mu.Lock()
		b.dialogs = append(b.dialogs, e.Message)
		b.mu.Unlock()
		return
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != "error" {
			return
		}
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, string(a.Value))
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		if e.Entry.Level != log.EntryLevelError {
			return
		}
		msg = "log: " + e.Entry.Text + " " + e.Entry.URL
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

// Errors returns the JavaScript and console errors seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Dialogs returns the messages of the JavaScript dialogs the page opened (each accepted).
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Screenshot saves the tab's viewport as dir/name.png.
func (b *Browser) Screenshot(dir, name string) error {
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// Close stops Chromium.
func (b *Browser) Close() {
	for _, c := range b.cancel {
		c()
	}
}
