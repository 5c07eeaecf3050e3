package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"
	"golang.org/x/term"

	"kurir"
	"kurir/client"
)

// chatKeysHelp is the full-screen client's part of "kurir chat --help".
const chatKeysHelp = `
The full-screen client (kurir chat with no command):

  Log in      with no saved session for the server, it asks for a
              username and password (or signs you up) and saves the session.
  Chat list   up/down (or k/j) choose, enter opens, n writes to @username,
              g creates a group, c a channel, s searches public groups and
              channels, / joins (/join LINK|@name, /search TEXT), r
              reloads, q quits.
  In a chat   type and press enter to send. up/down choose a message (up
              at the top loads older ones), pgup/pgdown move a page, esc
              goes back to the newest message, then to the chat list.
              ctrl+s saves the chosen message's attachment (or the newest
              one) to --download-dir. ctrl+c quits.
  A chosen    r replies, e edits your own, d deletes (enter confirms
  message     /delete for you, /delete all for everyone), p pins or
              unpins, f forwards (/forward @NAME or a chat's title).
  Commands    /file PATH [caption]  send a file, showing its progress
              /save [PATH]          save the chosen (or newest) attachment
              /report [REASON [comment]]  report the chosen message, or
                                    the chat; without REASON lists them
              /reply TEXT, /edit TEXT, /delete [all], /pin, /unpin,
              /forward TARGET       act on the chosen message
              /find TEXT            list this chat's messages with every
                                    word of TEXT; enter goes to the chosen
              /members              the group's or channel's members and
                                    roles; then /promote @name admin|member,
                                    /kick @name (a, m, k: the chosen one)
              /back, /quit, /help
              //text                send a text that starts with /

New messages, edits, deletions and pins arrive live; a reply shows what
it answers, and the pinned message is shown under the header. When the
connection drops the header says "reconnecting…", and what was missed
appears once it is back.
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
	var nl notLoggedIn
	if errors.As(err, &nl) {
		if err := c.logInHere(ctx, nl.server); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted (ctrl+c) while asked: not a failure
			}
			return err
		}
		s, err = c.connect(client.WithHTTPClient(watchedHTTPClient(watch)))
	}
	if err != nil {
		return err
	}
	if me, err := s.c.Me(ctx); client.IsCode(err, kurir.EUnauthenticated) && s.saved != nil {
		// The saved session has ended (logged out elsewhere): log in again.
		fmt.Fprintf(c.stderr, "The saved session for %s has ended.\n", s.server)
		if err := c.logInHere(ctx, s.server); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if s, err = c.connect(client.WithHTTPClient(watchedHTTPClient(watch))); err != nil {
			return err
		}
		if err := s.whoAmI(ctx); err != nil {
			return err
		}
	} else if err != nil {
		return s.explain(err)
	} else {
		s.me = me
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

// loginAttempts is how many tries logInHere gives a person.
const loginAttempts = 3

// logInHere asks the person at the terminal to log in to server, or to
// sign up and then log in, and saves the session as "kurir chat login"
// does; the full-screen client then starts as that account. A mistake (a
// wrong password, a username taken) is explained and asked again.
func (c *chatCmd) logInHere(ctx context.Context, server string) error {
	store, err := c.openStore()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "You are not logged in to %s.\n", server)
	for range loginAttempts {
		choice, err := c.ask(ctx, "Log in (l), or sign up for a new account (s)? [l] ", false)
		if err != nil {
			return err
		}
		var signUp bool
		switch strings.ToLower(choice) {
		case "", "l", "log in", "login":
		case "s", "sign up", "signup":
			signUp = true
		default:
			fmt.Fprintln(c.stderr, "Type l to log in or s to sign up.")
			continue
		}
		username, err := c.ask(ctx, "Username: ", false)
		if err != nil {
			return err
		}
		if username = strings.TrimPrefix(username, "@"); username == "" {
			fmt.Fprintln(c.stderr, "A username is needed.")
			continue
		}
		password, err := c.ask(ctx, "Password: ", true)
		if err != nil {
			return err
		}
		if signUp {
			again, err := c.ask(ctx, "The same password again: ", true)
			if err != nil {
				return err
			}
			if again != password {
				fmt.Fprintln(c.stderr, "The passwords differ.")
				continue
			}
			_, err = client.New(server, client.WithUserAgent(chatUserAgent())).Register(ctx, client.RegisterParams{Username: username, Password: password})
			if err != nil {
				fmt.Fprintf(c.stderr, "Sign up at %s: %v\n", server, explainErr(server, err))
				continue
			}
			fmt.Fprintf(c.stderr, "Signed up as @%s.\n", username)
		}
		res, err := logIn(ctx, store, server, username, password, defaultDeviceName(), func() (string, error) {
			return c.ask(ctx, "Code from your authenticator app: ", false)
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintln(c.stderr, err)
			continue
		}
		fmt.Fprintf(c.stderr, "Logged in as @%s; the session is saved in %s.\n", res.User.Username, store.path)
		return nil
	}
	return fmt.Errorf("not logged in to %s after %d attempts", server, loginAttempts)
}

// ask asks a question on the terminal and returns the answer, trimmed, or
// with hidden the password typed without echo. Interrupting it (ctrl+c)
// puts the terminal back as it was.
func (c *chatCmd) ask(ctx context.Context, prompt string, hidden bool) (string, error) {
	fd, _ := isTerminal(c.stdin)
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the terminal: %w", err)
	}
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		var a answer
		if hidden {
			a.s, a.err = c.readPassword(prompt)
		} else {
			fmt.Fprint(c.stderr, prompt)
			a.s, a.err = readLine(c.stdin)
			a.s = strings.TrimSpace(a.s)
		}
		got <- a
	}()
	select {
	case a := <-got:
		return a.s, a.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(c.stderr)
		return "", ctx.Err()
	}
}

// readLine reads one line a byte at a time, so that nothing after it is
// taken from r.
func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSuffix(string(b), "\r"), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				return string(b), nil
			}
			return "", fmt.Errorf("read the terminal: %w", err)
		}
	}
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
		// jump is the message to choose once they are merged (see
		// tui.jump), and start says they reach the chat's first message.
		jump  int64
		start bool
		err   error
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
		// mode and target are the reply or edit it was, to resume on failure.
		mode   composeMode
		target int64
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
	promptChannel
	promptCommand // "/join …" or "/search …"
)

// composeMode is what enter does with the composer's text in a chat.
type composeMode int

const (
	composeSend  composeMode = iota
	composeReply             // send it as a reply to chatView.target
	composeEdit              // replace the text of chatView.target
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

	// results are the public chats /search found, shown in place of the
	// chat list while set; resultSel is the chosen one.
	results     []client.Chat
	resultQuery string
	resultSel   int

	// removed are the messages the moderators removed while the client
	// runs (a later fetch leaves them out, as it does deleted ones).
	removed map[client.MessageRef]bool
	// quotes are messages fetched to show what a reply answers or what is
	// pinned, when they are not among the open chat's loaded messages.
	quotes map[client.MessageRef]quote

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
	// mode is what enter does: send, reply to or edit the message target.
	mode   composeMode
	target int64
	// proposed is set while the composer holds a command a key put there
	// (d, p, f), which esc takes back.
	proposed bool
	// The view's top line, and the message it is anchored to so that it
	// stays put as messages arrive below or load above.
	topLine   int
	anchorSeq int64
	anchorOf  int
	// panel is shown instead of the messages while set (chat_panels.go):
	// the messages /find found or the member list, and the chosen row.
	panel      panelKind
	found      []client.Message
	foundQuery string
	members    []client.ChatMember
	panelSel   int
}

func newTUI(ctx context.Context, s *session, live *client.Live, downloadDir string) *tui {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "Type a message; /file PATH sends a file"
	in.CharLimit = 4096 * 2 // the server counts characters and explains its limit
	in.SetVirtualCursor(false)
	in.Focus()
	return &tui{ctx: ctx, s: s, people: s.people(), live: live, downloadDir: downloadDir, input: in, loading: true, width: 80, height: 24,
		lists: map[int64]listState{}, asked: map[nameRef]bool{}, removed: map[client.MessageRef]bool{}, quotes: map[client.MessageRef]quote{}}
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
	return m, tea.Batch(cmd, m.fetchQuotes())
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
			if cv := m.chat; cv != nil {
				if i := m.dialogIndex(cv.chat.ID); i >= 0 {
					// Read marks that came while the stream was down.
					cv.chat.ReadSeq = max(cv.chat.ReadSeq, m.dialogs[i].Chat.ReadSeq)
					cv.chat.PeerReadSeq = max(cv.chat.PeerReadSeq, m.dialogs[i].Chat.PeerReadSeq)
				}
			}
			for _, d := range m.dialogs {
				m.s.knowChats(d.Chat)
			}
			m.people.channels = m.s.people().channels
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
				if msg.mode != composeSend && m.chat.mode == composeSend {
					status := m.status
					if target := m.findMessage(msg.target); target != nil {
						if msg.mode == composeReply {
							m.startReply(target)
						} else {
							m.startEdit(target)
							m.input.SetValue(msg.text)
						}
						m.status, m.statusErr = status, true
					}
				}
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
		}
		m.s.knowChats(msg.chat)
		m.people = m.s.people()
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
	case quoteMsg:
		m.quotes[msg.ref] = quote{msg: msg.msg, done: true, found: msg.found}
		if msg.found {
			return m.learnNames(nameRef{msg.ref.ChatID, msg.msg.SenderID})
		}
	case searchMsg:
		if msg.err != nil {
			m.setError(fmt.Errorf("search: %w", msg.err))
			return nil
		}
		if m.screen != listScreen {
			return nil
		}
		m.results, m.resultQuery, m.resultSel = msg.chats, msg.query, 0
		if len(msg.chats) == 0 {
			m.results = nil
			m.status, m.statusErr = fmt.Sprintf("No public group or channel matches %q.", msg.query), true
			return nil
		}
		m.setStatus("%s matching %q; enter joins and opens, esc goes back.", plural(int64(len(msg.chats)), "public chat"), msg.query)
	case actedMsg:
		return m.acted(msg)
	case foundMsg:
		return m.found(msg)
	case membersMsg:
		return m.membersLoaded(msg)
	case memberActedMsg:
		return m.memberActed(msg)
	case forwardedMsg:
		if msg.err != nil {
			m.setError(msg.err)
			return nil
		}
		m.setStatus("Forwarded to %s.", msg.title)
		return m.addMessage(msg.chatID, msg.msg)
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
		if m.results != nil {
			return m.resultsKey(k)
		}
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
	case "c":
		m.prompt = promptChannel
		m.setComposer("New channel: ", "title")
		m.setStatus("The new channel's title? Enter creates it, esc cancels.")
	case "/":
		m.prompt = promptCommand
		m.setComposer("/", "join LINK|@name · search TEXT")
		m.setStatus("/join an invite link or a public @name, /search public groups and channels; esc cancels.")
	case "s":
		m.prompt = promptCommand
		m.setComposer("/", "search TEXT")
		m.input.SetValue("search ")
		m.input.CursorEnd()
		m.setStatus("Search public groups and channels by title or @name; esc cancels.")
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
	case promptChannel:
		m.setStatus("Creating %s…", value)
		return func() tea.Msg {
			ch, err := c.CreateChannel(ctx, client.NewChat{Title: value})
			return openedMsg{chat: ch, err: err}
		}
	case promptCommand:
		return m.listCommand(strings.TrimPrefix(value, "/"))
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
	key := keyName(k)
	if cv.panel != noPanel {
		if cmd, ok := m.panelKey(key); ok {
			return cmd
		}
		if key == "enter" {
			return m.submit()
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(k)
		return cmd
	}
	if cmd, ok := m.actionKey(key); ok {
		return cmd
	}
	switch key {
	case "esc":
		if cv.mode != composeSend || (cv.proposed && strings.HasPrefix(m.input.Value(), "/")) {
			m.cancelMode()
			return nil
		}
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
	if msg.err != nil && len(msg.msgs) == 0 {
		m.setError(fmt.Errorf("load messages: %w", msg.err))
		return nil
	}
	page := slices.Clone(msg.msgs)
	slices.Reverse(page)
	if msg.start || msg.jump == 0 && len(msg.msgs) < historyPage {
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
			if cv.sel == len(older) && len(older) > 0 && msg.jump == 0 {
				cv.sel-- // carry on up into what just arrived
			}
		}
		if msg.err != nil {
			m.setError(fmt.Errorf("load messages: %w", msg.err))
		} else if msg.jump != 0 {
			m.jumped(msg.jump)
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
	if !mine {
		m.peerRead(chatID, msg.Seq) // whoever writes has read what came before
	}
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
			delete(m.removed, client.MessageRef{ChatID: ev.ChatID, Seq: ev.Message.Seq})
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
	case client.EventDelete, client.EventRemoved:
		m.markDeleted(ev.ChatID, ev.MessageSeq, ev.Kind == client.EventRemoved)
	case client.EventPin:
		m.setPinned(ev.ChatID, ev.MessageSeq)
	case client.EventUnpin:
		m.setPinned(ev.ChatID, 0)
	case client.EventEdit:
		if open && ev.Message != nil {
			cv := m.chat
			for i := range cv.msgs {
				if cv.msgs[i].Seq == ev.MessageSeq {
					cv.msgs[i] = *ev.Message
				}
			}
		}
		if i := m.dialogIndex(ev.ChatID); i >= 0 && ev.Message != nil {
			if last := m.dialogs[i].LastMessage; last != nil && last.Seq == ev.MessageSeq {
				m.dialogs[i].LastMessage = ev.Message
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
	case client.EventRead:
		return m.readMark(ev.ChatID, ev.UserID, ev.MessageSeq)
	}
	if open && m.chat.panel == panelMembers {
		switch ev.Kind {
		case client.EventJoin, client.EventLeave, client.EventRemove, client.EventRole:
			return m.loadPanelMembers() // someone else's change; the list shows it
		}
	}
	if m.dialogIndex(ev.ChatID) < 0 {
		return m.reloadDialogs() // a chat new to this device
	}
	return nil
}

// readMark applies a read mark the server pushed: user read the chat up to
// seq. Ours, from another device, clears the chat's unread count there; the
// other person's, in a private chat, shows our messages up to seq as read.
// It is no change to the chat, so a chat not on the list is not fetched.
func (m *tui) readMark(chatID, user, seq int64) tea.Cmd {
	var cv *chatView
	if m.chat != nil && m.chat.chat.ID == chatID {
		cv = m.chat
	}
	i := m.dialogIndex(chatID)
	if user != m.people.me {
		m.peerRead(chatID, seq)
		return nil
	}
	if cv != nil {
		cv.chat.ReadSeq = max(cv.chat.ReadSeq, seq)
	}
	if i < 0 {
		return nil
	}
	d := &m.dialogs[i]
	d.Chat.ReadSeq = max(d.Chat.ReadSeq, seq)
	switch {
	case d.LastMessage == nil || d.LastMessage.Seq <= seq:
		d.Unread = 0
	case d.Unread > 0:
		// Read part of the way: only the server can count what is left.
		return m.reloadDialogs()
	}
	return nil
}

// peerRead records that the other person in a private chat has read it up
// to seq, in the chat list and the open chat; a mark never goes back.
func (m *tui) peerRead(chatID, seq int64) {
	if cv := m.chat; cv != nil && cv.chat.ID == chatID && cv.chat.Kind == client.Private {
		cv.chat.PeerReadSeq = max(cv.chat.PeerReadSeq, seq)
	}
	if i := m.dialogIndex(chatID); i >= 0 && m.dialogs[i].Chat.Kind == client.Private {
		m.dialogs[i].Chat.PeerReadSeq = max(m.dialogs[i].Chat.PeerReadSeq, seq)
	}
}

// submit acts on what was typed in a chat: a message, or a /command.
func (m *tui) submit() tea.Cmd {
	m.chat.proposed = false
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
		case "/find":
			return m.find(arg)
		case "/members":
			return m.showMembers()
		case "/promote", "/kick":
			return m.memberCommand(name, arg)
		case "/help", "/?":
			m.setStatus("/file PATH [caption] · /save [PATH] · /report REASON [comment] · /find TEXT · /members · /promote @name admin|member · /kick @name · on the chosen message (↑↓): /reply TEXT (r), /edit TEXT (e), /delete [all] (d), /pin (p), /unpin, /forward @NAME (f) · /back · /quit · //text sends text starting with /")
			return nil
		default:
			if cmd, ok := m.messageCommand(name, arg); ok {
				return cmd
			}
			m.status, m.statusErr = fmt.Sprintf("Unknown command %s. Try /help; //%s sends it as text.", name, strings.TrimPrefix(name, "/")), true
			return nil
		}
	}
	if strings.HasPrefix(trimmed, "//") {
		text = strings.Replace(text, "//", "/", 1)
	}
	cv := m.chat
	mode, target := cv.mode, cv.target
	if mode != composeSend {
		cv.mode, cv.target, cv.sel = composeSend, 0, -1
		m.resetComposer()
	}
	m.input.Reset()
	m.setStatus("Sending…")
	ctx, c, chatID := m.ctx, m.s.c, cv.chat.ID
	if mode == composeEdit {
		m.setStatus("Saving…")
		return func() tea.Msg {
			msg, err := c.EditMessage(ctx, chatID, target, text)
			return sentMsg{chatID: chatID, msg: msg, text: text, mode: mode, target: target, err: err}
		}
	}
	return func() tea.Msg {
		msg, err := c.Send(ctx, chatID, client.SendParams{Text: text, ReplyTo: target})
		return sentMsg{chatID: chatID, msg: msg, text: text, mode: mode, target: target, err: err}
	}
}

// acted shows the outcome of a delete or a pin, and applies it at once
// rather than waiting for its event (a deletion for me has none).
func (m *tui) acted(msg actedMsg) tea.Cmd {
	if msg.err != nil {
		m.setError(msg.err)
		return nil
	}
	cv := m.chat
	open := cv != nil && cv.chat.ID == msg.chatID
	switch msg.kind {
	case "delete for me":
		m.setStatus("Deleted for you.")
		if open {
			if i := slices.IndexFunc(cv.msgs, func(x client.Message) bool { return x.Seq == msg.seq }); i >= 0 {
				cv.msgs = slices.Delete(cv.msgs, i, i+1)
				cv.sel = -1
			}
		}
	case "delete":
		m.setStatus("Deleted for everyone.")
		m.markDeleted(msg.chatID, msg.seq, false)
		if open {
			cv.sel = -1
		}
	case "pin", "unpin":
		m.setStatus("%sned.", strings.ToUpper(msg.kind[:1])+msg.kind[1:])
		m.setPinned(msg.chatID, msg.seq)
	}
	return nil
}

// markDeleted shows a message as deleted, or as removed by the moderators.
func (m *tui) markDeleted(chatID, seq int64, byModerators bool) {
	if byModerators {
		m.removed[client.MessageRef{ChatID: chatID, Seq: seq}] = true
	}
	if cv := m.chat; cv != nil && cv.chat.ID == chatID {
		for i := range cv.msgs {
			if cv.msgs[i].Seq == seq {
				cv.msgs[i].Deleted, cv.msgs[i].Text, cv.msgs[i].Media = true, "", nil
			}
		}
	}
	if i := m.dialogIndex(chatID); i >= 0 {
		if last := m.dialogs[i].LastMessage; last != nil && last.Seq == seq {
			d := *last
			d.Deleted, d.Text, d.Media = true, "", nil
			m.dialogs[i].LastMessage = &d
		}
	}
}

// setPinned records the chat's pinned message (0 for none).
func (m *tui) setPinned(chatID, seq int64) {
	if cv := m.chat; cv != nil && cv.chat.ID == chatID {
		cv.chat.PinnedSeq = seq
	}
	if i := m.dialogIndex(chatID); i >= 0 {
		m.dialogs[i].Chat.PinnedSeq = seq
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

// listCommand acts on a command typed on the chat list: "join LINK|@name"
// or "search TEXT".
func (m *tui) listCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	ctx, c, server := m.ctx, m.s.c, m.s.server
	switch name {
	case "join", "j":
		if arg == "" {
			m.status, m.statusErr = "Name what to join: /join https://HOST/join/CODE, or /join @name for a public group or channel.", true
			return nil
		}
		m.setStatus("Joining %s…", arg)
		return func() tea.Msg {
			ch, err := joinChat(ctx, c, arg)
			if err != nil {
				return openedMsg{err: fmt.Errorf("join %s: %w", arg, explainErr(server, err))}
			}
			return openedMsg{chat: ch}
		}
	case "search", "s":
		if arg == "" {
			m.status, m.statusErr = "Say what to look for: /search TEXT.", true
			return nil
		}
		m.setStatus("Searching for %q…", arg)
		return func() tea.Msg {
			chats, err := c.SearchChats(ctx, arg, 20)
			return searchMsg{query: arg, chats: chats, err: err}
		}
	default:
		m.status, m.statusErr = fmt.Sprintf("Unknown command /%s. On the chat list: /join LINK|@name, /search TEXT.", name), true
		return nil
	}
}

// searchMsg brings the public chats /search found.
type searchMsg struct {
	query string
	chats []client.Chat
	err   error
}

// joinChat joins what target names and returns the chat: an invite link
// (https://HOST/join/CODE), a bare invite code, or @name, a public group
// or channel (which a member just opens).
func joinChat(ctx context.Context, c *client.Client, target string) (client.Chat, error) {
	if name, ok := strings.CutPrefix(target, "@"); ok {
		ch, err := c.ChatByUsername(ctx, name)
		if err != nil {
			if client.IsCode(err, kurir.ENotFound) {
				return ch, fmt.Errorf("there is no public group or channel %s", target)
			}
			return ch, err
		}
		if ch.Role != "" {
			return ch, nil
		}
		return c.Join(ctx, ch.ID)
	}
	code := target
	if _, after, ok := strings.Cut(target, "/join/"); ok {
		code, _, _ = strings.Cut(after, "?")
		code = strings.TrimRight(code, "/#")
	}
	if code == "" || strings.ContainsAny(code, "/ ") {
		return client.Chat{}, fmt.Errorf("%q is not an invite link (https://HOST/join/CODE) or @name", target)
	}
	ch, err := c.JoinByInvite(ctx, code)
	if client.IsCode(err, kurir.ENotFound) {
		return ch, errors.New("no such invite link: it may have expired or been revoked")
	}
	return ch, err
}

// resultsKey handles a key on the list of public chats /search found.
func (m *tui) resultsKey(k tea.KeyPressMsg) tea.Cmd {
	switch keyName(k) {
	case "q":
		return tea.Quit
	case "esc", "left", "h":
		m.results = nil
		m.setStatus("")
	case "up", "k":
		m.resultSel = max(m.resultSel-1, 0)
	case "down", "j":
		m.resultSel = min(m.resultSel+1, max(len(m.results)-1, 0))
	case "/", "s":
		m.results = nil
		return m.listKey(k)
	case "enter", "right", "l":
		if m.resultSel >= len(m.results) {
			return nil
		}
		ch := m.results[m.resultSel]
		m.results = nil
		if ch.Role != "" {
			return m.openChat(ch)
		}
		m.setStatus("Joining %s…", m.people.title(ch))
		ctx, c, server := m.ctx, m.s.c, m.s.server
		return func() tea.Msg {
			joined, err := c.Join(ctx, ch.ID)
			if err != nil {
				return openedMsg{err: fmt.Errorf("join: %w", explainErr(server, err))}
			}
			return openedMsg{chat: joined}
		}
	}
	return nil
}

// quote is a message fetched to be quoted: done once the fetch answered,
// found if the message is there to show.
type quote struct {
	msg         client.Message
	done, found bool
}

// quoteMsg brings a quoted message.
type quoteMsg struct {
	ref   client.MessageRef
	msg   client.Message
	found bool
}

// findMessage is the message seq of the open chat, from those loaded or
// fetched to quote; nil if it is neither (yet).
func (m *tui) findMessage(seq int64) *client.Message {
	cv := m.chat
	if cv == nil || seq == 0 {
		return nil
	}
	if i, ok := slices.BinarySearchFunc(cv.msgs, seq, func(a client.Message, seq int64) int { return cmp.Compare(a.Seq, seq) }); ok {
		return &cv.msgs[i]
	}
	if q := m.quotes[client.MessageRef{ChatID: cv.chat.ID, Seq: seq}]; q.found {
		return &q.msg
	}
	return nil
}

// fetchQuotes fetches, once each, the messages the open chat's replies
// answer and its pinned message, when they are not loaded.
func (m *tui) fetchQuotes() tea.Cmd {
	cv := m.chat
	if cv == nil || !cv.loaded {
		return nil
	}
	var want []int64
	for _, msg := range cv.msgs {
		if msg.ReplyTo != 0 {
			want = append(want, msg.ReplyTo)
		}
	}
	want = append(want, cv.chat.PinnedSeq)
	var cmds []tea.Cmd
	ctx, c, chatID := m.ctx, m.s.c, cv.chat.ID
	for _, seq := range want {
		ref := client.MessageRef{ChatID: chatID, Seq: seq}
		if _, asked := m.quotes[ref]; seq == 0 || asked || m.findMessage(seq) != nil {
			continue
		}
		m.quotes[ref] = quote{}
		cmds = append(cmds, func() tea.Msg {
			// The first message from seq on is the one, unless it is gone.
			page, err := c.History(ctx, chatID, client.After(seq-1), 1)
			if err != nil || len(page) == 0 || page[0].Seq != seq {
				return quoteMsg{ref: ref}
			}
			return quoteMsg{ref: ref, msg: page[0], found: true}
		})
	}
	return tea.Batch(cmds...)
}

// snippet is a message in brief, for a reply's quote and the pinned bar.
func (m *tui) snippet(msg *client.Message) string {
	if msg == nil {
		return "a message no longer here"
	}
	return m.people.sender(msg.SenderID) + ": " + m.body(msg, " ")
}

// body is a message's content as the full-screen client shows it: as
// people.body, except that a message the moderators removed says so.
func (m *tui) body(msg *client.Message, newline string) string {
	if msg.Deleted && m.removed[client.MessageRef{ChatID: msg.ChatID, Seq: msg.Seq}] {
		return "(removed by the moderators)"
	}
	return m.people.body(msg, false, newline)
}

// chosen is the chosen message of the open chat, or nil.
func (m *tui) chosen() *client.Message {
	cv := m.chat
	if cv == nil || cv.sel < 0 || cv.sel >= len(cv.msgs) {
		return nil
	}
	return &cv.msgs[cv.sel]
}

// actionKey acts on a letter pressed with a message chosen and nothing
// typed: r replies, e edits, and d, p and f put the command to delete, pin
// or forward in the composer, for enter to confirm. It reports whether the
// key was such a letter.
func (m *tui) actionKey(key string) (tea.Cmd, bool) {
	msg := m.chosen()
	if msg == nil || m.input.Value() != "" || m.chat.mode != composeSend {
		return nil, false
	}
	switch key {
	case "r":
		return m.startReply(msg), true
	case "e":
		return m.startEdit(msg), true
	case "d":
		cmd := "/delete"
		if msg.SenderID == m.people.me {
			cmd = "/delete all"
		}
		m.input.SetValue(cmd)
		m.setStatus("Enter deletes the chosen message (/delete: for you; /delete all: for everyone); esc cancels.")
	case "p":
		cmd := "/pin"
		if msg.Seq == m.chat.chat.PinnedSeq {
			cmd = "/unpin"
		}
		m.input.SetValue(cmd)
		m.setStatus("Enter %ss the chosen message; esc cancels.", cmd[1:])
	case "f":
		m.input.SetValue("/forward @")
		m.setStatus("Forward the chosen message to @username, @channel, a chat's title or its ID; enter sends, esc cancels.")
	default:
		return nil, false
	}
	m.chat.proposed = true
	m.input.CursorEnd()
	return nil, true
}

func (m *tui) startReply(msg *client.Message) tea.Cmd {
	if msg.Deleted {
		m.status, m.statusErr = "That message is deleted; choose another.", true
		return nil
	}
	cv := m.chat
	cv.mode, cv.target = composeReply, msg.Seq
	m.input.Prompt = "↪ " + ansi.Truncate(m.people.name(msg.SenderID), 20, "…") + "> "
	m.sizeInput()
	m.setStatus("Replying to %s; enter sends, esc cancels.", ansi.Truncate(m.snippet(msg), 60, "…"))
	return nil
}

func (m *tui) startEdit(msg *client.Message) tea.Cmd {
	switch {
	case msg.SenderID != m.people.me:
		m.status, m.statusErr = "You can edit only your own messages.", true
		return nil
	case msg.Deleted || msg.Withheld != nil || msg.Forward != nil:
		m.status, m.statusErr = "That message cannot be edited.", true
		return nil
	}
	cv := m.chat
	cv.mode, cv.target = composeEdit, msg.Seq
	m.input.Prompt = "edit> "
	m.sizeInput()
	m.input.SetValue(msg.Text)
	m.input.CursorEnd()
	m.setStatus("Editing your message; enter saves, esc cancels.")
	return nil
}

// cancelMode leaves replying or editing.
func (m *tui) cancelMode() {
	m.chat.mode, m.chat.target, m.chat.proposed = composeSend, 0, false
	m.resetComposer()
	m.setStatus("")
}

// actedMsg is the answer to a delete or a pin.
type actedMsg struct {
	chatID int64
	seq    int64
	kind   string // "delete", "delete for me", "pin" or "unpin"
	err    error
}

// forwardedMsg is the answer to a forward.
type forwardedMsg struct {
	chatID int64
	title  string
	msg    client.Message
	err    error
}

// messageCommand acts on "/reply", "/edit", "/delete", "/pin", "/unpin" and
// "/forward" for the chosen message; handled is false for other commands.
func (m *tui) messageCommand(name, arg string) (cmd tea.Cmd, handled bool) {
	switch name {
	case "/reply", "/edit", "/delete", "/pin", "/unpin", "/forward":
	default:
		return nil, false
	}
	msg := m.chosen()
	if msg == nil && name != "/unpin" {
		m.status, m.statusErr = fmt.Sprintf("Choose a message first with ↑ ↓, then %s.", name), true
		return nil, true
	}
	ctx, c, server, chatID := m.ctx, m.s.c, m.s.server, m.chat.chat.ID
	switch name {
	case "/reply":
		m.input.Reset()
		m.startReply(msg)
		if arg != "" && m.chat.mode == composeReply {
			m.input.SetValue(arg)
			return m.submit(), true
		}
	case "/edit":
		m.input.Reset()
		m.startEdit(msg)
		if arg != "" && m.chat.mode == composeEdit {
			m.input.SetValue(arg)
			return m.submit(), true
		}
	case "/delete":
		forMe := arg != "all"
		if arg != "" && arg != "all" {
			m.status, m.statusErr = "/delete deletes the chosen message for you; /delete all, for everyone.", true
			return nil, true
		}
		m.input.Reset()
		m.setStatus("Deleting…")
		seq, kind := msg.Seq, "delete"
		if forMe {
			kind = "delete for me"
		}
		return func() tea.Msg {
			err := c.DeleteMessage(ctx, chatID, seq, forMe)
			return actedMsg{chatID: chatID, seq: seq, kind: kind, err: explainErr(server, err)}
		}, true
	case "/pin", "/unpin":
		// Who may pin is the server's to say; its refusal says why.
		seq, kind := int64(0), "unpin"
		if name == "/pin" {
			seq, kind = msg.Seq, "pin"
		}
		m.input.Reset()
		m.setStatus("%sning…", strings.ToUpper(kind[:1])+kind[1:])
		return func() tea.Msg {
			err := c.Pin(ctx, chatID, seq)
			return actedMsg{chatID: chatID, seq: seq, kind: kind, err: explainErr(server, err)}
		}, true
	case "/forward":
		target := strings.TrimSpace(arg)
		if target == "" || target == "@" {
			m.status, m.statusErr = "Say where to: /forward @username, @channel, a chat's title or its ID.", true
			return nil, true
		}
		if msg.Deleted || msg.Withheld != nil {
			m.status, m.statusErr = "That message cannot be forwarded.", true
			return nil, true
		}
		m.input.Reset()
		m.setStatus("Forwarding…")
		from := client.MessageRef{ChatID: chatID, Seq: msg.Seq}
		dialogs := slices.Clone(m.dialogs)
		p := m.people
		return func() tea.Msg {
			to, err := forwardTarget(ctx, c, p, dialogs, target)
			if err != nil {
				return forwardedMsg{err: fmt.Errorf("forward to %s: %w", target, explainErr(server, err))}
			}
			sent, err := c.Send(ctx, to.ID, client.SendParams{ForwardFrom: &from})
			if err != nil {
				return forwardedMsg{err: fmt.Errorf("forward to %s: %w", p.title(to), explainErr(server, err))}
			}
			return forwardedMsg{chatID: to.ID, title: p.title(to), msg: sent}
		}, true
	}
	return nil, true
}

// forwardTarget finds the chat a forward goes to: a chat of the list by
// ID or title, or @name, a public group or channel, else the private chat
// with that user.
func forwardTarget(ctx context.Context, c *client.Client, p people, dialogs []client.Dialog, target string) (client.Chat, error) {
	if name, ok := strings.CutPrefix(target, "@"); ok {
		for _, d := range dialogs {
			if d.Chat.Username != "" && strings.EqualFold(d.Chat.Username, name) {
				return d.Chat, nil
			}
		}
		ch, err := c.ChatByUsername(ctx, name)
		if err == nil {
			return ch, nil
		}
		if !client.IsCode(err, kurir.ENotFound) {
			return ch, err
		}
		u, err := c.User(ctx, name)
		if client.IsCode(err, kurir.ENotFound) {
			return client.Chat{}, fmt.Errorf("nobody and no public chat is named %s", target)
		} else if err != nil {
			return client.Chat{}, err
		}
		return c.OpenPrivateChat(ctx, u.ID)
	}
	match := func(ch client.Chat) bool {
		return strings.EqualFold(p.title(ch), target) || fmt.Sprint(ch.ID) == target
	}
	for _, d := range dialogs {
		if match(d.Chat) {
			return d.Chat, nil
		}
	}
	// A chat new since the list was loaded.
	n := 0
	for d, err := range c.AllDialogs(ctx, 100) {
		if err != nil {
			return client.Chat{}, err
		}
		if match(d.Chat) {
			return d.Chat, nil
		}
		if n++; n >= 1000 {
			break
		}
	}
	return client.Chat{}, fmt.Errorf("no chat in your list is called %q", target)
}
