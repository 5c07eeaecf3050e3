package main

// The full-screen client's drawing: what View shows of the model in
// chat_tui.go.

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"kurir/client"
)

// The screen's rows: a header (and in a chat with a pinned message, a line
// showing it), the body, the status line, the composer and a line of keys.
func (m *tui) bodyHeight() int {
	if m.showPinned() {
		return max(m.height-5, 1)
	}
	return max(m.height-4, 1)
}

// showPinned reports whether the open chat has a pinned message to show.
func (m *tui) showPinned() bool {
	return m.screen == chatScreen && m.chat != nil && m.chat.chat.PinnedSeq != 0
}

var (
	headerStyle = lipgloss.NewStyle().Reverse(true).Bold(true)
	faintStyle  = lipgloss.NewStyle().Faint(true)
	boldStyle   = lipgloss.NewStyle().Bold(true)
	errorStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	okStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	warnStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)
	selStyle    = lipgloss.NewStyle().Reverse(true)
	pinStyle    = lipgloss.NewStyle().Underline(true)
	youStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("6")).Bold(true)
	// Others' names take one of these colours, the same one each time.
	nameStyles = []lipgloss.Style{
		lipgloss.NewStyle().Foreground(lipgloss.Color("2")).Bold(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("4")).Bold(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("5")).Bold(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
	}
)

func (m *tui) nameStyle(id int64) lipgloss.Style {
	if id == m.people.me {
		return youStyle
	}
	h := fnv.New32a()
	fmt.Fprint(h, id)
	return nameStyles[h.Sum32()%uint32(len(nameStyles))]
}

func (m *tui) View() tea.View {
	w := max(m.width, 20)
	rows := make([]string, 0, m.height)
	rows = append(rows, m.header(w))
	if m.showPinned() {
		rows = append(rows, pinStyle.Render(padRight(ansi.Truncate(" Pinned · "+m.snippet(m.findMessage(m.chat.chat.PinnedSeq)), w, "…"), w)))
	}
	top := len(rows)
	var body []string
	if m.screen == chatScreen {
		body = m.chatBody()
	} else {
		body = m.listBody(w)
	}
	rows = append(rows, body...)
	for len(rows) < top+m.bodyHeight() {
		rows = append(rows, "")
	}
	status := m.status
	switch {
	case m.statusErr:
		status = errorStyle.Render(status)
	case m.chat != nil && m.chat.newBelow > 0:
		status = warnStyle.Render(fmt.Sprintf("↓ %d new below (esc)", m.chat.newBelow))
	}
	rows = append(rows, status)
	inputRow := len(rows)
	showInput := m.screen == chatScreen || m.prompt != noPrompt
	if showInput {
		rows = append(rows, m.input.View())
	} else {
		rows = append(rows, "")
	}
	rows = append(rows, faintStyle.Render(m.keysHelp()))
	for i, r := range rows {
		rows[i] = ansi.Truncate(r, w, "…")
	}
	v := tea.NewView(strings.Join(rows, "\n"))
	v.AltScreen = true
	v.WindowTitle = "kurir"
	if showInput {
		if c := m.input.Cursor(); c != nil {
			c.Position.Y += inputRow
			v.Cursor = c
		}
	}
	return v
}

func (m *tui) header(w int) string {
	where := "Chats"
	if m.chat != nil {
		ch := m.chat.chat
		where = m.people.title(ch)
		switch ch.Kind {
		case client.Private:
			where += " · private chat"
		default:
			where += fmt.Sprintf(" · %s, %s", ch.Kind, plural(ch.MemberCount, "member"))
		}
	}
	left := fmt.Sprintf(" kurir · %s@%s · %s", m.s.me.Username, strings.TrimPrefix(strings.TrimPrefix(m.s.server, "https://"), "http://"), where)
	right := "● online "
	switch {
	case m.ended:
		right = "○ logged out "
	case m.offline:
		right = "○ reconnecting… "
	}
	left = ansi.Truncate(left, w-ansi.StringWidth(right)-1, "…")
	gap := max(w-ansi.StringWidth(left)-ansi.StringWidth(right), 1)
	return headerStyle.Render(left + strings.Repeat(" ", gap) + right)
}

func (m *tui) keysHelp() string {
	switch {
	case m.prompt != noPrompt:
		return "enter ok · esc cancel"
	case m.screen == listScreen && m.results != nil:
		return "↑↓ choose · enter join and open · esc back to the chat list · q quit"
	case m.screen == listScreen:
		return "enter open · n chat · g group · c channel · s search · / join · r reload · q quit"
	case m.chat.panel == panelFind:
		return "↑↓ choose · enter go to the message · esc back to the chat"
	case m.chat.panel == panelMembers:
		return "↑↓ choose · a make admin · m make member · k remove · esc back to the chat"
	case m.chat.mode != composeSend:
		return "enter send · esc cancel"
	case m.chat.sel >= 0:
		return "r reply · e edit · d delete · p pin · f forward · ctrl+s save · /report · esc newest"
	default:
		return "enter send · ↑↓ choose · ctrl+s save · /file PATH · /help · esc back · ctrl+c quit"
	}
}

