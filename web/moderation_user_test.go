package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kurir"
)

// moderationDesk is a moderator acting through the HTTP API, as the
// console does, while the tests watch what users see in the web app.
type moderationDesk struct {
	t   *testing.T
	api *apiClient
}

// newModerationDesk makes an account with the moderator role.
func newModerationDesk(t *testing.T, s *testServer, username string) *moderationDesk {
	t.Helper()
	c, id := register(t, s.URL, username)
	if err := s.accounts.SetRole(t.Context(), kurir.UserID(id), kurir.RoleModerator); err != nil {
		t.Fatal(err)
	}
	return &moderationDesk{t: t, api: c}
}

// deskSubject is a case's subject as the API shows it.
type deskSubject struct {
	Kind   string `json:"kind"`
	ChatID int64  `json:"chat_id"`
	Seq    int64  `json:"seq"`
	UserID int64  `json:"user_id"`
}

// caseAbout returns the ID of the open case whose subject matches want.
func (d *moderationDesk) caseAbout(want func(deskSubject, []string) bool) int64 {
	d.t.Helper()
	var q struct {
		Cases []struct {
			ID      int64       `json:"id"`
			Subject deskSubject `json:"subject"`
			Sources []string    `json:"sources"`
		} `json:"cases"`
	}
	d.api.call("GET", "/moderation/cases", nil, &q)
	for _, c := range q.Cases {
		if want(c.Subject, c.Sources) {
			return c.ID
		}
	}
	d.t.Fatalf("no case in the queue is about what the test looks for: %+v", q.Cases)
	return 0
}

// act takes an action on a case and returns the action's ID.
func (d *moderationDesk) act(caseID int64, kind, facts string) int64 {
	d.t.Helper()
	var a struct {
		ID int64 `json:"id"`
	}
	d.api.call("POST", fmt.Sprintf("/moderation/cases/%d/actions", caseID), map[string]string{"kind": kind, "facts": facts}, &a)
	return a.ID
}

