package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/dustin/go-humanize"

	"kurir/client"
)

// chatKeysHelp is the full-screen client's part of "kurir chat --help".
const chatKeysHelp = `
The full-screen client (kurir chat with no command):

  Chat list   up/down (or k/j) choose, enter opens, n writes to @username,
              g creates a group, r reloads, q quits.
  In a chat   type and press enter to send. up/down choose a message (up
              at the top loads older ones), pgup/pgdown move a page, esc
              goes back to the newest message, then to the chat list.
              ctrl+s saves the chosen message's attachment (or the newest
              one) to --download-dir. ctrl+c quits.
  Commands    /file PATH [caption]  send a file, showing its progress
              /save [PATH]          save the chosen (or newest) attachment
              /back, /quit, /help
              //text                send a text that starts with /

New messages arrive live. When the connection drops the header says
"reconnecting…", and what was missed appears once it is back.
`

func (c *chatCmd) tui(ctx context.Context, args []string) error {
	var downloadDir string
	e := c.flags("", chatHelp+chatKeysHelp)
	e.string(&downloadDir, "download-dir", "KURIR_DOWNLOAD_DIR", ".", "directory where ctrl+s and /save put attachments")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	_, inTTY := isTerminal(c.stdin)
	_, outTTY := isTerminal(c.stdout)
	if !inTTY || !outTTY {
		return errors.New("kurir chat needs a terminal; in scripts use kurir chat list, history, send and tail")
	}
	watch := &connWatch{}
	s, err := c.connect(client.WithHTTPClient(watchedHTTPClient(watch)))
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	live, err := s.c.Live(ctx)
	if err != nil {
		return s.explain(err)
	}
	defer live.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops uploads and downloads still running at exit
	m := newTUI(ctx, s, live, downloadDir)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(c.stdin), tea.WithOutput(c.stdout))
	m.notify = p.Send
	watch.setNotify(func(msg connMsg) { p.Send(msg) })
	_, err = p.Run()
	watch.setNotify(nil)
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted from outside, as by SIGTERM
	}
	return err
}

// connWatch follows whether the last request to the server went through,
// which is how the client notices that the live stream's connection has
// dropped: client.Live redials at once, and that dial fails while the
// server is unreachable. It also notices a session that has ended, which
// the live stream's dial reports only as an HTTP status.
type connWatch struct {
	mu     sync.Mutex
	down   bool
	ended  bool
	notify func(connMsg)
}

func (w *connWatch) setNotify(f func(connMsg)) {
	w.mu.Lock()
	w.notify = f
	w.mu.Unlock()
}

func (w *connWatch) set(up, ended bool) {
	w.mu.Lock()
	changed := w.down == up || w.ended != ended
	w.down, w.ended = !up, ended
	notify := w.notify
	w.mu.Unlock()
	if changed && notify != nil {
		notify(connMsg{up: up, ended: ended})
	}
}

// watchedTransport reports each round trip's outcome to a connWatch.
type watchedTransport struct {
	next  http.RoundTripper
	watch *connWatch
}

func (t watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err == nil:
		t.watch.set(true, resp.StatusCode == http.StatusUnauthorized)
	case req.Context().Err() == nil: // not a cancelled request: the network failed
		t.watch.set(false, false)
	}
	return resp, err
}

// watchedHTTPClient is the SDK's default HTTP client (see client.New) with
// its round trips reported to w.
func watchedHTTPClient(w *connWatch) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: watchedTransport{next: tr, watch: w},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// The messages the client's commands and the live stream send to the model.
type (
	dialogsMsg struct {
		dialogs []client.Dialog
		err     error
	}
	historyMsg struct {
		chatID int64
		older  bool
		msgs   []client.Message // newest first, as the API pages them
		err    error
	}
	liveMsg struct {
		ev client.LiveEvent
		ok bool // false once the stream has ended
	}
	connMsg struct{ up, ended bool }
	sentMsg struct {
		chatID int64
		msg    client.Message
		text   string // what was typed, given back to the composer on failure
		upload bool   // the end of a file's upload and send
		err    error
	}
	uploadMsg struct {
		name        string
		sent, total int64
	}
	savedMsg struct {
		path string
		n    int64
		err  error
	}
	openedMsg struct {
		chat client.Chat
		user client.PublicUser // the other person, for a new private chat
		err  error
	}
	// namesMsg brings names learnt from a chat's member list (chatID) or
	// looked up one by one (chatID 0).
	namesMsg struct {
		chatID int64
		names  map[int64]string
		failed []nameRef // single lookups that could not be made
		err    error     // the member list's
	}
	errMsg struct{ err error }
)