func (m *tui) listBody(w int) []string {
	h := m.bodyHeight()
	if m.results != nil {
		return m.resultsBody(w, h)
	}
	if len(m.dialogs) == 0 {
		if m.loading {
			return []string{faintStyle.Render("  Loading chats…")}
		}
		return []string{"", faintStyle.Render("  No chats yet. Press n to write to someone, g to create a group.")}
	}
	sel := max(m.dialogIndex(m.selID), 0)
	first := max(0, min(sel-h/2, len(m.dialogs)-h))
	titleW := min(max(w/4, 12), 28)
	var rows []string
	for i := first; i < len(m.dialogs) && len(rows) < h; i++ {
		d := m.dialogs[i]
		title := padRight(ansi.Truncate(m.people.title(d.Chat), titleW, "…"), titleW)
		unread := "    "
		if d.Unread > 0 {
			unread = fmt.Sprintf("%4s", fmt.Sprint(min(d.Unread, 999)))
		}
		when := shortTime(d.LastActivity)
		last := ""
		if lm := d.LastMessage; lm != nil {
			last = m.people.sender(lm.SenderID) + ": " + m.body(lm, " ⏎ ")
		}
		if d.Chat.Unavailable != "" {
			last = "⚠ taken down by the moderators: " + d.Chat.Unavailable
		}
		if d.Chat.Withheld != nil {
			last = "⚠ " + d.Chat.Withheld.String()
		}
		lastW := max(w-2-titleW-1-4-2-len(when)-1, 0)
		last = padRight(ansi.Truncate(last, lastW, "…"), lastW)
		if i == sel {
			rows = append(rows, selStyle.Render("▸ "+title+" "+unread+"  "+last+" "+when))
			continue
		}
		if d.Unread > 0 {
			title, unread = boldStyle.Render(title), boldStyle.Render(unread)
		}
		rows = append(rows, "  "+title+" "+unread+"  "+last+" "+faintStyle.Render(when))
	}
	return rows
}

// shortTime is the clock time for today, else the date.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "     "
	}
	t = t.Local()
	now := time.Now()
	if y, m, d := now.Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// chatLines renders the open chat at the current width: every loaded
// message's lines, and start[i], the index of message i's first line
// (start[len(msgs)] is the number of lines).
func (m *tui) chatLines() (lines []string, start []int) {
	cv := m.chat
	w := max(m.width, 20)
	switch {
	case !cv.loaded:
		lines = append(lines, faintStyle.Render("  Loading messages…"))
	case cv.loadingOlder:
		lines = append(lines, faintStyle.Render("  Loading older messages…"))
	case cv.atStart && len(cv.msgs) == 0:
		lines = append(lines, faintStyle.Render("  No messages yet. Say hello!"))
	case cv.atStart:
		lines = append(lines, faintStyle.Render("  — the start of the chat —"))
	default:
		lines = append(lines, faintStyle.Render("  ↑ for older messages"))
	}
	start = make([]int, len(cv.msgs)+1)
	var day string
	for i := range cv.msgs {
		msg := &cv.msgs[i]
		start[i] = len(lines)
		at := msg.CreatedAt.Local()
		if d := at.Format("Monday, 2 January 2006"); d != day {
			day = d
			lines = append(lines, faintStyle.Render(centre("── "+d+" ──", w)))
		}
		gutter := "  "
		if i == cv.sel {
			gutter = selStyle.Render("▸") + " "
		}
		name := m.people.sender(msg.SenderID)
		prefix := at.Format("15:04") + " " + name + ": "
		indent := strings.Repeat(" ", 2+ansi.StringWidth(prefix))
		if msg.ReplyTo != 0 {
			q := "↪ " + m.snippet(m.findMessage(msg.ReplyTo))
			if m.findMessage(msg.ReplyTo) == nil && !m.quotes[client.MessageRef{ChatID: cv.chat.ID, Seq: msg.ReplyTo}].done {
				q = "↪ …"
			}
			lines = append(lines, strings.Repeat(" ", 2+len("15:04 "))+faintStyle.Render(ansi.Truncate(q, max(w-10, 10), "…")))
		}
		body := m.body(msg, "\n")
		tick := m.receipt(msg)
		bodyW := max(w-ansi.StringWidth(indent)-1-ansi.StringWidth(tick), 10)
		var wrapped []string
		for _, para := range strings.Split(body, "\n") {
			wrapped = append(wrapped, strings.Split(ansi.Wrap(para, bodyW, ""), "\n")...)
		}
		styledPrefix := faintStyle.Render(at.Format("15:04")) + " " + m.nameStyle(msg.SenderID).Render(name) + ": "
		for j, l := range wrapped {
			if msg.Deleted {
				l = faintStyle.Render(l)
			}
			if i == cv.sel {
				l = selStyle.Render(l)
			}
			if j == len(wrapped)-1 && tick != "" {
				l += tick
			}
			if j == 0 {
				lines = append(lines, gutter+styledPrefix+l)
			} else {
				lines = append(lines, indent+l)
			}
		}
	}
	start[len(cv.msgs)] = len(lines)
	return lines, start
}

