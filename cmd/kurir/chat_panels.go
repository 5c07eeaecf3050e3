package main

// Panels shown in place of an open chat's messages: what /find found in the
// chat, and the member list of /members, with /promote and /kick.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"kurir"
	"kurir/client"
)

// panelKind is what an open chat shows instead of its messages.
type panelKind int

const (
	noPanel      panelKind = iota
	panelFind              // the messages /find found
	panelMembers           // the member list
)

// Limits of the panels.
const (
	findLimit = 50 // messages /find lists; the newest of them
	// jumpLimit is how far back, in messages, enter on a result loads the
	// history to reach it: the open chat shows an unbroken run of messages
	// up to the newest.
	jumpLimit = 5000
)

type (
	// foundMsg brings what /find found in a chat.
	foundMsg struct {
		chatID int64
		query  string
		msgs   []client.Message // newest first
		err    error
	}
	// membersMsg brings a chat's member list for /members.
	membersMsg struct {
		chatID  int64
		members []client.ChatMember
		err     error
	}
	// memberActedMsg is the answer to /promote or /kick.
	memberActedMsg struct {
		chatID int64
		done   string // what happened, for the status line
		err    error
	}
)

// find searches the open chat for "/find TEXT".
func (m *tui) find(arg string) tea.Cmd {
	if arg == "" {
		m.status, m.statusErr = "Say what to look for: /find TEXT finds messages in this chat with every word of TEXT.", true
		return nil
	}
	m.input.Reset()
	m.setStatus("Searching this chat for %q…", arg)
	ctx, c, chatID := m.ctx, m.s.c, m.chat.chat.ID
	return func() tea.Msg {
		msgs, err := c.SearchMessages(ctx, arg, chatID, findLimit)
		return foundMsg{chatID: chatID, query: arg, msgs: msgs, err: err}
	}
}

func (m *tui) found(msg foundMsg) tea.Cmd {
	cv := m.chat
	if cv == nil || cv.chat.ID != msg.chatID {
		return nil
	}
	if msg.err != nil {
		m.setError(fmt.Errorf("find: %w", msg.err))
		return nil
	}
	if len(msg.msgs) == 0 {
		m.status, m.statusErr = fmt.Sprintf("No message here has every word of %q.", msg.query), true
		return nil
	}
	cv.panel, cv.found, cv.foundQuery, cv.panelSel = panelFind, msg.msgs, msg.query, 0
	m.setStatus("%s matching %q, newest first; enter goes to the chosen one, esc back.", plural(int64(len(msg.msgs)), "message"), msg.query)
	refs := make([]nameRef, 0, len(msg.msgs))
	for _, f := range msg.msgs {
		refs = append(refs, nameRef{msg.chatID, f.SenderID})
	}
	return m.learnNames(refs...)
}

// jump closes the results and chooses message seq of the open chat, first
// loading the history back to it if it is older than what is loaded.
func (m *tui) jump(seq int64) tea.Cmd {
	cv := m.chat
	cv.panel, cv.found = noPanel, nil
	if i, ok := slices.BinarySearchFunc(cv.msgs, seq, func(a client.Message, seq int64) int { return cmp.Compare(a.Seq, seq) }); ok {
		cv.sel, cv.newBelow = i, 0
		m.setStatus("")
		return nil
	}
	if len(cv.msgs) > 0 && seq > cv.msgs[len(cv.msgs)-1].Seq || cv.atStart {
		m.status, m.statusErr = "That message is no longer in the chat.", true
		return nil
	}
	var from int64 // the oldest loaded; 0 loads from the newest
	if len(cv.msgs) > 0 {
		from = cv.msgs[0].Seq
	}
	cv.loadingOlder = true
	m.setStatus("Loading the history back to that message…")
	ctx, c, chatID := m.ctx, m.s.c, cv.chat.ID
	return func() tea.Msg {
		var got []client.Message // newest first, as the API pages them
		for len(got) < jumpLimit {
			page, err := c.History(ctx, chatID, client.Before(from), historyPage)
			if err != nil {
				return historyMsg{chatID: chatID, older: true, msgs: got, jump: seq, err: err}
			}
			got = append(got, page...)
			if len(page) < historyPage {
				return historyMsg{chatID: chatID, older: true, msgs: got, jump: seq, start: true}
			}
			if from = page[len(page)-1].Seq; from <= seq {
				break
			}
		}
		return historyMsg{chatID: chatID, older: true, msgs: got, jump: seq}
	}
}

