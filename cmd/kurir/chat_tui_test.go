package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"kurir/client"
)

// screen is a program running in a pseudo-terminal, with a terminal
// emulator reading its output, so that a test sees what a person would: the
// screen as drawn, not the stream of escape sequences that drew it.
type screen struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	term *vt.Emulator
	done chan error
}

func startScreen(t *testing.T, cols, rows int, cmd *exec.Cmd) *screen {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Fatalf("start %s in a pseudo-terminal: %v", cmd.Path, err)
	}
	s := &screen{t: t, cmd: cmd, pty: f, term: vt.NewEmulator(cols, rows), done: make(chan error, 1)}
	// The emulator answers the program's queries (cursor position, colours)
	// as a terminal would.
	go io.Copy(f, s.term)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.term.Write(buf[:n])
				s.mu.Unlock()
			}
			if err != nil {
				return // the program ended and closed the terminal
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
		// Ending the emulator's reply pipe ends the copy above; Close would
		// too, but races with its Read (in vt v0.1.0).
		if c, ok := s.term.InputPipe().(io.Closer); ok {
			c.Close()
		}
		f.Close()
	})
	return s
}

// text is the screen as plain text, one line a row.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term.String()
}

// waitFor waits until the screen shows want.
func (s *screen) waitFor(want string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.text(), want) {
		select {
		case err := <-s.done:
			s.t.Fatalf("the program ended (%v) before the screen showed %q; it shows:\n%s", err, want, s.text())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen did not show %q within 20s; it shows:\n%s", want, s.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// typeKeys sends what a person types.
func (s *screen) typeKeys(keys string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(keys)); err != nil {
		s.t.Fatalf("type %q: %v", keys, err)
	}
}

// wait waits for the program to end and returns how.
func (s *screen) wait() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(15 * time.Second):
		s.t.Fatalf("the program did not end within 15s; the screen shows:\n%s", s.text())
		return nil
	}
}

// serveProcessAt runs "kurir serve" as a child process on addr (which may
// end in :0) and returns its base URL and a function that stops it with
// SIGTERM, as an operator restarting it would.
func serveProcessAt(t *testing.T, bin, dataDir, addr string) (string, func()) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--log-level", "error"}, cheap...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "kurir is serving on "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return u, stop
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start within 30s")
		return "", nil
	}
}

