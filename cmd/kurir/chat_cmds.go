package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
	"golang.org/x/term"

	"kurir"
	"kurir/client"
)

const chatLoginHelp = `Usage: kurir chat login --server URL --username NAME [flags]

Logs in and saves the session, so that the other chat commands act as this
account on this server. The password is read from the terminal (not shown),
or as the first line of standard input when that is not a terminal:

  printf '%s\n' "$PASSWORD" | kurir chat login --server https://chat.example --username alice
`

func (c *chatCmd) login(ctx context.Context, args []string) error {
	var username, device string
	e := c.flags("login", chatLoginHelp)
	e.string(&username, "username", "KURIR_USERNAME", "", "the account's username")
	e.string(&device, "device", "KURIR_DEVICE_NAME", defaultDeviceName(), "how this session appears in the account's list of devices")
	pos, err := c.parse(e, args, 1)
	if err != nil {
		return err
	}
	if username == "" && len(pos) == 1 {
		username = pos[0]
	}
	store, err := c.openStore()
	if err != nil {
		return err
	}
	server := normalizeServer(c.server)
	if server == "" {
		server = store.Current
	}
	switch {
	case server == "":
		e.fs.Usage()
		return usagef("chat login: --server URL is required, e.g. --server http://127.0.0.1:8080")
	case username == "":
		e.fs.Usage()
		return usagef("chat login: --username NAME is required")
	}
	password, err := c.readPassword(fmt.Sprintf("Password for %s at %s: ", username, server))
	if err != nil {
		return err
	}
	res, err := logIn(ctx, store, server, username, password, device, func() (string, error) {
		return c.readPassword("Code from your authenticator app: ")
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "logged in to %s as %s; the session is saved in %s\n", server, res.User.Username, store.path)
	return nil
}

// logIn opens a session on server and saves it in store as the current
// one: what "kurir chat login" and the full-screen client's own login do.
// An account with an authenticator app is asked for its code (code) when
// the server says one is needed. The names the store remembers for the
// same account are kept.
func logIn(ctx context.Context, store *sessionStore, server, username, password, device string, code func() (string, error)) (client.LoginResult, error) {
	cl := client.New(server, client.WithUserAgent(chatUserAgent()))
	p := client.LoginParams{Username: username, Password: password, DeviceName: device}
	res, err := cl.Login(ctx, p)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Reason == "totp_required" {
		if p.TOTP, err = code(); err != nil {
			return res, err
		}
		res, err = cl.Login(ctx, p)
	}
	if err != nil {
		return res, fmt.Errorf("log in to %s: %w", server, explainErr(server, err))
	}
	saved := &savedSession{Token: res.Token, UserID: res.User.ID, Username: res.User.Username, SessionID: res.Session.ID, SavedAt: time.Now().UTC()}
	if old := store.Servers[server]; old != nil && old.UserID == saved.UserID {
		saved.Names = old.Names
	}
	store.Servers[server] = saved
	store.Current = server
	return res, store.save()
}

// readPassword reads a password from the terminal without echo, or the
// first line of standard input.
func (c *chatCmd) readPassword(prompt string) (string, error) {
	if fd, ok := isTerminal(c.stdin); ok {
		fmt.Fprint(c.stderr, prompt)
		p, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(p), nil
	}
	if c.lines == nil {
		c.lines = bufio.NewReader(c.stdin) // one reader, so a second answer (a code) is the next line
	}
	line, err := c.lines.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("nothing given for %q: type it when asked, or give the password and then the code, a line each, on standard input", strings.TrimSpace(prompt))
	}
	return line, nil
}

func defaultDeviceName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return "kurir chat on " + h
	}
	return "kurir chat"
}

const chatLogoutHelp = `Usage: kurir chat logout [flags]

Ends the saved session on the server (it stops working on every copy of the
token) and removes it from the session file.
`