type tuiScreen int

const (
	listScreen tuiScreen = iota
	chatScreen
)

// promptKind is what the composer asks for on the chat list.
type promptKind int

const (
	noPrompt promptKind = iota
	promptPrivate
	promptGroup
)

// historyPage is how many messages one History call fetches.
const historyPage = 50

// listState is how far a chat's member list has been fetched.
type listState int

const (
	listNone listState = iota
	listFetching
	listDone
)

// tui is the full-screen client's model. Bubble Tea calls Update and View
// on one goroutine; commands run on others and report back with messages,
// touching none of its fields.
type tui struct {
	ctx         context.Context
	s           *session
	people      people
	live        *client.Live
	notify      func(tea.Msg) // Program.Send, for upload progress
	downloadDir string

	width, height int
	screen        tuiScreen

	dialogs       []client.Dialog // most recently active first
	selID         int64           // the chosen chat on the list
	loading       bool            // the chat list is being fetched
	reloadPending bool            // and needs fetching again after

	chat *chatView // the open chat, if any

	// Names are learnt from each chat's member list, fetched once per run
	// when the chat is first opened (lists), and the people not in it are
	// looked up one by one, once each (asked).
	lists map[int64]listState
	asked map[nameRef]bool

	input  textinput.Model
	prompt promptKind

	status    string
	statusErr bool
	offline   bool
	ended     bool   // the session was logged out
	uploading string // the name of the file being uploaded, or ""
}

// chatView is an open chat.
type chatView struct {
	chat         client.Chat
	msgs         []client.Message // oldest first
	sel          int              // the chosen message, or -1 to follow the newest
	loaded       bool             // the first page has arrived
	atStart      bool             // the chat's first message is loaded
	loadingOlder bool
	newBelow     int // messages that arrived while one further up was chosen
	// The view's top line, and the message it is anchored to so that it
	// stays put as messages arrive below or load above.
	topLine   int
	anchorSeq int64
	anchorOf  int
}

func newTUI(ctx context.Context, s *session, live *client.Live, downloadDir string) *tui {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "Type a message; /file PATH sends a file"
	in.CharLimit = 4096 * 2 // the server counts characters and explains its limit
	in.SetVirtualCursor(false)
	in.Focus()
	return &tui{ctx: ctx, s: s, people: s.people(), live: live, downloadDir: downloadDir, input: in, loading: true, width: 80, height: 24,
		lists: map[int64]listState{}, asked: map[nameRef]bool{}}
}

func (m *tui) Init() tea.Cmd {
	return tea.Batch(m.loadDialogs(), m.waitLive(), tea.RequestBackgroundColor)
}

func (m *tui) loadDialogs() tea.Cmd {
	ctx, c := m.ctx, m.s.c
	return func() tea.Msg {
		var ds []client.Dialog
		for d, err := range c.AllDialogs(ctx, 100) {
			if err != nil {
				return dialogsMsg{err: err}
			}
			if ds = append(ds, d); len(ds) >= 1000 {
				break
			}
		}
		return dialogsMsg{dialogs: ds}
	}
}

// reloadDialogs fetches the chat list again, once more after the fetch in
// flight if there is one.
func (m *tui) reloadDialogs() tea.Cmd {
	if m.loading {
		m.reloadPending = true
		return nil
	}
	m.loading = true
	return m.loadDialogs()
}

func (m *tui) waitLive() tea.Cmd {
	events := m.live.Events()
	return func() tea.Msg {
		ev, ok := <-events
		return liveMsg{ev: ev, ok: ok}
	}
}

func (m *tui) loadHistory(chatID int64, from client.Anchor, older bool) tea.Cmd {
	ctx, c := m.ctx, m.s.c
	return func() tea.Msg {
		msgs, err := c.History(ctx, chatID, from, historyPage)
		return historyMsg{chatID: chatID, older: older, msgs: msgs, err: err}
	}
}

// loadMembers fetches the member list of a chat the user is in, the first
// time it is opened, to name its people.
func (m *tui) loadMembers(ch client.Chat) tea.Cmd {
	if ch.Role == "" || m.lists[ch.ID] != listNone {
		return nil
	}
	m.lists[ch.ID] = listFetching
	ctx, c := m.ctx, m.s.c
	return func() tea.Msg {
		members, err := chatMembers(ctx, c, ch.ID)
		names := map[int64]string{}
		for _, mb := range members {
			if n := shownName(mb.DisplayName, mb.Username); n != "" {
				names[mb.UserID] = n
			}
		}
		return namesMsg{chatID: ch.ID, names: names, err: err}
	}
}

