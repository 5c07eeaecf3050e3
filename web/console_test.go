package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kurir"
)

// staffAccount makes an account and gives it a moderation role, as the
// operator does with kurir admin.
func staffAccount(t *testing.T, s *testServer, username string, role kurir.Role) (*apiClient, int64) {
	t.Helper()
	c, id := register(t, s.URL, username)
	if err := s.accounts.SetRole(t.Context(), kurir.UserID(id), role); err != nil {
		t.Fatal(err)
	}
	return c, id
}

// status makes an API call and returns its HTTP status, whatever it is.
func (c *apiClient) status(method, path string, body any) int {
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
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// post sends a message to a chat and returns its seq; media, if not 0, is
// an upload to attach.
func (c *apiClient) post(chat int64, text string, media int64) int64 {
	c.t.Helper()
	var m struct {
		Seq int64 `json:"seq"`
	}
	body := map[string]any{"text": text, "idempotency_key": fmt.Sprintf("%d-%s", chat, text)}
	if media != 0 {
		body["media_id"] = media
	}
	c.call("POST", "/chats/"+itoa(chat)+"/messages", body, &m)
	return m.Seq
}

// uploadFile uploads the file at path and returns the media's ID.
func (c *apiClient) uploadFile(path, contentType string) int64 {
	c.t.Helper()
	id, _ := c.uploadSHA(path, contentType)
	return id
}

// newChannel makes a public channel and returns its ID.
func (c *apiClient) newChannel(title, username string) int64 {
	c.t.Helper()
	var ch struct {
		ID int64 `json:"id"`
	}
	c.call("POST", "/chats/channels", map[string]string{"title": title, "username": username}, &ch)
	return ch.ID
}

// report files a user report about a message (seq > 0) or a whole chat.
func (c *apiClient) report(chat, seq int64, reason, comment string) {
	c.t.Helper()
	subject := map[string]any{"kind": "chat", "chat_id": chat}
	if seq > 0 {
		subject = map[string]any{"kind": "message", "chat_id": chat, "seq": seq}
	}
	c.call("POST", "/reports", map[string]any{"subject": subject, "reason": reason, "comment": comment}, nil)
}

// consoleLogIn logs in through the form the app shows at /login?next=….
func consoleLogIn(t testing.TB, ctx context.Context, base, path, username string) {
	t.Helper()
	do(t, ctx, "log in as "+username+" to "+path,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		waitJS(`location.pathname === '/login' && new URLSearchParams(location.search).get('next') === `+jsString(path)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitJS(`location.pathname === `+jsString(path)),
		chromedp.WaitVisible(chromedp.CSS(`.console .console-main h2`)),
	)
}

// key presses a printable key as a person does: the page sees it go down,
// and only if the page lets it is it typed into the focused element.
func key(k string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: k, Text: k}
		if k == "?" {
			p.Code, p.Modifiers, p.WindowsVirtualKeyCode = "Slash", 8, 191 // 8: Shift
		} else {
			p.Code, p.WindowsVirtualKeyCode = "Key"+strings.ToUpper(k), int64(strings.ToUpper(k)[0])
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
			return err
		}
		p.Type, p.Text = input.DispatchKeyEventTypeKeyUp, ""
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p)
		return err
	})
}