func (c *chatCmd) logout(ctx context.Context, args []string) error {
	e := c.flags("logout", chatLogoutHelp)
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	// A session the server no longer knows is as good as ended.
	if err := s.c.Logout(ctx); err != nil && !client.IsCode(err, kurir.EUnauthenticated) {
		return fmt.Errorf("log out of %s: %w (the saved session is kept)", s.server, s.explain(err))
	}
	if s.saved != nil {
		// Current stays, so that the next command says to log in again.
		delete(s.store.Servers, s.server)
		if err := s.store.save(); err != nil {
			return err
		}
		if err := forgetSecretDevice(s.store.path, s.server, s.saved.SessionID); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "logged out of %s\n", s.server)
	return nil
}

const chatListHelp = `Usage: kurir chat list [flags]

Prints the chat list, most recently active first: each chat's ID (for
--chat), kind, unread messages, name and last message. --json prints one
JSON object a line instead, as GET /api/v1/dialogs returns them.
`

func (c *chatCmd) list(ctx context.Context, args []string) error {
	var asJSON bool
	e := c.flags("list", chatListHelp)
	e.fs.BoolVar(&asJSON, "json", false, "print JSON lines")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	var dialogs []client.Dialog
	for d, err := range s.c.AllDialogs(ctx, 100) {
		if err != nil {
			return s.explain(err)
		}
		if asJSON {
			if err := enc.Encode(d); err != nil {
				return err
			}
			continue
		}
		dialogs = append(dialogs, d)
	}
	if asJSON {
		return nil
	}
	for _, d := range dialogs {
		s.knowChats(d.Chat)
	}
	s.learnNames(ctx, dialogNames(dialogs)...)
	p := s.people()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHAT\tKIND\tUNREAD\tNAME\tLAST MESSAGE")
	for _, d := range dialogs {
		last := "-"
		if m := d.LastMessage; m != nil {
			last = truncate(p.sender(m.SenderID)+": "+p.body(m, false, " ⏎ "), 60)
		}
		if d.Chat.Unavailable != "" {
			last = truncate("taken down by the moderators: "+d.Chat.Unavailable, 60)
		}
		if d.Chat.Withheld != nil {
			last = truncate(d.Chat.Withheld.String(), 60)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", d.Chat.ID, d.Chat.Kind, d.Unread, truncate(p.title(d.Chat), 30), last)
	}
	return tw.Flush()
}

// dialogNames are the people a chat list names: the other person of each
// private chat, and the sender of each chat's last message.
func dialogNames(ds []client.Dialog) []nameRef {
	var refs []nameRef
	for _, d := range ds {
		if d.Chat.Kind == client.Private && d.Chat.PeerID != 0 {
			refs = append(refs, nameRef{d.Chat.ID, d.Chat.PeerID})
		}
		if m := d.LastMessage; m != nil {
			refs = append(refs, nameRef{d.Chat.ID, m.SenderID})
		}
	}
	return refs
}

const chatHistoryHelp = `Usage: kurir chat history --chat ID|--to @NAME [flags]

Prints a chat's latest messages, oldest first, one a line. An attachment
shows its media ID, for "kurir chat download --media ID". --json prints
one message a line as the API returns it.
`

func (c *chatCmd) history(ctx context.Context, args []string) error {
	var t chatTarget
	var limit int
	var asJSON bool
	e := c.flags("history", chatHistoryHelp)
	t.register(e)
	e.fs.IntVar(&limit, "limit", 20, "how many messages, 1 to 100")
	e.fs.BoolVar(&asJSON, "json", false, "print JSON lines")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if err := t.check(e, true); err != nil {
		return err
	}
	if limit < 1 || limit > 100 {
		return usagef("chat history: --limit %d: want 1 to 100", limit)
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	chatID, err := s.chatByTarget(ctx, t.chat, t.to)
	if err != nil {
		return err
	}
	ch, err := s.c.Chat(ctx, chatID)
	if err != nil {
		return s.explain(err)
	}
	msgs, err := s.c.History(ctx, chatID, client.Before(0), limit)
	if err != nil {
		return s.explain(err)
	}
	slices.Reverse(msgs)
	if !asJSON {
		s.learnNames(ctx, messageNames(ch, msgs)...)
	}
	p := s.people()
	enc := json.NewEncoder(c.stdout)
	for i := range msgs {
		if asJSON {
			if err := enc.Encode(msgs[i]); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(c.stdout, p.line(p.title(ch), &msgs[i]))
	}
	return nil
}

// chatTarget is the chat a command acts on: --chat ID or --to @username.
type chatTarget struct {
	chat int64
	to   string
}

func (t *chatTarget) register(e envFlags) {
	e.fs.Int64Var(&t.chat, "chat", 0, "the chat's ID, as kurir chat list shows it")
	e.fs.StringVar(&t.to, "to", "", "@username: the private chat with this user, opened if new")
}

// check enforces one of --chat and --to (or at most one, if !required).
func (t *chatTarget) check(e envFlags, required bool) error {
	name := e.fs.Name()
	switch {
	case t.chat != 0 && t.to != "":
		return usagef("%s: give --chat or --to, not both", name)
	case t.chat < 0:
		return usagef("%s: --chat %d: want a chat ID from kurir chat list", name, t.chat)
	case required && t.chat == 0 && t.to == "":
		e.fs.Usage()
		return usagef("%s: name the chat with --chat ID or --to @username", name)
	}
	return nil
}

const chatSendHelp = `Usage: kurir chat send --chat ID|--to @NAME [--file PATH] [flags] [TEXT...]

Sends a message and prints it as stored. The text is the arguments, or, if
there are none and no --file, standard input. With --file the file is
uploaded first (resuming after a broken connection) and sent with the text
as its caption. A text the server refuses, such as one that is too long,
is reported with the server's reason, and the exit status is 1.

  kurir chat send --to @bob 'see you at 8'
  kurir chat send --chat 12 --file beach.jpg 'the beach'
  date | kurir chat send --chat 12
`

func (c *chatCmd) send(ctx context.Context, args []string) error {
	var t chatTarget
	var file string
	var asJSON bool
	e := c.flags("send", chatSendHelp)
	t.register(e)
	e.fs.StringVar(&file, "file", "", "a photo, video or other file to send")
	e.fs.BoolVar(&asJSON, "json", false, "print the stored message as JSON")
	pos, err := c.parse(e, args, -1)
	if err != nil {
		return err
	}
	if err := t.check(e, true); err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	if len(pos) == 0 && file == "" {
		if _, tty := isTerminal(c.stdin); tty || c.stdin == nil {
			e.fs.Usage()
			return usagef("chat send: give the text as arguments, or on standard input, or a --file")
		}
		data, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read the text from standard input: %w", err)
		}
		text = strings.TrimRight(string(data), "\r\n")
		if strings.TrimSpace(text) == "" {
			return usagef("chat send: standard input is empty: nothing to send")
		}
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	chatID, err := s.chatByTarget(ctx, t.chat, t.to)
	if err != nil {
		return err
	}
	params := client.SendParams{Text: text}
	if file != "" {
		var progress func(sent, total int64)
		if _, ok := isTerminal(c.stderr); ok {
			progress = throttled(200*time.Millisecond, func(sent, total int64) {
				fmt.Fprintf(c.stderr, "\ruploading %s: %s", filepath.Base(file), describeProgress(sent, total))
			})
		}
		m, err := uploadFile(ctx, s.c, file, progress)
		if progress != nil {
			fmt.Fprintln(c.stderr)
		}
		if err != nil {
			return fmt.Errorf("upload %s: %w", file, s.explain(err))
		}
		if m.Status == "held" {
			return fmt.Errorf("upload %s: the server holds the file for review, so it cannot be sent yet", file)
		}
		params.MediaID = m.ID
	}
	msg, err := s.c.Send(ctx, chatID, params)
	if err != nil {
		return fmt.Errorf("send to chat %d: %w", chatID, s.explain(err))
	}
	if asJSON {
		return json.NewEncoder(c.stdout).Encode(msg)
	}
	ch, err := s.c.Chat(ctx, chatID)
	if err != nil {
		return s.explain(err)
	}
	s.learnNames(ctx, messageNames(ch, nil)...)
	p := s.people()
	fmt.Fprintln(c.stdout, p.line(p.title(ch), &msg))
	return nil
}

// messageNames are the people that printing a chat's messages names: the
// senders, and the other person of a private chat, whose name is its title.
func messageNames(ch client.Chat, msgs []client.Message) []nameRef {
	var refs []nameRef
	if ch.Kind == client.Private && ch.PeerID != 0 {
		refs = append(refs, nameRef{ch.ID, ch.PeerID})
	}
	for _, m := range msgs {
		refs = append(refs, nameRef{ch.ID, m.SenderID})
		if f := m.Forward; f != nil && f.SenderID != 0 {
			refs = append(refs, nameRef{f.ChatID, f.SenderID})
		}
	}
	return refs
}

const chatTailHelp = `Usage: kurir chat tail [--chat ID|--to @NAME] [flags]

Prints messages as they arrive, one a line, until interrupted (Ctrl-C):
every chat's, or one chat's. Edits, deletions and removals by the
moderators print a line too. It reconnects by itself and prints what
arrived meanwhile, in order, without repeats. --json prints each change as a JSON object a line instead, in the
form of the API's update events. A line saying it is waiting for messages
goes to standard error once it is connected.
`

func (c *chatCmd) tail(ctx context.Context, args []string) error {
	var t chatTarget
	var asJSON bool
	e := c.flags("tail", chatTailHelp)
	t.register(e)
	e.fs.BoolVar(&asJSON, "json", false, "print JSON lines")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if err := t.check(e, false); err != nil {
		return err
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	only, err := s.chatByTarget(ctx, t.chat, t.to)
	if err != nil {
		return err
	}
	tl := &tailer{s: s, only: only, people: s.people(), chats: map[int64]client.Chat{}, last: map[int64]int64{}, asked: map[nameRef]bool{}, out: c.stdout}
	if asJSON {
		tl.enc = json.NewEncoder(c.stdout)
	}
	// Where each chat stands now: what comes after is news. The stream
	// connects after this, so nothing falls between the two.
	if err := tl.loadChats(ctx); err != nil {
		return err
	}
	if only != 0 {
		if _, ok := tl.chats[only]; !ok {
			ch, err := s.c.Chat(ctx, only)
			if err != nil {
				return s.explain(err)
			}
			tl.chats[only], tl.last[only] = ch, ch.Seq
		}
	}
	live, err := s.c.Live(ctx)
	if err != nil {
		return s.explain(err)
	}
	defer live.Close()
	// A reset may have skipped messages sent between loadChats and Live.
	if err := tl.catchUp(ctx); err != nil {
		return err
	}
	if only != 0 {
		tl.learn(ctx, messageNames(tl.chats[only], nil)...)
		fmt.Fprintf(c.stderr, "waiting for messages in %s on %s (Ctrl-C to stop)\n", tl.people.title(tl.chats[only]), s.server)
	} else {
		fmt.Fprintf(c.stderr, "waiting for messages on %s (Ctrl-C to stop)\n", s.server)
	}
	for ev := range live.Events() {
		var err error
		if ev.Reset {
			err = tl.catchUp(ctx)
		} else {
			err = tl.event(ctx, ev.Event)
		}
		if err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil // interrupted: the normal end
	}
	return s.explain(live.Err())
}

// tailer prints the changes "kurir chat tail" receives.
type tailer struct {
	s      *session
	only   int64 // the one chat to print, or 0 for all
	people people
	chats  map[int64]client.Chat
	// last is the seq up to which each chat's messages are printed (or
	// were there before the tail started).
	last  map[int64]int64
	asked map[nameRef]bool // names looked up, found or not
	out   io.Writer
	enc   *json.Encoder // for --json
}

// learn looks up the people refs name whom the tail cannot name yet, once
// each, so that a line names its sender.
func (tl *tailer) learn(ctx context.Context, refs ...nameRef) {
	var todo []nameRef
	for _, r := range refs {
		if tl.people.unknown(r.user) && !tl.asked[r] {
			tl.asked[r] = true
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return
	}
	for _, r := range tl.s.learnNames(ctx, todo...) {
		delete(tl.asked, r) // the server could not be asked: another time
	}
	tl.people = tl.s.people()
}

func (tl *tailer) loadChats(ctx context.Context) error {
	for d, err := range tl.s.c.AllDialogs(ctx, 100) {
		if err != nil {
			return tl.s.explain(err)
		}
		tl.chats[d.Chat.ID] = d.Chat
		tl.last[d.Chat.ID] = max(tl.last[d.Chat.ID], d.Chat.Seq)
		tl.s.knowChats(d.Chat)
	}
	tl.people = tl.s.people()
	return nil
}

// catchUp prints the messages the stream could not replay, after it fell
// too far behind: every chat's history after the last one printed.
func (tl *tailer) catchUp(ctx context.Context) error {
	for d, err := range tl.s.c.AllDialogs(ctx, 100) {
		if err != nil {
			return tl.s.explain(err)
		}
		id := d.Chat.ID
		tl.chats[id] = d.Chat
		if tl.only != 0 && id != tl.only {
			continue
		}
		for d.LastMessage != nil && d.LastMessage.Seq > tl.last[id] {
			page, err := tl.s.c.History(ctx, id, client.After(tl.last[id]), 100)
			if err != nil {
				return tl.s.explain(err)
			}
			if len(page) == 0 {
				break
			}
			for i := range page {
				m := &page[i]
				ev := client.Event{ChatID: id, Seq: m.Seq, Kind: client.EventMessage, ActorID: m.SenderID, MessageSeq: m.Seq, At: m.CreatedAt, Message: m}
				if err := tl.event(ctx, ev); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (tl *tailer) event(ctx context.Context, ev client.Event) error {
	if tl.only != 0 && ev.ChatID != tl.only {
		return nil
	}
	switch ev.Kind {
	case client.EventMessage:
		if ev.Message == nil || ev.Message.Seq <= tl.last[ev.ChatID] {
			return nil // printed already
		}
		tl.last[ev.ChatID] = ev.Message.Seq
	case client.EventEdit, client.EventDelete, client.EventRemoved:
	default:
		return nil
	}
	if tl.enc != nil {
		return tl.enc.Encode(ev)
	}
	ch, ok := tl.chats[ev.ChatID]
	if !ok {
		// A chat that is new since the tail started.
		c, err := tl.s.c.Chat(ctx, ev.ChatID)
		if err != nil {
			c = client.Chat{ID: ev.ChatID, Kind: client.Group}
		}
		tl.chats[ev.ChatID], ch = c, c
	}
	refs := messageNames(ch, nil)
	if ev.Kind == client.EventDelete {
		refs = append(refs, nameRef{ev.ChatID, ev.ActorID})
	} else if ev.Message != nil {
		refs = append(refs, messageNames(ch, []client.Message{*ev.Message})...)
	}
	tl.learn(ctx, refs...)
	title := tl.people.title(ch)
	var err error
	switch {
	case ev.Kind == client.EventRemoved:
		_, err = fmt.Fprintf(tl.out, "%s [%s] a message was removed by the moderators\n", ev.At.Local().Format(time.DateTime), title)
	case ev.Kind == client.EventDelete:
		_, err = fmt.Fprintf(tl.out, "%s [%s] %s deleted a message\n", ev.At.Local().Format(time.DateTime), title, tl.people.sender(ev.ActorID))
	case ev.Message != nil:
		_, err = fmt.Fprintln(tl.out, tl.people.line(title, ev.Message))
	}
	return err
}

// line shows a message on one line, as the non-interactive commands print it.
func (p people) line(title string, m *client.Message) string {
	at := m.CreatedAt
	if !m.EditedAt.IsZero() {
		at = m.EditedAt
	}
	return fmt.Sprintf("%s [%s] %s: %s", at.Local().Format(time.DateTime), title, p.sender(m.SenderID), p.body(m, true, " ⏎ "))
}

const chatDownloadHelp = `Usage: kurir chat download --media ID [--out PATH] [flags]

Saves an attachment: the media ID is in the brackets of a message's line
("[photo beach.jpg 800×600, 120 kB, media 42]"). Without --out the file
keeps its name, in the current directory; --out - writes it to standard
output. An existing file is replaced only with --force. The content is
checked against the SHA-256 the server gives for it.
`

func (c *chatCmd) download(ctx context.Context, args []string) error {
	var id int64
	var out string
	var force bool
	e := c.flags("download", chatDownloadHelp)
	e.fs.Int64Var(&id, "media", 0, "the media ID to download")
	e.fs.StringVar(&out, "out", "", "where to save it; - for standard output (default: its name, in the current directory)")
	e.fs.BoolVar(&force, "force", false, "replace an existing file")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if id <= 0 {
		e.fs.Usage()
		return usagef("chat download: --media ID is required")
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	m, err := s.c.GetMedia(ctx, id)
	if err != nil {
		return fmt.Errorf("media %d: %w", id, s.explain(err))
	}
	if out == "-" {
		h := sha256.New()
		if _, err := s.c.Download(ctx, id, io.MultiWriter(c.stdout, h)); err != nil {
			return fmt.Errorf("download media %d: %w", id, s.explain(err))
		}
		return checkSum(h.Sum(nil), m.SHA256)
	}
	if out == "" {
		out = safeFileName(m.Name, id)
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, safeFileName(m.Name, id))
	}
	n, err := saveMedia(ctx, s.c, m, out, force)
	if err != nil {
		return s.explain(err)
	}
	fmt.Fprintf(c.stdout, "saved %s (%s) to %s\n", displayText(m.Name, " "), humanize.Bytes(uint64(n)), out)
	return nil
}

// saveMedia downloads m to path through a temporary file beside it, so
// that a broken download never leaves a partial file under the name, and
// checks the content against the server's SHA-256. It replaces an existing
// file only if replace is set.
func saveMedia(ctx context.Context, c *client.Client, m client.Media, path string, replace bool) (int64, error) {
	if _, err := os.Lstat(path); err == nil && !replace {
		return 0, fmt.Errorf("%s exists: give --force to replace it, or --out another path", path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := c.Download(ctx, m.ID, io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("download media %d: %w", m.ID, err)
	}
	if err := checkSum(h.Sum(nil), m.SHA256); err != nil {
		return n, err
	}
	if !replace {
		// Link rather than rename, so that a file created meanwhile is
		// not silently replaced.
		if err := os.Link(f.Name(), path); err == nil {
			return n, nil
		} else if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%s exists: give --force to replace it, or --out another path", path)
		}
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return n, err
	}
	return n, nil
}

func checkSum(got []byte, want string) error {
	if want != "" && !strings.EqualFold(hex.EncodeToString(got), want) {
		return fmt.Errorf("the download does not match the file's SHA-256 (%s): it was damaged on the way; try again", want)
	}
	return nil
}

// safeFileName turns a name the server gives into a file name that stays
// in the directory it is saved to.
func safeFileName(name string, id int64) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f || isBidiControl(r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		return fmt.Sprintf("media-%d", id)
	}
	return truncate(name, 200)
}

// uploadFile uploads the file at path as a resumable upload. progress, if
// not nil, is told how many bytes have gone to the network so far, while
// they go; it may be called from another goroutine.
func uploadFile(ctx context.Context, c *client.Client, path string, progress func(sent, total int64)) (client.Media, error) {
	f, err := os.Open(path)
	if err != nil {
		return client.Media{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return client.Media{}, err
	}
	switch {
	case !st.Mode().IsRegular():
		return client.Media{}, fmt.Errorf("%s is not a regular file", path)
	case st.Size() == 0:
		return client.Media{}, fmt.Errorf("%s is empty", path)
	}
	var r io.ReaderAt = f
	if progress != nil {
		r = &progressReader{r: f, total: st.Size(), report: progress}
	}
	return c.UploadFile(ctx, r, st.Size(), client.UploadParams{Name: filepath.Base(path)}, nil)
}

// progressReader reports the furthest byte read from a file being uploaded.
type progressReader struct {
	r      io.ReaderAt
	total  int64
	sent   atomic.Int64
	report func(sent, total int64)
}

func (p *progressReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	end := off + int64(n)
	for {
		cur := p.sent.Load()
		if end <= cur || p.sent.CompareAndSwap(cur, end) {
			break
		}
	}
	p.report(p.sent.Load(), p.total)
	return n, err
}

// throttled returns f called at most once per interval, and always for the
// last byte.
func throttled(interval time.Duration, f func(sent, total int64)) func(sent, total int64) {
	var mu sync.Mutex
	var last time.Time
	return func(sent, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); sent >= total || now.Sub(last) >= interval {
			last = now
			f(sent, total)
		}
	}
}

func describeProgress(sent, total int64) string {
	pct := 100 * sent / max(total, 1)
	return fmt.Sprintf("%3d%% of %s", pct, humanize.Bytes(uint64(total)))
}

// truncate shortens s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

const chatEditHelp = `Usage: kurir chat edit --chat ID|--to @NAME --seq N [flags] [TEXT...]

Replaces the text of one of your messages (--seq, its number in the chat
as "kurir chat history --json" shows it) and prints it as stored. The text
is the arguments or, with none, standard input.

  kurir chat edit --chat 12 --seq 17 'see you at 9'
`

func (c *chatCmd) edit(ctx context.Context, args []string) error {
	var t chatTarget
	var seq int64
	e := c.flags("edit", chatEditHelp)
	t.register(e)
	e.fs.Int64Var(&seq, "seq", 0, "the message's number in the chat")
	pos, err := c.parse(e, args, -1)
	if err != nil {
		return err
	}
	if err := t.check(e, true); err != nil {
		return err
	}
	if err := checkSeq(e, seq); err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	if len(pos) == 0 {
		if _, tty := isTerminal(c.stdin); tty || c.stdin == nil {
			e.fs.Usage()
			return usagef("chat edit: give the new text as arguments or on standard input")
		}
		data, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read the text from standard input: %w", err)
		}
		text = strings.TrimRight(string(data), "\r\n")
	}
	if strings.TrimSpace(text) == "" {
		return usagef("chat edit: the new text is empty (to remove the message, use kurir chat delete)")
	}
	s, chatID, err := c.connectTo(ctx, t)
	if err != nil {
		return err
	}
	msg, err := s.c.EditMessage(ctx, chatID, seq, text)
	if err != nil {
		return fmt.Errorf("edit message %d of chat %d: %w", seq, chatID, s.explain(err))
	}
	ch, err := s.c.Chat(ctx, chatID)
	if err != nil {
		return s.explain(err)
	}
	s.learnNames(ctx, messageNames(ch, nil)...)
	p := s.people()
	fmt.Fprintln(c.stdout, p.line(p.title(ch), &msg))
	return nil
}

const chatDeleteHelp = `Usage: kurir chat delete --chat ID|--to @NAME --seq N [--for-me] [flags]

Deletes a message (--seq, its number in the chat) for everyone: your own,
or anyone's in a group or channel you administer. --for-me removes it from
your own view of the chat only, which works for any message.
`

func (c *chatCmd) delete(ctx context.Context, args []string) error {
	var t chatTarget
	var seq int64
	var forMe bool
	e := c.flags("delete", chatDeleteHelp)
	t.register(e)
	e.fs.Int64Var(&seq, "seq", 0, "the message's number in the chat")
	e.fs.BoolVar(&forMe, "for-me", false, "delete it from your own view only")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if err := t.check(e, true); err != nil {
		return err
	}
	if err := checkSeq(e, seq); err != nil {
		return err
	}
	s, chatID, err := c.connectTo(ctx, t)
	if err != nil {
		return err
	}
	if err := s.c.DeleteMessage(ctx, chatID, seq, forMe); err != nil {
		return fmt.Errorf("delete message %d of chat %d: %w", seq, chatID, s.explain(err))
	}
	whom := "everyone"
	if forMe {
		whom = "you"
	}
	fmt.Fprintf(c.stdout, "deleted message %d of chat %d for %s\n", seq, chatID, whom)
	return nil
}

const chatPinHelp = `Usage: kurir chat pin --chat ID|--to @NAME --seq N [flags]
       kurir chat pin --chat ID|--to @NAME --unpin [flags]

Pins a message (--seq, its number in the chat) at the top of the chat, in
place of the one pinned before, or with --unpin unpins it. In a group or
channel, admins may pin, and members where the chat lets them.
`

func (c *chatCmd) pin(ctx context.Context, args []string) error {
	var t chatTarget
	var seq int64
	var unpin bool
	e := c.flags("pin", chatPinHelp)
	t.register(e)
	e.fs.Int64Var(&seq, "seq", 0, "the message's number in the chat")
	e.fs.BoolVar(&unpin, "unpin", false, "unpin the pinned message instead")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if err := t.check(e, true); err != nil {
		return err
	}
	switch {
	case unpin && seq != 0:
		return usagef("chat pin: give --seq N to pin or --unpin, not both")
	case !unpin:
		if err := checkSeq(e, seq); err != nil {
			return err
		}
	}
	s, chatID, err := c.connectTo(ctx, t)
	if err != nil {
		return err
	}
	if err := s.c.Pin(ctx, chatID, seq); err != nil {
		return fmt.Errorf("pin in chat %d: %w", chatID, s.explain(err))
	}
	if unpin {
		fmt.Fprintf(c.stdout, "unpinned the pinned message of chat %d\n", chatID)
	} else {
		fmt.Fprintf(c.stdout, "pinned message %d of chat %d\n", seq, chatID)
	}
	return nil
}

const chatJoinHelp = `Usage: kurir chat join LINK|@NAME [flags]

Joins a group or channel by its invite link (https://HOST/join/CODE, or
the code alone) or, if it is public, by its @name, and prints its ID (for
--chat) and title. Joining a chat you are in already just prints it.

  kurir chat join https://chat.example/join/3KQ9T2
  kurir chat join @lakeside
`

func (c *chatCmd) join(ctx context.Context, args []string) error {
	e := c.flags("join", chatJoinHelp)
	pos, err := c.parse(e, args, 1)
	if err != nil {
		return err
	}
	if len(pos) == 0 || strings.TrimSpace(pos[0]) == "" {
		e.fs.Usage()
		return usagef("chat join: name the invite link or the public @name to join")
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	ch, err := joinChat(ctx, s.c, strings.TrimSpace(pos[0]))
	if err != nil {
		return fmt.Errorf("join %s: %w", pos[0], s.explain(err))
	}
	fmt.Fprintf(c.stdout, "joined %s %d: %s (%s)\n", ch.Kind, ch.ID, s.people().title(ch), plural(ch.MemberCount, "member"))
	return nil
}

// checkSeq requires --seq, a message's number.
func checkSeq(e envFlags, seq int64) error {
	switch {
	case seq == 0:
		e.fs.Usage()
		return usagef("%s: --seq N is required: the message's number in the chat (kurir chat history --json shows it)", e.fs.Name())
	case seq < 0:
		return usagef("%s: --seq %d: want a message's number, 1 or more", e.fs.Name(), seq)
	}
	return nil
}

// connectTo connects as the saved session, checks it, and finds the chat
// --chat or --to names.
func (c *chatCmd) connectTo(ctx context.Context, t chatTarget) (*session, int64, error) {
	s, err := c.connect()
	if err != nil {
		return nil, 0, err
	}
	if err := s.whoAmI(ctx); err != nil {
		return nil, 0, err
	}
	chatID, err := s.chatByTarget(ctx, t.chat, t.to)
	return s, chatID, err
}