// jumped chooses the message a jump loaded the history for, once merged.
func (m *tui) jumped(seq int64) {
	cv := m.chat
	i, ok := slices.BinarySearchFunc(cv.msgs, seq, func(a client.Message, seq int64) int { return cmp.Compare(a.Seq, seq) })
	switch {
	case ok:
		cv.sel, cv.newBelow = i, 0
		m.setStatus("")
	case len(cv.msgs) > 0 && cv.msgs[0].Seq > seq && !cv.atStart:
		m.status, m.statusErr = fmt.Sprintf("That message is more than %d messages back; ↑ at the top loads older ones.", jumpLimit), true
	default:
		m.status, m.statusErr = "That message is no longer in the chat.", true
	}
}

// showMembers opens the member list of the open group or channel.
func (m *tui) showMembers() tea.Cmd {
	cv := m.chat
	if cv.chat.Kind == client.Private {
		m.status, m.statusErr = "A private chat has no member list.", true
		return nil
	}
	m.input.Reset()
	cv.panel, cv.panelSel = panelMembers, 0
	m.setStatus("Loading the members…")
	return m.loadPanelMembers()
}

func (m *tui) loadPanelMembers() tea.Cmd {
	ctx, c, chatID := m.ctx, m.s.c, m.chat.chat.ID
	return func() tea.Msg {
		members, err := chatMembers(ctx, c, chatID)
		return membersMsg{chatID: chatID, members: members, err: err}
	}
}

// roleRank orders the member list: the owner, admins, then members.
func roleRank(r client.MemberRole) int {
	switch r {
	case client.Owner:
		return 0
	case client.Admin:
		return 1
	}
	return 2
}

func (m *tui) membersLoaded(msg membersMsg) tea.Cmd {
	cv := m.chat
	if cv == nil || cv.chat.ID != msg.chatID || cv.panel != panelMembers {
		return nil
	}
	if msg.err != nil {
		m.setError(fmt.Errorf("members: %w", msg.err))
		if len(msg.members) == 0 {
			cv.panel = noPanel
			return nil
		}
	}
	for _, mb := range msg.members {
		if n := shownName(mb.DisplayName, mb.Username); n != "" {
			m.s.names[mb.UserID] = n
			m.people.names[mb.UserID] = n
		}
	}
	slices.SortStableFunc(msg.members, func(a, b client.ChatMember) int {
		return cmp.Or(cmp.Compare(roleRank(a.Role), roleRank(b.Role)),
			cmp.Compare(strings.ToLower(m.people.name(a.UserID)), strings.ToLower(m.people.name(b.UserID))))
	})
	cv.members = msg.members
	if msg.err == nil && len(msg.members) < maxMembers && (cv.chat.Kind == client.Group || cv.chat.Role == client.Owner || cv.chat.Role == client.Admin) {
		cv.chat.MemberCount = int64(len(msg.members)) // the header's count, as it now is
	}
	cv.panelSel = min(cv.panelSel, max(len(cv.members)-1, 0))
	if msg.err == nil && m.status == "Loading the members…" {
		what := "member"
		if cv.chat.Kind == client.Channel && cv.chat.Role != client.Owner && cv.chat.Role != client.Admin {
			what = "admin" // a channel shows its subscribers to its admins only
		}
		m.setStatus("%s; /promote @name admin|member, /kick @name (a, m, k on the chosen one); esc back.", plural(int64(len(cv.members)), what))
	}
	return nil
}

// memberCommand acts on "/promote @name admin|member" and "/kick @name".
func (m *tui) memberCommand(name, arg string) tea.Cmd {
	cv := m.chat
	if cv.chat.Kind == client.Private {
		m.status, m.statusErr = "A private chat has no members to manage.", true
		return nil
	}
	target, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	user := strings.TrimPrefix(target, "@")
	var role client.MemberRole
	switch {
	case name == "/promote" && (user == "" || (rest != "admin" && rest != "member")):
		m.status, m.statusErr = "/promote @name admin makes them an admin; /promote @name member, a member again.", true
		return nil
	case name == "/promote":
		role = client.MemberRole(rest)
	case user == "" || rest != "":
		m.status, m.statusErr = "/kick @name removes them from the chat.", true
		return nil
	}
	m.input.Reset()
	m.setStatus("%s @%s…", map[string]string{"/promote": "Changing the role of", "/kick": "Removing"}[name], user)
	members := slices.Clone(cv.members)
	ctx, c, server, chatID, title := m.ctx, m.s.c, m.s.server, cv.chat.ID, m.people.title(cv.chat)
	return func() tea.Msg {
		id, err := memberID(ctx, c, members, user)
		if err == nil && role != "" {
			err = c.SetMemberRole(ctx, chatID, id, role)
		} else if err == nil {
			err = c.RemoveMember(ctx, chatID, id, false)
		}
		if err != nil {
			return memberActedMsg{chatID: chatID, err: fmt.Errorf("%s @%s: %w", name[1:], user, explainErr(server, err))}
		}
		done := fmt.Sprintf("@%s is now %s of %s.", user, map[client.MemberRole]string{client.Admin: "an admin", client.Member: "a member"}[role], title)
		if role == "" {
			done = fmt.Sprintf("Removed @%s from %s.", user, title)
		}
		return memberActedMsg{chatID: chatID, done: done}
	}
}

