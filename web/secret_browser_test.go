package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kurir/client"
	"kurir/secret/device"
	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// secretMsg is a script for the message of the open secret chat whose text
// is text (undefined if none).
func secretMsg(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('.conv.secret .msg')].find((m) => m.querySelector('.text').textContent === %s)`, jsString(text))
}

// sendSecret writes text in the open secret chat's box and sends it, and
// waits until the server has it.
func sendSecret(text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx,
			waitJS(`!document.querySelector('.conv.secret .composer-input').disabled`),
			// Set, not typed: the texts have characters outside the keyboard.
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const i = document.querySelector('.conv.secret .composer-input');
				i.focus(); i.value = %s; i.dispatchEvent(new Event('input', { bubbles: true })); })()`, jsString(text))),
			pressEnter(),
			waitJS(secretMsg(text)+`?.querySelector('.state.sent') != null`),
		)
	}
}

// secretKeys and secretPeers are scripts for what the page's secret-chat
// database holds: the device's keys, and its sessions with peer devices.
const (
	secretDB    = `(async () => { const name = (await indexedDB.databases()).map((d) => d.name).find((n) => n.startsWith('kurir-secret-')); return new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); }); })()`
	secretKeys  = secretDB + `.then((db) => new Promise((ok) => { const r = db.transaction('device').objectStore('device').get('keys'); r.onsuccess = () => { db.close(); ok(r.result); }; }))`
	secretPeers = secretDB + `.then((db) => new Promise((ok) => { const r = db.transaction('peers').objectStore('peers').getAll(); r.onsuccess = () => { db.close(); ok(r.result); }; }))`
)

// goReceive receives on a Go device and checks the texts that arrive.
func goReceive(t *testing.T, sc *client.SecretChats, want ...string) []client.SecretMessage {
	t.Helper()
	got, err := sc.Receive(t.Context())
	if err != nil {
		t.Fatalf("Go receive: %v", err)
	}
	if len(got.Dropped) > 0 {
		t.Fatalf("Go dropped %+v", got.Dropped)
	}
	var texts []string
	for _, m := range got.Messages {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("Go received %q, want %q", texts, want)
	}
	return got.Messages
}

// serverFiles reads every file the server stored: the SQLite database with
// its write-ahead log, and the blob store and upload directories.
func serverFiles(t *testing.T, s *testServer) map[string][]byte {
	t.Helper()
	var dbPath string
	rows, err := s.db.Read().QueryContext(t.Context(), "PRAGMA database_list")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		if name == "main" {
			dbPath = file
		}
	}
	rows.Close()
	if dbPath == "" {
		t.Fatal("the test server's database has no file")
	}
	files := map[string][]byte{}
	for _, dir := range []string{filepath.Dir(dbPath), filepath.Dir(s.blobDir)} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			files[p] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := files[dbPath]; !ok || len(files[dbPath]) == 0 {
		t.Fatalf("did not read the database file %s", dbPath)
	}
	return files
}

// holding lists the server's files that contain text.
func holding(files map[string][]byte, text string) []string {
	var out []string
	for p, b := range files {
		if bytes.Contains(b, []byte(text)) {
			out = append(out, filepath.Base(p))
		}
	}
	slices.Sort(out)
	return out
}

