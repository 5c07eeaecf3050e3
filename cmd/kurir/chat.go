package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/dustin/go-humanize"
	"golang.org/x/term"

	"kurir"
	"kurir/client"
)

const chatHelp = `Usage: kurir chat [command] [flags]

The terminal client of a kurir server, built on the Go SDK. Log in once;
the other commands use the saved session. "kurir chat --server URL" with
no saved session asks you to log in, or to sign up, first.

Commands:
  (none)      the full-screen client: log in or sign up, chat list, chats,
              live messages, sending text and files, replying, editing,
              deleting, pinning and forwarding, joining and searching
              public chats, saving attachments, reporting
  login       log in and save the session: kurir chat login --server URL --username NAME
  logout      end the saved session on the server and forget it
  list        the chat list, one chat a line
  history     a chat's latest messages: kurir chat history --chat ID
  send        send a message or a file: kurir chat send --chat ID|--to @NAME [--file PATH] [TEXT...]
  tail        print messages as they arrive, one a line, until interrupted
  edit        change your message: kurir chat edit --chat ID --seq N TEXT
  delete      delete a message: kurir chat delete --chat ID --seq N [--for-me]
  pin         pin a message: kurir chat pin --chat ID --seq N, or --unpin
  join        join a group or channel: kurir chat join LINK|@NAME
  download    save an attachment: kurir chat download --media ID [--out PATH]
  report      report a message, a group or channel, or a user to the moderators:
              kurir chat report --chat ID [--seq N] --reason REASON [--comment TEXT]
              kurir chat report --user @NAME --reason REASON; --reasons lists them
  secret      secret chats, encrypted end to end: kurir chat secret send @NAME TEXT,
              tail, safety-number @NAME, report ENVELOPE_ID (kurir chat secret --help)

Every command takes --server URL ($KURIR_SERVER); without it, the server
logged in to last. Sessions are saved in the user's configuration
directory (on Linux ~/.config/kurir/session.json), readable only by the
user; --config ($KURIR_CHAT_CONFIG) names another file. $KURIR_TOKEN, if
set, is used instead of the saved session.

Run "kurir chat <command> --help" for a command's flags. More in
docs/terminal-client.md.
`

func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	c := &chatCmd{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "":
		return c.tui(ctx, rest)
	case "help":
		if err := c.tui(ctx, []string{"--help"}); !errors.Is(err, errHelpShown) {
			return err
		}
		return nil
	case "login":
		return c.login(ctx, rest)
	case "logout":
		return c.logout(ctx, rest)
	case "list":
		return c.list(ctx, rest)
	case "history":
		return c.history(ctx, rest)
	case "send":
		return c.send(ctx, rest)
	case "tail":
		return c.tail(ctx, rest)
	case "download":
		return c.download(ctx, rest)
	case "report":
		return c.report(ctx, rest)
	case "edit":
		return c.edit(ctx, rest)
	case "delete":
		return c.delete(ctx, rest)
	case "pin":
		return c.pin(ctx, rest)
	case "join":
		return c.join(ctx, rest)
	case "secret":
		return c.secret(ctx, rest)
	default:
		fmt.Fprint(stderr, chatHelp)
		return usagef("chat: unknown command %q", cmd)
	}
}

// chatCmd is one run of a "kurir chat" command.
type chatCmd struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer

	server     string // --server as given
	configPath string // --config as given

	lines *bufio.Reader // stdin read line by line when it is not a terminal
}

// flags returns a flag set with the flags every chat command shares; the
// command adds its own to it.
func (c *chatCmd) flags(name, help string) envFlags {
	_, e := newFlagSet(strings.TrimSpace("chat "+name), help, c.getenv, c.stdout, c.stderr)
	e.string(&c.server, "server", "KURIR_SERVER", "", "base URL of the kurir server, e.g. https://chat.example (default: the server logged in to last)")
	e.string(&c.configPath, "config", "KURIR_CHAT_CONFIG", "", "file that keeps the saved sessions (default: kurir/session.json in the user's configuration directory)")
	return e
}

