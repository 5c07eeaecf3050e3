package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// clickMenu opens the actions of the message whose text contains text and
// picks the item labelled item.
func clickMenu(text, item string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const li = [...document.querySelectorAll('.messages .msg')].find((m) => m.textContent.includes(%s));
		li.querySelector('.more').click();
		const b = [...document.querySelectorAll('[role=menuitem]')].find((x) => x.textContent === %s);
		b.click();
	})()`, jsString(text), jsString(item)))
}

// clickText clicks the first element matching css whose text is text.
func clickText(css, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll(%s)].find((e) => e.textContent.trim() === %s).click()`,
		jsString(css), jsString(text)))
}

// openChat clicks the chat titled title in the chat list and waits for it.
func openChat(title string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx,
			waitText(".dialogs .d-title", title),
			clickText(".dialogs .d-title", title),
			waitText("#conv-title", title),
			waitJS(`!document.querySelector('.history-edge').textContent.includes('…')`),
		)
	}
}

// unknownNames is a script for what the page shows of people it could not
// name ("User 2"), in senders, reply quotes, titles and the chat list.
const unknownNames = `[...document.querySelectorAll('.sender, .reply-who, .d-title, .d-last, #conv-title')].map((e) => e.textContent).filter((s) => /User \d/.test(s)).join(' | ')`