// memberID finds the user @name: in the member list if it is loaded, else
// by asking the server.
func memberID(ctx context.Context, c *client.Client, members []client.ChatMember, name string) (int64, error) {
	for _, mb := range members {
		if mb.Username != "" && strings.EqualFold(mb.Username, name) {
			return mb.UserID, nil
		}
	}
	u, err := c.User(ctx, name)
	if client.IsCode(err, kurir.ENotFound) {
		return 0, fmt.Errorf("nobody is called @%s", name)
	}
	return u.ID, err
}

func (m *tui) memberActed(msg memberActedMsg) tea.Cmd {
	if msg.err != nil {
		m.setError(msg.err)
		return nil
	}
	m.setStatus("%s", msg.done)
	if cv := m.chat; cv != nil && cv.chat.ID == msg.chatID && cv.panel == panelMembers {
		return m.loadPanelMembers()
	}
	return nil
}

// panelKey handles a key while a panel is open: the arrows choose, enter
// goes to the chosen result, esc closes it; in the member list a, m and k
// put /promote or /kick for the chosen member in the composer. Other keys,
// and enter on a typed command, go to the composer as usual: handled is
// false for them.
func (m *tui) panelKey(key string) (cmd tea.Cmd, handled bool) {
	cv := m.chat
	n := len(cv.found)
	if cv.panel == panelMembers {
		n = len(cv.members)
	}
	typed := m.input.Value() != ""
	switch key {
	case "esc":
		if typed {
			m.input.Reset()
			return nil, true
		}
		cv.panel, cv.found, cv.members = noPanel, nil, nil
		m.setStatus("")
	case "up":
		cv.panelSel = max(cv.panelSel-1, 0)
	case "down":
		cv.panelSel = min(cv.panelSel+1, max(n-1, 0))
	case "pgup":
		cv.panelSel = max(cv.panelSel-(m.bodyHeight()-1), 0)
	case "pgdown":
		cv.panelSel = min(cv.panelSel+(m.bodyHeight()-1), max(n-1, 0))
	case "enter":
		if typed || cv.panel != panelFind || cv.panelSel >= n {
			return nil, false
		}
		return m.jump(cv.found[cv.panelSel].Seq), true
	case "a", "m", "k":
		if typed || cv.panel != panelMembers || cv.panelSel >= n || cv.members[cv.panelSel].Username == "" {
			return nil, false
		}
		name := "@" + cv.members[cv.panelSel].Username
		m.input.SetValue(map[string]string{"a": "/promote " + name + " admin", "m": "/promote " + name + " member", "k": "/kick " + name}[key])
		m.input.CursorEnd()
		m.setStatus("Enter confirms; esc cancels.")
	default:
		return nil, false
	}
	return nil, true
}

// panelBody draws the open panel in the chat's place.
func (m *tui) panelBody(w, h int) []string {
	cv := m.chat
	var title string
	var items []string
	switch cv.panel {
	case panelFind:
		title = fmt.Sprintf("  Messages matching %q, newest first (enter goes to one):", cv.foundQuery)
		for i := range cv.found {
			f := &cv.found[i]
			items = append(items, shortTime(f.CreatedAt)+" "+m.people.sender(f.SenderID)+": "+m.body(f, " ⏎ "))
		}
	case panelMembers:
		title = fmt.Sprintf("  Members of %s:", m.people.title(cv.chat))
		if cv.members == nil {
			items = append(items, faintStyle.Render("Loading…"))
		}
		for _, mb := range cv.members {
			line := m.people.name(mb.UserID)
			if mb.Username != "" && line != "@"+mb.Username {
				line += " @" + displayText(mb.Username, "")
			}
			if mb.UserID == m.people.me {
				line += " (you)"
			}
			items = append(items, line+" · "+string(mb.Role))
		}
	}
	rows := []string{faintStyle.Render(ansi.Truncate(title, w, "…"))}
	first := max(0, min(cv.panelSel-(h-1)/2, len(items)-(h-1)))
	for i := first; i < len(items) && len(rows) < h; i++ {
		line := ansi.Truncate(items[i], w-2, "…")
		if i == cv.panelSel && (cv.panel != panelMembers || cv.members != nil) {
			rows = append(rows, selStyle.Render("▸ "+padRight(line, w-2)))
		} else {
			rows = append(rows, "  "+line)
		}
	}
	return rows
}