// TestChatFullScreen is the acceptance test of the terminal client: the
// real binary runs "kurir chat --server URL" in a pseudo-terminal with no
// saved session, and the person signs up there, the password unseen. It
// opens a chat, sees another person's message arrive live, sends one that
// the other person receives, replies to, edits, pins, deletes and
// forwards messages as the other person then sees them, sends a file and
// saves one, finds and joins a public channel, and after the server
// restarts says it is reconnecting and then shows what was sent
// meanwhile. The other person, never looked up by @name, is shown by their
// display name, learnt from the chat's members.
func TestChatFullScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in a pseudo-terminal")
	}
	bin := buildKurir(t)
	dataDir := t.TempDir()
	base, stopServer := serveProcessAt(t, bin, dataDir, "127.0.0.1:0")
	bobby := registerUsers(t, base, "bobby")[0]
	display := "Bobby Tables"
	if _, err := bobby.UpdateMe(t.Context(), client.ProfileUpdate{DisplayName: &display}); err != nil {
		t.Fatal(err)
	}
	alice := newChatUser(t) // no saved session

	downloads := t.TempDir()
	cmd := exec.Command(bin, "chat", "--server", base)
	cmd.Env = append(os.Environ(), "KURIR_CHAT_CONFIG="+alice.config, "KURIR_DOWNLOAD_DIR="+downloads, "TERM=xterm-256color", "COLORTERM=truecolor")
	scr := startScreen(t, 100, 30, cmd)

	// Alice signs up and is logged in, without her password on the screen.
	scr.waitFor("You are not logged in to " + base)
	scr.waitFor("sign up for a new account (s)?")
	scr.typeKeys("s\r")
	scr.waitFor("Username:")
	scr.typeKeys("alice\r")
	scr.waitFor("Password:")
	scr.typeKeys(chatPassword + "\r")
	scr.waitFor("The same password again:")
	scr.typeKeys(chatPassword + "\r")
	scr.waitFor("● online")
	if strings.Contains(scr.text(), chatPassword) {
		t.Errorf("the password was shown:\n%s", scr.text())
	}
	if saved, err := loadStore(alice.config); err != nil || saved.Servers[base] == nil || saved.Servers[base].Username != "alice" {
		t.Fatalf("the session file after signing up: %+v (%v)", saved, err)
	}
	res, err := client.New(base).Login(t.Context(), client.LoginParams{Username: "alice", Password: chatPassword})
	if err != nil {
		t.Fatal(err)
	}
	aliceSDK := client.New(base, client.WithToken(res.Token))
	me := res.User
	chat, err := bobby.OpenPrivateChat(t.Context(), me.ID)
	if err != nil {
		t.Fatal(err)
	}
	send := func(p client.SendParams) client.Message {
		t.Helper()
		m, err := bobby.Send(t.Context(), chat.ID, p)
		if err != nil {
			t.Fatalf("bobby sends %+v: %v", p, err)
		}
		return m
	}
	hello := send(client.SendParams{Text: "hello alice"})

	// The chat list shows the new chat live, named for bobby, and its last
	// message; enter opens it.
	scr.waitFor("Bobby Tables: hello alice")
	scr.waitFor("● online")
	scr.typeKeys("\r")
	scr.waitFor("Bobby Tables · private chat")

	// A message arrives live, with its sender's name.
	live := send(client.SendParams{Text: "live from bobby"})
	scr.waitFor("Bobby Tables: live from bobby")
	if text := scr.text(); strings.Contains(text, "user 1") {
		t.Errorf("the screen names bobby by his ID:\n%s", text)
	}

	// A message typed here arrives there.
	scr.typeKeys("hi bobby from the terminal\r")
	waitFor(t, "bobby to receive the typed message", func() bool { return hasMessage(t, bobby, chat.ID, "hi bobby from the terminal") != nil })

	// ↑ chooses a message; r replies to it, and the reply shows what it
	// answers, here and to bobby.
	const up = "\x1b[A"
	scr.typeKeys(up + up)
	scr.waitFor("r reply · e edit")
	scr.typeKeys("r")
	scr.waitFor("Replying to Bobby Tables: live from bobby")
	scr.typeKeys("a reply from alice\r")
	scr.waitFor("↪ Bobby Tables: live from bobby")
	var reply *client.Message
	waitFor(t, "bobby to receive the reply", func() bool { reply = hasMessage(t, bobby, chat.ID, "a reply from alice"); return reply != nil })
	if reply.ReplyTo != live.Seq {
		t.Errorf("bobby got the reply to %d, want to %d", reply.ReplyTo, live.Seq)
	}

	// e edits her own message.
	scr.typeKeys(up + "e")
	scr.waitFor("Editing your message")
	scr.typeKeys("\x15an edited reply\r") // ctrl+u clears the old text first
	scr.waitFor("an edited reply (edited)")
	waitFor(t, "bobby to see the edit", func() bool {
		m := hasMessage(t, bobby, chat.ID, "an edited reply")
		return m != nil && m.Seq == reply.Seq && !m.EditedAt.IsZero()
	})

	// p, then enter, pins it: the bar under the header shows it, and
	// bobby's chat has it pinned. His pin of another message shows live.
	scr.typeKeys(up + "p")
	scr.waitFor("> /pin")
	scr.typeKeys("\r")
	scr.waitFor("Pinned · you: an edited reply")
	waitFor(t, "the pin to reach bobby", func() bool {
		ch, err := bobby.Chat(t.Context(), chat.ID)
		return err == nil && ch.PinnedSeq == reply.Seq
	})
	if err := bobby.Pin(t.Context(), chat.ID, hello.Seq); err != nil {
		t.Fatal(err)
	}
	scr.waitFor("Pinned · Bobby Tables: hello alice")

	// f forwards the chosen message (still the reply) to a group.
	club, err := bobby.CreateGroup(t.Context(), client.NewChat{Title: "Book club", Members: []int64{me.ID}})
	if err != nil {
		t.Fatal(err)
	}
	scr.typeKeys("f")
	scr.waitFor("> /forward @")
	scr.typeKeys("\x15/forward Book club\r")
	scr.waitFor("Forwarded to Book club.")
	waitFor(t, "bobby to see the forward", func() bool {
		m := hasMessage(t, bobby, club.ID, "an edited reply")
		return m != nil && m.Forward != nil && m.Forward.ChatID == chat.ID && m.Forward.Seq == reply.Seq
	})

	// d, then enter, deletes her own message for everyone.
	scr.typeKeys("d")
	scr.waitFor("> /delete all")
	scr.typeKeys("\r")
	scr.waitFor("Deleted for everyone.")
	waitFor(t, "bobby to see the deletion", func() bool { return hasMessage(t, bobby, chat.ID, "an edited reply") == nil })

	// A file goes from here with a caption...
	notes := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notes, bytes.Repeat([]byte("kurir notes\n"), 1000), 0o600)
	scr.typeKeys("/file " + notes + " my notes\r")
	scr.waitFor("[file notes.txt, 12 kB] my notes")
	if m := hasMessage(t, bobby, chat.ID, "my notes"); m == nil || m.Media == nil || m.Media.Size != 12000 {
		t.Errorf("bobby got %+v, want notes.txt with its caption", m)
	}

	// ...and one from there is saved with ctrl+s.
	photo := filepath.Join(t.TempDir(), "beach.png")
	writePNG(t, photo, 8, 6)
	f, _ := os.Open(photo)
	st, _ := f.Stat()
	media, err := bobby.UploadMedia(t.Context(), f, st.Size(), client.UploadParams{Name: "beach.png"})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	send(client.SendParams{MediaID: media.ID, Text: "the beach"})
	scr.waitFor("[photo beach.png 8×6, ")
	scr.typeKeys("\x13") // ctrl+s: the newest attachment, none being chosen
	scr.waitFor("Saved " + filepath.Join(downloads, "beach.png"))
	var want bytes.Buffer
	if _, err := bobby.Download(t.Context(), media.ID, &want); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(downloads, "beach.png")); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("saved %d bytes (%v), want the %d served", len(got), err, want.Len())
	}

	// Text the server refuses comes back with its reason, ready to fix.
	scr.typeKeys(strings.Repeat("y", 4100) + "\r")
	scr.waitFor("The message is 4100 characters long; the limit is 4096.")
	scr.typeKeys("\x15") // ctrl+u clears the composer

	// /report lists the reasons, then reports the other person of a
	// private chat (no message is chosen).
	scr.typeKeys("/report\r")
	scr.waitFor("REASON is one of: child_abuse")
	scr.typeKeys("/report spam keeps selling me things\r")
	scr.waitFor("Reported (Bobby Tables)")
	if reps, err := aliceSDK.Reports(t.Context(), 10); err != nil || len(reps) != 1 || reps[0].Subject.UserID == 0 {
		t.Errorf("alice's reports after /report: %+v (%v); want one about bobby", reps, err)
	}

	// On the chat list, s searches public chats; enter joins one and opens it.
	if _, err := bobby.CreateChannel(t.Context(), client.NewChat{Title: "Lakeside news", Username: "lakeside"}); err != nil {
		t.Fatal(err)
	}
	scr.typeKeys("\x1b")
	scr.waitFor("c channel · s search")
	scr.typeKeys("s")
	scr.waitFor("Search public groups and channels")
	scr.typeKeys("lake\r")
	scr.waitFor("Lakeside news @lakeside · channel, 1 member")
	scr.typeKeys("\r")
	scr.waitFor("Lakeside news · channel, 2 members")
	scr.typeKeys("\x1b")
	scr.waitFor("c channel · s search")
	scr.typeKeys("n")
	scr.waitFor("Chat with @")
	scr.typeKeys("bobby\r") // the chat with bobby again
	scr.waitFor("Bobby Tables · private chat")

	// The server goes away: the client says so, and once it is back shows
	// what was sent meanwhile.
	stopServer()
	scr.waitFor("reconnecting…")
	_, _ = serveProcessAt(t, bin, dataDir, strings.TrimPrefix(base, "http://"))
	send(client.SendParams{Text: "sent while you were away"})
	scr.waitFor("sent while you were away")
	scr.waitFor("● online")

	// ctrl+c quits cleanly.
	scr.typeKeys("\x03")
	if err := scr.wait(); err != nil {
		t.Errorf("kurir chat exited with %v, want status 0", err)
	}

	// The saved session is logged out elsewhere: the next start says so and
	// asks to log in again; a wrong password is explained and asked again.
	store, err := loadStore(alice.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.New(base, client.WithToken(store.Servers[base].Token)).Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	again := exec.Command(bin, "chat")
	again.Env = cmd.Env
	scr = startScreen(t, 100, 30, again)
	scr.waitFor("The saved session for " + base + " has ended.")
	scr.waitFor("[l]")
	scr.typeKeys("\r")
	scr.waitFor("Username:")
	scr.typeKeys("alice\r")
	scr.waitFor("Password:")
	scr.typeKeys("not her password\r")
	scr.waitFor("Wrong username or password.")
	scr.typeKeys("l\ralice\r")
	scr.typeKeys(chatPassword + "\r")
	scr.waitFor("● online")
	scr.waitFor("Bobby Tables")
	if fresh, err := loadStore(alice.config); err != nil || fresh.Servers[base].Token == store.Servers[base].Token {
		t.Errorf("the session was not saved anew after logging in (%v)", err)
	}
	scr.typeKeys("q")
	if err := scr.wait(); err != nil {
		t.Errorf("kurir chat exited with %v, want status 0", err)
	}
}

