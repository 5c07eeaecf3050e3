package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// apiClient makes API calls for a test, outside any browser.
type apiClient struct {
	t     testing.TB
	base  string
	token string
}

func (c *apiClient) call(method, path string, body, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+"/api/v1"+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// register makes an account and logs it in through the API.
func register(t testing.TB, base, username string) (*apiClient, int64) {
	t.Helper()
	c := &apiClient{t: t, base: base}
	var u struct {
		ID int64 `json:"id"`
	}
	c.call("POST", "/accounts", map[string]string{"username": username, "password": password}, &u)
	var l struct {
		Token string `json:"token"`
	}
	c.call("POST", "/sessions", map[string]string{"username": username, "password": password, "device_name": "Go test"}, &l)
	c.token = l.Token
	return c, u.ID
}

// logIn logs in through the login form.
func logIn(t testing.TB, ctx context.Context, base, username string) {
	t.Helper()
	do(t, ctx, "log in as "+username,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar .dialogs`)),
	)
}

// setLanguages makes the page's navigator.languages what a browser set to
// these languages would report, from the next page load on.
func setLanguages(t testing.TB, ctx context.Context, langs ...string) {
	t.Helper()
	b, _ := json.Marshal(langs)
	src := `Object.defineProperty(navigator, 'languages', { get: () => ` + string(b) + ` });` +
		`Object.defineProperty(navigator, 'language', { get: () => ` + jsString(langs[0]) + ` });`
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatal(err)
	}
}

// pickLanguage chooses a language in the visible language menu.
func pickLanguage(code string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('select[name="language"]'); s.value = ` +
		jsString(code) + `; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
}

// TestBrowserLanguages checks that the app speaks the browser's language,
// right to left for Arabic, and that the choice made in the app sticks.
func TestBrowserLanguages(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	register(t, s.URL, "layla")
	ctx := b.page(t, 1100, 720)
	setLanguages(t, ctx, "ar-EG", "en-US")
	do(t, ctx, "open the login page in Arabic",
		chromedp.Navigate(s.URL+"/"),
		waitJS(`document.documentElement.lang === 'ar' && document.documentElement.dir === 'rtl'`),
		waitText("h1", "تسجيل الدخول إلى kurir"),
	)
	b.shot(t, ctx, "lang-1-login-ar")
	logIn(t, ctx, s.URL, "layla")
	do(t, ctx, "see the chat list in Arabic, laid out right to left",
		waitText(".side-head h1", "المحادثات"),
		waitJS(`(() => { const side = document.querySelector('.sidebar').getBoundingClientRect(); return side.left > window.innerWidth / 2; })()`),
		chromedp.Click(chromedp.CSS(`a[href="/settings"]`)),
		waitText("#settings-title", "الإعدادات"),
	)
	b.shot(t, ctx, "lang-2-settings-ar")
	do(t, ctx, "switch to Russian",
		pickLanguage("ru"),
		waitJS(`document.documentElement.lang === 'ru' && document.documentElement.dir === 'ltr'`),
		waitText("#settings-title", "Настройки"),
		waitText(".side-head h1", "Чаты"),
	)
	b.shot(t, ctx, "lang-3-settings-ru")
	do(t, ctx, "switch to Indonesian, and keep it after a reload",
		pickLanguage("id"),
		waitText("#settings-title", "Pengaturan"),
		chromedp.Reload(),
		waitText("#settings-title", "Pengaturan"),
		waitText(".side-head h1", "Obrolan"),
		waitJS(`document.documentElement.lang === 'id'`),
	)
	b.shot(t, ctx, "lang-4-settings-id")
}

// TestBrowserBadInput checks that what the server refuses is explained and
// that nothing typed is lost.
func TestBrowserBadInput(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{maxUpload: 64 << 10})
	ctx := b.page(t, 1100, 720)
	do(t, ctx, "sign up with a common password",
		chromedp.Navigate(s.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "carol"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password\n"),
		waitJS(`document.querySelector('input[name="password"]').getAttribute('aria-invalid') === 'true'`),
		waitText(".field-error", "password"),
	)
	b.shot(t, ctx, "bad-1-weak-password")
	signUp(t, ctx, s.URL, "carol", "Carol")
	do(t, ctx, "create a group of one",
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		clickText(`[role=menuitem]`, "New group"),
		chromedp.WaitVisible(chromedp.CSS(`dialog input[name="title"]`)),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitText("dialog .field-error", "title"), // no title: said beside the field
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="title"]`), "Notes"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitText("#conv-title", "Notes"),
	)

	long := strings.Repeat("a", 4090) + " long"
	do(t, ctx, "send a text over 4,096 characters",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('.composer-input'); i.value = `+jsString(long)+`; i.dispatchEvent(new Event('input')); })()`),
		waitText(".counter", "4095"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), " x"),
		pressEnter(),
		waitText(".composer-error", "at most 4096 characters"),
	)
	b.shot(t, ctx, "bad-2-too-long")
	if got := eval[string](t, ctx, `document.querySelector('.composer-input').value`); got != long+" x" {
		t.Errorf("after a refused send the box holds %d characters, want the %d typed", len(got), len(long)+2)
	}
	do(t, ctx, "find the draft again after a reload",
		chromedp.Reload(),
		waitText("#conv-title", "Notes"),
		waitJS(`document.querySelector('.composer-input').value.endsWith('long x')`),
	)

	// A file over the server's limit (64 KiB here).
	big := filepath.Join(t.TempDir(), "archive.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte{7}, 100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "choose a file over the limit: refused before it is sent",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('.composer-input'); i.value = ''; i.dispatchEvent(new Event('input')); })()`),
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{big}),
		waitText(".composer-error", "“archive.bin” is too large: files can be at most 64"),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 0`),
	)
	b.shot(t, ctx, "bad-3-file-too-large")
}

// TestBrowserReconnect kills the server under an open app: a banner says the
// connection is lost, the typed text stays, and when the server is back the
// app reconnects by itself and fetches what it missed.
func TestBrowserReconnect(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	// A second address to the same server stays up for the other person.
	other := &testServer{handler: s.handler, conns: map[net.Conn]struct{}{}}
	other.start(t, "127.0.0.1:0")
	t.Cleanup(other.kill)
	bob, _ := register(t, other.URL, "bobby")
	register(t, s.URL, "dave")
	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "dave")
	do(t, ctx, "start a private chat with bobby",
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		clickText(`[role=menuitem]`, "New private chat"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="username"]`), "bobby\n"),
		waitText("#conv-title", "bobby"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Are you there?\n"),
		waitText(".messages .text", "Are you there?"),
	)
	var chat struct {
		ID int64 `json:"id"`
	}
	var dialogs struct {
		Dialogs []struct {
			Chat struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"dialogs"`
	}
	bob.call("GET", "/dialogs", nil, &dialogs)
	if len(dialogs.Dialogs) != 1 {
		t.Fatalf("bobby has %d chats, want 1", len(dialogs.Dialogs))
	}
	chat.ID = dialogs.Dialogs[0].Chat.ID

	s.kill()
	do(t, ctx, "see the lost-connection banner",
		waitJS(`!document.getElementById('banner').hidden`),
		waitText("#banner", "Connection to the server lost"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "typed while offline"),
	)
	b.shot(t, ctx, "reconnect-1-banner")
	// Bobby answers while dave's app is cut off.
	bob.call("POST", "/chats/"+itoa(chat.ID)+"/messages", map[string]string{"text": "Yes, I am here", "idempotency_key": "k1"}, nil)
	s.restart(t)
	do(t, ctx, "reconnect by itself and catch up",
		waitJS(`document.getElementById('banner').hidden`),
		waitText(".messages .text", "Yes, I am here"),
		waitJS(`document.querySelector('.composer-input').value === 'typed while offline'`),
	)
	b.shot(t, ctx, "reconnect-2-back")
	// And live delivery works again.
	bob.call("POST", "/chats/"+itoa(chat.ID)+"/messages", map[string]string{"text": "Still here", "idempotency_key": "k2"}, nil)
	do(t, ctx, "get a live message after reconnecting", waitText(".messages .text", "Still here"))
}

// TestBrowserPhone uses the app at phone width: one pane at a time, nothing
// wider than the screen.
func TestBrowserPhone(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ctx := b.page(t, 380, 740)
	signUp(t, ctx, s.URL, "erin", "Erin")
	noOverflow := waitJS(`document.documentElement.scrollWidth <= window.innerWidth`)
	do(t, ctx, "create a channel", noOverflow,
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		clickText(`[role=menuitem]`, "New channel"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="title"]`), "Erin's announcements"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="username"]`), "erin_news"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitText("#conv-title", "Erin's announcements"),
		waitJS(`getComputedStyle(document.querySelector('.sidebar')).display === 'none'`),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "First post: the channel is open. Tell your friends to subscribe to @erin_news!\n"),
		waitText(".messages .text", "First post"),
		noOverflow,
	)
	b.shot(t, ctx, "phone-1-channel")
	do(t, ctx, "go back to the list",
		chromedp.Click(chromedp.CSS(`.conv-head a.back`)),
		waitJS(`getComputedStyle(document.querySelector('.main')).display === 'none'`),
		waitText(".dialogs .d-title", "Erin's announcements"),
		noOverflow,
	)
	b.shot(t, ctx, "phone-2-list")
	do(t, ctx, "open the chat info", chromedp.Click(chromedp.CSS(`.dialogs a.dialog`)),
		waitText("#conv-title", "Erin's announcements"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		waitText("dialog.modal", "@erin_news"),
	)
	b.shot(t, ctx, "phone-3-info")
}

// TestBrowserDevices lists the devices, logs one out from another, and logs
// out, which every tab of the app follows.
func TestBrowserDevices(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	register(t, s.URL, "frank")
	laptop := b.page(t, 1100, 720)
	phone := b.page(t, 1100, 720)
	logIn(t, laptop, s.URL, "frank")
	logIn(t, phone, s.URL, "frank")
	do(t, laptop, "see three devices (the Go test's too) and log out the phone",
		chromedp.Navigate(s.URL+"/settings"),
		waitJS(`document.querySelectorAll('.devices .device').length === 3`),
		waitText(".devices .tag", "This device"),
	)
	b.shot(t, laptop, "devices-1-list")
	do(t, laptop, "log out another device",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.devices .device button.danger').click()`),
		waitText("dialog.modal h2", "Log out"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog.modal .btn.danger').click()`),
		waitJS(`document.querySelectorAll('.devices .device').length === 2`),
	)
	// One of the two others was the phone; log out the other too.
	do(t, laptop, "log out the last other device",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.devices .device button.danger').click()`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog.modal .btn.danger').click()`),
		waitJS(`document.querySelectorAll('.devices .device').length === 1`),
	)
	do(t, phone, "the phone finds itself logged out", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))

	tab2 := b.tab(t, laptop)
	do(t, tab2, "open a second tab", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`.sidebar .dialogs`)))
	do(t, laptop, "log out",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.settings .btn.danger')].pop().click()`),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		waitJS(`!localStorage.getItem('kurir.token')`),
	)
	do(t, tab2, "the other tab logs out too", chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