// learnNames looks up the people refs name whom the client cannot name,
// once each; people of a chat whose member list is on its way are left to
// the list.
func (m *tui) learnNames(refs ...nameRef) tea.Cmd {
	var todo []nameRef
	for _, r := range refs {
		if !m.people.unknown(r.user) || m.asked[r] || m.lists[r.chat] == listFetching {
			continue
		}
		m.asked[r] = true
		todo = append(todo, r)
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, c := m.ctx, m.s.c
	return func() tea.Msg {
		names, failed := lookupNames(ctx, c, todo)
		return namesMsg{names: names, failed: failed}
	}
}

// names records names learnt, and looks up the senders of the open chat
// whom its member list did not name.
func (m *tui) names(msg namesMsg) tea.Cmd {
	for id, n := range msg.names {
		m.s.names[id] = n
		m.people.names[id] = n
	}
	for _, r := range msg.failed {
		delete(m.asked, r) // to try again when they next appear
	}
	if msg.chatID == 0 {
		return nil
	}
	if msg.err != nil {
		delete(m.lists, msg.chatID) // to try again when the chat is next opened
		return nil
	}
	m.lists[msg.chatID] = listDone
	if cv := m.chat; cv != nil && cv.chat.ID == msg.chatID {
		return m.learnNames(messageNames(cv.chat, cv.msgs)...)
	}
	return nil
}

func (m *tui) markRead(chatID, seq int64) tea.Cmd {
	ctx, c := m.ctx, m.s.c
	return func() tea.Msg {
		if err := c.MarkRead(ctx, chatID, seq); err != nil && ctx.Err() == nil {
			return errMsg{fmt.Errorf("mark as read: %w", err)}
		}
		return nil
	}
}

func (m *tui) setStatus(format string, args ...any) {
	m.status, m.statusErr = fmt.Sprintf(format, args...), false
}

func (m *tui) setError(err error) {
	m.status, m.statusErr = explainErr(m.s.server, err).Error(), true
}

func (m *tui) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.dialogIndex(m.selID) < 0 && len(m.dialogs) > 0 {
		m.selID = m.dialogs[0].Chat.ID
	}
	m.fitChat()
	return m, cmd
}

func (m *tui) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.sizeInput()
	case tea.BackgroundColorMsg:
		// The composer's prompt and placeholder stay readable on a light
		// terminal too.
		m.input.SetStyles(textinput.DefaultStyles(msg.IsDark()))
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		if m.screen == chatScreen || m.prompt != noPrompt {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			return cmd
		}
	case dialogsMsg:
		m.loading = false
		if msg.err != nil {
			m.setError(fmt.Errorf("load the chat list: %w", msg.err))
		} else {
			m.dialogs = msg.dialogs
			m.sortDialogs()
		}
		learn := m.learnNames(dialogNames(m.dialogs)...)
		if m.reloadPending {
			m.reloadPending = false
			return tea.Batch(learn, m.reloadDialogs())
		}
		return learn
	case liveMsg:
		if !msg.ok {
			if err := m.live.Err(); err != nil {
				m.setError(fmt.Errorf("live updates stopped: %w", err))
			}
			return nil
		}
		return tea.Batch(m.liveEvent(msg.ev), m.waitLive())
	case connMsg:
		m.offline, m.ended = !msg.up, msg.ended
		if msg.ended {
			m.status, m.statusErr = fmt.Sprintf("The session has ended (logged out on another device?). Quit, and log in again: kurir chat login --server %s", m.s.server), true
		} else if m.offline {
			m.status, m.statusErr = "Connection lost; reconnecting…", true
		} else if m.statusErr && strings.HasPrefix(m.status, "Connection lost") {
			m.setStatus("Reconnected.")
		}
	case historyMsg:
		return m.history(msg)
	case sentMsg:
		if msg.upload {
			m.uploading = ""
		}
		if msg.err != nil {
			m.setError(msg.err)
			if m.input.Value() == "" && msg.text != "" && m.chat != nil && m.chat.chat.ID == msg.chatID {
				m.input.SetValue(msg.text) // for fixing and sending again
			}
			return nil
		}
		if m.status == "Sending…" || strings.HasPrefix(m.status, "Upload") {
			m.setStatus("")
		}
		if msg.msg.Held {
			m.status, m.statusErr = "Your message is held for a moderator's review; nobody else sees it until it is released.", true
		}
		return m.addMessage(msg.chatID, msg.msg)
	case statusMsg:
		m.setStatus("%s", string(msg))
	case reportedMsg:
		if msg.err != nil {
			m.setError(msg.err)
			return nil
		}
		m.setStatus("Reported (%s). Thank you: a moderator will look at it.", msg.what)
	case uploadMsg:
		switch {
		case m.uploading != msg.name:
		case msg.sent >= msg.total:
			m.setStatus("Uploaded %s; the server is storing it…", msg.name)
		default:
			m.setStatus("Uploading %s: %s %s", msg.name, progressBar(msg.sent, msg.total, 20), describeProgress(msg.sent, msg.total))
		}
	case savedMsg:
		if msg.err != nil {
			m.setError(msg.err)
		} else {
			m.setStatus("Saved %s (%s).", msg.path, humanize.Bytes(uint64(msg.n)))
		}
	case openedMsg:
		if msg.err != nil {
			m.setError(msg.err)
			return nil
		}
		if msg.user.ID != 0 {
			m.s.remember(msg.user)
			m.people = m.s.people()
		}
		if i := m.dialogIndex(msg.chat.ID); i >= 0 {
			msg.chat = m.dialogs[i].Chat // with the read mark
		} else {
			m.dialogs = append(m.dialogs, client.Dialog{Chat: msg.chat, LastActivity: time.Now()})
			m.sortDialogs()
		}
		m.setStatus("")
		return m.openChat(msg.chat)
	case namesMsg:
		return m.names(msg)
	case errMsg:
		m.setError(msg.err)
	}
	return nil
}