// writePhoto makes a PNG photo to upload.
func writePhoto(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 640; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 640), uint8(120 + y/4), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sunset.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBrowserChat is the scenario: two people sign up in their own
// browsers, one creates a group with the other, and they exchange messages
// and a photo that each sees appear live; reply, edit, delete and pin show
// up on the other side, a reload shows the same state, and a second tab of
// the same person follows along. People are shown by their display names,
// learnt from the chats' member lists, never as "User 2": senders, reply
// quotes, the chat list's previews and private chats' titles, and the chat
// info lists the members with their roles.
func TestBrowserChat(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	alice := b.page(t, 1100, 720)
	bob := b.page(t, 1100, 720)
	signUp(t, bob, s.URL, "bobby", "Bob Builder")
	signUp(t, alice, s.URL, "alice", "Alice Liddell")

	// Carol, whom Bob has never looked up, writes to him privately.
	carol, _ := register(t, s.URL, "carol")
	carol.call("PATCH", "/me", map[string]string{"display_name": "Carol Danvers"}, nil)
	var bobUser struct {
		ID int64 `json:"id"`
	}
	carol.call("GET", "/users/bobby", nil, &bobUser)
	var private struct {
		ID int64 `json:"id"`
	}
	carol.call("PUT", "/users/"+itoa(bobUser.ID)+"/chat", nil, &private)
	carol.call("POST", "/chats/"+itoa(private.ID)+"/messages", map[string]string{"text": "Hi Bob, it's Carol", "idempotency_key": "c1"}, nil)
	do(t, bob, "see Carol's private chat titled with her name, and read it",
		waitText(".dialogs .d-last", "Hi Bob, it's Carol"),
		openChat("Carol Danvers"),
		waitText("#conv-title + .sub", "@carol"),
		waitText(".messages .text", "Hi Bob, it's Carol"),
		waitJS(`!document.querySelector('.dialogs .badge')`),
	)

	// Alice creates a group with Bob in it.
	do(t, alice, "create a group",
		chromedp.Click(chromedp.CSS(`.side-head button[aria-haspopup="menu"]`)),
		clickText(`[role=menuitem]`, "New group"),
		chromedp.WaitVisible(chromedp.CSS(`dialog input[name="title"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="title"]`), "Weekend trip"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="members"]`), "bobby"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitText("#conv-title", "Weekend trip"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Hello Bob! Shall we go to the lake?\n"),
		waitText(".messages .text", "Hello Bob!"),
	)

	// Bob sees the group appear with an unread message, without reloading,
	// and who wrote it.
	do(t, bob, "see the new group and its unread message live",
		waitText(".dialogs .d-title", "Weekend trip"),
		waitText(".dialogs .badge", "1"),
		waitText(".dialogs .d-last", "Alice Liddell: Hello Bob!"),
	)
	b.shot(t, bob, "chat-1-bob-list-unread")
	do(t, bob, "open the group and reply",
		openChat("Weekend trip"),
		waitJS(`!document.querySelector('.dialogs .badge')`), // read on opening
		clickMenu("Hello Bob!", "Reply"),
		waitText(".context-bar", "Reply to"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Yes! I will bring the tent.\n"),
		waitText(".messages .text", "I will bring the tent"),
		waitText(".messages .sender", "Alice Liddell"),
		waitText(".messages .reply-who", "Alice Liddell"),
	)
	if got := eval[string](t, bob, unknownNames); got != "" {
		t.Errorf("Bob's chat shows %q, want display names", got)
	}
	do(t, bob, "see the members in the chat info",
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		waitText("dialog.modal .device-name", "Alice Liddell"),
		waitText("dialog.modal .device-name", "Bob Builder"),
	)
	if got, want := eval[string](t, bob, `[...document.querySelectorAll('dialog.modal .member')].map((li) => li.innerText.replace(/\s+/g, ' ').trim()).join(' | ')`),
		"AL Alice Liddell @alice Owner | BB Bob Builder @bobby Member"; got != want {
		t.Errorf("the chat info lists the members as\n%s\nwant\n%s", got, want)
	}
	b.shot(t, bob, "chat-6-bob-members")
	do(t, bob, "close the chat info",
		chromedp.KeyEvent(kb.Escape),
		waitJS(`!document.querySelector('dialog.modal')`),
	)
	do(t, alice, "see Bob's reply live, quoting her message",
		waitText(".messages .text", "I will bring the tent"),
		waitText(".messages .reply-quote", "Hello Bob!"),
	)

	// Alice sends a photo with a caption; both see it.
	do(t, alice, "send a photo",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{writePhoto(t)}),
		waitText(".attach-bar", "sunset.png"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "The lake at sunset\n"),
		waitJS(`[...document.querySelectorAll('.messages img.photo')].some((i) => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0)`),
	)
	do(t, bob, "see the photo live",
		waitText(".messages .text", "The lake at sunset"),
		waitJS(`[...document.querySelectorAll('.messages img.photo')].some((i) => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0)`),
	)

	// Edit, pin and delete reach the other side.
	do(t, alice, "edit her first message and pin it",
		clickMenu("Hello Bob!", "Edit"),
		waitText(".context-bar", "Editing"),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('.composer-input'); i.value = ''; })()`),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Hello Bob! Shall we go to the lake on Saturday?\n"),
		waitText(".messages .text", "on Saturday?"),
		clickMenu("on Saturday?", "Pin"),
		waitText(".pinned", "on Saturday?"),
	)
	do(t, bob, "see the edit and the pin",
		waitText(".messages .text", "on Saturday?"),
		waitText(".messages .edited", "edited"),
		waitText(".pinned", "on Saturday?"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Oops, wrong chat\n"),
		waitText(".messages .text", "Oops, wrong chat"),
	)
	do(t, alice, "see the message Bob is about to delete", waitText(".messages .text", "Oops, wrong chat"))
	do(t, bob, "delete it for everyone",
		clickMenu("Oops, wrong chat", "Delete for everyone"),
		waitText("dialog.modal h2", "Delete for everyone?"),
		clickText("dialog.modal .btn.danger", "Delete"),
		waitJS(`![...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes('Oops'))`),
	)
	do(t, alice, "see it deleted", waitJS(`![...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes('Oops'))`))
	b.shot(t, alice, "chat-2-alice-conversation")
	b.shot(t, bob, "chat-3-bob-conversation")
	do(t, alice, "open a message's actions",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.messages .msg')].find((m) => m.textContent.includes('sunset')).querySelector('.more').click()`),
		waitJS(`document.activeElement && document.activeElement.getAttribute('role') === 'menuitem'`), // focus moves into the menu
	)
	b.shot(t, alice, "chat-5-message-menu")
	do(t, alice, "close it with Escape, focus back on its button",
		chromedp.KeyEvent(kb.Escape),
		waitJS(`!document.querySelector('dialog.menu') && document.activeElement.classList.contains('more')`),
	)

	// A reload shows the same state.
	before := eval[string](t, bob, `[...document.querySelectorAll('.messages .msg')].map((m) => m.querySelector('.text')?.textContent || (m.querySelector('img') ? 'photo' : '')).join('|')`)
	do(t, bob, "reload",
		chromedp.Reload(),
		waitText("#conv-title", "Weekend trip"),
		waitJS(`[...document.querySelectorAll('.messages img.photo')].some((i) => i.complete && i.naturalWidth > 0)`),
		waitText(".pinned", "on Saturday?"),
	)
	after := eval[string](t, bob, `[...document.querySelectorAll('.messages .msg')].map((m) => m.querySelector('.text')?.textContent || (m.querySelector('img') ? 'photo' : '')).join('|')`)
	if before != after {
		t.Errorf("after a reload Bob sees\n%s\nwant what he saw before\n%s", after, before)
	}
	do(t, bob, "see the senders' names after the reload", waitText(".messages .sender", "Alice Liddell"))
	if got := eval[string](t, bob, unknownNames); got != "" {
		t.Errorf("after a reload Bob's chat shows %q, want display names", got)
	}
	if n := eval[int](t, bob, `document.querySelectorAll('.dialogs .badge').length`); n != 0 {
		t.Errorf("after a reload Bob has %d unread badges, want none", n)
	}

	// A second tab of Alice's follows the same chat live.
	alice2 := b.tab(t, alice)
	do(t, alice2, "open the group in a second tab",
		chromedp.Navigate(s.URL+"/"),
		openChat("Weekend trip"),
	)
	do(t, bob, "send while Alice has two tabs", chromedp.SendKeys(chromedp.CSS(`.composer-input`), "See you both there\n"))
	do(t, alice, "first tab sees it", waitText(".messages .text", "See you both there"))
	do(t, alice2, "second tab sees it", waitText(".messages .text", "See you both there"))
	b.shot(t, alice2, "chat-4-alice-second-tab")
}