// chooseOption picks value in the <select> matching css, once the option is there.
func chooseOption(css, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx,
			waitJS(fmt.Sprintf(`!!document.querySelector(%s)`, jsString(css+` option[value="`+value+`"]`))),
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event('change', { bubbles: true })); })()`,
				jsString(css), jsString(value))))
	}
}

// noErrorToasts fails if the page shows an error toast.
func noErrorToasts(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	if got := eval[string](t, ctx, `[...document.querySelectorAll('.toast.error')].map((e) => e.textContent).join(' | ')`); got != "" {
		t.Errorf("%s: the page shows the error %q", when, got)
	}
}

// TestBrowserReportAndAppeal: a member reports another's message from its
// menu and a person from their profile, and is told when a report is a
// repeat; the moderators remove the message and it leaves the open chat at
// once; its author reads the statement of reasons in Russian and appeals;
// the reporter sees how the report was decided.
func TestBrowserReportAndAppeal(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	desk := newModerationDesk(t, s, "mona_mod")
	olga, _ := register(t, s.URL, "olga")
	olga.call("PATCH", "/me", map[string]string{"display_name": "Olga Orlova"}, nil)
	pavel := b.page(t, 1100, 720)
	signUp(t, pavel, s.URL, "pavel", "Pavel")
	var pavelUser struct {
		ID int64 `json:"id"`
	}
	olga.call("GET", "/users/pavel", nil, &pavelUser)
	var group struct {
		ID int64 `json:"id"`
	}
	olga.call("POST", "/chats/groups", map[string]any{"title": "Book club", "members": []int64{pavelUser.ID}}, &group)
	olga.call("POST", fmt.Sprintf("/chats/%d/messages", group.ID), map[string]string{"text": "Cheap pills, no prescription needed: write to me", "idempotency_key": "o1"}, nil)
	olga.call("POST", fmt.Sprintf("/chats/%d/messages", group.ID), map[string]string{"text": "Next meeting on Friday", "idempotency_key": "o2"}, nil)

	do(t, pavel, "open the report dialog from the message's menu",
		openChat("Book club"),
		waitText(".messages .text", "Cheap pills"),
		clickMenu("Cheap pills", "Report"),
		chromedp.WaitVisible(chromedp.CSS(`form.report-form`)),
		chooseOption(`form.report-form select[name="reason"]`, "illegal_drugs"),
		chromedp.SendKeys(chromedp.CSS(`form.report-form textarea[name="comment"]`), "Selling drugs to the club"),
		waitText("form.report-form .count", "25 / 2000"),
	)
	b.shot(t, pavel, "report-1-dialog")
	do(t, pavel, "send the report",
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		waitText(".toast", "The moderators will look at your report"),
		waitJS(`!document.querySelector('form.report-form')`),
	)
	do(t, pavel, "report it again",
		clickMenu("Cheap pills", "Report"),
		chooseOption(`form.report-form select[name="reason"]`, "scam"),
		chromedp.SendKeys(chromedp.CSS(`form.report-form textarea[name="comment"]`), "Still there"),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		waitText("form.report-form .form-error", "You have already reported this"),
	)
	b.shot(t, pavel, "report-2-duplicate")
	if got := eval[string](t, pavel, `document.querySelector('form.report-form textarea[name="comment"]').value`); got != "Still there" {
		t.Errorf("after the refusal the comment holds %q, want what was typed", got)
	}
	do(t, pavel, "close the dialog",
		chromedp.Click(chromedp.CSS(`dialog.modal .modal-head button`)),
		waitJS(`!document.querySelector('dialog.modal')`),
	)
	do(t, pavel, "send a message of his own",
		chromedp.Click(chromedp.CSS(`.composer-input`)),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "I will bring the book"),
		pressEnter(),
		waitText(".messages .text", "I will bring the book"),
	)
	do(t, pavel, "his own message offers no report",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.messages .msg')].find((m) => m.textContent.includes('I will bring')).querySelector('.more').click()`),
		waitJS(`!!document.querySelector('dialog.menu')`),
	)
	if n := eval[int](t, pavel, `document.querySelectorAll('dialog.menu [data-action="report"]').length`); n != 0 {
		t.Errorf("the menu of Pavel's own message has %d Report items, want none", n)
	}
	do(t, pavel, "close the menu", chromedp.KeyEvent(kb.Escape), waitJS(`!document.querySelector('dialog.menu')`))

	// Olga writes to Pavel privately; he reports her from her profile.
	var private struct {
		ID int64 `json:"id"`
	}
	olga.call("PUT", fmt.Sprintf("/users/%d/chat", pavelUser.ID), nil, &private)
	olga.call("POST", fmt.Sprintf("/chats/%d/messages", private.ID), map[string]string{"text": "Buy from me or else", "idempotency_key": "p1"}, nil)
	do(t, pavel, "report Olga from her profile",
		openChat("Olga Orlova"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		chromedp.Click(chromedp.CSS(`dialog.modal [data-action="report-user"]`)),
		waitText("dialog.modal h2", "Report a person"),
		chooseOption(`form.report-form select[name="reason"]`, "harassment"),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		waitText(".toast", "The moderators will look at your report"),
		openChat("Book club"),
		waitText(".messages .text", "Cheap pills"),
	)

	// The moderator removes the message: it leaves Pavel's open chat.
	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "message" && s.ChatID == group.ID })
	desk.act(caseID, "remove_message", "Offers prescription drugs for sale to the group.")
	do(t, pavel, "see the message removed live",
		waitText(".messages .tombstone", "Removed by moderators"),
		waitJS(`![...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes('Cheap pills'))`),
		waitText(".messages .text", "Next meeting on Friday"),
	)
	b.shot(t, pavel, "report-3-removed-live")
	noErrorToasts(t, pavel, "after the removal")

	// Olga reads the statement of reasons in Russian and appeals.
	olgaCtx := b.page(t, 1100, 720)
	logIn(t, olgaCtx, s.URL, "olga")
	do(t, olgaCtx, "switch to Russian and open the decisions",
		chromedp.Navigate(s.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`select[name="language"]`)),
		pickLanguage("ru"),
		waitText("#settings-title", "Настройки"),
		chromedp.Click(chromedp.CSS(`a.decisions-link`)),
		waitText("#decisions-title", "Жалобы и решения"),
		waitText("article.statement h4", "Сообщение удалено"),
		waitText("article.statement", "Ваше сообщение удалено для всех: Cheap pills"),
	)
	got := eval[string](t, olgaCtx, `document.querySelector('article.statement').innerText`)
	for _, want := range []string{
		"Что ограничено", "Незаконные наркотики", "Нарушение условий использования сервиса.", "Offers prescription drugs",
		"Во всём мире.", "Бессрочно", "Решение принято человеком", "Обжаловать можно до", "Вы можете обжаловать это решение",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the statement does not say %q:\n%s", want, got)
		}
	}
	do(t, olgaCtx, "appeal",
		chromedp.SendKeys(chromedp.CSS(`form.appeal-form textarea[name="text"]`), "Это была шутка про витамины."),
		chromedp.Click(chromedp.CSS(`form.appeal-form button[type="submit"]`)),
		waitText("article.statement .appeal-status", "Ваша жалоба рассматривается."),
		waitJS(`!document.querySelector('form.appeal-form')`),
		waitText("article.statement", "Это была шутка про витамины."),
	)
	b.shot(t, olgaCtx, "decisions-1-ru-appealed")

	do(t, pavel, "see how his reports were decided",
		chromedp.Navigate(s.URL+"/settings/decisions"),
		waitJS(`document.querySelectorAll('.my-report').length === 2`),
		waitText(".my-report", "Action taken"),
		waitText(".my-report", "Being reviewed"),
		waitText(".my-report", "Illegal drugs"),
		waitText(".statements", "There are no decisions"),
	)
	b.shot(t, pavel, "decisions-2-my-reports")
}