// parse parses args (flags may follow arguments) and checks that there are
// at most maxArgs arguments (-1 for any number).
func (c *chatCmd) parse(e envFlags, args []string, maxArgs int) ([]string, error) {
	if err := parse(e, interspersed(e.fs, args), c.stdout); err != nil {
		return nil, err
	}
	fs := e.fs
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		fs.Usage()
		if maxArgs == 0 {
			return nil, usagef("%s takes no arguments, got %q", fs.Name(), fs.Args())
		}
		return nil, usagef("%s: want at most %d argument(s), got %d", fs.Name(), maxArgs, fs.NArg())
	}
	return fs.Args(), nil
}

// session is what a chat command acts as: a client holding a token for a
// server, and the names this device knows.
type session struct {
	server string
	c      *client.Client
	store  *sessionStore
	saved  *savedSession // nil when the token came from $KURIR_TOKEN
	me     client.User
	// names are how users are shown (see shownName): those looked up by
	// @name, saved or not, and those learnt from chats' member lists.
	names map[int64]string
	// channels are the titles of the channels seen, by chat ID.
	channels map[int64]string
}

// knowChats records the titles of the channels among chats, to show
// where a forwarded post came from.
func (s *session) knowChats(chats ...client.Chat) {
	for _, ch := range chats {
		if ch.Kind == client.Channel && ch.Title != "" {
			if s.channels == nil {
				s.channels = map[int64]string{}
			}
			s.channels[ch.ID] = ch.Title
		}
	}
}

// connect finds the server and the token (from $KURIR_TOKEN or the saved
// session) and returns a client for them. It makes no request.
func (c *chatCmd) connect(opts ...client.Option) (*session, error) {
	store, err := c.openStore()
	if err != nil {
		return nil, err
	}
	server := normalizeServer(c.server)
	if server == "" {
		server = store.Current
	}
	if server == "" {
		return nil, usagef("no server: give --server URL (or $KURIR_SERVER), or log in first with kurir chat login --server URL --username NAME")
	}
	s := &session{server: server, store: store, names: map[int64]string{}}
	token := c.getenv("KURIR_TOKEN")
	if token == "" {
		s.saved = store.Servers[server]
		if s.saved == nil || s.saved.Token == "" {
			return nil, notLoggedIn{server}
		}
		token = s.saved.Token
		s.me = client.User{ID: s.saved.UserID, Username: s.saved.Username}
		maps.Copy(s.names, s.saved.Names)
	}
	s.c = client.New(server, append([]client.Option{client.WithToken(token), client.WithUserAgent(chatUserAgent())}, opts...)...)
	return s, nil
}

// notLoggedIn is connect's error when there is no session for server, which
// the full-screen client answers by asking the person to log in.
type notLoggedIn struct{ server string }

func (e notLoggedIn) Error() string {
	return fmt.Sprintf("not logged in to %s: run kurir chat login --server %s --username NAME", e.server, e.server)
}

// whoAmI asks the server who the session is. It is each command's first
// request, so that a server that cannot be reached or a session that has
// ended is reported before anything else is tried.
func (s *session) whoAmI(ctx context.Context) error {
	me, err := s.c.Me(ctx)
	if err != nil {
		return s.explain(err)
	}
	s.me = me
	return nil
}

// people returns who is who, for printing messages.
func (s *session) people() people {
	p := people{me: s.me.ID, names: maps.Clone(s.names), channels: maps.Clone(s.channels)}
	if n := shownName(s.me.DisplayName, s.me.Username); s.me.ID != 0 && n != "" {
		p.names[s.me.ID] = n
	}
	return p
}

// remember records how a user looked up by @name is shown, for showing
// their messages, and in the saved session for later runs. The file is
// read afresh first, so that a long-running client does not write back a
// session that another command has since replaced. Failing to save only
// costs the name later, so it is not an error.
func (s *session) remember(u client.PublicUser) {
	name := shownName(u.DisplayName, u.Username)
	if name == "" {
		return
	}
	s.names[u.ID] = name
	if s.saved == nil {
		return
	}
	fresh, err := loadStore(s.store.path)
	if err != nil {
		return
	}
	saved := fresh.Servers[s.server]
	if saved == nil || saved.Token != s.saved.Token || saved.Names[u.ID] == name {
		return
	}
	if saved.Names == nil {
		saved.Names = map[int64]string{}
	}
	saved.Names[u.ID] = name
	_ = fresh.save()
}

