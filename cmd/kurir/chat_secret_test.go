package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"kurir/sqldb/sqldbtest"
)

// startSecretTail runs "kurir chat secret tail ARGS" until stop is called
// (or the test ends), and returns its standard output once it says it is
// waiting for messages.
func (u *chatUser) startSecretTail(args ...string) (out *lockedBuffer, stop func()) {
	u.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	var errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"kurir", "chat", "secret", "tail"}, args...), u.getenv, strings.NewReader(""), out, &errOut)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				u.t.Errorf("secret tail ended with %v; want nil when interrupted\n%s", err, errOut.String())
			}
		case <-time.After(10 * time.Second):
			u.t.Errorf("secret tail did not stop within 10s of being interrupted")
		}
	}
	u.t.Cleanup(stop)
	waitFor(u.t, "the secret tail to connect", func() bool {
		select {
		case err := <-done:
			u.t.Fatalf("secret tail ended early: %v\n%s", err, errOut.String())
		default:
		}
		return strings.Contains(errOut.String(), "waiting for secret messages")
	})
	return out, stop
}

var envelopeID = regexp.MustCompile(`\(id ([A-Z0-9]+)`)

// TestChatSecret drives "kurir chat secret" as two people would: one writes
// while the other is away and again while they follow along, both compare
// safety numbers, and one reports a message; a message with a timer can no
// longer be reported once it has self-destructed; bad input is refused
// with a clear message.
func TestChatSecret(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	registerUsers(t, base, "alice", "bobby")
	alice, bobby := newChatUser(t), newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	bobby.must(chatPassword+"\n", "login", "--server", base, "--username", "bobby")

	// Writing to someone who has not set up secret chats says so.
	if _, _, err := alice.run("", "secret", "send", "@bobby", "hello?"); err == nil || !strings.Contains(err.Error(), "has not set up secret chats") {
		t.Fatalf("send before bobby set up: %v", err)
	}
	// bobby's first tail sets his device up; then he goes away.
	_, stop := bobby.startSecretTail()
	stop()
	out := alice.must("", "secret", "send", "@bobby", "sent", "while", "you", "were", "away")
	if !strings.Contains(out, "sent a secret message to bobby (1 device)") {
		t.Errorf("send printed %q", out)
	}

	// Safety numbers match on both sides.
	number := regexp.MustCompile(`device \d+: ((?:\d{5} ){11}\d{5})`)
	an := number.FindStringSubmatch(alice.must("", "secret", "safety-number", "@bobby"))
	bn := number.FindStringSubmatch(bobby.must("", "secret", "safety-number", "@alice"))
	if an == nil || bn == nil || an[1] != bn[1] {
		t.Errorf("safety numbers %q and %q, want the same", an, bn)
	}

	// bobby comes back: the waiting message first, then live ones.
	tail, stopTail := bobby.startSecretTail()
	waitFor(t, "the message sent while away", func() bool { return strings.Contains(tail.String(), "sent while you were away") })
	alice.must("the door code\nis 4711\n", "secret", "send", "@bobby", "--expire", "1s")
	alice.must("", "secret", "send", "@bobby", "you are an idiot")
	waitFor(t, "the live messages", func() bool { return strings.Contains(tail.String(), "you are an idiot") })
	got := tail.String()
	for _, want := range []string{
		"[secret] alice: sent while you were away (id ",
		"[secret] alice: the door code ⏎ is 4711 (id ",
		"; self-destructs in 1s)",
		"[secret] alice: you are an idiot (id ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the tail printed\n%s\nwant %q", got, want)
		}
	}
	if strings.Count(got, "sent while you were away") != 1 {
		t.Errorf("the tail printed a message twice:\n%s", got)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	ids := make([]string, len(lines))
	for i, l := range lines {
		m := envelopeID.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q has no envelope ID", l)
		}
		ids[i] = m[1]
	}

	// The door code self-destructs while the tail runs on: it leaves the
	// file of kept messages then, not only when something next reads it.
	kept := filepath.Join(filepath.Dir(bobby.config), "secret", "*-session-*", "received")
	keptHas := func(id string) bool {
		files, _ := filepath.Glob(kept)
		if len(files) != 1 {
			t.Fatalf("kept messages: %v, want one file", files)
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(data), id)
	}
	if !keptHas(ids[1]) || !keptHas(ids[2]) {
		t.Fatal("the messages shown are not kept for reporting")
	}
	for deadline := time.Now().Add(5 * time.Second); keptHas(ids[1]); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the door code is still kept on disk 5s after it self-destructed")
		}
	}
	if !keptHas(ids[2]) {
		t.Error("a message without a timer left the kept messages")
	}

	// bobby reports the insult: the moderators get it, with proof.
	out = bobby.must("", "secret", "report", ids[2], "--reason", "harassment", "--comment", "rude")
	if !regexp.MustCompile(`reported the secret message from alice \(report \d+, case \d+\)`).MatchString(out) {
		t.Errorf("report printed %q", out)
	}
	// The door code self-destructed: there is nothing left to report.
	time.Sleep(1100 * time.Millisecond)
	if _, _, err := bobby.run("", "secret", "report", ids[1], "--reason", "spam"); err == nil || !strings.Contains(err.Error(), "self-destructed") {
		t.Errorf("report of a self-destructed message: %v", err)
	}
	if _, _, err := alice.run("", "secret", "report", ids[0], "--reason", "spam"); err == nil || !strings.Contains(err.Error(), "no secret message with the ID") {
		t.Errorf("report of a message this device did not receive: %v", err)
	}

	// bobby answers; alice follows along as JSON.
	atail, _ := alice.startSecretTail("--json")
	bobby.must("", "secret", "send", "@alice", "see you at 8")
	waitFor(t, "alice's tail", func() bool { return strings.Contains(atail.String(), `"text":"see you at 8"`) })

	// The keys and received messages are kept beside the session file,
	// readable by their owner only.
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(bobby.config), "secret", "*-session-*"))
	if len(dirs) != 1 {
		t.Fatalf("secret state directories: %v, want one", dirs)
	}
	for _, name := range []string{"keys", "received"} {
		fi, err := os.Stat(filepath.Join(dirs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	// The text of a message is nowhere in the keys file.
	keys, _ := os.ReadFile(filepath.Join(dirs[0], "keys"))
	if strings.Contains(string(keys), "idiot") {
		t.Error("the keys file holds a message's text")
	}

	// Logging out deletes the device's keys and kept messages.
	stopTail()
	bobby.must("", "logout")
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("after logging out, %s: %v; want it gone", dirs[0], err)
	}

	// Bad input gets a clear message.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"secret"}, "name a command"},
		{[]string{"secret", "shout"}, `unknown command "shout"`},
		{[]string{"secret", "--json", "tail"}, "name the command before its flags"},
		{[]string{"secret", "send"}, "name the person"},
		{[]string{"secret", "send", "@bobby"}, "the message is empty"},
		{[]string{"secret", "send", "@bobby", "x", "--expire", "1500ms"}, "whole number of seconds"},
		{[]string{"secret", "send", "@bobby", "x", "--expire", "soon"}, "invalid value"},
		{[]string{"secret", "send", "@nobody", "x"}, "no user named @nobody"},
		{[]string{"secret", "send", "@bobby", strings.Repeat("x", 4097)}, "at most 4096"},
		{[]string{"secret", "safety-number"}, "name the person"},
		{[]string{"secret", "report", "X"}, "--reason is required"},
		{[]string{"secret", "report", "--reason", "spam"}, "envelope ID"},
	} {
		_, _, err := alice.run("", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("kurir chat %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// TestChatSecretTailShowsWhatItCannotKeep: once Receive has handed the
// tail a message, the server and the device's state no longer hold it, so
// the tail prints it even when it cannot keep it for reporting (here the
// file of kept messages cannot be locked), and then says why it stops.
func TestChatSecretTailShowsWhatItCannotKeep(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	registerUsers(t, base, "alice", "bobby")
	alice, bobby := newChatUser(t), newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")
	bobby.must(chatPassword+"\n", "login", "--server", base, "--username", "bobby")
	_, stop := bobby.startSecretTail()
	stop()
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(bobby.config), "secret", "*-session-*"))
	if len(dirs) != 1 {
		t.Fatalf("secret state directories: %v, want one", dirs)
	}
	lock := filepath.Join(dirs[0], "received.lock")
	if err := os.RemoveAll(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o700); err != nil {
		t.Fatal(err)
	}
	alice.must("", "secret", "send", "@bobby", "read me even so")
	out, errOut, err := bobby.run("", "secret", "tail")
	if err == nil || !strings.Contains(err.Error(), "keep received secret messages") {
		t.Errorf("tail: %v, want it to say it could not keep the message\n%s", err, errOut)
	}
	if !strings.Contains(out, ": read me even so (id ") {
		t.Errorf("the tail printed %q; want the message although it could not be kept", out)
	}
}
