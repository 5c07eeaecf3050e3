package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDecisionBadge: a channel owner has the app open on two
// devices, one in Indonesian. A moderator removes a post of theirs with a
// reason template; both devices mark the way to the decisions at once,
// with the count. Opening the decisions on one shows the statement in
// Indonesian (the template's facts, the moderator's added words as typed,
// the clause of the terms with its link) and clears the mark on both. A
// reversal marks them again.
func TestBrowserDecisionBadge(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})

	budi, _ := register(t, s.URL, "budi")
	news := budi.newChannel("Kabar Budi", "kabar_budi")
	seq := budi.post(news, "Followers murah, 1000 hanya Rp10.000", 0)
	reader, _ := register(t, s.URL, "rita")
	reader.call("POST", "/chats/"+itoa(news)+"/join", nil, nil)
	reader.report(news, seq, "spam", "")
	desk := newModerationDesk(t, s, "mona")

	phone := b.page(t, 1100, 720)
	setLanguages(t, phone, "id-ID", "id")
	logIn(t, phone, s.URL, "budi")
	laptop := b.page(t, 1100, 720)
	logIn(t, laptop, s.URL, "budi")
	settingsBadge := `.sidebar a[href="/settings"] .decisions-badge`
	noBadge := waitJS(`(() => { const b = document.querySelector(` + jsString(settingsBadge) + `); return !!b && b.hidden; })()`)
	do(t, phone, "see no mark before any decision", noBadge)
	do(t, laptop, "see no mark before any decision", noBadge)

	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.ChatID == news && s.Seq == seq })
	const added = "Dikirim 40 kali dalam satu jam."
	var act struct {
		ID int64 `json:"id"`
	}
	desk.api.call("POST", fmt.Sprintf("/moderation/cases/%d/actions", caseID),
		map[string]string{"kind": "remove_message", "template": "spam", "facts": added}, &act)

	badgeShows := func(n string) chromedp.Action[chromedp.Void] {
		return waitJS(`(() => { const b = document.querySelector(` + jsString(settingsBadge) + `); return !!b && !b.hidden && b.textContent === ` + jsString(n) + `; })()`)
	}
	do(t, phone, "see the decision marked at once", badgeShows("1"),
		waitJS(`document.querySelector('.sidebar a[href="/settings"]').getAttribute('aria-label').includes('1')`))
	do(t, laptop, "see it marked too", badgeShows("1"))
	b.shot(t, phone, "decision-badge-1")

	do(t, phone, "open the decisions from the settings",
		chromedp.Click(chromedp.CSS(`.sidebar a[href="/settings"]`)),
		waitJS(`(() => { const b = document.querySelector('.settings a.decisions-link .decisions-badge'); return !!b && !b.hidden && b.textContent === '1'; })()`),
		chromedp.Click(chromedp.CSS(`.settings a.decisions-link`)),
		chromedp.WaitVisible(chromedp.CSS(`article.statement`)),
		waitText("article.statement", "Obrolan ini mengirim banyak pesan iklan berulang yang tidak diminta."),
		waitText("article.statement", added),
		waitText("article.statement", "Ketentuan layanan § 4.18: Spam"),
		waitJS(`document.querySelector('article.statement a.ground-link').href === 'https://kurir.example/terms#clause-4.18'`),
		waitJS(`document.querySelector(`+jsString(settingsBadge)+`).hidden`),
	)
	b.shot(t, phone, "decision-badge-2-statement")
	do(t, laptop, "lose the mark once read on the other device", waitJS(`document.querySelector(`+jsString(settingsBadge)+`).hidden`))

	desk.api.call("POST", fmt.Sprintf("/moderation/actions/%d/reverse", act.ID), map[string]string{"reason": "Bukan spam."}, nil)
	do(t, laptop, "see the reversal marked", badgeShows("1"))
	do(t, laptop, "open the decisions after a reload, still marked",
		chromedp.Reload(),
		badgeShows("1"),
		chromedp.Navigate(s.URL+"/settings/decisions"),
		waitText("article.statement", "Reversed"),
		waitJS(`document.querySelector(`+jsString(settingsBadge)+`).hidden`),
	)
}
