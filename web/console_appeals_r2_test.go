package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"kurir"
)

// TestBrowserConsoleAppealQueue: a reporter asks for a review of a
// dismissal; in the appeal queue it shows what was dismissed and when the
// review is due. The moderator who dismissed it is warned and offered no
// "Assign to me"; a second moderator takes it, finds it under "Assigned to
// me", and upholds it, which reopens the case.
func TestBrowserConsoleAppealQueue(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	olga, _ := register(t, s.URL, "olga")
	market := olga.newChannel("Olga's Market", "olgas_market")
	seq := olga.post(market, "Her address is 5 Elm Street", 0)
	rita, _ := register(t, s.URL, "rita")
	rita.call("POST", "/chats/"+itoa(market)+"/join", nil, nil)
	rita.report(market, seq, "personal_details", "a private home address")
	mona, _ := staffAccount(t, s, "mona", kurir.RoleModerator)
	staffAccount(t, s, "maxim", kurir.RoleModerator)

	var q struct {
		Cases []struct {
			ID int64 `json:"id"`
		} `json:"cases"`
	}
	mona.call("GET", "/moderation/cases", nil, &q)
	if len(q.Cases) != 1 {
		t.Fatalf("queue: %+v", q)
	}
	caseID := q.Cases[0].ID
	mona.call("POST", "/moderation/cases/"+itoa(caseID)+"/dismiss", map[string]string{"reason": "A shop's public address."}, nil)
	var reps struct {
		Reports []struct {
			ID int64 `json:"id"`
		} `json:"reports"`
	}
	rita.call("GET", "/reports", nil, &reps)
	rita.call("POST", "/reports/"+itoa(reps.Reports[0].ID)+"/review", map[string]string{"text": "It is her home, not a shop."}, nil)

	monaTab := b.page(t, 1280, 900)
	consoleLogIn(t, monaTab, s.URL, "/console/appeals", "mona")
	do(t, monaTab, "see the request, and that it is not hers to decide",
		waitText(".appeal-row h3", "Request"),
		waitText(".appeal-row .appeal-text", "her home, not a shop"),
		waitText(".appeal-row .statement", "The dismissed case"),
		waitText(".appeal-row .appeal-due", "Due"),
		waitText(".appeal-row .warning", "Another moderator"),
		waitJS(`!document.querySelector('.appeal-row button[data-act="assign-me"]')`),
	)

	maxim := b.page(t, 1280, 900)
	consoleLogIn(t, maxim, s.URL, "/console/appeals", "maxim")
	do(t, maxim, "take the request and find it assigned to him",
		waitText(".appeal-row .appeal-text", "her home, not a shop"),
		chromedp.Click(chromedp.CSS(`.appeal-row button[data-act="assign-me"]`)),
		waitText(".toast", "Assignment saved"),
		waitText(".appeal-row .appeal-due", "Assigned to you"),
		chromedp.Click(chromedp.CSS(`#a-mine`)),
		waitText(".appeal-row .appeal-text", "her home, not a shop"),
	)
	b.shot(t, maxim, "console-appeal-queue-assigned")
	do(t, maxim, "uphold it",
		chromedp.SendKeys(chromedp.CSS(`form.decide-form textarea[name="reason"]`), "A home address; the shop is elsewhere."),
		chromedp.Click(chromedp.CSS(`form.decide-form button[data-decision="uphold"]`)),
		waitText(".toast", "case is open again"),
		waitJS(`!document.querySelector('.appeal-row')`),
	)
	var c struct {
		State string `json:"state"`
	}
	mona.call("GET", "/moderation/cases/"+itoa(caseID), nil, &c)
	if c.State != "open" {
		t.Errorf("after the review was upheld the case is %q, want open again", c.State)
	}
}