// hasMessage returns the newest of the chat's latest messages whose text
// contains text, or nil.
func hasMessage(t *testing.T, c *client.Client, chatID int64, text string) *client.Message {
	t.Helper()
	msgs, err := c.History(t.Context(), chatID, client.Before(0), 20)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for i := range msgs {
		if strings.Contains(msgs[i].Text, text) {
			return &msgs[i]
		}
	}
	return nil
}

// TestChatExitStatus runs the real binary the way a script would and checks
// the exit status and the message: 1 for a refusal, 2 for a mistake in the
// command line.
func TestChatExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildKurir(t)
	base, _ := serveProcessAt(t, bin, t.TempDir(), "127.0.0.1:0")
	registerUsers(t, base, "alice", "bobby")
	config := filepath.Join(t.TempDir(), "session.json")
	kurir := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"chat"}, args...)...)
		cmd.Env = append(os.Environ(), "KURIR_CHAT_CONFIG="+config)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := kurir(chatPassword+"\n", "login", "--server", base, "--username", "alice"); code != 0 {
		t.Fatalf("login: status %d: %s", code, out)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{name: "sent", args: []string{"send", "--to", "@bobby", "hello"}, code: 0, want: "[bobby] you: hello"},
		{name: "too long", stdin: strings.Repeat("z", 4097), args: []string{"send", "--to", "@bobby"}, code: 1, want: "kurir: send to chat 1: The message is 4097 characters long; the limit is 4096."},
		{name: "no chat named", args: []string{"send", "hi"}, code: 2, want: "name the chat with --chat ID or --to @username"},
		{name: "not a terminal", args: nil, code: 1, want: "kurir chat needs a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := kurir(tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("status %d, output %q; want status %d and %q", code, out, tt.code, tt.want)
			}
		})
	}
}

