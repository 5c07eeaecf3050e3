package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
// real binary runs "kurir chat" in a pseudo-terminal, logged in through its
// saved session. It opens a chat, sees another person's message arrive
// live, sends one that the other person receives, sends a file and saves
// one, and after the server restarts says it is reconnecting and then
// shows what was sent meanwhile. The other person, never looked up by
// @name, is shown by their display name, learnt from the chat's members.
func TestChatFullScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in a pseudo-terminal")
	}
	bin := buildKurir(t)
	dataDir := t.TempDir()
	base, stopServer := serveProcessAt(t, bin, dataDir, "127.0.0.1:0")
	sdk := registerUsers(t, base, "alice", "bobby")
	bobby := sdk[1]
	display := "Bobby Tables"
	if _, err := bobby.UpdateMe(t.Context(), client.ProfileUpdate{DisplayName: &display}); err != nil {
		t.Fatal(err)
	}
	alice := newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	me, err := sdk[0].Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	chat, err := bobby.OpenPrivateChat(t.Context(), me.ID)
	if err != nil {
		t.Fatal(err)
	}
	send := func(p client.SendParams) {
		t.Helper()
		if _, err := bobby.Send(t.Context(), chat.ID, p); err != nil {
			t.Fatalf("bobby sends %+v: %v", p, err)
		}
	}
	send(client.SendParams{Text: "hello alice"})

	downloads := t.TempDir()
	cmd := exec.Command(bin, "chat")
	cmd.Env = append(os.Environ(), "KURIR_CHAT_CONFIG="+alice.config, "KURIR_DOWNLOAD_DIR="+downloads, "TERM=xterm-256color", "COLORTERM=truecolor")
	scr := startScreen(t, 100, 30, cmd)

	// The chat list shows the chat, named for bobby, and its last message;
	// enter opens it.
	scr.waitFor("Bobby Tables: hello alice")
	scr.waitFor("● online")
	scr.typeKeys("\r")
	scr.waitFor("Bobby Tables · private chat")

	// A message arrives live, with its sender's name.
	send(client.SendParams{Text: "live from bobby"})
	scr.waitFor("Bobby Tables: live from bobby")
	if text := scr.text(); strings.Contains(text, "user 2") {
		t.Errorf("the screen names bobby by his ID:\n%s", text)
	}

	// A message typed here arrives there.
	scr.typeKeys("hi bobby from the terminal\r")
	waitFor(t, "bobby to receive the typed message", func() bool { return hasMessage(t, bobby, chat.ID, "hi bobby from the terminal") != nil })

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
	if reps, err := sdk[0].Reports(t.Context(), 10); err != nil || len(reps) != 1 || reps[0].Subject.UserID == 0 {
		t.Errorf("alice's reports after /report: %+v (%v); want one about bobby", reps, err)
	}

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