// learnNames looks up the users refs name whom the session cannot name
// yet. The names only make the output friendlier, so one that cannot be
// found leaves its person shown as "user 17" rather than failing the
// command; it returns the refs whose lookup failed, to try again later.
func (s *session) learnNames(ctx context.Context, refs ...nameRef) (failed []nameRef) {
	p := s.people()
	refs = slices.DeleteFunc(refs, func(r nameRef) bool { return !p.unknown(r.user) })
	names, failed := lookupNames(ctx, s.c, refs)
	maps.Copy(s.names, names)
	return failed
}

// chatByTarget returns the chat ID that --chat or --to names: --to looks
// the user up and opens the private chat with them.
func (s *session) chatByTarget(ctx context.Context, chatID int64, to string) (int64, error) {
	if to == "" {
		return chatID, nil
	}
	u, err := s.c.User(ctx, strings.TrimPrefix(to, "@"))
	if err != nil {
		if client.IsCode(err, kurir.ENotFound) {
			return 0, fmt.Errorf("no user named %s on %s", to, s.server)
		}
		return 0, s.explain(err)
	}
	s.remember(u)
	ch, err := s.c.OpenPrivateChat(ctx, u.ID)
	if err != nil {
		return 0, s.explain(err)
	}
	return ch.ID, nil
}

// explain turns an error from the SDK into what a person at the terminal
// needs to read: the server's own explanation, or that the server cannot be
// reached, or that the session has ended and how to start another.
func (s *session) explain(err error) error {
	return explainErr(s.server, err)
}