// viewText is the full-screen client's screen as plain text.
func viewText(m *tui) string { return ansi.Strip(m.View().Content) }

// TestChatViewShowsRepliesForwardsPinsAndRemovals draws the full-screen
// client's model with messages as the server sends them, and checks what a
// person reads: a reply shows what it answers, a forward where it came from
// (a channel's post as the channel's), a pin arrives live under the header
// and goes away when unpinned, and a message the moderators remove says so
// rather than "deleted", in the chat and in the chat list.
func TestChatViewShowsRepliesForwardsPinsAndRemovals(t *testing.T) {
	s := &session{server: "http://chat.test", me: client.User{ID: 1, Username: "alice"},
		names: map[int64]string{2: "Bobby Tables", 3: "@carol"}}
	s.knowChats(client.Chat{ID: 9, Kind: client.Channel, Title: "Lake news"})
	m := newTUI(t.Context(), s, nil, t.TempDir())
	m.width, m.height = 100, 20
	at := time.Now()
	chat := client.Chat{ID: 5, Kind: client.Group, Title: "Book club", Role: client.Member, MemberCount: 3}
	msgs := []client.Message{
		{ChatID: 5, Seq: 1, SenderID: 2, Text: "who has read chapter one?", CreatedAt: at},
		{ChatID: 5, Seq: 2, SenderID: 1, Text: "I have", ReplyTo: 1, CreatedAt: at},
		{ChatID: 5, Seq: 3, SenderID: 3, Text: "storm tonight", Forward: &client.Forward{ChatID: 9, Seq: 4, SenderID: 7}, CreatedAt: at},
		{ChatID: 5, Seq: 4, SenderID: 3, Text: "buy cheap pills", CreatedAt: at},
		{ChatID: 5, Seq: 5, SenderID: 2, Text: "see you at 8", Forward: &client.Forward{ChatID: 12, Seq: 1, SenderID: 3}, CreatedAt: at},
	}
	m.dialogs = []client.Dialog{{Chat: chat, LastMessage: &msgs[3], LastActivity: at}}
	m.screen = listScreen
	m.chat = nil
	m.openChat(chat)
	m.history(historyMsg{chatID: 5, msgs: reversed(msgs)})
	m.Update(nil)

	screen := viewText(m)
	for _, want := range []string{
		"↪ Bobby Tables: who has read chapter one?",
		"(forwarded from Lake news) storm tonight",
		"(forwarded from @carol) see you at 8",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the chat does not show %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "Pinned") {
		t.Errorf("a pinned bar with nothing pinned:\n%s", screen)
	}

	// Bobby pins the question; the bar shows it, and goes when unpinned.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Seq: 6, Kind: client.EventPin, ActorID: 2, MessageSeq: 1}})
	m.Update(nil)
	if screen := viewText(m); !strings.Contains(screen, "Pinned · Bobby Tables: who has read chapter one?") {
		t.Errorf("after a pin the header does not show it:\n%s", screen)
	}
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Seq: 7, Kind: client.EventUnpin, ActorID: 2, MessageSeq: 1}})
	m.Update(nil)
	if screen := viewText(m); strings.Contains(screen, "Pinned") {
		t.Errorf("after the unpin the header still shows a pin:\n%s", screen)
	}

	// The moderators remove the spam; a person deletes their own message.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Seq: 8, Kind: client.EventRemoved, MessageSeq: 4}})
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Seq: 9, Kind: client.EventDelete, ActorID: 2, MessageSeq: 5}})
	m.Update(nil)
	screen = viewText(m)
	if strings.Contains(screen, "cheap pills") || !strings.Contains(screen, "@carol: (removed by the moderators)") {
		t.Errorf("the removed message does not say it was removed by the moderators:\n%s", screen)
	}
	if !strings.Contains(screen, "Bobby Tables: (deleted)") {
		t.Errorf("the deleted message does not show as deleted:\n%s", screen)
	}
	m.closeChat()
	m.Update(nil)
	if screen := viewText(m); !strings.Contains(screen, "@carol: (removed by the moderators)") {
		t.Errorf("the chat list does not show the last message as removed by the moderators:\n%s", screen)
	}
}

