package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSearchMessagesInAllChats: the sidebar's search finds
// messages in every chat the user is in, listed under the public groups
// and channels it finds, and not those of a channel they never joined; a
// result opens its chat at the message, loading the history around it.
func TestBrowserSearchMessagesInAllChats(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	hugo, _ := register(t, s.URL, "hugo")
	var archive, harbour, fans struct {
		ID int64 `json:"id"`
	}
	hugo.call("POST", "/chats/groups", map[string]any{"title": "Archive"}, &archive)
	for i := 1; i <= 130; i++ {
		text := fmt.Sprintf("note %d", i)
		if i == 7 {
			text = "note 7: the lighthouse keeper called"
		}
		hugo.call("POST", fmt.Sprintf("/chats/%d/messages", archive.ID), map[string]string{"text": text, "idempotency_key": fmt.Sprint(i)}, nil)
	}
	hugo.call("POST", "/chats/groups", map[string]any{"title": "Harbour"}, &harbour)
	hugo.call("POST", fmt.Sprintf("/chats/%d/messages", harbour.ID), map[string]string{"text": "Meet at the lighthouse at six", "idempotency_key": "h1"}, nil)
	keeper, _ := register(t, s.URL, "keeper")
	keeper.call("POST", "/chats/channels", map[string]string{"title": "Lighthouse fans", "username": "lighthouse_fans"}, &fans)
	keeper.call("POST", fmt.Sprintf("/chats/%d/messages", fans.ID), map[string]string{"text": "Our lighthouse turns 100", "idempotency_key": "f1"}, nil)

	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "hugo")
	do(t, ctx, "search for a word from the sidebar",
		waitText(".dialogs .d-title", "Archive"),
		chromedp.SendKeys(chromedp.CSS(`input.search`), "lighthouse"),
		waitText(".results .result-list .d-title", "Lighthouse fans"),
		waitText(".results .message-hits .d-last", "the lighthouse keeper"),
		waitText(".results .message-hits .d-last", "Meet at the lighthouse"),
	)
	b.shot(t, ctx, "search-1-messages")
	hits := eval[[]string](t, ctx, `[...document.querySelectorAll('.results .message-hits .message-hit')].map((a) => a.querySelector('.d-title').textContent + ': ' + a.querySelector('.d-last').textContent)`)
	if len(hits) != 2 {
		t.Errorf("message hits = %q, want the two in Hugo's chats and none from a channel he never joined", hits)
	}
	if !eval[bool](t, ctx, `(() => { const h = [...document.querySelectorAll('.results h2')].map((e) => e.textContent);
		return h.length === 2 && h[0] === 'Public groups and channels' && h[1] === 'Messages in your chats'; })()`) {
		t.Error("the message results are not listed under the public-chat results")
	}
	if eval[bool](t, ctx, `[...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes('lighthouse'))`) {
		t.Fatal("the old message is on screen before the search; the test would prove nothing")
	}
	do(t, ctx, "open the old message's chat at it",
		clickText(".results .message-hits .d-last", "You: note 7: the lighthouse keeper called"),
		waitJS(fmt.Sprintf(`location.pathname === '/chats/%d'`, archive.ID)),
		waitText("#conv-title", "Archive"),
		waitJS(fmt.Sprintf(`(() => { const li = document.getElementById('m-%d-7'); if (!li) return false;
			const r = li.getBoundingClientRect(), s = document.querySelector('.scroller').getBoundingClientRect();
			return r.top >= s.top && r.bottom <= s.bottom; })()`, archive.ID)),
		chromedp.WaitVisible(chromedp.CSS(`.jump`)),
	)
	b.shot(t, ctx, "search-2-opened-at-message")
	if eval[bool](t, ctx, `[...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'note 130')`) {
		t.Error("the chat opened at its newest message, not around the one found")
	}
	if v := eval[string](t, ctx, `document.querySelector('input.search').value`); v != "" {
		t.Errorf("the search box still holds %q after opening a result", v)
	}
	do(t, ctx, "a word nobody wrote finds nothing in either list",
		chromedp.SendKeys(chromedp.CSS(`input.search`), "zeppelin"),
		waitJS(`document.querySelectorAll('.results p.muted').length === 2 &&
			[...document.querySelectorAll('.results p.muted')].every((p) => p.textContent === 'Nothing found.')`),
	)
}
