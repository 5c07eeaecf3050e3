package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBannedLoginInReadersLanguage: a banned person whose browser
// reads Russian is refused in Russian and sent to the decision, which
// names its category in Russian; the English facts the server's refusal
// quotes are not put before them.
func TestBrowserBannedLoginInReadersLanguage(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	desk := newModerationDesk(t, s, "mia_mod")
	rita, _ := register(t, s.URL, "rita_reader")
	_, bertaID := register(t, s.URL, "berta_bulk")
	rita.call("POST", "/reports", map[string]any{"subject": map[string]any{"kind": "user", "user_id": bertaID}, "reason": "spam"}, nil)
	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "user" && s.UserID == bertaID })
	const facts = "Sent the same advert to 400 people."
	desk.act(caseID, "ban", facts)

	ctx := b.page(t, 1000, 760)
	setLanguages(t, ctx, "ru-RU", "ru")
	do(t, ctx, "log in while banned",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "berta_bulk"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitText(".form-error", "Ваш аккаунт заблокирован. Откройте решение, чтобы узнать причину."),
	)
	b.shot(t, ctx, "banned-ru-refused")
	if got := eval[string](t, ctx, `document.querySelector('.form-error').textContent`); strings.Contains(got, facts) || strings.Contains(got, "Spam") {
		t.Errorf("the refusal reads %q: English words from the server", got)
	}
	do(t, ctx, "open the decision",
		clickText("button.restricted-login", "Посмотреть решение и обжаловать"),
		waitText(".restricted h1", "Ваш аккаунт заблокирован"),
		waitText("article.statement", "Спам"),
	)
	b.shot(t, ctx, "banned-ru-restricted")
	if got := eval[string](t, ctx, `document.querySelector('.restricted .card').textContent`); strings.Contains(got, "Spam:") || strings.Contains(got, facts) {
		t.Errorf("the restricted screen's heading card reads %q: the English reason, not the decision in Russian", got)
	}
}