// key handles a key press.
func (m *tui) key(k tea.KeyPressMsg) tea.Cmd {
	if keyName(k) == "ctrl+c" {
		return tea.Quit
	}
	if m.prompt != noPrompt {
		switch keyName(k) {
		case "esc":
			m.prompt = noPrompt
			m.resetComposer()
			m.setStatus("")
			return nil
		case "enter":
			return m.submitPrompt()
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(k)
		return cmd
	}
	if m.screen == listScreen {
		return m.listKey(k)
	}
	return m.chatKey(k)
}

// keyName is the key's name as Bubble Tea spells it, except that escape is
// "esc" whatever the modifiers: two quick presses arrive as one alt+esc.
func keyName(k tea.KeyPressMsg) string {
	if k.Code == tea.KeyEscape {
		return "esc"
	}
	return k.String()
}

func (m *tui) listKey(k tea.KeyPressMsg) tea.Cmd {
	i := max(m.dialogIndex(m.selID), 0)
	move := func(to int) {
		if len(m.dialogs) > 0 {
			m.selID = m.dialogs[min(max(to, 0), len(m.dialogs)-1)].Chat.ID
		}
	}
	switch keyName(k) {
	case "q":
		return tea.Quit
	case "up", "k":
		move(i - 1)
	case "down", "j":
		move(i + 1)
	case "pgup":
		move(i - m.bodyHeight())
	case "pgdown":
		move(i + m.bodyHeight())
	case "home":
		move(0)
	case "end":
		move(len(m.dialogs) - 1)
	case "enter", "right", "l":
		if j := m.dialogIndex(m.selID); j >= 0 {
			return m.openChat(m.dialogs[j].Chat)
		}
	case "n":
		m.prompt = promptPrivate
		m.setComposer("Chat with @", "username")
		m.setStatus("Whom to write to? Enter opens the chat, esc cancels.")
	case "g":
		m.prompt = promptGroup
		m.setComposer("New group: ", "title")
		m.setStatus("The new group's title? Enter creates it, esc cancels.")
	case "r":
		m.setStatus("Reloading…")
		return m.reloadDialogs()
	}
	return nil
}

func (m *tui) submitPrompt() tea.Cmd {
	value := strings.TrimSpace(m.input.Value())
	kind := m.prompt
	m.prompt = noPrompt
	m.resetComposer()
	if value == "" {
		m.setStatus("")
		return nil
	}
	ctx, c, server := m.ctx, m.s.c, m.s.server
	switch kind {
	case promptPrivate:
		name := strings.TrimPrefix(value, "@")
		m.setStatus("Looking up @%s…", name)
		return func() tea.Msg {
			u, err := c.User(ctx, name)
			if err != nil {
				return openedMsg{err: fmt.Errorf("@%s: %w", name, explainErr(server, err))}
			}
			ch, err := c.OpenPrivateChat(ctx, u.ID)
			return openedMsg{chat: ch, user: u, err: err}
		}
	case promptGroup:
		m.setStatus("Creating %s…", value)
		return func() tea.Msg {
			ch, err := c.CreateGroup(ctx, client.NewChat{Title: value})
			return openedMsg{chat: ch, err: err}
		}
	}
	return nil
}

func (m *tui) resetComposer() {
	m.setComposer("> ", "Type a message; /file PATH sends a file")
}

func (m *tui) setComposer(prompt, placeholder string) {
	m.input.Reset()
	m.input.Prompt, m.input.Placeholder = prompt, placeholder
	m.sizeInput()
}

// sizeInput fits the composer, prompt and all, in the screen's width.
func (m *tui) sizeInput() {
	m.input.SetWidth(max(m.width-lipgloss.Width(m.input.Prompt)-1, 10))
}

func (m *tui) chatKey(k tea.KeyPressMsg) tea.Cmd {
	cv := m.chat
	switch keyName(k) {
	case "esc":
		if cv.sel >= 0 {
			cv.sel, cv.newBelow = -1, 0
			return nil
		}
		return m.closeChat()
	case "up":
		if cv.sel < 0 {
			return m.selectMessage(len(cv.msgs) - 1)
		}
		return m.selectMessage(cv.sel - 1)
	case "down":
		if cv.sel >= 0 {
			return m.selectMessage(cv.sel + 1)
		}
		return nil
	case "pgup":
		from := cv.sel
		if from < 0 {
			from = len(cv.msgs)
		}
		return m.selectMessage(m.pageFrom(from, -1))
	case "pgdown":
		if cv.sel >= 0 {
			return m.selectMessage(m.pageFrom(cv.sel, +1))
		}
		return nil
	case "ctrl+s":
		return m.saveAttachment("")
	case "enter":
		return m.submit()
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return cmd
}

// selectMessage chooses message i: past the newest it follows the newest
// again; above the oldest loaded it loads older ones.
func (m *tui) selectMessage(i int) tea.Cmd {
	cv := m.chat
	switch {
	case len(cv.msgs) == 0:
	case i >= len(cv.msgs):
		cv.sel, cv.newBelow = -1, 0
	case i < 0:
		cv.sel = 0
		if !cv.atStart && !cv.loadingOlder && cv.loaded {
			cv.loadingOlder = true
			return m.loadHistory(cv.chat.ID, client.Before(cv.msgs[0].Seq), true)
		}
	default:
		cv.sel = i
	}
	return nil
}

// pageFrom is the message about a screenful up (dir -1) or down (+1) from
// message i (len(msgs) for the newest): -1 above the first, len(msgs)
// below the last.
func (m *tui) pageFrom(i, dir int) int {
	_, start := m.chatLines()
	n := len(m.chat.msgs)
	h := max(m.bodyHeight()-1, 1)
	for j := i + dir; ; j += dir {
		switch {
		case j < 0:
			return -1
		case j >= n:
			return n
		case start[j]-start[i] >= h || start[i]-start[j] >= h:
			return j
		}
	}
}

func (m *tui) openChat(ch client.Chat) tea.Cmd {
	m.screen = chatScreen
	m.selID = ch.ID
	m.chat = &chatView{chat: ch, sel: -1}
	m.resetComposer()
	m.setStatus("")
	return tea.Batch(m.loadHistory(ch.ID, client.Before(0), false), m.loadMembers(ch))
}

func (m *tui) closeChat() tea.Cmd {
	m.screen = listScreen
	m.chat = nil
	m.input.Reset()
	m.setStatus("")
	return nil
}

func (m *tui) history(msg historyMsg) tea.Cmd {
	cv := m.chat
	if cv == nil || cv.chat.ID != msg.chatID {
		return nil // the chat was closed meanwhile
	}
	if msg.older {
		cv.loadingOlder = false
	}
	if msg.err != nil {
		m.setError(fmt.Errorf("load messages: %w", msg.err))
		return nil
	}
	page := slices.Clone(msg.msgs)
	slices.Reverse(page)
	if len(msg.msgs) < historyPage {
		cv.atStart = true
	}
	if msg.older {
		var older []client.Message
		for _, p := range page {
			if len(cv.msgs) == 0 || p.Seq < cv.msgs[0].Seq {
				older = append(older, p)
			}
		}
		cv.msgs = append(older, cv.msgs...)
		if cv.sel >= 0 {
			cv.sel += len(older)
			if cv.sel == len(older) && len(older) > 0 {
				cv.sel-- // carry on up into what just arrived
			}
		}
		return m.learnNames(messageNames(cv.chat, older)...)
	}
	cv.loaded = true
	for _, p := range page {
		cv.merge(p)
	}
	return tea.Batch(m.readUpTo(cv), m.learnNames(messageNames(cv.chat, page)...))
}

// readUpTo marks the open chat read up to its newest message.
func (m *tui) readUpTo(cv *chatView) tea.Cmd {
	if len(cv.msgs) == 0 {
		return nil
	}
	last := cv.msgs[len(cv.msgs)-1].Seq
	i := m.dialogIndex(cv.chat.ID)
	if i >= 0 {
		m.dialogs[i].Unread = 0
	}
	if last <= cv.chat.ReadSeq {
		return nil
	}
	cv.chat.ReadSeq = last
	return m.markRead(cv.chat.ID, last)
}

// merge puts a message in its place by seq, replacing an older copy.
func (cv *chatView) merge(msg client.Message) (added bool) {
	i, found := slices.BinarySearchFunc(cv.msgs, msg.Seq, func(a client.Message, seq int64) int { return cmp.Compare(a.Seq, seq) })
	if found {
		cv.msgs[i] = msg
		return false
	}
	cv.msgs = slices.Insert(cv.msgs, i, msg)
	if cv.sel >= i {
		cv.sel++
	}
	return true
}

// addMessage shows a message that was sent or arrived, in the chat list
// and, if its chat is open, in the chat.
func (m *tui) addMessage(chatID int64, msg client.Message) tea.Cmd {
	mine := msg.SenderID == m.people.me
	open := m.chat != nil && m.chat.chat.ID == chatID
	var cmd tea.Cmd
	if open {
		cv := m.chat
		if cv.merge(msg) && cv.sel >= 0 && !mine {
			cv.newBelow++
		}
		if cv.loaded && !mine {
			cmd = m.readUpTo(cv)
		}
	}
	cmd = tea.Batch(cmd, m.learnNames(nameRef{chatID, msg.SenderID}))
	i := m.dialogIndex(chatID)
	if i < 0 {
		return tea.Batch(cmd, m.reloadDialogs())
	}
	d := &m.dialogs[i]
	if d.LastMessage == nil || msg.Seq >= d.LastMessage.Seq {
		d.LastMessage = &msg
		d.LastActivity = msg.CreatedAt
		if !mine && !open && (d.LastMessage.Seq > d.Chat.ReadSeq) {
			d.Unread++
		}
	}
	d.Chat.Seq = max(d.Chat.Seq, msg.Seq)
	m.sortDialogs()
	return cmd
}

// liveEvent applies a change pushed by the server.
func (m *tui) liveEvent(le client.LiveEvent) tea.Cmd {
	if le.Reset {
		// Too much was missed to replay: start again from what is there now.
		cmds := []tea.Cmd{m.reloadDialogs()}
		if cv := m.chat; cv != nil {
			cv.msgs, cv.sel, cv.atStart, cv.loaded = nil, -1, false, false
			cmds = append(cmds, m.loadHistory(cv.chat.ID, client.Before(0), false))
		}
		return tea.Batch(cmds...)
	}
	ev := le.Event
	open := m.chat != nil && m.chat.chat.ID == ev.ChatID
	switch ev.Kind {
	case client.EventMessage:
		if ev.Message != nil {
			return m.addMessage(ev.ChatID, *ev.Message)
		}
	case client.EventRestored:
		if ev.Message != nil {
			return m.addMessage(ev.ChatID, *ev.Message)
		}
	case client.EventTakedown, client.EventReinstated:
		if open && ev.Kind == client.EventTakedown {
			title := m.people.title(m.chat.chat)
			cmd := m.closeChat()
			m.status, m.statusErr = fmt.Sprintf("%s was taken down by the moderators and can no longer be read.", title), true
			return tea.Batch(cmd, m.reloadDialogs())
		}
		return m.reloadDialogs()
	case client.EventRestricted, client.EventUnrestricted:
		// Withheld where we are, or no longer: read it again as it now is.
		if open {
			return tea.Batch(m.openChat(m.chat.chat), m.reloadDialogs())
		}
		return m.reloadDialogs()
	case client.EventEdit, client.EventDelete, client.EventRemoved:
		if open {
			cv := m.chat
			for i := range cv.msgs {
				if cv.msgs[i].Seq != ev.MessageSeq {
					continue
				}
				if ev.Kind == client.EventEdit && ev.Message != nil {
					cv.msgs[i] = *ev.Message
				} else if ev.Kind != client.EventEdit {
					cv.msgs[i].Deleted, cv.msgs[i].Text, cv.msgs[i].Media = true, "", nil
				}
			}
		}
		if i := m.dialogIndex(ev.ChatID); i >= 0 {
			if last := m.dialogs[i].LastMessage; last != nil && last.Seq == ev.MessageSeq {
				if ev.Kind == client.EventEdit && ev.Message != nil {
					m.dialogs[i].LastMessage = ev.Message
				} else if ev.Kind != client.EventEdit {
					d := *last
					d.Deleted, d.Text, d.Media = true, "", nil
					m.dialogs[i].LastMessage = &d
				}
			}
		}
	case client.EventLeave, client.EventRemove:
		if ev.UserID == m.people.me {
			if i := m.dialogIndex(ev.ChatID); i >= 0 {
				m.dialogs = slices.Delete(m.dialogs, i, i+1)
			}
			if open {
				title := m.people.title(m.chat.chat)
				m.closeChat()
				m.status, m.statusErr = fmt.Sprintf("You are no longer in %s.", title), true
			}
			return nil
		}
	case client.EventInfo:
		return m.reloadDialogs() // a new title or description
	}
	if m.dialogIndex(ev.ChatID) < 0 {
		return m.reloadDialogs() // a chat new to this device
	}
	return nil
}

// submit acts on what was typed in a chat: a message, or a /command.
func (m *tui) submit() tea.Cmd {
	text := m.input.Value()
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return nil
	}
	if strings.HasPrefix(trimmed, "/") && !strings.HasPrefix(trimmed, "//") {
		name, arg, _ := strings.Cut(trimmed, " ")
		arg = strings.TrimSpace(arg)
		switch name {
		case "/quit", "/q":
			return tea.Quit
		case "/back":
			return m.closeChat()
		case "/file", "/f":
			return m.sendFile(arg)
		case "/save", "/s":
			m.input.Reset()
			return m.saveAttachment(arg)
		case "/report":
			return m.report(arg)
		case "/help", "/?":
			m.setStatus("/file PATH [caption] sends a file · /save [PATH] saves an attachment · /report REASON [comment] reports the chosen message, or the chat · /back · /quit · //text sends text starting with /")
			return nil
		default:
			m.status, m.statusErr = fmt.Sprintf("Unknown command %s. Try /help; //%s sends it as text.", name, strings.TrimPrefix(name, "/")), true
			return nil
		}
	}
	if strings.HasPrefix(trimmed, "//") {
		text = strings.Replace(text, "//", "/", 1)
	}
	m.input.Reset()
	m.setStatus("Sending…")
	ctx, c, chatID := m.ctx, m.s.c, m.chat.chat.ID
	return func() tea.Msg {
		msg, err := c.Send(ctx, chatID, client.SendParams{Text: text})
		return sentMsg{chatID: chatID, msg: msg, text: text, err: err}
	}
}

// sendFile uploads the file that "/file PATH [caption]" names and sends it.
func (m *tui) sendFile(arg string) tea.Cmd {
	path, caption := splitPath(arg)
	if path == "" {
		m.status, m.statusErr = "Name the file: /file PATH [caption]", true
		return nil
	}
	if m.uploading != "" {
		m.status, m.statusErr = fmt.Sprintf("Wait until %s is uploaded.", m.uploading), true
		return nil
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	if _, err := os.Stat(path); err != nil {
		m.status, m.statusErr = fmt.Sprintf("Cannot send %s: %v", path, errors.Unwrap(err)), true
		return nil
	}
	m.input.Reset()
	name := filepath.Base(path)
	m.uploading = name
	m.setStatus("Uploading %s…", name)
	ctx, c, chatID, server := m.ctx, m.s.c, m.chat.chat.ID, m.s.server
	var progress func(sent, total int64)
	if notify := m.notify; notify != nil {
		progress = throttled(100*time.Millisecond, func(sent, total int64) {
			notify(uploadMsg{name: name, sent: sent, total: total})
		})
	}
	return func() tea.Msg {
		media, err := uploadFile(ctx, c, path, progress)
		if err != nil {
			return sentMsg{chatID: chatID, upload: true, err: fmt.Errorf("upload %s: %w", name, explainErr(server, err))}
		}
		if media.Status == "held" {
			return sentMsg{chatID: chatID, upload: true, err: fmt.Errorf("the server holds %s for review, so it cannot be sent yet", name)}
		}
		msg, err := c.Send(ctx, chatID, client.SendParams{Text: caption, MediaID: media.ID})
		return sentMsg{chatID: chatID, msg: msg, upload: true, err: err}
	}
}

// reportedMsg is the answer to a report.
type reportedMsg struct {
	what string
	err  error
}

// report files "/report REASON [comment]" about the chosen message or, with
// none chosen, the group or channel (in a private chat, the other person).
// Without a reason it lists the reasons.
func (m *tui) report(arg string) tea.Cmd {
	reason, comment, _ := strings.Cut(arg, " ")
	cv := m.chat
	var subj client.Subject
	var what string
	switch {
	case cv.sel >= 0 && cv.sel < len(cv.msgs):
		msg := cv.msgs[cv.sel]
		if msg.SenderID == m.people.me {
			m.status, m.statusErr = "That is your own message; choose someone else's with the arrow keys.", true
			return nil
		}
		subj, what = client.MessageSubject(msg.ChatID, msg.Seq), "the chosen message"
	case cv.chat.Kind == client.Private:
		subj, what = client.UserSubject(cv.chat.PeerID), m.people.title(cv.chat)
	default:
		subj, what = client.ChatSubject(cv.chat.ID), m.people.title(cv.chat)
	}
	ctx, c := m.ctx, m.s.c
	if reason == "" {
		m.input.Reset()
		m.setStatus("Fetching the reasons…")
		return func() tea.Msg {
			rs, err := c.ReportReasons(ctx, "")
			if err != nil {
				return reportedMsg{err: err}
			}
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = r.ID
			}
			return statusMsg("/report REASON [comment] reports " + what + "; REASON is one of: " + strings.Join(ids, ", "))
		}
	}
	m.input.Reset()
	m.setStatus("Reporting…")
	return func() tea.Msg {
		_, err := c.Report(ctx, client.ReportParams{Subject: subj, Reason: reason, Comment: strings.TrimSpace(comment)})
		return reportedMsg{what: what, err: err}
	}
}

// statusMsg is a line for the status bar.
type statusMsg string

// splitPath splits "/file" arguments into the path, which may be quoted,
// and the caption after it.
func splitPath(arg string) (path, rest string) {
	if arg == "" {
		return "", ""
	}
	if q := arg[0]; q == '"' || q == '\'' {
		if end := strings.IndexByte(arg[1:], q); end >= 0 {
			return arg[1 : end+1], strings.TrimSpace(arg[end+2:])
		}
	}
	path, rest, _ = strings.Cut(arg, " ")
	return path, strings.TrimSpace(rest)
}

// saveAttachment saves the chosen message's attachment, or the newest one
// in view, to path or into the download directory.
func (m *tui) saveAttachment(path string) tea.Cmd {
	cv := m.chat
	var att *client.Attachment
	if cv.sel >= 0 && cv.sel < len(cv.msgs) {
		att = cv.msgs[cv.sel].Media
		if att == nil {
			m.status, m.statusErr = "The chosen message has no attachment.", true
			return nil
		}
	} else {
		for i := len(cv.msgs) - 1; i >= 0 && att == nil; i-- {
			att = cv.msgs[i].Media
		}
		if att == nil {
			m.status, m.statusErr = "No message here has an attachment.", true
			return nil
		}
	}
	if path == "" {
		path = freeName(m.downloadDir, safeFileName(att.Name, att.MediaID))
	} else if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = freeName(path, safeFileName(att.Name, att.MediaID))
	}
	m.setStatus("Saving %s…", path)
	ctx, c, id, server := m.ctx, m.s.c, att.MediaID, m.s.server
	return func() tea.Msg {
		media, err := c.GetMedia(ctx, id)
		if err != nil {
			return savedMsg{err: fmt.Errorf("save %s: %w", path, explainErr(server, err))}
		}
		n, err := saveMedia(ctx, c, media, path, false)
		if err != nil {
			return savedMsg{err: fmt.Errorf("save %s: %w", path, explainErr(server, err))}
		}
		return savedMsg{path: path, n: n}
	}
}

// freeName is dir/name, or dir/name (1).ext and so on if that exists.
func freeName(dir, name string) string {
	p := filepath.Join(dir, name)
	ext := filepath.Ext(name)
	for i := 1; i < 1000; i++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), i, ext))
	}
	return p
}

func (m *tui) dialogIndex(chatID int64) int {
	return slices.IndexFunc(m.dialogs, func(d client.Dialog) bool { return d.Chat.ID == chatID })
}

func (m *tui) sortDialogs() {
	slices.SortStableFunc(m.dialogs, func(a, b client.Dialog) int { return b.LastActivity.Compare(a.LastActivity) })
}