// TestSecretChatGoAndBrowser is the acceptance: a person in a
// browser and a Go SDK client hold an end-to-end encrypted secret chat in
// both directions, also while one of them is away; the server's database
// and blob store hold none of what they wrote; a message reported from the
// browser reaches the moderators with its franking proof; self-destructing
// messages disappear from both sides; both show the same safety number; and
// the chat reads right to left in Arabic.
func TestSecretChatGoAndBrowser(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ctx := t.Context()

	// Gordon uses the Go SDK, his device state in a file of its own.
	gordon, gordonID := register(t, s.URL, "gopher")
	gordon.call("PATCH", "/me", map[string]string{"display_name": "Gordon Pher"}, nil)
	gsc := client.NewSecretChats(client.New(s.URL, client.WithToken(gordon.token)), device.NewFileStore(filepath.Join(t.TempDir(), "gordon", "device.state")))
	if _, err := gsc.Register(ctx); err != nil {
		t.Fatalf("register Gordon's device: %v", err)
	}

	// Amira uses the web app. Gordon writes to her in an ordinary private
	// chat; from its info panel she starts a secret chat with him.
	pg := b.page(t, 1100, 720)
	signUp(t, pg, s.URL, "amira", "Amira Haddad")
	var amira struct {
		ID int64 `json:"id"`
	}
	gordon.call("GET", "/users/amira", nil, &amira)
	var private struct {
		ID int64 `json:"id"`
	}
	gordon.call("PUT", "/users/"+itoa(amira.ID)+"/chat", nil, &private)
	gordon.call("POST", "/chats/"+itoa(private.ID)+"/messages", map[string]string{"text": "Can we talk privately?", "idempotency_key": "g1"}, nil)
	do(t, pg, "start a secret chat from Gordon's profile",
		openChat("Gordon Pher"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		waitText(`dialog.modal button[data-action="secret-chat"]`, "Start secret chat"),
		chromedp.Click(chromedp.CSS(`dialog.modal button[data-action="secret-chat"]`)),
		waitJS(`location.pathname === '/secret/`+itoa(gordonID)+`'`),
		waitText(".conv.secret #conv-title", "Gordon Pher"),
		waitText(".conv.secret .secret-note", "End-to-end encrypted: only you and @gopher can read these messages."),
		waitText(".conv.secret .history-edge", "No messages yet"),
	)
	b.shot(t, pg, "secret-1-new-chat")

	// Both directions, live.
	texts := []string{"Hello Gordon, this is Amira 🌍 – a secret", "Hi Amira, Go here: nobody else can read this"}
	do(t, pg, "send the first secret message", sendSecret(texts[0]))
	got := goReceive(t, gsc, texts[0])
	if got[0].Sender != amira.ID || !got[0].NewSession {
		t.Fatalf("Gordon got %+v, want a new session from user %d", got[0], amira.ID)
	}
	if _, err := gsc.Send(ctx, amira.ID, texts[1], 0); err != nil {
		t.Fatalf("Gordon sends: %v", err)
	}
	do(t, pg, "see Gordon's reply arrive live", waitJS(secretMsg(texts[1])+` != null`))
	do(t, pg, "see the secret chat in the list, with a lock",
		waitText(".dialog.secret .d-title", "Gordon Pher"),
		waitText(".dialog.secret .d-last", "Hi Amira, Go here"),
		waitJS(`!!document.querySelector('.dialog.secret .d-lock svg')`),
	)

	// Amira's browser ends its prekey envelopes once Gordon's reply decrypts.
	if prekey := evalAsync[bool](t, pg, secretPeers+`.then((ps) => ps.some((p) => p.sessions[0].initial))`); prekey {
		t.Error("after decrypting Gordon's reply the browser still sends prekey envelopes")
	}

	// Gordon logs in on his phone, a second device, and writes from it while
	// Amira's page is closed: her browser answers an agreement it did not
	// start, using one of its one-time prekeys, when she opens it again.
	var phoneLogin struct {
		Token string `json:"token"`
	}
	(&apiClient{t: t, base: s.URL}).call("POST", "/sessions", map[string]string{"username": "gopher", "password": password, "device_name": "phone"}, &phoneLogin)
	phone := client.NewSecretChats(client.New(s.URL, client.WithToken(phoneLogin.Token)), device.NewFileStore(filepath.Join(t.TempDir(), "phone", "device.state")))
	if _, err := phone.Register(ctx); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "close the page", chromedp.Navigate("about:blank"))
	texts = append(texts, "Written on my phone while your page was closed")
	if _, err := phone.Send(ctx, amira.ID, texts[2], 0); err != nil {
		t.Fatalf("Gordon sends from his phone while Amira is away: %v", err)
	}
	do(t, pg, "open the app again and find the message that came meanwhile",
		chromedp.Navigate(s.URL+"/"),
		waitText(".dialog.secret .d-last", texts[2]),
		waitText(".dialog.secret .badge", "1"),
		chromedp.Click(chromedp.CSS(`.dialog.secret`)),
		waitJS(secretMsg(texts[2])+` != null`),
		waitJS(secretMsg(texts[0])+` != null && `+secretMsg(texts[1])+` != null`), // kept on this device
		waitJS(`!document.querySelector('.dialog.secret .badge')`),
	)

	if n := evalAsync[int](t, pg, secretKeys+`.then((k) => k.opks.length)`); n != 99 {
		t.Errorf("the browser holds %d one-time prekeys after one started a session, want 99 (the used one deleted)", n)
	}

	// Amira writes while Gordon is not receiving; both his devices get it later.
	texts = append(texts, "Sent while you were not listening, Gordon")
	do(t, pg, "send while Gordon is away", sendSecret(texts[3]))
	if n := eval[int](t, pg, `Number(`+secretMsg(texts[3])+`.querySelector('.state.sent').title.match(/\d+/)[0])`); n != 2 {
		t.Errorf("the message went to %d of Gordon's devices, want 2", n)
	}
	b.shot(t, pg, "secret-2-conversation")
	goReceive(t, gsc, texts[3])
	goReceive(t, phone, texts[3])

	// Both devices show the same safety number.
	do(t, pg, "open the safety number",
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Verify safety number"]`)),
		waitJS(`document.querySelectorAll('dialog.modal .safety-number').length === 2`),
		waitText("dialog.modal h3", "Their device 2"),
	)
	shown := eval[string](t, pg, `[...document.querySelectorAll('dialog.modal .safety-number')].map((n) => [...n.children].map((s) => s.textContent).join(' ')).join(' | ')`)
	numbers, err := gsc.SafetyNumber(ctx, amira.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(numbers) != 1 || !numbers[0].Session || !strings.Contains(shown, numbers[0].Number) {
		t.Fatalf("the browser shows the safety numbers %q; Gordon's laptop has %+v", shown, numbers)
	}
	if numbers, err = phone.SafetyNumber(ctx, amira.ID); err != nil || len(numbers) != 1 || !strings.Contains(shown, numbers[0].Number) {
		t.Fatalf("the browser shows the safety numbers %q; Gordon's phone has %+v (%v)", shown, numbers, err)
	}
	b.shot(t, pg, "secret-3-safety-number")
	do(t, pg, "close it", chromedp.Click(chromedp.CSS(`dialog.modal .modal-head button`)), waitJS(`!document.querySelector('dialog.modal')`))

	// The server holds none of it.
	files := serverFiles(t, s)
	for _, text := range texts {
		if where := holding(files, text); len(where) > 0 {
			t.Errorf("the server's files %v hold the secret text %q", where, text)
		}
	}
	t.Logf("searched %d server files for %d secret texts", len(files), len(texts))

	// Amira reports an abusive message; the moderators get it, with its
	// text, which only the report reveals.
	abuse := "Pay me 500 now or I publish your photos"
	if _, err := gsc.Send(ctx, amira.ID, abuse, 0); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "report Gordon's message",
		waitJS(secretMsg(abuse)+` != null`),
		chromedp.Evaluate[chromedp.Void](secretMsg(abuse)+`.querySelector('.more').click()`),
		chromedp.Click(chromedp.CSS(`[role=menuitem][data-action="report"]`)),
		waitText("dialog.modal .report-what", abuse),
		waitText("dialog.modal", "with proof that @gopher sent it"),
		chooseOption(`dialog.modal select[name="reason"]`, "harassment"),
	)
	b.shot(t, pg, "secret-4-report")
	do(t, pg, "send the report and see it confirmed",
		chromedp.Click(chromedp.CSS(`dialog.modal button[type="submit"]`)),
		waitText(".toast", "The message is reported"),
		waitJS(secretMsg(abuse)+`.querySelector('.reported') != null`),
	)
	noErrorToasts(t, pg, "after reporting")
	b.shot(t, pg, "secret-5-reported")
	desk := newModerationDesk(t, s, "mona_mod")
	caseID := desk.caseAbout(func(sub deskSubject, _ []string) bool { return sub.Kind == "user" && sub.UserID == gordonID })
	type evidence struct {
		Kind     string `json:"kind"`
		Text     string `json:"text"`
		SenderID int64  `json:"sender_id"`
	}
	var detail struct {
		Signals []struct {
			Evidence *evidence `json:"evidence"`
		} `json:"signals"`
	}
	desk.api.call("GET", "/moderation/cases/"+itoa(caseID), nil, &detail)
	if len(detail.Signals) != 1 || detail.Signals[0].Evidence == nil || *detail.Signals[0].Evidence != (evidence{"secret_franking", abuse, gordonID}) {
		t.Errorf("the moderators' case %d does not show the reported text as verified by message franking: %+v", caseID, detail)
	}
	files = serverFiles(t, s)
	if len(holding(files, abuse)) == 0 {
		t.Error("the reported text is not in the server's database, where the report keeps it")
	}
	for _, text := range texts {
		if where := holding(files, text); len(where) > 0 {
			t.Errorf("after the report, the server's files %v hold the unreported text %q", where, text)
		}
	}

	// Self-destruct timers: Amira's message disappears from her side five
	// seconds after it is sent, and Gordon gets the timer; Gordon's
	// disappears five seconds after Amira first sees it.
	do(t, pg, "open the timer menu",
		chromedp.Click(chromedp.CSS(`.conv-head .timer-btn`)),
		waitText(`[role=menuitem][data-action="timer-0"]`, "Off (current)"),
		waitText(`[role=menuitem][data-action="timer-604800"]`, "1 week"),
		waitJS(`document.activeElement.getAttribute('role') === 'menuitem'`),
	)
	b.shot(t, pg, "secret-6-timer-menu")
	do(t, pg, "set the timer to 5 seconds",
		chromedp.Click(chromedp.CSS(`[role=menuitem][data-action="timer-5"]`)),
		waitJS(`document.querySelector('.conv-head .timer-btn').getAttribute('aria-label') === 'Self-destruct timer: 5 seconds'`),
		waitText(".timer-note", "disappear 5 seconds after they are read"),
	)
	vanish := "This note self-destructs"
	do(t, pg, "send a self-destructing message", sendSecret(vanish), waitJS(secretMsg(vanish)+`.querySelector('.expires') != null`))
	b.shot(t, pg, "secret-7-timer")
	start := time.Now()
	do(t, pg, "see it disappear", waitJS(secretMsg(vanish)+` === undefined`))
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the self-destructing message took %v to disappear, want about 5s", d)
	}
	if m := goReceive(t, gsc, vanish); m[0].Expire != 5*time.Second {
		t.Errorf("Gordon got the timer %v, want 5s", m[0].Expire)
	}
	fleeting := "Gone five seconds after you read it"
	if _, err := gsc.Send(ctx, amira.ID, fleeting, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "see Gordon's self-destructing message, then see it go",
		waitJS(secretMsg(fleeting)+` != null`),
		waitJS(secretMsg(fleeting)+`.querySelector('.expires .left') != null`),
		waitJS(secretMsg(fleeting)+` === undefined`),
	)
	do(t, pg, "reload: neither comes back, the rest is kept",
		chromedp.Reload(),
		waitJS(secretMsg(texts[3])+` != null`),
	)
	if n := eval[int](t, pg, fmt.Sprintf(`[%s, %s].filter(Boolean).length`, secretMsg(vanish), secretMsg(fleeting))); n != 0 {
		t.Errorf("after a reload %d self-destructed messages are back", n)
	}

	// In Arabic the secret chat reads right to left.
	do(t, pg, "switch to Arabic",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('kurir.lang', 'ar')`),
		chromedp.Reload(),
		waitJS(`document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'`),
		waitText(".conv.secret .secret-note", "لا يقرأ هذه الرسائل إلا أنت"),
		waitJS(secretMsg(texts[1])+` != null && `+secretMsg(texts[3])+` != null`),
	)
	rtl := eval[map[string]any](t, pg, `(() => {
		const rect = (e) => e.getBoundingClientRect();
		const own = rect(`+secretMsg(texts[3])+`.querySelector('.bubble'));
		const theirs = rect(`+secretMsg(texts[1])+`.querySelector('.bubble'));
		const head = document.querySelector('.conv.secret .conv-head');
		return {
			note: getComputedStyle(document.querySelector('.conv.secret .secret-note')).direction,
			composer: getComputedStyle(document.querySelector('.conv.secret .composer')).direction,
			ownLeft: own.left < theirs.left,
			titleRight: rect(head.querySelector('.conv-titles')).left > rect(head.querySelector('.timer-btn')).left,
			sidebarRight: rect(document.querySelector('.sidebar')).left > rect(document.querySelector('.main')).left,
			lock: getComputedStyle(document.querySelector('.dialog.secret .d-lock')).display !== 'none',
		};
	})()`)
	for _, k := range []string{"ownLeft", "titleRight", "sidebarRight", "lock"} {
		if rtl[k] != true {
			t.Errorf("in Arabic, %s is %v, want true (%v)", k, rtl[k], rtl)
		}
	}
	// "@gopher" inside Arabic sentences is isolated, or it reads "gopher@".
	if got := eval[string](t, pg, `[...document.querySelectorAll('.conv.secret .secret-note bdi')].map((e) => e.textContent).join()`); got != "@gopher" {
		t.Errorf("in Arabic the note isolates %q, want @gopher", got)
	}
	if rtl["note"] != "rtl" || rtl["composer"] != "rtl" {
		t.Errorf("in Arabic the note and the composer run %v and %v, want rtl", rtl["note"], rtl["composer"])
	}
	b.shot(t, pg, "secret-8-arabic")
	do(t, pg, "open the safety number in Arabic",
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="التحقق من رقم الأمان"]`)),
		waitJS(`document.querySelectorAll('dialog.modal .safety-number').length === 2`),
	)
	if got := eval[string](t, pg, `[...document.querySelectorAll('dialog.modal .safety-number')].map((n) => [...n.children].map((s) => s.textContent).join(' ')).join(' | ')`); got != shown {
		t.Errorf("in Arabic the safety number reads %q, want %q (left to right, Latin digits)", got, shown)
	}
	b.shot(t, pg, "secret-9-arabic-safety-number")
	do(t, pg, "on a phone", chromedp.KeyEvent(kb.Escape), waitJS(`!document.querySelector('dialog.modal')`), chromedp.EmulateViewport(390, 760))
	b.shot(t, pg, "secret-10-arabic-phone")

	// Logging out deletes the device's keys and messages from the browser.
	name := evalAsync[string](t, pg, `(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('kurir-secret-')).join(','))()`)
	if name == "" {
		t.Fatal("no secret-chat database in the browser")
	}
	do(t, pg, "log out",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('kurir.lang', 'en')`),
		chromedp.Navigate(s.URL+"/settings"),
		waitText("button", "Log out"),
		clickText("button", "Log out"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		waitJS(`(async () => !(await indexedDB.databases()).some((d) => d.name.startsWith('kurir-secret-')))()`),
	)
}