func explainErr(server string, err error) error {
	if err == nil {
		return nil
	}
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		msg := ce.Detail
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		if ce.Code == kurir.EUnauthenticated && ce.Reason != "wrong_credentials" {
			return fmt.Errorf("%s Run: kurir chat login --server %s --username NAME", msg, server)
		}
		if ce.RetryAfter > 0 {
			msg += fmt.Sprintf(" (try again in %s)", ce.RetryAfter.Round(time.Second))
		}
		if ce.Code == kurir.EInternal && ce.RequestID != "" {
			msg += " (request " + ce.RequestID + ")"
		}
		return errors.New(msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var op *net.OpError
	var ue *url.Error
	if errors.As(err, &op) || errors.As(err, &ue) {
		cause := err
		if op != nil {
			cause = op
		}
		return fmt.Errorf("cannot reach the server at %s (%v); is it running, and is the URL right?", server, cause)
	}
	return err
}

// normalizeServer makes one spelling of a server's URL, the key of its saved
// session.
func normalizeServer(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }

func chatUserAgent() string { return "kurir-chat/" + version() }

// isTerminal reports whether r is a terminal, and its file descriptor.
func isTerminal(r any) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// people names the users whose messages a command prints.
type people struct {
	me    int64
	names map[int64]string
	// channels are the titles of channels known by ID: a post forwarded
	// from a channel is shown as the channel's, not its admin's.
	channels map[int64]string
}

// name is how a user is shown: their display name (or @username) if this
// device has learnt it, else "user 17".
func (p people) name(id int64) string {
	if n := p.names[id]; n != "" {
		return displayText(n, " ")
	}
	return fmt.Sprintf("user %d", id)
}

// unknown reports whether id is someone to look up: not the caller, and
// not named yet.
func (p people) unknown(id int64) bool {
	return id != 0 && id != p.me && p.names[id] == ""
}

// sender is who wrote a message, with "you" for the caller.
func (p people) sender(id int64) string {
	if id == p.me && id != 0 {
		return "you"
	}
	return p.name(id)
}

// title is how a chat is named: a group's or channel's title, or the other
// person of a private chat.
func (p people) title(ch client.Chat) string {
	if ch.Kind == client.Private {
		if ch.PeerID != 0 {
			return p.name(ch.PeerID)
		}
	}
	if t := displayText(ch.Title, " "); t != "" {
		return t
	}
	return fmt.Sprintf("chat %d", ch.ID)
}

// shownName is how a person is shown: their display name, else their
// @username, else "" (an account deleted without a name).
func shownName(displayName, username string) string {
	if d := strings.TrimSpace(displayText(displayName, " ")); d != "" {
		return d
	}
	if u := displayText(username, ""); u != "" {
		return "@" + u
	}
	return ""
}

// Names. Messages and chats name people by user ID only; a chat's member
// list tells their names. A chat's first maxMembers members are fetched in
// pages; someone past them, or who joined since, is looked up alone: the
// chat's first member after their ID minus one.
const (
	memberPage = 200 // the server's cap on a page of members
	maxMembers = 1000
	// nameLookups is how many single lookups run at once.
	nameLookups = 4
)

// nameRef is a user to name, and a chat whose members they are among.
type nameRef struct{ chat, user int64 }

// chatMembers returns a chat's members by user ID, the first maxMembers of
// them, with those it got before an error.
func chatMembers(ctx context.Context, c *client.Client, chatID int64) ([]client.ChatMember, error) {
	var all []client.ChatMember
	var after int64
	for len(all) < maxMembers {
		page, err := c.Members(ctx, chatID, after, memberPage)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if len(page) < memberPage {
			break
		}
		after = page[len(page)-1].UserID
	}
	return all, nil
}

// lookupNames looks each user of refs up in their chat's member list (in
// the next of their chats if they are not in the first), nameLookups at a
// time, and returns how the ones found are shown, by user ID, and the refs
// whose lookup failed (not those of people who are no longer members). It
// is safe to call from any goroutine.
func lookupNames(ctx context.Context, c *client.Client, refs []nameRef) (names map[int64]string, failed []nameRef) {
	names = map[int64]string{}
	chats := map[int64][]int64{} // user -> the chats to look in
	var users []int64
	for _, r := range refs {
		if r.user <= 0 || slices.Contains(chats[r.user], r.chat) {
			continue
		}
		if len(chats[r.user]) == 0 {
			users = append(users, r.user)
		}
		chats[r.user] = append(chats[r.user], r.chat)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, nameLookups)
	for _, user := range users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, chat := range chats[user] {
				page, err := c.Members(ctx, chat, user-1, 1)
				if err != nil {
					mu.Lock()
					failed = append(failed, nameRef{chat, user})
					mu.Unlock()
					continue
				}
				if len(page) == 1 && page[0].UserID == user {
					if n := shownName(page[0].DisplayName, page[0].Username); n != "" {
						mu.Lock()
						names[user] = n
						mu.Unlock()
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return names, failed
}

// displayText makes text from the server safe to print on a terminal. It
// drops control characters, which could move the cursor or rewrite the
// screen, and the invisible bidirectional controls that can make text read
// differently from what it is; each line break becomes newline.
func displayText(s, newline string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch {
		case r == '\n':
			b.WriteString(newline)
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r), isBidiControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// describeAttachment shows an attachment as "[photo beach.jpg 800×600,
// 120 kB]"; withID adds the media ID that "kurir chat download" takes.
func describeAttachment(a *client.Attachment, withID bool) string {
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(a.Kind)
	if n := displayText(a.Name, " "); n != "" {
		b.WriteByte(' ')
		b.WriteString(n)
	}
	if a.Width > 0 && a.Height > 0 {
		fmt.Fprintf(&b, " %d×%d", a.Width, a.Height)
	}
	b.WriteString(", ")
	b.WriteString(humanize.Bytes(uint64(max(a.Size, 0))))
	if withID {
		fmt.Fprintf(&b, ", media %d", a.MediaID)
	}
	b.WriteByte(']')
	return b.String()
}

// body is a message's content on one line (newline "\n" keeps line
// breaks): its attachment, its text, and marks for edits and for forwards
// with where they came from.
func (p people) body(m *client.Message, withID bool, newline string) string {
	if m.Deleted {
		return "(deleted)"
	}
	if m.Withheld != nil {
		return "(" + m.Withheld.String() + ")"
	}
	var parts []string
	if f := m.Forward; f != nil {
		from := p.name(f.SenderID)
		if t := p.channels[f.ChatID]; t != "" {
			from = displayText(t, " ")
		} else if f.SenderID == 0 {
			from = fmt.Sprintf("chat %d", f.ChatID)
		}
		parts = append(parts, "(forwarded from "+from+")")
	}
	if m.Media != nil {
		parts = append(parts, describeAttachment(m.Media, withID))
	}
	if t := displayText(m.Text, newline); t != "" {
		parts = append(parts, t)
	}
	if !m.EditedAt.IsZero() {
		parts = append(parts, "(edited)")
	}
	return strings.Join(parts, " ")
}
