package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserReadReceipts: Ana's message to Ben shows one tick once sent
// and two once Ben reads it on his laptop; Ben's phone, another device
// (not a tab: a browser of its own), loses its unread badge at the same
// moment, live.
func TestBrowserReadReceipts(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ana, _ := register(t, s.URL, "anabel")
	_, benID := register(t, s.URL, "benedikt")
	var chat struct {
		ID int64 `json:"id"`
	}
	ana.call("PUT", fmt.Sprintf("/users/%d/chat", benID), nil, &chat)
	ana.call("POST", fmt.Sprintf("/chats/%d/messages", chat.ID), map[string]string{"text": "hi Ben", "idempotency_key": "r1"}, nil)

	anaCtx := b.page(t, 900, 640)
	phone := b.page(t, 400, 720)
	laptop := b.page(t, 900, 640)
	logIn(t, anaCtx, s.URL, "anabel")
	logIn(t, phone, s.URL, "benedikt")
	logIn(t, laptop, s.URL, "benedikt")

	do(t, anaCtx, "Ana writes; her message is sent, not read",
		openChat("benedikt"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "are you coming tonight?"),
		pressEnter(),
		waitJS(`(() => { const li = [...document.querySelectorAll('.msg.own')].find((m) => m.textContent.includes('are you coming tonight?'));
			const r = li && li.querySelector('.receipt'); return !!r && !r.classList.contains('read') && r.getAttribute('aria-label') === 'Sent'; })()`),
	)
	do(t, phone, "Ben's phone shows 2 unread",
		waitText(".dialogs .badge", "2"),
	)
	b.shot(t, anaCtx, "receipts-1-sent")
	b.shot(t, phone, "receipts-2-phone-unread")

	do(t, laptop, "Ben reads the chat on his laptop",
		openChat("anabel"),
		waitText(".messages .text", "are you coming tonight?"),
	)
	do(t, anaCtx, "Ana sees both her messages read",
		waitJS(`[...document.querySelectorAll('.msg.own .receipt')].length === 2 &&
			[...document.querySelectorAll('.msg.own .receipt')].every((r) => r.classList.contains('read') && r.getAttribute('aria-label') === 'Read')`),
	)
	do(t, phone, "Ben's phone clears its unread badge by itself",
		waitJS(`!document.querySelector('.dialogs .badge') && !document.querySelector('.dialogs .unread')`),
	)
	b.shot(t, anaCtx, "receipts-3-read")
	b.shot(t, phone, "receipts-4-phone-read")

	// The receipt survives a reload: it comes with the chat.
	do(t, anaCtx, "after a reload the ticks still say read",
		chromedp.Reload(),
		waitText(".messages .text", "are you coming tonight?"),
		waitJS(`document.querySelectorAll('.msg.own .receipt.read').length === 2`),
	)
	// Ben's answer shows no ticks on Ana's side (only one's own messages have them).
	do(t, laptop, "Ben answers",
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "yes, at 8"),
		pressEnter(),
		waitText(".msg.own .text", "yes, at 8"),
	)
	do(t, anaCtx, "Ana sees the answer without ticks",
		waitText(".messages .text", "yes, at 8"),
	)
	if n := eval[int](t, anaCtx, `document.querySelectorAll('.msg:not(.own) .receipt').length`); n != 0 {
		t.Errorf("%d of Ben's messages show read ticks on Ana's side", n)
	}
}