func reversed(msgs []client.Message) []client.Message {
	out := slices.Clone(msgs)
	slices.Reverse(out)
	return out
}

// TestChatViewShowsReadMarks: in a private chat one's own messages show ✓
// once sent and ✓✓ once the other person has read them, which changes live
// when they read or write back; groups show no ticks; and reading a chat on
// another device clears its unread count here at once.
func TestChatViewShowsReadMarks(t *testing.T) {
	s := &session{server: "http://chat.test", me: client.User{ID: 1, Username: "alice"},
		names: map[int64]string{2: "Bobby Tables", 3: "@carol"}}
	m := newTUI(t.Context(), s, nil, t.TempDir())
	m.width, m.height = 100, 20
	at := time.Now()
	private := client.Chat{ID: 5, Kind: client.Private, PeerID: 2, Role: client.Member, MemberCount: 2, PeerReadSeq: 1}
	group := client.Chat{ID: 6, Kind: client.Group, Title: "Book club", Role: client.Member, MemberCount: 3}
	msgs := []client.Message{
		{ChatID: 5, Seq: 1, SenderID: 1, Text: "first note", CreatedAt: at},
		{ChatID: 5, Seq: 2, SenderID: 1, Text: "second note", CreatedAt: at},
	}
	groupMsgs := []client.Message{
		{ChatID: 6, Seq: 9, SenderID: 1, Text: "my group note", CreatedAt: at},
		{ChatID: 6, Seq: 10, SenderID: 3, Text: "chapter two tonight", CreatedAt: at},
	}
	m.dialogs = []client.Dialog{
		{Chat: private, LastMessage: &msgs[1], LastActivity: at},
		{Chat: group, LastMessage: &groupMsgs[1], LastActivity: at.Add(-time.Minute), Unread: 3},
	}
	// line is the screen's line that shows text, with its trailing blanks
	// cut.
	line := func(text string) string {
		t.Helper()
		for l := range strings.SplitSeq(viewText(m), "\n") {
			if strings.Contains(l, text) {
				return strings.TrimRight(l, " ")
			}
		}
		t.Fatalf("the screen does not show %q:\n%s", text, viewText(m))
		return ""
	}
	tick := func(text, want string) {
		t.Helper()
		l := line(text)
		got := strings.TrimSpace(l[strings.Index(l, text)+len(text):])
		if got != want {
			t.Errorf("after %q the screen shows %q, want %q:\n%s", text, got, want, viewText(m))
		}
	}

	m.screen = listScreen
	m.chat = nil
	m.Update(nil)
	if l := line("Book club"); !strings.Contains(l, " 3 ") {
		t.Errorf("the chat list does not show 3 unread in Book club: %q", l)
	}
	m.openChat(private)
	m.history(historyMsg{chatID: 5, msgs: reversed(msgs)})
	m.Update(nil)
	tick("first note", "✓✓")
	tick("second note", "✓")

	// Bobby reads the second; then Alice writes a third, which he has not.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Kind: client.EventRead, UserID: 2, MessageSeq: 2}})
	m.addMessage(5, client.Message{ChatID: 5, Seq: 3, SenderID: 1, Text: "third note", CreatedAt: at})
	m.Update(nil)
	tick("second note", "✓✓")
	tick("third note", "✓")
	// His answer says he has read what came before it.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Seq: 4, Kind: client.EventMessage, Message: &client.Message{ChatID: 5, Seq: 4, SenderID: 2, Text: "got them all", CreatedAt: at}}})
	m.Update(nil)
	tick("third note", "✓✓")
	tick("got them all", "")

	// A read mark about the open chat from Alice's phone changes no tick.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 5, Kind: client.EventRead, UserID: 1, MessageSeq: 4}})
	m.Update(nil)
	tick("second note", "✓✓")

	// Alice reads Book club on her phone: its count goes here too.
	m.liveEvent(client.LiveEvent{Event: client.Event{ChatID: 6, Kind: client.EventRead, UserID: 1, MessageSeq: 10}})
	m.closeChat()
	m.Update(nil)
	if l := line("Book club"); strings.Contains(l, " 3 ") {
		t.Errorf("after Book club was read on another device the chat list still shows it unread: %q", l)
	}
	if d := m.dialogs[m.dialogIndex(6)]; d.Unread != 0 || d.Chat.ReadSeq != 10 {
		t.Errorf("Book club after the read mark: unread %d, read up to %d; want 0 and 10", d.Unread, d.Chat.ReadSeq)
	}

	// A group keeps no receipts: one's own message there has no tick.
	m.openChat(m.dialogs[m.dialogIndex(6)].Chat)
	m.history(historyMsg{chatID: 6, msgs: reversed(groupMsgs)})
	m.Update(nil)
	tick("my group note", "")
}