// TestSecretChatUnsupportedBrowser checks that a browser whose WebCrypto
// lacks X25519 and Ed25519 says so instead of offering secret chats, while
// the rest of the app works.
func TestSecretChatUnsupportedBrowser(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	_, peerID := register(t, s.URL, "nadia")
	pg := b.page(t, 1100, 720)
	// An older browser: importing an X25519 or Ed25519 key fails.
	src := `(() => { const imp = crypto.subtle.importKey.bind(crypto.subtle);
		crypto.subtle.importKey = (format, key, alg, ...rest) => {
			const name = typeof alg === 'string' ? alg : alg && alg.name;
			if (name === 'X25519' || name === 'Ed25519') return Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError'));
			return imp(format, key, alg, ...rest);
		}; })()`
	if _, err := chromedp.Call(pg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatal(err)
	}
	signUp(t, pg, s.URL, "omar", "Omar")
	do(t, pg, "open a secret chat",
		chromedp.Navigate(s.URL+"/secret/"+itoa(peerID)),
		waitText(".secret-unsupported h2", "Secret chats are not available in this browser"),
		waitText(".secret-unsupported p", "X25519 and Ed25519"),
	)
	b.shot(t, pg, "secret-11-unsupported")
	do(t, pg, "the new-chat menu says the same",
		chromedp.Navigate(s.URL+"/"),
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		chromedp.Click(chromedp.CSS(`[role=menuitem][data-action="new-secret"]`)),
		waitText("dialog.modal [role=alert]", "X25519 and Ed25519"),
	)
	// Nothing was registered for this device.
	token := eval[string](t, pg, `localStorage.getItem('kurir.token')`)
	omar := evalAsync[int64](t, pg, `fetch('/api/v1/me', { headers: { Authorization: 'Bearer ' + localStorage.getItem('kurir.token') } }).then((r) => r.json()).then((u) => u.id)`)
	resp := getJSON(t, s.URL+"/api/v1/secret/users/"+itoa(omar)+"/devices", token)
	if !strings.Contains(resp, `"devices":[]`) {
		t.Errorf("an unsupported browser published keys: %s", resp)
	}
}

