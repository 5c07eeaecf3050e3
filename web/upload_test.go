package web_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// uploadHook records the offset of every part of a resumable upload the
// page sends (window.offsets) and, while window.hold is set, keeps each
// part after the first waiting (window.held counts them), so that a test
// can stop the server, or reload, between two parts.
const uploadHook = `window.offsets = []; window.hold = true; window.held = 0;
const setHeader = XMLHttpRequest.prototype.setRequestHeader;
XMLHttpRequest.prototype.setRequestHeader = function (k, v) { if (k === 'Upload-Offset') this.offset = Number(v); return setHeader.call(this, k, v); };
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  if (this.offset === undefined) return send.call(this, body);
  const go = () => { window.offsets.push(this.offset); send.call(this, body); };
  if (this.offset === 0 || !window.hold) return go();
  window.held++;
  const wait = () => (window.hold ? setTimeout(wait, 20) : go());
  wait();
};`

// TestBrowserResumableUpload: a file goes up in 4 MiB parts; when the
// server goes away between two of them the upload waits, says so, and goes
// on from where the server stood once it is back (not from the start), and
// choosing the same file again after a reload goes on from there too. The
// stored file is the file.
func TestBrowserResumableUpload(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ana, _ := register(t, s.URL, "anabel")
	var notes struct {
		ID int64 `json:"id"`
	}
	ana.call("POST", "/chats/groups", map[string]any{"title": "Notes"}, &notes)
	dir := t.TempDir()
	write := func(name string) (string, string) {
		data := make([]byte, 10<<20)
		rand.Read(data)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return p, hex.EncodeToString(sum[:])
	}
	stored := func(name string) string {
		t.Helper()
		var page struct {
			Messages []struct {
				Media *struct {
					MediaID int64  `json:"media_id"`
					Name    string `json:"name"`
				} `json:"media"`
			} `json:"messages"`
		}
		ana.call("GET", fmt.Sprintf("/chats/%d/messages?limit=10", notes.ID), nil, &page)
		for _, m := range page.Messages {
			if m.Media != nil && m.Media.Name == name {
				var v struct {
					SHA256 string `json:"sha256"`
				}
				ana.call("GET", fmt.Sprintf("/media/%d", m.Media.MediaID), nil, &v)
				return v.SHA256
			}
		}
		t.Fatalf("no message with %s", name)
		return ""
	}

	ctx := b.page(t, 900, 640)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: uploadHook}); err != nil {
		t.Fatal(err)
	}
	logIn(t, ctx, s.URL, "anabel")
	do(t, ctx, "open the chat", openChat("Notes"))

	first, firstSum := write("first.bin")
	do(t, ctx, "send a 10 MiB file; the first part goes up",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{first}),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 1`),
		chromedp.Click(chromedp.CSS(`.composer .send`)),
		waitJS(`window.held === 1`),
	)
	s.kill()
	do(t, ctx, "the server is gone: the upload waits and says so",
		chromedp.Evaluate[chromedp.Void](`window.hold = false`),
		waitText(".attach-bar [role=status]", "Connection lost"),
		waitJS(`document.querySelector('.attach-bar progress').value >= 0.4`),
	)
	b.shot(t, ctx, "upload-1-waiting")
	s.restart(t)
	do(t, ctx, "it goes on when the server is back",
		waitText(".msg.own .file-name", "first.bin"),
	)
	b.shot(t, ctx, "upload-2-done")
	if got := eval[string](t, ctx, `window.offsets.join()`); got != "0,4194304,4194304,8388608" {
		t.Errorf("parts sent at %s, want 0, 4 MiB (lost), 4 MiB again, 8 MiB", got)
	}
	if got := stored("first.bin"); got != firstSum {
		t.Errorf("the stored file's SHA-256 is %s, want the file's %s", got, firstSum)
	}

	second, secondSum := write("second.bin")
	do(t, ctx, "start another, and reload after its first part",
		chromedp.Evaluate[chromedp.Void](`window.hold = true; window.held = 0`),
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{second}),
		chromedp.Click(chromedp.CSS(`.composer .send`)),
		waitJS(`window.held === 1`),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`.composer-input`)),
		chromedp.Evaluate[chromedp.Void](`window.hold = false`),
	)
	do(t, ctx, "choosing the same file again goes on from the server's offset",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{second}),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 1`),
		chromedp.Click(chromedp.CSS(`.composer .send`)),
		waitText(".msg.own .file-name", "second.bin"),
	)
	if got := eval[string](t, ctx, `window.offsets.join()`); got != "4194304,8388608" {
		t.Errorf("after the reload parts were sent at %s, want 4 MiB and 8 MiB only", got)
	}
	if got := stored("second.bin"); got != secondSum {
		t.Errorf("the stored file's SHA-256 is %s, want the file's %s", got, secondSum)
	}
}
