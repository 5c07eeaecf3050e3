package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOfflineQueue: messages written while the server cannot be
// reached wait, shown with a clock, and go out in order when it is back,
// each stored once; one still waiting when the page is closed goes out
// when the app is opened again.
func TestBrowserOfflineQueue(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ana, _ := register(t, s.URL, "anabel")
	ben, benID := register(t, s.URL, "benedikt")
	var chat struct {
		ID int64 `json:"id"`
	}
	ana.call("PUT", fmt.Sprintf("/users/%d/chat", benID), nil, &chat)
	ana.call("POST", fmt.Sprintf("/chats/%d/messages", chat.ID), map[string]string{"text": "are you on the train?", "idempotency_key": "o1"}, nil)
	history := func() string {
		t.Helper()
		var page struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		}
		ben.call("GET", fmt.Sprintf("/chats/%d/messages?limit=50", chat.ID), nil, &page)
		var texts []string
		for i := len(page.Messages) - 1; i >= 0; i-- {
			texts = append(texts, page.Messages[i].Text)
		}
		return strings.Join(texts, " | ")
	}

	ctx := b.page(t, 900, 640)
	logIn(t, ctx, s.URL, "benedikt")
	do(t, ctx, "open the chat", openChat("anabel"))
	pending := `[...document.querySelectorAll('.msg.pending')].map((li) => li.querySelector('.text').textContent + '/' + li.querySelector('.receipt').getAttribute('aria-label')).join(' | ')`

	s.kill()
	do(t, ctx, "write two messages in the tunnel",
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "yes, in a tunnel"),
		pressEnter(),
		waitJS(`document.querySelectorAll('.msg.pending').length === 1 && document.querySelector('.composer-input').value === ''`),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "be there at 8"),
		pressEnter(),
		waitJS(`document.querySelectorAll('.msg.pending').length === 2`),
	)
	if got := eval[string](t, ctx, pending); got != "yes, in a tunnel/Waiting to be sent | be there at 8/Waiting to be sent" {
		t.Errorf("waiting: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.msg.pending .receipt svg').length`); n != 2 {
		t.Errorf("%d waiting messages show a clock, want 2", n)
	}
	b.shot(t, ctx, "offline-1-waiting")

	s.restart(t)
	do(t, ctx, "the connection returns and both go out",
		waitJS(`document.querySelectorAll('.msg.pending').length === 0`),
		waitText(".msg.own .text", "be there at 8"),
	)
	b.shot(t, ctx, "offline-2-sent")
	if got, want := history(), "are you on the train? | yes, in a tunnel | be there at 8"; got != want {
		t.Errorf("the chat holds %q, want %q", got, want)
	}

	// One more, then the page is closed before the server is back.
	s.kill()
	do(t, ctx, "write once more, offline, and leave the page",
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "sorry, delayed"),
		pressEnter(),
		waitJS(`document.querySelectorAll('.msg.pending').length === 1`),
		chromedp.Navigate("about:blank"),
	)
	s.restart(t)
	do(t, ctx, "open the app again: it sends what waited",
		chromedp.Navigate(fmt.Sprintf("%s/chats/%d", s.URL, chat.ID)),
		chromedp.WaitVisible(chromedp.CSS(`.composer-input`)),
		waitText(".msg.own .text", "sorry, delayed"),
		waitJS(`document.querySelectorAll('.msg.pending').length === 0`),
	)
	if got, want := history(), "are you on the train? | yes, in a tunnel | be there at 8 | sorry, delayed"; got != want {
		t.Errorf("after the reload the chat holds %q, want %q (each once)", got, want)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.messages .msg').length`); n != 4 {
		t.Errorf("the page shows %d messages, want 4", n)
	}
}
