package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir/sqldb"
)

// TestBrowserEverydayFeatures checks what a person expects of a chat app
// without thinking of it: the tab's title counts unread messages, a chat
// opens at the first unread one under a "new messages" line (loading the
// history from there when the newest page does not reach back to it), days
// are separated, an older message shows its date, addresses and @mentions
// are links (and nothing else is), and several files chosen at once are
// each sent.
func TestBrowserEverydayFeatures(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	hugo, _ := register(t, s.URL, "hugoboss")
	ines, inesID := register(t, s.URL, "inesita")
	register(t, s.URL, "karlheinz")
	type chat struct {
		ID int64 `json:"id"`
	}
	var club, long chat
	hugo.call("POST", "/chats/groups", map[string]any{"title": "Book club", "members": []int64{inesID}}, &club)
	hugo.call("POST", "/chats/groups", map[string]any{"title": "Long thread", "members": []int64{inesID}}, &long)
	key := 0
	say := func(c chat, text string) int64 {
		key++
		var m struct {
			Seq int64 `json:"seq"`
		}
		hugo.call("POST", fmt.Sprintf("/chats/%d/messages", c.ID), map[string]string{"text": text, "idempotency_key": fmt.Sprint(key)}, &m)
		return m.Seq
	}
	say(club, "three days ago we met")
	say(club, "still three days ago")
	read := say(club, "today, read already")
	// Two messages from three days ago, as if the server's clock had said so.
	err := s.db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(), `UPDATE messages SET created_at = created_at - $2 WHERE chat_id = $1 AND seq < $3`,
			club.ID, (72 * time.Hour).Microseconds(), read)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ines.call("PUT", fmt.Sprintf("/chats/%d/read", club.ID), map[string]int64{"seq": read}, nil)
	say(club, "the agenda is at https://example.org/agenda?x=1.")
	say(club, "ask @karlheinz, he has the book")
	say(club, "javascript:alert(1) and data:text/html,hi are not links")
	var seen int64
	for i := 1; i <= 30; i++ {
		seen = say(long, fmt.Sprintf("old %d", i))
	}
	ines.call("PUT", fmt.Sprintf("/chats/%d/read", long.ID), map[string]int64{"seq": seen}, nil)
	for i := 1; i <= 70; i++ {
		say(long, fmt.Sprintf("unread %d", i))
	}

	ctx := b.page(t, 1000, 720)
	logIn(t, ctx, s.URL, "inesita")
	do(t, ctx, "the title counts the 73 unread messages",
		waitJS(`document.title.startsWith('(73) ')`),
	)

	do(t, ctx, "open the club at the first unread message",
		openChat("Book club"),
		waitText(".messages .text", "javascript:alert(1)"),
		waitJS(`!!document.querySelector('.unread-line')`),
	)
	b.shot(t, ctx, "everyday-1-club")
	// The line stands right above the first unread message.
	if got := eval[string](t, ctx, `document.querySelector('.unread-line').nextElementSibling.querySelector('.text').textContent`); !strings.HasPrefix(got, "the agenda is at") {
		t.Errorf("the new-messages line stands above %q, want the first unread message", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('.unread-line').textContent`); got != "New messages" {
		t.Errorf("the line says %q", got)
	}
	seps := eval[[]string](t, ctx, `[...document.querySelectorAll('.day-sep')].map((e) => e.textContent)`)
	if len(seps) != 2 || seps[1] != "today" || seps[0] == "today" || seps[0] == "yesterday" {
		t.Errorf("day separators %q, want the day three days ago, then today", seps)
	}
	old := eval[string](t, ctx, `document.querySelector('.messages .msg time').textContent`)
	month := eval[string](t, ctx, `new Intl.DateTimeFormat('en', { month: 'short' }).format(new Date(Date.now() - 72 * 3600e3))`)
	if !strings.Contains(old, month) || !strings.Contains(old, ":") {
		t.Errorf("a message from three days ago shows %q, want its date (%s) and time", old, month)
	}
	type link struct{ Href, Rel, Target, Text string }
	links := eval[[]link](t, ctx, `[...document.querySelectorAll('.messages .text a')].map((a) => ({ href: a.getAttribute('href'), rel: a.rel, target: a.target, text: a.textContent }))`)
	want := []link{
		{"https://example.org/agenda?x=1", "noopener noreferrer", "_blank", "https://example.org/agenda?x=1"},
		{"/c/karlheinz", "", "", "@karlheinz"},
	}
	if fmt.Sprint(links) != fmt.Sprint(want) {
		t.Errorf("links in the messages: %+v, want %+v (and no javascript: or data: link)", links, want)
	}
	do(t, ctx, "a mention opens the person",
		chromedp.Click(chromedp.CSS(`.messages a.mention`)),
		waitText("dialog[open] .info-head", "@karlheinz"),
	)
	b.shot(t, ctx, "everyday-2-mention")
	do(t, ctx, "close it; the title counts only the long thread's 70 now",
		chromedp.Click(chromedp.CSS(`dialog[open] .modal-head button`)),
		waitJS(`document.title.startsWith('(70) ')`),
	)

	do(t, ctx, "the long thread opens at its first unread message, past the newest page",
		openChat("Long thread"),
		waitJS(`!!document.querySelector('.unread-line')`),
	)
	do(t, ctx, "the first unread message is on screen, the newest is not",
		waitJS(`(() => { const line = document.querySelector('.unread-line'); const first = line.nextElementSibling;
			const s = document.querySelector('.scroller').getBoundingClientRect(), r = first.getBoundingClientRect();
			return first.textContent.includes('unread 1') && r.top >= s.top && r.bottom <= s.bottom; })()`),
	)
	b.shot(t, ctx, "everyday-3-long-thread")
	if eval[bool](t, ctx, `[...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'unread 70')`) {
		t.Error("the newest message is loaded too: the chat did not open at the first unread one")
	}
	if !strings.HasPrefix(eval[string](t, ctx, `document.title`), "(70) ") {
		t.Error("opening the thread far above its newest message marked it all read")
	}
	do(t, ctx, "going to the newest reads it all and clears the title",
		chromedp.Click(chromedp.CSS(`.jump`)),
		waitText(".messages .text", "unread 70"),
		waitJS(`!/^\(\d+\)/.test(document.title)`),
	)

	// Several files chosen at once are each sent, as a message of its own.
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"minutes.txt", "budget.txt"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("contents of "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	do(t, ctx, "attach two files and send them",
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), files),
		waitJS(`document.querySelectorAll('.attach-bar .attach-item').length === 2`),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "both files"),
		pressEnter(),
		waitJS(`[...document.querySelectorAll('.msg.own .file-name')].map((e) => e.textContent).join() === 'minutes.txt,budget.txt'`),
		waitJS(`document.querySelector('.attach-bar').hidden`),
	)
	b.shot(t, ctx, "everyday-4-two-files")
	var page struct {
		Messages []struct {
			Text  string `json:"text"`
			Media *struct {
				Name string `json:"name"`
			} `json:"media"`
		} `json:"messages"`
	}
	hugo.call("GET", fmt.Sprintf("/chats/%d/messages?limit=2", long.ID), nil, &page)
	if len(page.Messages) != 2 || page.Messages[1].Media == nil || page.Messages[1].Media.Name != "minutes.txt" || page.Messages[1].Text != "both files" ||
		page.Messages[0].Media == nil || page.Messages[0].Media.Name != "budget.txt" || page.Messages[0].Text != "" {
		t.Errorf("the other side sees %+v, want minutes.txt with the text, then budget.txt", page.Messages)
	}
}
