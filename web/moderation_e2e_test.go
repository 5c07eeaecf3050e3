package web_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/moderation"
)

// TestBrowserModerationEndToEnd is the moderation issue's acceptance test,
// each person in a browser of their own: a user reports a channel post from
// its message menu; the case appears in the moderation console above a
// less severe one, with the priority the server gave it; a moderator takes
// the channel down; every subscriber loses it at once, those with the
// channel open in a tab included; the owner, whose browser speaks
// Indonesian, finds the statement of reasons in Indonesian and appeals; a
// second moderator upholds the appeal, and the channel is back for
// everyone, in the open tabs too.
func TestBrowserModerationEndToEnd(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})

	budi, _ := register(t, s.URL, "budi")
	news := budi.newChannel("Kabar Budi", "kabar_budi")
	budi.post(news, "Selamat datang di Kabar Budi", 0)
	const post = "Join our armed struggle: training camp this weekend, bring weapons"
	budi.post(news, post, 0)
	budi.post(news, "Harga cabai naik lagi", 0)
	subscribers := map[string]*apiClient{}
	for _, name := range []string{"sari", "rita", "yusuf"} {
		c, _ := register(t, s.URL, name)
		c.call("POST", "/chats/"+itoa(news)+"/join", nil, nil)
		subscribers[name] = c
	}
	yusuf := subscribers["yusuf"] // subscribed, but not watching

	// A case already waiting, of a lesser category.
	spammer, _ := register(t, s.URL, "spammer")
	ads := spammer.newChannel("Cheap Ads", "cheap_ads")
	ad := spammer.post(ads, "Cheap followers, 1000 for $1", 0)
	yusuf.call("POST", "/chats/"+itoa(ads)+"/join", nil, nil)
	yusuf.report(ads, ad, "spam", "")

	staffAccount(t, s, "mona", kurir.RoleModerator)
	maxim, _ := staffAccount(t, s, "maxim", kurir.RoleModerator)

	// A subscriber has the channel open.
	sari := b.page(t, 1100, 720)
	logIn(t, sari, s.URL, "sari")
	do(t, sari, "open the channel", openChat("Kabar Budi"), waitText(".messages .text", post))

	// Another subscriber reports the post from its message menu.
	rita := b.page(t, 1100, 720)
	logIn(t, rita, s.URL, "rita")
	do(t, rita, "report the post",
		openChat("Kabar Budi"),
		waitText(".messages .text", post),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.messages .msg')].find((m) => m.textContent.includes(`+jsString(post)+`)).querySelector('.more').click()`),
		chromedp.WaitVisible(chromedp.CSS(`[role="menuitem"][data-action="report"]`)),
		chromedp.Click(chromedp.CSS(`[role="menuitem"][data-action="report"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.report-form select[name="reason"]`)),
		waitJS(`!!document.querySelector('form.report-form select[name="reason"] option[value="terrorism"]')`),
		choose(`form.report-form select[name="reason"]`, "terrorism"),
		chromedp.SendKeys(chromedp.CSS(`form.report-form textarea[name="comment"]`), "Recruiting for an armed group"),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		waitJS(`!document.querySelector('form.report-form')`),
	)
	b.shot(t, rita, "e2e-1-reported")

	// The case is in the console, first, with its priority.
	var queue struct {
		Cases []struct {
			ID       int64  `json:"id"`
			Category string `json:"category"`
			Priority int64  `json:"priority"`
		} `json:"cases"`
	}
	maxim.call("GET", "/moderation/cases", nil, &queue)
	if len(queue.Cases) != 2 || queue.Cases[0].Category != "terrorism" || queue.Cases[0].Priority <= queue.Cases[1].Priority {
		t.Fatalf("the queue is %+v, want the terrorism case above the spam one", queue.Cases)
	}
	if p, min := queue.Cases[0].Priority, int64(moderation.Terrorism.Severity()); p < min {
		t.Errorf("the terrorism case has priority %d, below its category's severity %d", p, min)
	}
	mona := b.page(t, 1280, 900)
	consoleLogIn(t, mona, s.URL, "/console", "mona")
	do(t, mona, "find the report first in the queue",
		waitJS(`document.querySelectorAll('tr.case-row').length === 2`),
		waitJS(`document.querySelector('tr.case-row').dataset.id === `+jsString(itoa(queue.Cases[0].ID))),
		waitText("tr.case-row .priority", itoa(queue.Cases[0].Priority)),
		waitText("tr.case-row", "Terrorism"),
	)
	if got, want := eval[string](t, mona, queueCategories), "Terrorism | Spam"; got != want {
		t.Errorf("the console's queue lists %q, want %q", got, want)
	}
	b.shot(t, mona, "e2e-2-queue")

	// The moderator takes the channel down.
	do(t, mona, "take the channel down",
		key("j"),
		pressEnter(),
		waitText("#case-title", "Terrorism"),
		waitText(".case-message.reported .text", post),
		waitText(".signal", "Recruiting for an armed group"),
		key("t"),
		chromedp.WaitVisible(chromedp.CSS(`dialog form.act-form[data-kind="takedown"]`)),
		choose(`form.act-form select[name="template"]`, "terror"),
		waitJS(`document.querySelector('form.act-form textarea[name="facts"]').value.includes('terrorist organisation')`),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1`),
	)

	// Every subscriber loses it at once: those watching it live, and those
	// who come to it later.
	do(t, sari, "lose the channel while watching it",
		chromedp.WaitVisible(chromedp.CSS(`.chat-unavailable`)),
		waitJS(`![...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes(`+jsString(post)+`))`),
	)
	b.shot(t, sari, "e2e-3-subscriber-taken-down")
	do(t, rita, "lose it too", chromedp.WaitVisible(chromedp.CSS(`.chat-unavailable`)))
	if got := yusuf.status("GET", "/chats/"+itoa(news)+"/messages", nil); got != http.StatusForbidden {
		t.Errorf("a subscriber who was not watching reads the channel: %d, want 403", got)
	}

	// The owner reads the statement of reasons in Indonesian, and appeals.
	owner := b.page(t, 1100, 720)
	setLanguages(t, owner, "id-ID", "id")
	logIn(t, owner, s.URL, "budi")
	do(t, owner, "read the statement of reasons in Indonesian",
		chromedp.Navigate(s.URL+"/settings/decisions"),
		chromedp.WaitVisible(chromedp.CSS(`article.statement`)),
		waitJS(`document.documentElement.lang === 'id'`),
		waitText("article.statement", "Kanal Anda diturunkan"),
		waitText("article.statement", "Terorisme"),
		waitText("article.statement", "organisasi teroris"), // the facts of the moderator's template, in Indonesian
	)
	b.shot(t, owner, "e2e-4-statement-id")
	do(t, owner, "appeal",
		chromedp.SendKeys(chromedp.CSS(`form.appeal-form textarea[name="text"]`), "Ini kutipan berita tentang kelompok bersenjata, bukan ajakan."),
		chromedp.Click(chromedp.CSS(`form.appeal-form button[type="submit"]`)),
		waitJS(`!document.querySelector('form.appeal-form')`),
		waitText("article.statement .appeal-status", "ditinjau"),
	)

	// A second moderator upholds the appeal.
	second := b.page(t, 1280, 900)
	consoleLogIn(t, second, s.URL, "/console/appeals", "maxim")
	do(t, second, "uphold the appeal",
		waitText(".appeal-row .appeal-text", "bukan ajakan"),
		chromedp.SendKeys(chromedp.CSS(`form.decide-form textarea[name="reason"]`), "The post quoted a news report; it did not recruit."),
		chromedp.Click(chromedp.CSS(`form.decide-form button[data-decision="uphold"]`)),
		waitText(".toast", "Appeal upheld"),
		waitJS(`!document.querySelector('.appeal-row')`),
	)
	b.shot(t, second, "e2e-5-appeal-upheld")

	// The channel is back for everyone, in the open tabs too.
	do(t, sari, "see the channel come back",
		waitText(".messages .text", post),
		waitJS(`!document.querySelector('.chat-unavailable') || document.querySelector('.chat-unavailable').hidden`),
	)
	b.shot(t, sari, "e2e-6-subscriber-back")
	do(t, rita, "see it back too", waitText(".messages .text", post))
	if got := yusuf.status("GET", "/chats/"+itoa(news)+"/messages", nil); got != http.StatusOK {
		t.Errorf("after the appeal a subscriber reads the channel: %d, want 200", got)
	}
	do(t, owner, "see the appeal upheld",
		chromedp.Reload(),
		waitText("article.statement", "Banding Anda diterima"),
	)
}