// TestBrowserTakedown: a subscriber has a channel open when the moderators
// take it down: the chat says so, with the reason, at once; a reload shows
// the same without an error; when the decision is reversed the posts are back.
func TestBrowserTakedown(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	desk := newModerationDesk(t, s, "max_mod")
	radio, _ := register(t, s.URL, "radio")
	var channel struct {
		ID int64 `json:"id"`
	}
	radio.call("POST", "/chats/channels", map[string]string{"title": "Night Radio", "username": "nightradio"}, &channel)
	radio.call("POST", fmt.Sprintf("/chats/%d/messages", channel.ID), map[string]string{"text": "Tonight: jazz until two", "idempotency_key": "r1"}, nil)
	sam, _ := register(t, s.URL, "samuel")
	sam.call("POST", fmt.Sprintf("/chats/%d/join", channel.ID), nil, nil)

	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "samuel")
	do(t, ctx, "report the channel from its info",
		openChat("Night Radio"),
		waitText(".messages .text", "jazz until two"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		chromedp.Click(chromedp.CSS(`dialog.modal [data-action="report-chat"]`)),
		waitText("dialog.modal h2", "Report a channel"),
		waitText("form.report-form .report-what", "Night Radio"),
		chooseOption(`form.report-form select[name="reason"]`, "violence"),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		waitText(".toast", "The moderators will look at your report"),
	)

	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "chat" && s.ChatID == channel.ID })
	action := desk.act(caseID, "takedown", "Posts call for violence against a named person.")
	do(t, ctx, "see the channel go dark live",
		chromedp.WaitVisible(chromedp.CSS(`.chat-unavailable`)),
		waitText(".chat-unavailable h3", "This channel is unavailable"),
		waitText(".chat-unavailable", "Reason: Violence"),
		waitJS(`document.querySelector('.chat-unavailable').getAttribute('role') === 'status'`),
		waitJS(`!document.querySelector('.messages .msg') && document.querySelector('.composer').hidden`),
		waitJS(`document.querySelector('.dialogs a.dialog.unavailable') !== null`),
		waitText(".dialogs a.dialog.unavailable .d-last", "Unavailable"),
	)
	b.shot(t, ctx, "takedown-1-live")
	do(t, ctx, "reload: the same, calmly",
		chromedp.Reload(),
		waitText(".chat-unavailable", "Reason: Violence"),
		waitText("#conv-title", "Night Radio"),
	)
	// Long enough for a request refused with 403 to have been retried.
	do(t, ctx, "wait a moment", chromedp.Sleep(500*time.Millisecond))
	noErrorToasts(t, ctx, "after a reload of the unavailable channel")
	if n := eval[int](t, ctx, `document.querySelectorAll('.messages .msg').length`); n != 0 {
		t.Errorf("the unavailable channel shows %d messages, want none", n)
	}
	b.shot(t, ctx, "takedown-2-reloaded")

	desk.api.call("POST", fmt.Sprintf("/moderation/actions/%d/reverse", action), map[string]string{"reason": "The posts quoted a film."}, nil)
	do(t, ctx, "see the channel back live",
		waitJS(`document.querySelector('.chat-unavailable').hidden`),
		waitText(".messages .text", "jazz until two"),
		waitJS(`document.querySelector('.dialogs a.dialog.unavailable') === null`),
		waitText(".dialogs .d-last", "jazz until two"),
	)
	noErrorToasts(t, ctx, "after the channel was reinstated")
	b.shot(t, ctx, "takedown-3-reinstated")
}

