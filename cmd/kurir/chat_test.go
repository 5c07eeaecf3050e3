package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir/client"
	"kurir/legal/totp"
	"kurir/sqldb/sqldbtest"
)

const chatPassword = "a long and unusual passphrase"

// chatUser runs "kurir chat" commands as one person: their own session
// file, and whatever else env sets.
type chatUser struct {
	t      *testing.T
	config string
	env    map[string]string
}

func newChatUser(t *testing.T) *chatUser {
	return &chatUser{t: t, config: filepath.Join(t.TempDir(), "kurir", "session.json"), env: map[string]string{}}
}

func (u *chatUser) getenv(k string) string {
	if k == "KURIR_CHAT_CONFIG" {
		return u.config
	}
	return u.env[k]
}

// run runs "kurir chat ARGS" to completion.
func (u *chatUser) run(stdin string, args ...string) (stdout, stderr string, err error) {
	u.t.Helper()
	var out, errOut bytes.Buffer
	err = run(u.t.Context(), append([]string{"kurir", "chat"}, args...), u.getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// must runs a command that has to succeed and returns its output.
func (u *chatUser) must(stdin string, args ...string) string {
	u.t.Helper()
	out, errOut, err := u.run(stdin, args...)
	if err != nil {
		u.t.Fatalf("kurir chat %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// registerUsers creates accounts through the API and returns an SDK client
// logged in as each.
func registerUsers(t *testing.T, base string, names ...string) []*client.Client {
	t.Helper()
	anon := client.New(base)
	var out []*client.Client
	for _, n := range names {
		if _, err := anon.Register(t.Context(), client.RegisterParams{Username: n, Password: chatPassword}); err != nil {
			t.Fatalf("register %s: %v", n, err)
		}
		res, err := anon.Login(t.Context(), client.LoginParams{Username: n, Password: chatPassword, DeviceName: "test"})
		if err != nil {
			t.Fatalf("login %s: %v", n, err)
		}
		out = append(out, anon.WithToken(res.Token))
	}
	return out
}

// lockedBuffer is a bytes.Buffer that one goroutine writes while another reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTail runs "kurir chat tail ARGS" until the test ends, and returns its
// standard output once it says it is waiting for messages.
func (u *chatUser) startTail(args ...string) *lockedBuffer {
	u.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"kurir", "chat", "tail"}, args...), u.getenv, strings.NewReader(""), &out, &errOut)
	}()
	u.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				u.t.Errorf("tail %v ended with %v; want nil when interrupted", args, err)
			}
		case <-time.After(10 * time.Second):
			u.t.Errorf("tail %v did not stop within 10s of being interrupted", args)
		}
	})
	waitFor(u.t, "tail to connect", func() bool {
		select {
		case err := <-done:
			u.t.Fatalf("tail %v ended early: %v\n%s", args, err, errOut.String())
		default:
		}
		return strings.Contains(errOut.String(), "waiting for messages")
	})
	return &out
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 20), uint8(y * 30), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestChatCommands drives the non-interactive chat commands against a real
// server as two people would: log in with the password on standard input,
// send by @name and by chat ID, list, follow with tail while the other
// writes, send a file and download it again, and log out.
func TestChatCommands(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	sdk := registerUsers(t, base, "alice", "bobby")
	bobSDK := sdk[1]
	display := "Alice Liddell"
	if _, err := sdk[0].UpdateMe(t.Context(), client.ProfileUpdate{DisplayName: &display}); err != nil {
		t.Fatal(err)
	}
	alice, bobby := newChatUser(t), newChatUser(t)

	out := alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	if !strings.Contains(out, "logged in to "+base+" as alice") {
		t.Errorf("login printed %q", out)
	}
	st, err := os.Stat(alice.config)
	if err != nil {
		t.Fatalf("no session file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v, want 0600: it holds a token", st.Mode().Perm())
	}
	bobby.must(chatPassword+"\n", "login", "--server", base+"/", "bobby") // the username as an argument, the URL with a slash

	// By @name; the chat is then on both lists. The server is the one
	// logged in to last, so --server is not needed.
	out = alice.must("", "send", "--to", "@bobby", "hello", "bobby")
	if !strings.Contains(out, "[bobby] you: hello bobby") {
		t.Errorf("send printed %q, want the stored message", out)
	}
	// bobby never looked alice up: his client learns her name from the
	// chat's members.
	out = bobby.must("", "list")
	if !strings.Contains(out, "private") || !strings.Contains(out, "Alice Liddell: hello bobby") || !strings.Contains(out, "  1  ") {
		t.Errorf("bobby's list = %q, want the private chat with 1 unread and the last message, from Alice Liddell", out)
	}
	var dialog client.Dialog
	if err := json.Unmarshal([]byte(strings.SplitN(bobby.must("", "list", "--json"), "\n", 2)[0]), &dialog); err != nil {
		t.Fatal(err)
	}
	chatID := dialog.Chat.ID
	if dialog.Unread != 1 || dialog.LastMessage == nil || dialog.LastMessage.Text != "hello bobby" {
		t.Errorf("list --json = %+v", dialog)
	}

	// Text on standard input, to the chat by ID; --json prints what was stored.
	var sent client.Message
	if err := json.Unmarshal([]byte(bobby.must("line one\nline two\n", "send", "--chat", fmt.Sprint(chatID), "--json")), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Text != "line one\nline two" || sent.ChatID != chatID {
		t.Errorf("sent %+v, want the two lines of standard input", sent)
	}

	// Tails see what the other person sends, once each: all chats, and one
	// chat as JSON.
	all := alice.startTail()
	one := alice.startTail("--chat", fmt.Sprint(chatID), "--json")
	if _, err := bobSDK.Send(t.Context(), chatID, client.SendParams{Text: "live to the tail"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the tail to print the message", func() bool { return strings.Contains(all.String(), "live to the tail") })
	waitFor(t, "the JSON tail to print the message", func() bool { return strings.Contains(one.String(), "live to the tail") })
	// alice looked bobby up by @name, so her client knows his name.
	if got := all.String(); !strings.Contains(got, "[bobby] bobby: live to the tail") || strings.Count(got, "live to the tail") != 1 {
		t.Errorf("tail printed %q, want one line from bobby", got)
	}
	var ev client.Event
	if err := json.Unmarshal([]byte(strings.TrimSpace(one.String())), &ev); err != nil {
		t.Fatalf("tail --json printed %q: %v", one.String(), err)
	}
	if ev.Kind != client.EventMessage || ev.ChatID != chatID || ev.Message == nil || ev.Message.Text != "live to the tail" {
		t.Errorf("tail --json event = %+v", ev)
	}

	// A file goes up with a caption and comes down the same.
	dir := t.TempDir()
	data := make([]byte, 300_000)
	rand.Read(data)
	file := filepath.Join(dir, "notes.bin")
	os.WriteFile(file, data, 0o600)
	if err := json.Unmarshal([]byte(alice.must("", "send", "--chat", fmt.Sprint(chatID), "--file", file, "--json", "the", "notes")), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Media == nil || sent.Media.Name != "notes.bin" || sent.Media.Size != int64(len(data)) || sent.Text != "the notes" {
		t.Fatalf("sent %+v, want notes.bin with its caption", sent)
	}
	out = bobby.must("", "history", "--chat", fmt.Sprint(chatID))
	if want := fmt.Sprintf("[Alice Liddell] Alice Liddell: [file notes.bin, 300 kB, media %d] the notes", sent.Media.MediaID); !strings.Contains(out, want) {
		t.Errorf("history = %q, want a line with %q", out, want)
	}
	got := filepath.Join(t.TempDir(), "got.bin")
	out = bobby.must("", "download", "--media", fmt.Sprint(sent.Media.MediaID), "--out", got)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, data) {
		t.Errorf("downloaded %d bytes (%v), want the %d sent", len(b), err, len(data))
	}
	if !strings.Contains(out, "saved notes.bin (300 kB) to "+got) {
		t.Errorf("download printed %q", out)
	}
	if _, _, err := bobby.run("", "download", "--media", fmt.Sprint(sent.Media.MediaID), "--out", got); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("download over an existing file: err = %v, want a refusal naming --force", err)
	}
	bobby.must("", "download", "--media", fmt.Sprint(sent.Media.MediaID), "--out", got, "--force")

	// A photo shows its kind and size.
	photo := filepath.Join(dir, "beach.png")
	writePNG(t, photo, 8, 6)
	out = alice.must("", "send", "--to", "@bobby", "--file", photo)
	if !strings.Contains(out, "[photo beach.png 8×6, ") {
		t.Errorf("send --file of a PNG printed %q, want [photo beach.png 8×6, ...]", out)
	}
	waitFor(t, "the tail to print the photo", func() bool { return strings.Contains(all.String(), "[photo beach.png 8×6, ") })

	// Logged out, the session no longer works anywhere.
	token := alice.savedToken()
	if out := alice.must("", "logout"); !strings.Contains(out, "logged out of "+base) {
		t.Errorf("logout printed %q", out)
	}
	if _, _, err := alice.run("", "list"); err == nil || !strings.Contains(err.Error(), "not logged in") {
		t.Errorf("list after logout: err = %v, want not logged in", err)
	}
	if _, err := client.New(base, client.WithToken(token)).Me(t.Context()); err == nil {
		t.Error("the token still works after logout")
	}
}

func (u *chatUser) savedToken() string {
	u.t.Helper()
	data, err := os.ReadFile(u.config)
	if err != nil {
		u.t.Fatal(err)
	}
	var s sessionStore
	if err := json.Unmarshal(data, &s); err != nil {
		u.t.Fatal(err)
	}
	return s.Servers[s.Current].Token
}

// TestChatMistakes: each mistake a person can make gets a message that says
// what is wrong and what to do, and a failing exit status.
func TestChatMistakes(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	sdk := registerUsers(t, base, "alice", "bobby")
	other, err := sdk[1].CreateGroup(t.Context(), client.NewChat{Title: "Not for alice"})
	if err != nil {
		t.Fatal(err)
	}
	alice := newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	chat, err := sdk[0].CreateGroup(t.Context(), client.NewChat{Title: "Alice's"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 5000)

	tests := []struct {
		name  string
		env   map[string]string // for a user with no session file
		stdin string
		args  []string
		want  string
		usage bool // exit status 2
	}{
		{name: "no server", env: map[string]string{}, args: []string{"list"}, want: "no server: give --server URL", usage: true},
		{name: "not logged in", env: map[string]string{"KURIR_SERVER": base}, args: []string{"list"}, want: "not logged in to " + base + ": run kurir chat login"},
		{name: "server down", env: map[string]string{}, stdin: chatPassword + "\n", args: []string{"login", "--server", "http://127.0.0.1:1", "--username", "alice"}, want: "cannot reach the server at http://127.0.0.1:1"},
		{name: "no scheme", env: map[string]string{}, stdin: chatPassword + "\n", args: []string{"login", "--server", "127.0.0.1:1", "--username", "alice"}, want: "the scheme is missing"},
		{name: "wrong password", env: map[string]string{}, stdin: "not the password\n", args: []string{"login", "--server", base, "--username", "alice"}, want: "Wrong username or password."},
		{name: "no password", env: map[string]string{}, stdin: "", args: []string{"login", "--server", base, "--username", "alice"}, want: "nothing given for"},
		{name: "bad token", env: map[string]string{"KURIR_SERVER": base, "KURIR_TOKEN": "kurir_nonsense"}, args: []string{"list"}, want: "The access token is invalid or has been revoked; log in again. Run: kurir chat login --server " + base},
		{name: "too long", args: []string{"send", "--chat", fmt.Sprint(chat.ID), long}, want: "The message is 5000 characters long; the limit is 4096."},
		{name: "someone else's chat", args: []string{"send", "--chat", fmt.Sprint(other.ID), "hi"}, want: "send to chat"},
		{name: "unknown user", args: []string{"send", "--to", "@nobody_here", "hi"}, want: "no user named @nobody_here"},
		{name: "no chat", args: []string{"send", "hi"}, want: "name the chat with --chat ID or --to @username", usage: true},
		{name: "two chats", args: []string{"send", "--chat", "1", "--to", "@bobby", "hi"}, want: "not both", usage: true},
		{name: "nothing to send", args: []string{"send", "--chat", "1"}, want: "standard input is empty", usage: true},
		{name: "missing file", args: []string{"send", "--chat", fmt.Sprint(chat.ID), "--file", "/nonexistent/x.jpg"}, want: "no such file"},
		{name: "no media", args: []string{"download", "--media", "999"}, want: "media 999: "},
		{name: "unknown command", args: []string{"sned"}, want: `unknown command "sned"`, usage: true},
		{name: "not a terminal", args: nil, want: "kurir chat needs a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := alice
			if tt.env != nil {
				u = newChatUser(t)
				u.env = tt.env
			}
			_, _, err := u.run(tt.stdin, tt.args...)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var ue usageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error (exit 2) = %v, want %v", got, tt.usage)
			}
		})
	}

	// None of it sent anything.
	msgs, err := sdk[0].History(t.Context(), chat.ID, client.Before(0), 10)
	if err != nil || len(msgs) != 0 {
		t.Errorf("history after the mistakes = %d messages (%v), want none", len(msgs), err)
	}
}

func TestChatHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "chat"}, {"chat", "--help"}, {"chat", "help"}} {
		out, _, err := kurirCmd(t, "", args...)
		if err != nil && !errors.Is(err, errHelpShown) {
			t.Errorf("%v: %v", args, err)
		}
		for _, want := range []string{"kurir chat login", "tail", "download", "KURIR_TOKEN"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v printed %q, want %q in it", args, out, want)
			}
		}
	}
	out, _, _ := kurirCmd(t, "", "chat", "send", "--help")
	if !strings.Contains(out, "KURIR_SERVER") || !strings.Contains(out, "--file") {
		t.Errorf("chat send --help = %q", out)
	}
}

