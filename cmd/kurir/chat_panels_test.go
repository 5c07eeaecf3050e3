package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"kurir/client"
	"kurir/sqldb/sqldbtest"
)

// pump runs cmd as Bubble Tea would, one command at a time, feeding each
// message to m and running the commands Update returns, until none is left.
func pump(t *testing.T, m *tui, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 10000 {
			t.Fatal("the client's commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// press sends m one key, as the terminal would, and runs what it starts.
func press(t *testing.T, m *tui, key rune) {
	t.Helper()
	k := tea.KeyPressMsg{Code: key}
	if key >= 'a' && key <= 'z' {
		k.Text = string(key)
	}
	_, cmd := m.Update(k)
	pump(t, m, cmd)
}

// typeLine puts line in the composer and presses enter.
func typeLine(t *testing.T, m *tui, line string) {
	t.Helper()
	m.input.SetValue(line)
	press(t, m, tea.KeyEnter)
}

// TestChatFindAndMembers drives the full-screen client's model against a
// real server: /find lists the chat's matching messages and enter goes to
// one far back, loading the history up to it; /members lists the members
// with their roles, and the owner promotes one and removes another, with
// mistakes and refusals explained.
func TestChatFindAndMembers(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t), "--dev-no-rate-limits")
	users := registerUsers(t, base, "alice", "bobby", "carol")
	alice, bobby, carol := users[0], users[1], users[2]
	ctx := t.Context()
	ids := make([]int64, 3)
	for i, c := range users {
		me, err := c.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = me.ID
	}
	group, err := alice.CreateGroup(ctx, client.NewChat{Title: "Book club"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.AddMembers(ctx, group.ID, ids[1], ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := bobby.Send(ctx, group.ID, client.SendParams{Text: "the lighthouse keeper kept a secret"}); err != nil {
		t.Fatal(err)
	}
	const later = 2*historyPage + 20 // the first page shown is far from it
	for i := range later {
		if _, err := alice.Send(ctx, group.ID, client.SendParams{Text: fmt.Sprintf("chapter %d notes", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if found, err := alice.SearchMessages(ctx, "lighthouse", group.ID, 1); err == nil && len(found) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message was not indexed for search")
		}
	}

	me, _ := alice.Me(ctx)
	s := &session{server: base, c: alice, me: me, names: map[int64]string{}}
	m := newTUI(ctx, s, nil, t.TempDir())
	m.width, m.height = 100, 20
	chat, err := alice.Chat(ctx, group.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.dialogs = []client.Dialog{{Chat: chat, LastActivity: time.Now()}}
	pump(t, m, m.openChat(chat))
	if cv := m.chat; len(cv.msgs) != historyPage || cv.atStart {
		t.Fatalf("opened with %d messages (at start %v), want one page", len(cv.msgs), cv.atStart)
	}

	typeLine(t, m, "/find lighthouse")
	screen := viewText(m)
	if !strings.Contains(screen, `Messages matching "lighthouse"`) || !strings.Contains(screen, "bobby: the lighthouse keeper kept a secret") {
		t.Fatalf("/find does not list the message:\n%s", screen)
	}
	press(t, m, tea.KeyEnter)
	cv := m.chat
	if got := m.chosen(); got == nil || got.Text != "the lighthouse keeper kept a secret" || cv.panel != noPanel {
		t.Fatalf("enter on the result chose %+v, want the lighthouse message (status %q)", got, m.status)
	}
	if len(cv.msgs) != later+1 || !cv.atStart {
		t.Errorf("after the jump %d messages are loaded (at start %v), want all %d, unbroken", len(cv.msgs), cv.atStart, later+1)
	}
	screen = viewText(m)
	if !strings.Contains(screen, "▸") || !strings.Contains(screen, "bobby: the lighthouse keeper kept a secret") {
		t.Errorf("the chosen message is not in view:\n%s", screen)
	}
	typeLine(t, m, "/find submarine")
	if !m.statusErr || !strings.Contains(m.status, `No message here has every word of "submarine"`) || cv.panel != noPanel {
		t.Errorf("/find with no match: status %q", m.status)
	}
	typeLine(t, m, "/find")
	if !m.statusErr || !strings.Contains(m.status, "/find TEXT") {
		t.Errorf("/find without text: status %q", m.status)
	}

	typeLine(t, m, "/members")
	screen = viewText(m)
	for _, want := range []string{"Members of Book club:", "alice @alice (you) · owner", "bobby @bobby · member", "carol @carol · member", "3 members"} {
		if !strings.Contains(screen, want) {
			t.Errorf("/members does not show %q:\n%s", want, screen)
		}
	}
	press(t, m, tea.KeyDown) // bobby, after the owner
	press(t, m, 'a')
	if got := m.input.Value(); got != "/promote @bobby admin" {
		t.Fatalf("a on the chosen member put %q in the composer", got)
	}
	press(t, m, tea.KeyEnter)
	if m.statusErr || m.status != "@bobby is now an admin of Book club." || !strings.Contains(viewText(m), "bobby @bobby · admin") {
		t.Errorf("after /promote: status %q\n%s", m.status, viewText(m))
	}
	members, err := bobby.Members(ctx, group.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range members {
		if mb.UserID == ids[1] && mb.Role != client.Admin {
			t.Errorf("the server has bobby as %q, want admin", mb.Role)
		}
	}

	typeLine(t, m, "/kick @carol")
	if screen := viewText(m); m.statusErr || m.status != "Removed @carol from Book club." || strings.Contains(screen, "carol @carol") ||
		!strings.Contains(screen, "Book club · group, 2 members") {
		t.Errorf("after /kick: status %q\n%s", m.status, viewText(m))
	}
	if ch, err := carol.Chat(ctx, group.ID); err == nil && ch.Role != "" {
		t.Errorf("carol is still a member (%q) after /kick", ch.Role)
	}

	for _, tt := range []struct{ line, want string }{
		{"/promote @bobby king", "/promote @name admin makes them an admin"},
		{"/kick", "/kick @name removes them"},
		{"/kick @nobody_here", "kick @nobody_here: nobody is called @nobody_here"},
		{"/promote @carol admin", "promote @carol: "}, // no longer a member: the server's reason
	} {
		typeLine(t, m, tt.line)
		if !m.statusErr || !strings.Contains(m.status, tt.want) {
			t.Errorf("%s: status %q, want an error containing %q", tt.line, m.status, tt.want)
		}
	}
	press(t, m, tea.KeyEscape)
	if screen := viewText(m); m.chat.panel != noPanel || strings.Contains(screen, "Members of") || !strings.Contains(screen, "chapter") {
		t.Errorf("esc does not go back to the messages:\n%s", screen)
	}

	// A private chat has no member list.
	private, err := alice.OpenPrivateChat(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	pump(t, m, m.openChat(private))
	typeLine(t, m, "/members")
	if !m.statusErr || !strings.Contains(m.status, "A private chat has no member list.") {
		t.Errorf("/members in a private chat: status %q", m.status)
	}
}