// choose picks value in the select matching css, as a person would.
func choose(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + jsString(css) + `); s.value = ` +
		jsString(value) + `; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
}

// queueCategories is a script for the categories of the queue's rows, in order.
const queueCategories = `[...document.querySelectorAll('tr.case-row')].map((r) => r.children[1].textContent).join(' | ')`

// TestBrowserConsole is the moderation console as its three kinds of staff
// use it. People report a photo in a channel as child abuse, a spam post
// and a scam channel; the queue puts the child-abuse case first. Triage
// (who arrives logged out and is sent back to the console after logging
// in) sees the case but no buttons to act, and takes it. A moderator moves
// through the queue with j, k and Enter, sees the reported photo in its
// context blurred until revealed, takes the channel down with the takedown
// dialog and a reason template, removes the spam post by keyboard and
// reverses that, and puts a warning label on the scam channel. The
// channel's owner appeals; the moderator who decided is told clearly that
// the appeal is not theirs to decide, and a second moderator upholds it,
// which brings the channel back. A user who is not staff is told so, and
// only staff find the console in their settings. The console works on a
// phone and in Arabic, and its queue refreshes by itself.
func TestBrowserConsole(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})

	olga, _ := register(t, s.URL, "olga")
	market := olga.newChannel("Olga's Market", "olgas_market")
	olga.post(market, "Welcome to the market", 0)
	photo := olga.post(market, "New stock today", olga.uploadFile(writePhoto(t), "image/png"))
	olga.post(market, "Prices go up tomorrow", 0)
	sven, _ := register(t, s.URL, "sven")
	deals := sven.newChannel("Sven's Deals", "svens_deals")
	spam := sven.post(deals, "BUY CHEAP FOLLOWERS NOW!!! 10000 for $1", 0)
	sven.post(deals, "Double your bitcoin in one day", 0)

	rita, _ := register(t, s.URL, "rita")
	rita.call("POST", "/chats/"+itoa(market)+"/join", nil, nil)
	rita.call("POST", "/chats/"+itoa(deals)+"/join", nil, nil)
	// The spam report comes first: the queue orders by priority, not time.
	rita.report(deals, spam, "spam", "Spam again")
	rita.report(market, photo, "child_abuse", "This photo shows a child")
	rita.report(deals, 0, "scam", "The whole channel sells fake investments")

	staffAccount(t, s, "tina", kurir.RoleTriage)
	monaAPI, _ := staffAccount(t, s, "mona", kurir.RoleModerator)
	staffAccount(t, s, "maxim", kurir.RoleModerator)

	// Triage arrives logged out and comes back to the console.
	tina := b.page(t, 1280, 800)
	consoleLogIn(t, tina, s.URL, "/console", "tina")
	do(t, tina, "see the queue in priority order",
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
		waitText(".console-role", "Triage"),
	)
	if got, want := eval[string](t, tina, queueCategories), "Child sexual abuse | Scam or fraud | Spam"; got != want {
		t.Errorf("the queue lists %q, want %q", got, want)
	}
	prios := eval[[]int](t, tina, `[...document.querySelectorAll('tr.case-row .priority')].map((e) => Number(e.textContent))`)
	if len(prios) != 3 || prios[0] <= prios[2] {
		t.Errorf("priorities %v: the child-abuse case should be above the spam one", prios)
	}
	if got, want := eval[string](t, tina, `document.querySelector('tr.case-row .subject').textContent`), fmt.Sprintf("Message %d in “\u2068Olga's Market\u2069”", photo); got != want {
		t.Errorf("the first case's subject reads %q, want %q", got, want)
	}
	b.shot(t, tina, "console-1-queue")
	do(t, tina, "open the child-abuse case",
		chromedp.Click(chromedp.CSS(`tr.case-row .subject a`)),
		waitText("#case-title", "Child sexual abuse"),
		chromedp.WaitVisible(chromedp.CSS(`.case-message.reported`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-act="assign"]`)),
	)
	if n := eval[int](t, tina, `document.querySelectorAll('[data-act="remove_message"], [data-act="takedown"], [data-act="suspend"], [data-act="ban"], [data-act="dismiss"]').length`); n != 0 {
		t.Errorf("triage sees %d buttons to act, want none", n)
	}
	if eval[bool](t, tina, `!document.querySelector('[data-act="escalate"]')`) {
		t.Error("triage cannot escalate")
	}
	do(t, tina, "take the case",
		chromedp.Click(chromedp.CSS(`[data-act="assign"]`)),
		waitText(`[data-act="assign"]`, "Unassign"),
		waitText(".case-facts dd", "tina"),
		waitText(".history", "Assigned"),
	)
	b.shot(t, tina, "console-2-triage-case")
	do(t, tina, "find it among the cases assigned to her",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitVisible(chromedp.CSS(`tr.case-row`)),
		chromedp.Click(chromedp.CSS(`input[name="mine"]`)),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1`),
		waitText("tr.case-row", "Child sexual abuse"),
		waitJS(`location.search === '?mine=1'`),
		chromedp.Click(chromedp.CSS(`input[name="mine"]`)),
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
		choose(`select[name="category"]`, "spam"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1`),
		waitText("tr.case-row", "Spam"),
		choose(`select[name="category"]`, ""),
		choose(`select[name="source"]`, "hash_bank"),
		waitText(".console-status", "No cases match"),
		choose(`select[name="source"]`, ""),
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
	)
	do(t, tina, "find the console in her settings",
		chromedp.Navigate(s.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`.settings a[href="/console"]`)),
	)

	// A user who is not staff.
	ritaTab := b.page(t, 1100, 720)
	logIn(t, ritaTab, s.URL, "rita")
	do(t, ritaTab, "find no console in her settings",
		chromedp.Navigate(s.URL+"/settings"),
		waitText("#settings-title", "Settings"),
		waitJS(`!document.querySelector('a[href="/console"]')`),
		chromedp.Navigate(s.URL+"/console"),
		waitText(".console-main h2", "You are not moderation staff"),
	)
	b.shot(t, ritaTab, "console-3-not-staff")

	// The moderator works by keyboard.
	mona := b.page(t, 1280, 900)
	consoleLogIn(t, mona, s.URL, "/console", "mona")
	do(t, mona, "see the shortcuts",
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
		key("?"),
		chromedp.WaitVisible(chromedp.CSS(`dialog.shortcuts`)),
		waitText("dialog.shortcuts", "Take down chat"),
	)
	b.shot(t, mona, "console-4-shortcuts")
	do(t, mona, "move with j and k and open with Enter",
		chromedp.KeyEvent(kb.Escape),
		waitJS(`!document.querySelector('dialog.shortcuts')`),
		key("j"),
		waitJS(`document.querySelector('tr.case-row.selected') === document.querySelectorAll('tr.case-row')[0]`),
		key("j"),
		key("j"),
		waitJS(`document.querySelector('tr.case-row.selected') === document.querySelectorAll('tr.case-row')[2]`),
		waitJS(`document.activeElement === document.querySelector('tr.case-row.selected a')`),
		key("k"),
		key("k"),
		waitJS(`document.querySelector('tr.case-row.selected') === document.querySelectorAll('tr.case-row')[0]`),
		pressEnter(),
		waitJS(`/^\/console\/cases\/\d+$/.test(location.pathname)`),
		waitText("#case-title", "Child sexual abuse"),
	)
	do(t, mona, "see the reported photo in its context, blurred",
		waitText(".case-message.reported .text", "New stock today"),
		waitText(".case-message .text", "Welcome to the market"),
		waitText(".case-message .text", "Prices go up tomorrow"),
		waitText(".signal", "This photo shows a child"),
		waitText(".case-chat", "Olga's Market"),
		waitJS(`(() => { const i = document.querySelector('.case-message.reported img.review-img'); return i && i.classList.contains('blurred') && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; })()`),
		waitJS(`getComputedStyle(document.querySelector('img.review-img')).filter.includes('blur')`),
	)
	b.shot(t, mona, "console-5-case-blurred")
	do(t, mona, "type a note",
		// Typing a note does not trigger the single-key shortcuts.
		chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), "Checked the reporter's other reports: all accurate."),
		waitJS(`!document.querySelector('dialog[open]')`),
	)
	if got := eval[int](t, mona, `document.querySelectorAll('.case-message').length`); got != 3 {
		t.Errorf("the case shows %d messages of context, want 3", got)
	}
	do(t, mona, "reveal the photo",
		chromedp.Click(chromedp.CSS(`.review-media .reveal`)),
		waitJS(`!document.querySelector('img.review-img').classList.contains('blurred')`),
		waitJS(`getComputedStyle(document.querySelector('img.review-img')).filter === 'none'`),
		waitText(".review-media .reveal", "Blur again"),
	)
	b.shot(t, mona, "console-6-case-revealed")
	do(t, mona, "open the takedown dialog with t and fill it from a template",
		chromedp.Click(chromedp.CSS(`#case-title`)), // out of the note field
		key("t"),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.act-form select[name="template"]`)),
		waitText("dialog form.act-form", "all 2 members"),
		choose(`form.act-form select[name="template"]`, "csam"),
		waitJS(`document.querySelector('form.act-form textarea[name="facts"]').value.includes('sexual abuse of a child')`),
		waitJS(`document.querySelector('form.act-form select[name="ground"]').value === 'illegal'`),
		chromedp.WaitVisible(chromedp.CSS(`form.act-form input[name="legal_reference"]`)),
		waitJS(`document.querySelector('form.act-form input[name="legal_reference"]').value.includes('2011/93/EU')`),
		waitJS(`!document.querySelector('form.act-form input[name="until"]')`),
	)
	b.shot(t, mona, "console-7-takedown-dialog")
	do(t, mona, "take the channel down, and be back at the queue",
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
		waitText(".toast", "Take down chat"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 2`),
	)
	if got := rita.status("GET", "/chats/"+itoa(market)+"/messages", nil); got != http.StatusForbidden {
		t.Errorf("after the takedown a subscriber reads the channel: %d, want 403", got)
	}
	if got, want := eval[string](t, mona, queueCategories), "Scam or fraud | Spam"; got != want {
		t.Errorf("after the takedown the queue lists %q, want %q", got, want)
	}

	do(t, mona, "remove the spam post by keyboard",
		key("j"),
		key("j"),
		waitText("tr.case-row.selected", "Spam"),
		pressEnter(),
		waitText("#case-title", "Spam"),
		chromedp.WaitVisible(chromedp.CSS(`[data-act="remove_message"]`)),
		key("r"),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.act-form[data-kind="remove_message"]`)),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitText("form.act-form .field-error", "Fill in"), // no facts: said beside the field
		choose(`form.act-form select[name="template"]`, "spam"),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1`),
	)
	do(t, mona, "reverse the removal from the resolved cases",
		choose(`select[name="state"]`, "resolved"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 2`),
		clickText("tr.case-row td", "Spam"),
		waitText("#case-title", "Spam"),
		waitText(".case-message.reported .cm-tag", "Removed by moderation"),
		waitJS(`document.querySelectorAll('[data-act]').length === 0`),
		chromedp.Click(chromedp.CSS(`.action-taken button.reverse`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.reverse-form textarea[name="reason"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.reverse-form textarea[name="reason"]`), "Sent to the wrong case by mistake."),
		chromedp.Click(chromedp.CSS(`form.reverse-form button[type="submit"]`)),
		waitText(".action-taken.reversed .reversed-note", "Reversed"),
		waitJS(`!document.querySelector('.case-message.reported .removed-tag')`),
	)
	b.shot(t, mona, "console-8-reversed")
	do(t, mona, "label the scam channel with a warning",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitVisible(chromedp.CSS(`select[name="state"]`)),
		choose(`select[name="state"]`, ""),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1`),
		key("j"),
		pressEnter(),
		waitText("#case-title", "Scam or fraud"),
		key("l"),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.act-form[data-kind="label"] select[name="label"]`)),
		choose(`form.act-form select[name="label"]`, "scam_risk"),
		choose(`form.act-form select[name="template"]`, "scam"),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
		waitText(".console-status", "The queue is clear"),
	)
	var labelled struct {
		Labels []string `json:"labels"`
	}
	rita.call("GET", "/chats/"+itoa(deals), nil, &labelled)
	if len(labelled.Labels) != 1 || labelled.Labels[0] != "scam_risk" {
		t.Errorf("the scam channel has labels %v, want [scam_risk]", labelled.Labels)
	}

	// The channel's owner appeals the takedown.
	var st struct {
		Statements []struct {
			ID     int64  `json:"id"`
			Action string `json:"action"`
		} `json:"statements"`
	}
	olga.call("GET", "/statements", nil, &st)
	if len(st.Statements) != 1 || st.Statements[0].Action != "takedown" {
		t.Fatalf("olga's statements: %+v, want the takedown", st.Statements)
	}
	olga.call("POST", "/statements/"+itoa(st.Statements[0].ID)+"/appeal", map[string]string{"text": "This is a photo of my shop's new stock. There is no child in it."}, nil)

	do(t, mona, "see the appeal, and be told it is not hers to decide",
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/appeals"]`)),
		waitText(".appeal-row .appeal-text", "no child in it"),
		waitText(".appeal-row .statement", "sexual abuse of a child"),
		waitText(".appeal-row .warning", "Another moderator"),
		chromedp.SendKeys(chromedp.CSS(`form.decide-form textarea[name="reason"]`), "I had a second look."),
		chromedp.Click(chromedp.CSS(`form.decide-form button[data-decision="uphold"]`)),
		waitText("form.decide-form .form-error", "someone other than the moderator who took the decision"),
	)
	b.shot(t, mona, "console-9-own-decision")
	if got := rita.status("GET", "/chats/"+itoa(market)+"/messages", nil); got != http.StatusForbidden {
		t.Errorf("after a refused decision the channel answers %d, want 403 (still down)", got)
	}

	maxTab := b.page(t, 1280, 900)
	consoleLogIn(t, maxTab, s.URL, "/console/appeals", "maxim")
	do(t, maxTab, "uphold the appeal",
		waitText(".appeal-row .appeal-text", "no child in it"),
		waitJS(`!document.querySelector('.appeal-row .warning')`),
		chromedp.SendKeys(chromedp.CSS(`form.decide-form textarea[name="reason"]`), "The photo shows shop goods only; the report was mistaken."),
		chromedp.Click(chromedp.CSS(`form.decide-form button[data-decision="uphold"]`)),
		waitText(".toast", "Appeal upheld"),
		waitJS(`!document.querySelector('.appeal-row')`),
		waitText(".console-status", "No appeals here"),
		choose(`select[name="state"]`, "upheld"),
		waitText(".appeal-row .appeal-outcome", "Upheld"),
	)
	if got := rita.status("GET", "/chats/"+itoa(market)+"/messages", nil); got != http.StatusOK {
		t.Errorf("after the appeal was upheld the channel answers %d, want 200", got)
	}

	// On a phone, and in Arabic.
	phone := b.page(t, 380, 760)
	logIn(t, phone, s.URL, "maxim")
	noOverflow := waitJS(`document.documentElement.scrollWidth <= window.innerWidth`)
	do(t, phone, "use the queue on a phone",
		chromedp.Navigate(s.URL+"/console?state=resolved"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
		noOverflow,
	)
	b.shot(t, phone, "console-10-phone-queue")
	do(t, phone, "open a case on a phone",
		chromedp.Click(chromedp.CSS(`tr.case-row .subject a`)),
		chromedp.WaitVisible(chromedp.CSS(`.case-message`)),
		noOverflow,
	)
	b.shot(t, phone, "console-11-phone-case")

	arabic := b.page(t, 1100, 720)
	setLanguages(t, arabic, "ar")
	consoleLogIn(t, arabic, s.URL, "/console", "mona")
	do(t, arabic, "see the console in Arabic, right to left",
		waitJS(`document.documentElement.dir === 'rtl'`),
		waitText(".console-brand", "وحدة الإشراف"),
		waitText("#queue-title", "قائمة الانتظار"),
		choose(`select[name="state"]`, "resolved"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 3`),
		waitJS(`(() => { const r = document.querySelector('.console-brand').getBoundingClientRect(); return r.left > window.innerWidth / 2; })()`),
	)
	b.shot(t, arabic, "console-12-arabic")

	// The queue refreshes itself: a new report appears without a reload,
	// and is dismissed from the keyboard.
	do(t, arabic, "show the open cases", choose(`select[name="state"]`, ""), chromedp.WaitVisible(chromedp.CSS(`.console-status`)))
	rita.report(market, 1+photo, "hate_speech", "")
	refreshed, cancel := context.WithTimeout(arabic, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(refreshed, waitJS(`document.querySelectorAll('tr.case-row').length === 1`)); err != nil {
		t.Fatalf("the new report did not appear in the open queue by itself: %v", err)
	}
	do(t, arabic, "dismiss it",
		key("j"),
		pressEnter(),
		chromedp.WaitVisible(chromedp.CSS(`[data-act="dismiss"]`)),
		key("d"),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.act-form[data-kind="dismiss"]`)),
		choose(`form.act-form select[name="template"]`, "no_violation"),
		waitJS(`document.querySelector('form.act-form textarea[name="reason"]').value !== ''`),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
		chromedp.WaitVisible(chromedp.CSS(`.console-status`)),
	)
	var resolved struct {
		Cases []struct {
			Category string `json:"category"`
			Outcome  string `json:"outcome"`
		} `json:"cases"`
	}
	monaAPI.call("GET", "/moderation/cases?state=resolved", nil, &resolved)
	if len(resolved.Cases) != 4 || resolved.Cases[0].Category != "hate_speech" || resolved.Cases[0].Outcome != "dismissed" {
		t.Errorf("the resolved cases are %+v, want the hate-speech case dismissed, newest first", resolved.Cases)
	}
}