func TestDisplayTextDefusesTerminalControls(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "hello, 世界", want: "hello, 世界"},
		{name: "escape sequences", in: "a\x1b[2J\x1b]0;pwned\x07b", want: "a[2J]0;pwnedb"},
		{name: "carriage return", in: "fake\rreal", want: "fakereal"},
		{name: "line breaks", in: "one\r\ntwo\nthree", want: "one ⏎ two ⏎ three"},
		{name: "bidi override", in: "file\u202egnp.exe", want: "filegnp.exe"},
		{name: "C1 control", in: "a\u009b31mb", want: "a31mb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayText(tt.in, " ⏎ "); got != tt.want {
				t.Errorf("displayText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDescribeAttachment(t *testing.T) {
	tests := []struct {
		name   string
		a      client.Attachment
		withID bool
		want   string
	}{
		{name: "photo", a: client.Attachment{MediaID: 7, Kind: "photo", Name: "beach.jpg", Size: 120_000, Width: 800, Height: 600}, want: "[photo beach.jpg 800×600, 120 kB]"},
		{name: "with ID", a: client.Attachment{MediaID: 7, Kind: "file", Name: "notes.pdf", Size: 1_500_000}, withID: true, want: "[file notes.pdf, 1.5 MB, media 7]"},
		{name: "hostile name", a: client.Attachment{MediaID: 1, Kind: "file", Name: "x\x1b[31m.txt", Size: 1}, want: "[file x[31m.txt, 1 B]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeAttachment(&tt.a, tt.withID); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSafeFileName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"beach.jpg", "beach.jpg"},
		{"../../.bashrc", "_.._.bashrc"},
		{"/etc/passwd", "_etc_passwd"},
		{"..", "media-9"},
		{"", "media-9"},
		{"a\x00b", "a_b"},
	}
	for _, tt := range tests {
		if got := safeFileName(tt.in, 9); got != tt.want {
			t.Errorf("safeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct{ in, path, caption string }{
		{"beach.jpg", "beach.jpg", ""},
		{"beach.jpg the beach", "beach.jpg", "the beach"},
		{`"my photos/beach.jpg" the beach`, "my photos/beach.jpg", "the beach"},
		{`'a b.txt'`, "a b.txt", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if p, c := splitPath(tt.in); p != tt.path || c != tt.caption {
			t.Errorf("splitPath(%q) = %q, %q; want %q, %q", tt.in, p, c, tt.path, tt.caption)
		}
	}
}

func TestDefaultSessionPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
		err  bool
	}{
		{name: "XDG", env: map[string]string{"XDG_CONFIG_HOME": "/x/config", "HOME": "/home/a"}, want: "/x/config/kurir/session.json"},
		{name: "home", env: map[string]string{"HOME": "/home/a"}, want: "/home/a/.config/kurir/session.json"},
		{name: "relative XDG is ignored", env: map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/home/a"}, want: "/home/a/.config/kurir/session.json"},
		{name: "nothing", env: map[string]string{}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS != "linux" {
				t.Skip("the layout of Linux")
			}
			got, err := defaultSessionPath(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("got %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestTerminalClientDocCoversEveryCommand keeps docs/terminal-client.md
// true: every chat command, and every flag of each, is in it.
func TestTerminalClientDocCoversEveryCommand(t *testing.T) {
	doc, err := os.ReadFile("../../docs/terminal-client.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"", "login", "logout", "list", "history", "send", "tail", "download", "report", "edit", "delete", "pin", "join"} {
		args := []string{"chat", cmd, "--help"}
		if cmd == "" {
			args = []string{"chat", "--help"}
		}
		out, _, err := kurirCmd(t, "", args...)
		if !errors.Is(err, errHelpShown) {
			t.Fatalf("%v: err = %v, want the help", args, err)
		}
		if !bytes.Contains(doc, []byte(strings.TrimSpace("kurir chat "+cmd))) {
			t.Errorf("the doc does not mention kurir chat %s", cmd)
		}
		_, flags, ok := strings.Cut(out, "\nFlags:\n")
		if !ok {
			t.Fatalf("%v printed no flags: %q", args, out)
		}
		for _, line := range strings.Split(flags, "\n") {
			name, ok := strings.CutPrefix(line, "  -")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(name, " ")
			if !bytes.Contains(doc, []byte("--"+name)) {
				t.Errorf("the doc does not mention --%s of kurir chat %s", name, cmd)
			}
		}
	}
}

// TestChatScriptActions runs the commands that act on messages and chats
// as a script would: edit, delete (for everyone and for me), pin and unpin,
// and join by invite link and by @name. The other person sees each
// change; what is not allowed, or named wrong, is refused with the reason
// and changes nothing.
func TestChatScriptActions(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	sdk := registerUsers(t, base, "alice", "bobby")
	aliceSDK, bobby := sdk[0], sdk[1]
	ctx := t.Context()
	me, err := aliceSDK.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alice := newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	private, err := bobby.OpenPrivateChat(ctx, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	club, err := bobby.CreateGroup(ctx, client.NewChat{Title: "Book club", Members: []int64{me.ID}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(c *client.Client, chatID int64, text string) client.Message {
		t.Helper()
		m, err := c.Send(ctx, chatID, client.SendParams{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	seen := func(chatID, seq int64) client.Message { // as bobby sees it
		t.Helper()
		msgs, err := bobby.History(ctx, chatID, client.After(seq-1), 1)
		if err != nil || len(msgs) != 1 || msgs[0].Seq != seq {
			t.Fatalf("bobby's message %d of chat %d: %+v (%v)", seq, chatID, msgs, err)
		}
		return msgs[0]
	}
	typo := send(aliceSDK, club.ID, "see you at 8, bring teh book")
	theirs := send(bobby, club.ID, "chapter two next")
	chatArg := fmt.Sprint(club.ID)
	seqArg := func(m client.Message) string { return fmt.Sprint(m.Seq) }

	// Edit: the new text is printed, and bobby reads it.
	out := alice.must("", "edit", "--chat", chatArg, "--seq", seqArg(typo), "see you at 8, bring the book")
	if !strings.Contains(out, "[Book club] you: see you at 8, bring the book (edited)") {
		t.Errorf("edit printed %q", out)
	}
	if got := seen(club.ID, typo.Seq); got.Text != "see you at 8, bring the book" || got.EditedAt.IsZero() {
		t.Errorf("bobby sees %+v after the edit", got)
	}

	// Pin and unpin in the private chat, where either person may.
	hello := send(bobby, private.ID, "hello alice")
	if out := alice.must("", "pin", "--to", "@bobby", "--seq", seqArg(hello)); !strings.Contains(out, fmt.Sprintf("pinned message %d", hello.Seq)) {
		t.Errorf("pin printed %q", out)
	}
	if ch, err := bobby.Chat(ctx, private.ID); err != nil || ch.PinnedSeq != hello.Seq {
		t.Errorf("bobby's chat after the pin: pinned %d (%v), want %d", ch.PinnedSeq, err, hello.Seq)
	}
	alice.must("", "pin", "--to", "@bobby", "--unpin")
	if ch, err := bobby.Chat(ctx, private.ID); err != nil || ch.PinnedSeq != 0 {
		t.Errorf("bobby's chat after the unpin: pinned %d (%v), want none", ch.PinnedSeq, err)
	}

	// Delete for me: gone from alice's view only.
	alice.must("", "delete", "--chat", chatArg, "--seq", seqArg(theirs), "--for-me")
	if m := hasMessage(t, aliceSDK, club.ID, "chapter two next"); m != nil {
		t.Errorf("alice still sees %+v after deleting it for herself", m)
	}
	if got := seen(club.ID, theirs.Seq); got.Deleted || got.Text != "chapter two next" {
		t.Errorf("bobby sees %+v after alice deleted it for herself", got)
	}

	// Join by link, by @name, and one already joined.
	book2, err := bobby.CreateGroup(ctx, client.NewChat{Title: "Second book"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := bobby.CreateInvite(ctx, book2.ID, client.InviteParams{})
	if err != nil {
		t.Fatal(err)
	}
	if out := alice.must("", "join", base+"/join/"+inv.Code); !strings.Contains(out, fmt.Sprintf("joined group %d: Second book", book2.ID)) {
		t.Errorf("join by link printed %q", out)
	}
	news, err := bobby.CreateChannel(ctx, client.NewChat{Title: "Lake news", Username: "lakenews"})
	if err != nil {
		t.Fatal(err)
	}
	if out := alice.must("", "join", "@lakenews"); !strings.Contains(out, fmt.Sprintf("joined channel %d: Lake news", news.ID)) {
		t.Errorf("join by @name printed %q", out)
	}
	alice.must("", "join", "@lakenews") // already in: no error
	for _, id := range []int64{book2.ID, news.ID} {
		if ch, err := aliceSDK.Chat(ctx, id); err != nil || ch.Role != client.Member {
			t.Errorf("alice in chat %d: role %q (%v), want member", id, ch.Role, err)
		}
	}

	// Mistakes and refusals: a reason, the right exit status, no change.
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{name: "edit someone else's", args: []string{"edit", "--chat", fmt.Sprint(private.ID), "--seq", seqArg(hello), "hacked"}, want: "edit message"},
		{name: "edit without seq", args: []string{"edit", "--chat", chatArg, "new text"}, want: "--seq N is required", usage: true},
		{name: "edit to nothing", args: []string{"edit", "--chat", chatArg, "--seq", seqArg(typo), " "}, want: "the new text is empty", usage: true},
		{name: "pin as a member", args: []string{"pin", "--chat", chatArg, "--seq", seqArg(typo)}, want: "Only admins can pin messages here."},
		{name: "pin and unpin", args: []string{"pin", "--chat", chatArg, "--seq", "1", "--unpin"}, want: "not both", usage: true},
		{name: "delete no such", args: []string{"delete", "--chat", chatArg, "--seq", "999"}, want: "delete message 999"},
		{name: "delete negative", args: []string{"delete", "--chat", chatArg, "--seq", "-3"}, want: "want a message's number", usage: true},
		{name: "join nothing", args: []string{"join"}, want: "name the invite link", usage: true},
		{name: "join unknown name", args: []string{"join", "@no_such_place"}, want: "there is no public group or channel @no_such_place"},
		{name: "join bad link", args: []string{"join", base + "/join/NOSUCHCODE"}, want: "no such invite link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := alice.run("", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var ue usageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error (exit 2) = %v, want %v", got, tt.usage)
			}
		})
	}
	if got := seen(private.ID, hello.Seq); got.Text != "hello alice" || !got.EditedAt.IsZero() {
		t.Errorf("bobby's message after alice tried to edit it: %+v", got)
	}
	if ch, err := bobby.Chat(ctx, club.ID); err != nil || ch.PinnedSeq != 0 {
		t.Errorf("the group after a refused pin: pinned %d (%v), want none", ch.PinnedSeq, err)
	}

	// Delete for everyone: bobby sees it deleted.
	if out := alice.must("", "delete", "--chat", chatArg, "--seq", seqArg(typo)); !strings.Contains(out, "for everyone") {
		t.Errorf("delete printed %q", out)
	}
	if m := hasMessage(t, bobby, club.ID, "bring the book"); m != nil {
		t.Errorf("bobby sees %+v after alice deleted it for everyone", m)
	}
}

// TestChatLoginWithAuthenticator: an account with an authenticator app logs
// in from the terminal with its code (the line after the password in a
// script); without one it is told what is missing.
func TestChatLoginWithAuthenticator(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	sdk := registerUsers(t, base, "carmen")
	e, err := sdk[0].EnrolAuthenticator(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	key, err := totp.ParseKey(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// The code of the step before now confirms it, so the login's code (now)
	// is one not used yet.
	if err := sdk[0].ConfirmAuthenticator(t.Context(), key.Code(time.Now().Add(-totp.Period))); err != nil {
		t.Fatal(err)
	}
	u := newChatUser(t)
	if _, _, err := u.run(chatPassword+"\n", "login", "--server", base, "--username", "carmen"); err == nil || !strings.Contains(err.Error(), "authenticator") {
		t.Errorf("login without a code: %v, want it to ask for the authenticator's code", err)
	}
	out := u.must(chatPassword+"\n"+key.Code(time.Now())+"\n", "login", "--server", base, "--username", "carmen")
	if !strings.Contains(out, "logged in to "+base+" as carmen") {
		t.Errorf("login with the code: %q", out)
	}
}