// receipt is the mark after one's own message in a private chat, as
// messengers show it: ✓ once sent, ✓✓ once the other person has read it
// (Chat.PeerReadSeq). Groups and channels keep no per-member receipts, and
// a message held for review or deleted has none.
func (m *tui) receipt(msg *client.Message) string {
	ch := m.chat.chat
	if ch.Kind != client.Private || msg.SenderID != m.people.me || msg.Held || msg.Deleted {
		return ""
	}
	if msg.Seq <= ch.PeerReadSeq {
		return " " + okStyle.Render("✓✓")
	}
	return " " + faintStyle.Render("✓")
}

func centre(s string, w int) string {
	return strings.Repeat(" ", max((w-ansi.StringWidth(s))/2, 0)) + s
}

// fitChat scrolls the open chat so that the chosen message is in view,
// keeping the view where it was otherwise, or following the newest
// message when none is chosen.
func (m *tui) fitChat() {
	cv := m.chat
	if cv == nil {
		return
	}
	_, start := m.chatLines()
	total, h := start[len(cv.msgs)], m.bodyHeight()
	bottom := max(total-h, 0)
	if cv.sel < 0 || cv.sel >= len(cv.msgs) {
		cv.sel = -1
		cv.topLine = bottom
		return
	}
	top := bottom
	if i := slices.IndexFunc(cv.msgs, func(msg client.Message) bool { return msg.Seq == cv.anchorSeq }); cv.anchorSeq != 0 && i >= 0 {
		top = start[i] + cv.anchorOf
	}
	a, b := start[cv.sel], start[cv.sel+1]
	if cv.sel == 0 {
		a = 0 // show the line above the first message too
	}
	if a < top {
		top = a
	}
	if b > top+h {
		top = b - h
	}
	top = min(max(top, 0), bottom)
	cv.topLine = top
	i := max(sortSearch(start[:len(cv.msgs)], top), 0)
	cv.anchorSeq, cv.anchorOf = cv.msgs[i].Seq, top-start[i]
}

// sortSearch is the last index whose value is at most v, or -1.
func sortSearch(a []int, v int) int {
	i, found := slices.BinarySearch(a, v)
	if found {
		return i
	}
	return i - 1
}

func (m *tui) chatBody() []string {
	h := m.bodyHeight()
	if m.chat.panel != noPanel {
		return m.panelBody(max(m.width, 20), h)
	}
	lines, _ := m.chatLines()
	top := min(max(m.chat.topLine, 0), max(len(lines)-h, 0))
	end := min(top+h, len(lines))
	out := lines[top:end]
	// Bottom-align a short chat, as messengers do.
	if pad := h - len(out); pad > 0 {
		out = append(make([]string, pad), out...)
	}
	return out
}

// progressBar draws sent/total in width cells.
func progressBar(sent, total int64, width int) string {
	done := int(int64(width) * sent / max(total, 1))
	return "[" + strings.Repeat("█", done) + strings.Repeat("·", width-done) + "]"
}

// plural is "1 member", "2 members".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// resultsBody lists the public chats /search found.
func (m *tui) resultsBody(w, h int) []string {
	rows := []string{faintStyle.Render(fmt.Sprintf("  Public groups and channels matching %q:", m.resultQuery))}
	first := max(0, min(m.resultSel-(h-1)/2, len(m.results)-(h-1)))
	for i := first; i < len(m.results) && len(rows) < h; i++ {
		ch := m.results[i]
		line := m.people.title(ch)
		if ch.Username != "" {
			line += " @" + displayText(ch.Username, "")
		}
		line += fmt.Sprintf(" · %s, %s", ch.Kind, plural(ch.MemberCount, "member"))
		if ch.Role != "" {
			line += " · joined"
		}
		if about := displayText(ch.About, " "); about != "" {
			line += " · " + about
		}
		line = ansi.Truncate(line, w-2, "…")
		if i == m.resultSel {
			rows = append(rows, selStyle.Render("▸ "+padRight(line, w-2)))
		} else {
			rows = append(rows, "  "+line)
		}
	}
	return rows
}
