package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLongHistory checks a chat of more than one page of messages:
// it opens at the newest, scrolling up loads older ones, and a search finds
// an old message that is not loaded and shows it with the messages around
// it, from where the jump button goes back to the newest.
func TestBrowserLongHistory(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	hugo, _ := register(t, s.URL, "hugo")
	var group struct {
		ID int64 `json:"id"`
	}
	hugo.call("POST", "/chats/groups", map[string]any{"title": "Archive"}, &group)
	for i := 1; i <= 130; i++ {
		text := fmt.Sprintf("note %d", i)
		if i == 7 {
			text = "note 7: the lighthouse keeper called"
		}
		hugo.call("POST", fmt.Sprintf("/chats/%d/messages", group.ID), map[string]string{"text": text, "idempotency_key": fmt.Sprint(i)}, nil)
	}
	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "hugo")
	loaded := `document.querySelectorAll('.messages .msg').length`
	do(t, ctx, "open the chat at its newest message",
		openChat("Archive"),
		waitText(".messages .text", "note 130"),
	)
	if n := eval[int](t, ctx, loaded); n > 60 {
		t.Errorf("opening the chat loaded %d messages, want about one page (50)", n)
	}
	do(t, ctx, "scroll up until older messages load",
		waitJS(`(() => { const s = document.querySelector('.scroller'); s.scrollTop = 0; s.dispatchEvent(new Event('scroll'));
			return [...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'note 60'); })()`),
	)
	if n := eval[int](t, ctx, loaded); n <= 60 {
		t.Errorf("after scrolling up %d messages are loaded, want more than a page", n)
	}
	b.shot(t, ctx, "history-1-older-loaded")

	do(t, ctx, "search the chat, after a reload, for an old message",
		chromedp.Reload(),
		waitText(".messages .text", "note 130"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Search in this chat"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.msg-search input`)),
		chromedp.SendKeys(chromedp.CSS(`.msg-search input`), "lighthouse"),
		waitText(".msg-search-results .search-hit", "the lighthouse keeper"),
	)
	b.shot(t, ctx, "history-2-search")
	if got := eval[bool](t, ctx, `[...document.querySelectorAll('.messages .text')].some((e) => e.textContent.includes('lighthouse'))`); got {
		t.Fatal("the old message is loaded before the jump; the test would prove nothing")
	}
	do(t, ctx, "jump to it",
		chromedp.Click(chromedp.CSS(`.msg-search-results .search-hit`)),
		waitJS(fmt.Sprintf(`(() => { const li = document.getElementById('m-%d-7'); if (!li) return false;
			const r = li.getBoundingClientRect(), s = document.querySelector('.scroller').getBoundingClientRect();
			return r.top >= s.top && r.bottom <= s.bottom; })()`, group.ID)),
		chromedp.WaitVisible(chromedp.CSS(`.jump`)),
	)
	b.shot(t, ctx, "history-3-jumped")
	texts := eval[[]string](t, ctx, `[...document.querySelectorAll('.messages .text')].map((e) => e.textContent)`)
	if strings.Join(texts, "|") == "" || slicesContain(texts, "note 130") {
		t.Errorf("after the jump the history shows %d messages, with the newest: %v", len(texts), slicesContain(texts, "note 130"))
	}
	do(t, ctx, "go back to the newest",
		chromedp.Click(chromedp.CSS(`.jump`)),
		waitText(".messages .text", "note 130"),
		waitJS(`(() => { const s = document.querySelector('.scroller'); return s.scrollHeight - s.scrollTop - s.clientHeight < 80; })()`),
	)
	do(t, ctx, "a message sent now lands after the newest",
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "note 131"),
		pressEnter(),
		waitText(".messages .text", "note 131"),
	)
}