// TestBrowserNotices: someone without an account finds the notice form
// from the login page, is told what is missing, sends a notice, keeps the
// receipt and follows it to its decision; the pages work on a phone and in
// Arabic, right to left.
func TestBrowserNotices(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	desk := newModerationDesk(t, s, "nina_mod")
	news, _ := register(t, s.URL, "lakenews")
	var channel struct {
		ID int64 `json:"id"`
	}
	news.call("POST", "/chats/channels", map[string]string{"title": "Lake News", "username": "lakenews_ch"}, &channel)
	var post struct {
		Seq int64 `json:"seq"`
	}
	news.call("POST", fmt.Sprintf("/chats/%d/messages", channel.ID), map[string]string{"text": "They are all criminals, burn their houses", "idempotency_key": "n1"}, &post)
	where := fmt.Sprintf("@lakenews_ch/%d", post.Seq)

	ctx := b.page(t, 380, 740)
	noOverflow := waitJS(`document.documentElement.scrollWidth <= window.innerWidth`)
	do(t, ctx, "find the notice form from the login page",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		clickText(".auth a", "Report illegal content without an account"),
		waitText("h1", "Report illegal content"),
		chromedp.WaitVisible(chromedp.CSS(`form.notice-form`)),
		waitJS(`location.pathname === '/notices'`),
		chromedp.SendKeys(chromedp.CSS(`form.notice-form textarea[name="explanation"]`), "Incites arson against a minority."),
		chromedp.SendKeys(chromedp.CSS(`form.notice-form input[name="location"]`), where),
		chooseOption(`form.notice-form select[name="category"]`, "hate_speech"),
		chromedp.SendKeys(chromedp.CSS(`form.notice-form input[name="name"]`), "Rita Reporter"),
		chromedp.SendKeys(chromedp.CSS(`form.notice-form input[name="email"]`), "rita@example.org"),
		chromedp.Click(chromedp.CSS(`form.notice-form button[type="submit"]`)),
		waitText(".field-error", "Confirm that you believe in good faith"),
		waitJS(`document.querySelector('input[name="good_faith"]').getAttribute('aria-invalid') === 'true'`),
		waitJS(`document.activeElement === document.querySelector('input[name="good_faith"]')`),
		noOverflow,
	)
	b.shot(t, ctx, "notice-1-good-faith-missing")
	if got := eval[string](t, ctx, `document.querySelector('textarea[name="explanation"]').value + '|' + document.querySelector('input[name="email"]').value`); got != "Incites arson against a minority.|rita@example.org" {
		t.Errorf("after the refusal the form holds %q, want what was typed", got)
	}
	// Name and e-mail are optional only for child sexual abuse material.
	do(t, ctx, "see name and e-mail become optional for child sexual abuse material, and required again",
		chooseOption(`form.notice-form select[name="category"]`, "child_abuse"),
		waitJS(`!document.querySelector('input[name="email"]').required`),
		waitText("form.notice-form label", "(optional)"),
		chooseOption(`form.notice-form select[name="category"]`, "hate_speech"),
		waitJS(`document.querySelector('input[name="email"]').required`),
	)
	do(t, ctx, "confirm good faith and send",
		chromedp.Click(chromedp.CSS(`input[name="good_faith"]`)),
		chromedp.Click(chromedp.CSS(`form.notice-form button[type="submit"]`)),
		waitText("h1", "Notice received"),
		waitJS(`/^\d+$/.test(document.querySelector('.receipt-id').textContent) && document.querySelector('.receipt-token').textContent.length > 10`),
		noOverflow,
	)
	b.shot(t, ctx, "notice-2-receipt")
	id := eval[string](t, ctx, `document.querySelector('.receipt-id').textContent`)
	token := eval[string](t, ctx, `document.querySelector('.receipt-token').textContent`)
	href := eval[string](t, ctx, `document.querySelector('a.status-link').getAttribute('href')`)
	if want := "/notices/status?id=" + id + "&token=" + url.QueryEscape(token); href != want && href != "/notices/status?id="+id+"&token="+token {
		t.Errorf("the status link is %q, want %q", href, want)
	}
	do(t, ctx, "follow the status link",
		chromedp.Click(chromedp.CSS(`a.status-link`)),
		waitText("h1", "Your notice"),
		waitText(".notice-status", "Received, being reviewed"),
		waitText(".notice-status", "Hate speech"),
		waitText(".notice-status", where),
	)

	// The moderators decide: the post is removed.
	caseID := desk.caseAbout(func(s deskSubject, sources []string) bool {
		return s.Kind == "message" && s.ChatID == channel.ID && strings.Contains(strings.Join(sources, ","), "notice")
	})
	desk.act(caseID, "remove_message", "Incitement to arson against a group.")
	do(t, ctx, "see the decision",
		chromedp.Reload(),
		waitText(".notice-status", "Decided"),
		waitText(".notice-status", "Action was taken."),
		waitText(".notice-status", "The message was removed."),
		waitText(".notice-status", "A person took the decision, not automated means."),
		noOverflow,
	)
	b.shot(t, ctx, "notice-3-decided")
	do(t, ctx, "read it in Arabic, right to left",
		pickLanguage("ar"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		waitText(".notice-status", "صدر القرار"),
		noOverflow,
	)
	b.shot(t, ctx, "notice-4-decided-ar")
	do(t, ctx, "a wrong token finds nothing",
		chromedp.Navigate(s.URL+"/notices/status?id="+id+"&token=wrong"),
		waitText("[role=alert]", "لا يوجد إشعار"),
		chromedp.WaitVisible(chromedp.CSS(`form.notice-lookup input[name="token"]`)),
		chromedp.Navigate(s.URL+"/notices"),
		chromedp.WaitVisible(chromedp.CSS(`form.notice-form`)),
		waitJS(`(() => { const r = document.querySelector('form.notice-form label').getBoundingClientRect(); return r.right > window.innerWidth - 80; })()`),
		noOverflow,
	)
	b.shot(t, ctx, "notice-5-form-ar")
}
