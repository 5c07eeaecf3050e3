package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir/sqldb"
)

// TestBrowserChannelViews: a subscriber opening a channel sees each post's
// view count, short (1.2K) for a big one, and their device counts them as
// seen: the server's count goes up by one, once.
func TestBrowserChannelViews(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ana, _ := register(t, s.URL, "anabel")
	ben, _ := register(t, s.URL, "benedikt")
	var ch struct {
		ID int64 `json:"id"`
	}
	ana.call("POST", "/chats/channels", map[string]string{"title": "Harbour news", "username": "harbournews"}, &ch)
	ben.call("POST", fmt.Sprintf("/chats/%d/join", ch.ID), nil, nil)
	type msg struct {
		Seq   int64 `json:"seq"`
		Views int64 `json:"views"`
	}
	var big, fresh msg
	ana.call("POST", fmt.Sprintf("/chats/%d/messages", ch.ID), map[string]string{"text": "Ferry cancelled", "idempotency_key": "v1"}, &big)
	ana.call("POST", fmt.Sprintf("/chats/%d/messages", ch.ID), map[string]string{"text": "Bridge open", "idempotency_key": "v2"}, &fresh)
	// The first post was seen by 1234 people before Ben came.
	if err := s.db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(), `UPDATE messages SET views = 1234 WHERE chat_id = $1 AND seq = $2`, ch.ID, big.Seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	page := b.page(t, 900, 640)
	logIn(t, page, s.URL, "benedikt")
	do(t, page, "Ben opens the channel and sees the short count",
		openChat("Harbour news"),
		waitJS(`(() => { const li = [...document.querySelectorAll('.msg')].find((m) => m.textContent.includes('Ferry cancelled'));
			const v = li && li.querySelector('.views'); return !!v && v.textContent === 'Seen by 1.2K' && v.title === 'Seen by 1,234'; })()`),
	)
	if n := eval[int](t, page, `[...document.querySelectorAll('.msg')].filter((m) => m.textContent.includes('Bridge open') && m.querySelector('.views')).length`); n != 0 {
		t.Errorf("a post nobody has seen shows a view count")
	}
	b.shot(t, page, "views-1-channel")

	// Ben's device reports both posts; each counts once.
	views := func() (int64, int64) {
		var page struct {
			Messages []msg `json:"messages"`
		}
		ana.call("GET", fmt.Sprintf("/chats/%d/messages", ch.ID), nil, &page)
		var a, b int64
		for _, m := range page.Messages {
			switch m.Seq {
			case big.Seq:
				a = m.Views
			case fresh.Seq:
				b = m.Views
			}
		}
		return a, b
	}
	deadline := time.Now().Add(10 * time.Second)
	for a, f := views(); a != 1235 || f != 1; a, f = views() {
		if time.Now().After(deadline) {
			t.Fatalf("after Ben read the channel the posts have %d and %d views, want 1235 and 1", a, f)
		}
		time.Sleep(100 * time.Millisecond)
	}
	do(t, page, "after a reload Ben's view shows, and counts no second time",
		chromedp.Reload(),
		waitJS(`[...document.querySelectorAll('.msg .views')].map((v) => v.textContent).join('|') === 'Seen by 1.2K|Seen by 1'`),
	)
	time.Sleep(1500 * time.Millisecond) // the page reports again; the server must not count it
	if a, f := views(); a != 1235 || f != 1 {
		t.Errorf("after a reload the posts have %d and %d views, want still 1235 and 1", a, f)
	}
}
