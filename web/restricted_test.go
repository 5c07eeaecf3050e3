package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBannedAccountAppeals: a banned person who logs in is told why
// and offered the way in that is left: the decision about them, and an
// appeal; everything else stays closed. A subscriber of a labelled channel
// sees the warning above its posts.
func TestBrowserBannedAccountAppeals(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	desk := newModerationDesk(t, s, "mia_mod")
	rita, _ := register(t, s.URL, "rita_reader")
	_, bertaID := register(t, s.URL, "berta_bulk")
	rita.call("POST", "/reports", map[string]any{"subject": map[string]any{"kind": "user", "user_id": bertaID}, "reason": "spam"}, nil)
	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "user" && s.UserID == bertaID })
	desk.act(caseID, "ban", "Sent the same advert to 400 people.")

	ctx := b.page(t, 1000, 760)
	do(t, ctx, "log in while banned",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "berta_bulk"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitText(".form-error", "banned"),
		chromedp.Click(chromedp.CSS(`button.restricted-login`)),
		waitText(".restricted h1", "Your account is banned"),
		waitText("article.statement", "Sent the same advert to 400 people."),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('.sidebar, .composer').length`); n != 0 {
		t.Errorf("a banned account sees %d parts of the messenger, want none", n)
	}
	noErrorToasts(t, ctx, "the restricted screen")
	b.shot(t, ctx, "banned-restricted")
	do(t, ctx, "appeal",
		chromedp.SendKeys(chromedp.CSS(`form.appeal-form textarea[name="text"]`), "Those were my bakery's customers, who asked for it."),
		chromedp.Click(chromedp.CSS(`form.appeal-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.appeal-status`)),
	)
	b.shot(t, ctx, "banned-appealed")
	do(t, ctx, "reload: still only the decisions",
		chromedp.Reload(),
		waitText(".restricted h1", "Your account is banned"),
	)

	// A labelled channel warns its readers.
	owner, _ := register(t, s.URL, "front_news")
	var ch struct {
		ID int64 `json:"id"`
	}
	owner.call("POST", "/chats/channels", map[string]string{"title": "Front News", "username": "frontnews"}, &ch)
	post := struct {
		Seq int64 `json:"seq"`
	}{}
	owner.call("POST", fmt.Sprintf("/chats/%d/messages", ch.ID), map[string]string{"text": "Footage from the front", "idempotency_key": "f1"}, &post)
	rita.call("POST", fmt.Sprintf("/chats/%d/join", ch.ID), nil, nil)
	rita.call("POST", "/reports", map[string]any{"subject": map[string]any{"kind": "message", "chat_id": ch.ID, "seq": post.Seq}, "reason": "violence"}, nil)
	c2 := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "message" && s.ChatID == ch.ID })
	desk.api.call("POST", fmt.Sprintf("/moderation/cases/%d/actions", c2), map[string]string{"kind": "label", "label": "graphic", "facts": "Casualties shown."}, nil)
	rctx := b.page(t, 1000, 760)
	logIn(t, rctx, s.URL, "rita_reader")
	do(t, rctx, "open the labelled channel",
		openChat("Front News"),
		waitText(".chat-labels", "graphic violence"),
		waitText(".messages .text", "Footage from the front"),
	)
	b.shot(t, rctx, "labelled-channel")
}
