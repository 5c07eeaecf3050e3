package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// uploadSpy records every request that sends a file (window.uploads: a
// POST, PATCH or PUT to /api/v1/media or /api/v1/uploads), by fetch or
// XMLHttpRequest, and while window.noConfig is set fails the app's asking
// for the server's limits, as a network that drops it would.
const uploadSpy = `window.uploads = [];
const sends = (method, url) => /\/api\/v1\/(media|uploads)/.test(url) && !/^(GET|HEAD)$/i.test(method || 'GET');
const xhrOpen = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  if (sends(method, String(url))) window.uploads.push(method + ' ' + url);
  return xhrOpen.call(this, method, url, ...rest);
};
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = String(input instanceof Request ? input.url : input);
  const method = init?.method || (input instanceof Request ? input.method : 'GET');
  if (sends(method, url)) window.uploads.push(method + ' ' + url);
  if (window.noConfig && url.endsWith('/api/v1/config')) return Promise.reject(new TypeError('network down'));
  return realFetch.call(this, input, init);
};`

// TestBrowserRefusesOversizedFileAtOnce: the app knows the server's upload
// limit (64 KiB here) from GET /api/v1/config, so a file over it is refused
// the moment it is chosen, in the app's language (Russian here), before
// any of it is sent; a file exactly at the limit goes. Where the app could
// not ask the limit, the server's refusal says it, and the app then
// refuses the same file at once.
func TestBrowserRefusesOversizedFileAtOnce(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{maxUpload: 64 << 10})
	olga, _ := register(t, s.URL, "olga")
	var notes struct {
		ID int64 `json:"id"`
	}
	olga.call("POST", "/chats/groups", map[string]any{"title": "Заметки"}, &notes)
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{7}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big, exact := write("архив.bin", 64<<10+1), write("ровно.bin", 64<<10)

	ctx := b.page(t, 1100, 720)
	setLanguages(t, ctx, "ru-RU")
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: uploadSpy}); err != nil {
		t.Fatal(err)
	}
	logIn(t, ctx, s.URL, "olga")
	do(t, ctx, "open the chat", openChat("Заметки"))
	do(t, ctx, "choose a file one byte over the server's limit",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{big}),
		waitText(".composer-error", "Файл «архив.bin» слишком большой: максимальный размер — 64 кБ"),
	)
	b.shot(t, ctx, "limits-1-refused-at-once")
	if n := eval[int](t, ctx, `document.querySelectorAll('.attach-bar .attach-item').length`); n != 0 {
		t.Errorf("the refused file is attached (%d attached), want none", n)
	}
	if got := eval[[]string](t, ctx, `window.uploads`); len(got) != 0 {
		t.Errorf("the refused file was sent: %q", got)
	}
	do(t, ctx, "a file exactly at the limit goes",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{exact}),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 1`),
		waitJS(`!document.querySelector('.composer-error').textContent`),
		chromedp.Click(chromedp.CSS(`.composer .send`)),
		waitText(".msg.own .file-name", "ровно.bin"),
	)

	// Another computer whose app cannot ask the limit: the server refuses
	// the file, saying its limit, and the app keeps it.
	other := b.page(t, 1100, 720)
	setLanguages(t, other, "ru-RU")
	if _, err := chromedp.Call(other, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: uploadSpy + `; window.noConfig = true;`}); err != nil {
		t.Fatal(err)
	}
	logIn(t, other, s.URL, "olga")
	do(t, other, "open the chat", openChat("Заметки"))
	do(t, other, "without the limit the file is sent, and the server refuses it",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{big}),
		waitText(".attach-bar", "архив.bin"),
		chromedp.Click(chromedp.CSS(`.composer .send`)),
		waitText(".composer-error", "Файл слишком большой: можно не больше 64 кБ"),
	)
	sent := len(eval[[]string](t, other, `window.uploads`))
	if sent == 0 {
		t.Fatalf("no upload request was made where the app did not know the limit")
	}
	do(t, other, "the same file again is refused at once",
		chromedp.Click(chromedp.CSS(`.attach-bar .attach-item button`)),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 0`),
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{big}),
		waitText(".composer-error", "Файл «архив.bin» слишком большой"),
	)
	if got := eval[[]string](t, other, `window.uploads`); len(got) != sent {
		t.Errorf("after the server said its limit the file was sent again: %q", got[sent:])
	}
}