// evalAsync returns the value of a JavaScript expression that is a promise.
func evalAsync[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// getJSON gets url with a bearer token and returns the body.
func getJSON(t *testing.T, url, token string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// envelopeMangler is a script, run in every page before the app, that lets
// a test play a malicious server: while window.__mangle is set, each
// envelope GET /secret/envelopes answers passes through it (it returns the
// envelope to deliver instead); while localStorage's "test.restricted" is
// set, GET /me says the account is suspended.
const envelopeMangler = `(() => {
	const real = window.fetch.bind(window);
	window.fetch = async (input, init) => {
		const url = input instanceof Request ? input.url : String(input);
		const method = (init && init.method) || 'GET';
		if (method === 'GET' && url === '/api/v1/me' && localStorage.getItem('test.restricted')) {
			const resp = await real(input, init);
			const me = await resp.json();
			me.state = 'suspended';
			me.suspended_until = new Date(Date.now() + 86400000).toISOString();
			return new Response(JSON.stringify(me), { status: 200, headers: { 'Content-Type': 'application/json' } });
		}
		const resp = await real(input, init);
		if (method !== 'GET' || !url.startsWith('/api/v1/secret/envelopes?') || !resp.ok || !window.__mangle) return resp;
		const body = await resp.json();
		body.envelopes = body.envelopes.map((e) => window.__mangle(e));
		return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
	};
})()`

// manglingPage opens a page for one person that runs envelopeMangler.
func manglingPage(t *testing.T, b *browser) context.Context {
	t.Helper()
	pg := b.page(t, 1100, 720)
	if _, err := chromedp.Call(pg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: envelopeMangler}); err != nil {
		t.Fatal(err)
	}
	return pg
}

// secretDBReady waits until the app has made the session's secret-chat
// database, which it does at start. A page left while it makes it can stay
// in Chromium's back/forward cache with the database's creation unfinished,
// and the next page's open then waits behind it.
func secretDBReady() chromedp.Action[chromedp.Void] {
	return waitJS(`(async () => (await indexedDB.databases()).some((d) => d.name.startsWith('kurir-secret-')))()`)
}

// secretDevices lists a user's secret-chat devices as the server has them.
func secretDevices(c *apiClient, user int64) []int64 {
	var out struct {
		Devices []struct {
			DeviceID int64 `json:"device_id"`
		} `json:"devices"`
	}
	c.call("GET", "/secret/users/"+itoa(user)+"/devices", nil, &out)
	var ids []int64
	for _, d := range out.Devices {
		ids = append(ids, d.DeviceID)
	}
	return ids
}

// TestSecretChatMaliciousServer plays a server that relabels envelopes:
// it delivers a third person's messages as if a device of the peer had
// sent them. The browser cannot tell who sent a message that starts a
// session, but it must never let such a key in silently: a device new
// beside the peer's known ones, and a key replacing one even when its
// message is dropped (its franking commitment does not open), mark the
// safety number changed, and the safety number shows the keys the chat
// really holds, not only those the server lists. An envelope whose fields
// are out of range is dropped without breaking the app.
func TestSecretChatMaliciousServer(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ctx := t.Context()

	gordon, gordonID := register(t, s.URL, "gopher")
	gsc := client.NewSecretChats(client.New(s.URL, client.WithToken(gordon.token)), device.NewFileStore(filepath.Join(t.TempDir(), "gordon", "device.state")))
	if _, err := gsc.Register(ctx); err != nil {
		t.Fatal(err)
	}
	mallory, malloryID := register(t, s.URL, "mallory")
	msc := client.NewSecretChats(client.New(s.URL, client.WithToken(mallory.token)), device.NewFileStore(filepath.Join(t.TempDir(), "mallory", "device.state")))
	if _, err := msc.Register(ctx); err != nil {
		t.Fatal(err)
	}

	pg := manglingPage(t, b)
	signUp(t, pg, s.URL, "amira", "Amira Haddad")
	var amira struct {
		ID int64 `json:"id"`
	}
	gordon.call("GET", "/users/amira", nil, &amira)
	do(t, pg, "start a secret chat with Gordon and talk",
		secretDBReady(),
		chromedp.Navigate(s.URL+"/secret/"+itoa(gordonID)),
		waitText(".conv.secret .history-edge", "No messages yet"),
		sendSecret("Hello Gordon"),
	)
	goReceive(t, gsc, "Hello Gordon")
	if _, err := gsc.Send(ctx, amira.ID, "Hi Amira", 0); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "see Gordon's reply; nothing has changed",
		waitJS(secretMsg("Hi Amira")+` != null`),
		waitJS(`document.querySelector('.conv.secret .secret-changed').hidden`),
	)
	amiraDevices := secretDevices(mallory, amira.ID)
	gordonDevices := secretDevices(mallory, gordonID)
	if len(amiraDevices) != 1 || len(gordonDevices) != 1 {
		t.Fatalf("devices: Amira %v, Gordon %v; want one each", amiraDevices, gordonDevices)
	}
	relabel := func(device int64) string {
		return fmt.Sprintf(`window.__mangle = (e) => e.sender === %d ? { ...e, sender: %d, sender_device: %d } : e`, malloryID, gordonID, device)
	}

	// A device of Gordon's that the server never lists.
	const ghost = 987654
	do(t, pg, "receive Mallory's message as from a new device of Gordon's",
		chromedp.Evaluate[chromedp.Void](relabel(ghost)),
	)
	if _, err := msc.Send(ctx, amira.ID, "Gordon here, on my new phone", 0); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "it says the safety number changed",
		waitJS(secretMsg("Gordon here, on my new phone")+` != null`),
		waitJS(`!document.querySelector('.conv.secret .secret-changed').hidden`),
		waitText(".conv.secret .secret-changed", "has changed: they may have a new device"),
	)
	do(t, pg, "the safety number shows the key the chat holds, which the server does not list",
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Verify safety number"]`)),
		waitJS(`document.querySelectorAll('dialog.modal .safety-number').length === 2`),
		waitJS(`document.querySelectorAll('dialog.modal .safety-unlisted').length === 1`),
		waitText("dialog.modal .safety-unlisted", "the server no longer lists it"),
	)
	b.shot(t, pg, "secret-12-unlisted-key")
	do(t, pg, "close it", chromedp.KeyEvent(kb.Escape), waitJS(`!document.querySelector('dialog.modal')`),
		waitJS(`document.querySelector('.conv.secret .secret-changed').hidden`))

	// Fields out of range: a time no Date can hold, a user ID that is a
	// string. Dropped; the chat list and the chat keep working.
	do(t, pg, "mangle the fields", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`window.__first = true; window.__mangle = (e) => {
			if (e.sender === %d) return { ...e, at_us: 1e20 };
			if (e.sender === %d && window.__first) { window.__first = false; return { ...e, sender: String(e.sender) }; }
			return e;
		}`, malloryID, gordonID)))
	if _, err := msc.Send(ctx, amira.ID, "From the year 3 million", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := gsc.Send(ctx, amira.ID, "A string for a user", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := gsc.Send(ctx, amira.ID, "Still here", 0); err != nil {
		t.Fatal(err)
	}
	do(t, pg, "the next message arrives; the chat list shows it",
		waitJS(secretMsg("Still here")+` != null`),
		waitText(".dialog.secret .d-last", "Still here"),
	)
	for _, text := range []string{"From the year 3 million", "A string for a user"} {
		if eval[bool](t, pg, secretMsg(text)+` != null`) {
			t.Errorf("%q, whose envelope had fields out of range, is shown", text)
		}
	}
	if n := eval[int](t, pg, `document.querySelectorAll('.dialog.secret').length`); n != 1 {
		t.Errorf("the chat list shows %d secret chats, want 1 (Gordon's)", n)
	}

	// Gordon's real device, a key of Mallory's: the message that brings it
	// does not open its franking commitment and is dropped, but the key is
	// installed all the same, and the next message on it is shown.
	do(t, pg, "relabel as Gordon's real device", chromedp.Evaluate[chromedp.Void](relabel(gordonDevices[0])))
	var claimed struct {
		Bundles []struct {
			DeviceID int64  `json:"device_id"`
			Bundle   string `json:"bundle"`
		} `json:"bundles"`
	}
	mallory.call("POST", "/secret/users/"+itoa(amira.ID)+"/bundles", map[string]any{"devices": amiraDevices}, &claimed)
	raw, err := base64.StdEncoding.DecodeString(claimed.Bundles[0].Bundle)
	if err != nil {
		t.Fatal(err)
	}
	var bundle protocol.Bundle
	if err := bundle.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	fake, err := protocol.NewIdentityKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	session, h, err := protocol.Initiate(fake, bundle, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(text, committed string) map[string]any {
		key, err := franking.NewKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p, err := device.Payload{Kind: device.KindText, FrankingKey: key, SentAt: time.Now(), Text: text}.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		c := franking.Commit(key, []byte(committed))
		msg, err := session.Encrypt(p, c[:])
		if err != nil {
			t.Fatal(err)
		}
		body, err := device.Body{Initial: &h, Message: msg}.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"user_id": amira.ID, "device_id": amiraDevices[0], "body": base64.StdEncoding.EncodeToString(body),
			"commitment": base64.StdEncoding.EncodeToString(c[:]), "client_id": fmt.Sprintf("forged-%d", time.Now().UnixNano())}
	}
	mallory.call("POST", "/secret/envelopes", map[string]any{"envelopes": []any{seal("Unreportable", "something else")}}, nil)
	do(t, pg, "the dropped message still marks the safety number changed",
		waitJS(`!document.querySelector('.conv.secret .secret-changed').hidden`),
	)
	mallory.call("POST", "/secret/envelopes", map[string]any{"envelopes": []any{seal("Send me the code", "Send me the code")}}, nil)
	do(t, pg, "the next message on that key is shown, and the safety number shows the key",
		waitJS(secretMsg("Send me the code")+` != null`),
		waitJS(`!document.querySelector('.conv.secret .secret-changed').hidden`),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Verify safety number"]`)),
		// Gordon's listed key (no session now), the key that replaced it, the ghost's.
		waitJS(`document.querySelectorAll('dialog.modal .safety-number').length === 3`),
		waitJS(`document.querySelectorAll('dialog.modal .safety-unlisted').length === 2`),
		chromedp.KeyEvent(kb.Escape), waitJS(`!document.querySelector('dialog.modal')`),
	)
	if eval[bool](t, pg, secretMsg("Unreportable")+` != null`) {
		t.Error("a message whose franking commitment does not open is shown")
	}
}

// TestSecretChatLogoutWhileRestricted: an account restricted since it last
// used secret chats sees only the restricted screen, where no secret-chat
// device opens; logging out there still deletes the device's keys and
// messages from the browser.
func TestSecretChatLogoutWhileRestricted(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	_, peerID := register(t, s.URL, "nadia")
	pg := manglingPage(t, b)
	signUp(t, pg, s.URL, "omar", "Omar")
	do(t, pg, "open a secret chat: the device makes its keys",
		secretDBReady(),
		chromedp.Navigate(s.URL+"/secret/"+itoa(peerID)),
		waitText(".conv.secret .history-edge", "No messages yet"),
		waitJS(`(async () => (await indexedDB.databases()).some((d) => d.name.startsWith('kurir-secret-')))()`),
	)
	do(t, pg, "be suspended, and log out from the restricted screen",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('test.restricted', '1')`),
		chromedp.Navigate(s.URL+"/"),
		waitText(".restricted h1", "Your account is suspended"),
		clickText(".restricted button", "Log out"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		waitJS(`(async () => !(await indexedDB.databases()).some((d) => d.name.startsWith('kurir-secret-')))()`),
	)
}
