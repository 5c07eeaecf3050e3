package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPublicChats finds a public channel by search and subscribes,
// forwards one of its posts, and joins a group through an invite link made
// in the app.
func TestBrowserPublicChats(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	news, _ := register(t, s.URL, "newsroom")
	var channel struct {
		ID int64 `json:"id"`
	}
	news.call("POST", "/chats/channels", map[string]string{"title": "Daily Lake News", "username": "lakenews"}, &channel)
	news.call("POST", fmt.Sprintf("/chats/%d/messages", channel.ID), map[string]string{"text": "The lake is warm today: 24 degrees.", "idempotency_key": "n1"}, nil)

	hana := b.page(t, 1100, 720)
	signUp(t, hana, s.URL, "hana", "Hana")
	do(t, hana, "find the channel by search",
		chromedp.SendKeys(chromedp.CSS(`input.search`), "lake"),
		waitText(".results .d-title", "Daily Lake News"),
	)
	b.shot(t, hana, "public-1-search")
	do(t, hana, "preview it and subscribe",
		clickText(".results .d-title", "Daily Lake News"),
		waitText("#conv-title", "Daily Lake News"),
		waitText(".messages .text", "24 degrees"),
		waitText(".notice", "Join to take part"),
		clickText(".notice button", "Subscribe"),
		waitText(".notice", "Only admins can post"),
		waitText(".dialogs .d-title", "Daily Lake News"),
	)
	news.call("POST", fmt.Sprintf("/chats/%d/messages", channel.ID), map[string]string{"text": "Tomorrow: rain.", "idempotency_key": "n2"}, nil)
	do(t, hana, "get the next post live", waitText(".messages .text", "Tomorrow: rain."))

	// Hana makes a group, forwards the post there, and invites Ivan by link.
	do(t, hana, "create a group and forward the post to it",
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		clickText(`[role=menuitem]`, "New group"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="title"]`), "Swimmers"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitText("#conv-title", "Swimmers"),
		openChat("Daily Lake News"),
		clickMenu("24 degrees", "Forward"),
		waitText("dialog.modal h2", "Forward to"),
		clickText("dialog.modal .pick span", "Swimmers"),
		waitText(".toast", "Forwarded to Swimmers"),
		openChat("Swimmers"),
		waitText(".messages .fwd", "Forwarded from"),
		waitText(".messages .text", "24 degrees"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		clickText("dialog.modal button", "Create an invite link"),
		waitJS(`(document.querySelector('dialog.modal .invite-link')?.value || '').includes('/join/')`),
	)
	b.shot(t, hana, "public-2-invite-link")
	link := eval[string](t, hana, `document.querySelector('dialog.modal .invite-link').value`)
	if !strings.HasPrefix(link, s.URL+"/join/") {
		t.Fatalf("invite link %q, want one under %s/join/", link, s.URL)
	}

	ivan := b.page(t, 1100, 720)
	register(t, s.URL, "ivanov")
	do(t, ivan, "open the invite link while logged out, log in, and join",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "ivanov"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitText("#join-title", "Join a chat"),
	)
	b.shot(t, ivan, "public-3-join")
	do(t, ivan, "join",
		clickText(".card button", "Join"),
		waitText("#conv-title", "Swimmers"),
		waitText(".messages .text", "24 degrees"),
	)
	do(t, hana, "see Ivan join", waitText(".conv-head .sub", "Members: 2"))
}