func slicesContain(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestBrowserChannelLink checks that a channel counts subscribers, not
// members, and gives a link to share that opens it for someone else.
func TestBrowserChannelLink(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	owner, _ := register(t, s.URL, "harbourmaster")
	var ch struct {
		ID int64 `json:"id"`
	}
	owner.call("POST", "/chats/channels", map[string]any{"title": "Harbour news", "username": "harbour_news"}, &ch)
	owner.call("POST", fmt.Sprintf("/chats/%d/messages", ch.ID), map[string]string{"text": "Ferry at noon", "idempotency_key": "1"}, nil)
	reader, _ := register(t, s.URL, "sailor")
	reader.call("POST", fmt.Sprintf("/chats/%d/join", ch.ID), nil, nil)
	register(t, s.URL, "visitor")

	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "harbourmaster")
	do(t, ctx, "see the channel's subscribers and its link",
		openChat("Harbour news"),
		waitText(".conv-head .sub", "Subscribers: 2"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		waitText("dialog .facts", "Subscribers"),
		waitJS(`document.querySelector('dialog .link-box input').value.endsWith('/c/harbour_news')`),
	)
	b.shot(t, ctx, "channel-1-info-link")
	link := eval[string](t, ctx, `document.querySelector('dialog .link-box input').value`)

	other := b.page(t, 1100, 720)
	do(t, other, "open the shared link before logging in",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "visitor"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitJS(fmt.Sprintf(`location.pathname === '/chats/%d'`, ch.ID)),
		waitText("#conv-title", "Harbour news"),
		waitText(".messages .text", "Ferry at noon"),
		waitText(".notice button", "Subscribe"),
	)
	b.shot(t, other, "channel-2-opened-by-link")
	do(t, other, "a link to a name nobody has",
		chromedp.Navigate(s.URL+"/c/no_such_name"),
		waitText(".card", "No public group or channel is called @no_such_name."),
	)
}

// TestBrowserComposerSurvivesReload checks that an edit under way, with
// its changed text, and the message being replied to are still there after
// a reload, and that the edit and the reply then go through.
func TestBrowserComposerSurvivesReload(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ivo, _ := register(t, s.URL, "ivonne")
	var group struct {
		ID int64 `json:"id"`
	}
	ivo.call("POST", "/chats/groups", map[string]any{"title": "Drafts"}, &group)
	ivo.call("POST", fmt.Sprintf("/chats/%d/messages", group.ID), map[string]string{"text": "first words", "idempotency_key": "1"}, nil)
	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "ivonne")
	do(t, ctx, "start editing, change the text, and reload",
		openChat("Drafts"),
		waitText(".messages .text", "first words"),
		clickMenu("first words", "Edit"),
		waitText(".context-bar", "Editing"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), ", edited"),
		chromedp.Reload(),
		waitText(".context-bar", "Editing"),
		waitJS(`document.querySelector('.composer-input').value === 'first words, edited'`),
	)
	b.shot(t, ctx, "drafts-1-edit-restored")
	do(t, ctx, "finish the edit",
		chromedp.Click(chromedp.CSS(`.composer-input`)),
		pressEnter(),
		waitText(".messages .text", "first words, edited"),
		waitJS(`document.querySelector('.context-bar').hidden && document.querySelector('.composer-input').value === ''`),
	)
	do(t, ctx, "start a reply, type, and reload",
		clickMenu("first words, edited", "Reply"),
		waitText(".context-bar", "Reply to ivonne"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "and more"),
		chromedp.Reload(),
		waitText(".context-bar", "Reply to ivonne"),
		waitJS(`document.querySelector('.composer-input').value === 'and more'`),
		chromedp.Click(chromedp.CSS(`.composer-input`)),
		pressEnter(),
		waitText(".messages .msg .reply-quote", "first words, edited"),
		waitJS(`document.querySelector('.context-bar').hidden`),
	)
	b.shot(t, ctx, "drafts-2-reply-sent")
	do(t, ctx, "nothing is restored after the reply was sent",
		chromedp.Reload(),
		waitText(".messages .text", "and more"),
	)
	if got := eval[bool](t, ctx, `document.querySelector('.context-bar').hidden && document.querySelector('.composer-input').value === ''`); !got {
		t.Error("after sending, a reload brought back a reply context or text")
	}
}
