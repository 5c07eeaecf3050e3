package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildKurir compiles the real binary once per test run.
func buildKurir(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kurir")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs "kurir serve" as a child process and returns its base URL.
func startProcess(t *testing.T, bin, dataDir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, cheap...), extra...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
		return cmd, u
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server process did not start")
		return nil, ""
	}
}

// TestCrashLosesNothingAcknowledged kills the server with SIGKILL while
// clients send, restarts it on the same data, and checks that every message
// the server acknowledged is there exactly once, and that the retries of the
// unacknowledged ones (same idempotency keys) never duplicate.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := buildKurir(t)
	dataDir := t.TempDir()
	// Sustained sending from two accounts is what the per-account send
	// limit stops, and this test needs it.
	cmd, base := startProcess(t, bin, dataDir, "--dev-no-rate-limits")

	// Two users and their private chat.
	for _, name := range []string{"crash_a", "crash_b"} {
		if st := (&apiClient{t: t, base: base}).call("POST", "/api/v1/accounts", map[string]string{"username": name, "password": "a long and unusual passphrase"}, nil); st != http.StatusCreated {
			t.Fatalf("register: %d", st)
		}
	}
	la, _, _ := login(t, base, "crash_a", "a long and unusual passphrase", "A")
	lb, _, _ := login(t, base, "crash_b", "a long and unusual passphrase", "B")
	var me struct {
		ID int64 `json:"id"`
	}
	(&apiClient{t: t, base: base, token: lb.Token}).call("GET", "/api/v1/me", nil, &me)
	var chat struct {
		ID int64 `json:"id"`
	}
	(&apiClient{t: t, base: base, token: la.Token}).call("PUT", fmt.Sprintf("/api/v1/users/%d/chat", me.ID), nil, &chat)

	// Senders post as fast as they can; each records which keys were acknowledged.
	var mu sync.Mutex
	acked := map[string]int64{} // key → seq
	var attempted []string
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	send := func(base, key string) (int64, bool) {
		body, _ := json.Marshal(map[string]string{"text": "msg " + key, "idempotency_key": key})
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/chats/%d/messages", base, chat.ID), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+la.Token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var m struct {
			Seq int64 `json:"seq"`
		}
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &m) != nil {
			return 0, false
		}
		return m.Seq, true
	}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				mu.Lock()
				attempted = append(attempted, key)
				mu.Unlock()
				if seq, ok := send(base, key); ok {
					mu.Lock()
					acked[key] = seq
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d messages acknowledged before the crash; the test needs traffic", len(acked))
	}

	ackedBefore := len(acked)
	// Restart on the same data; every client retries what it never heard back about.
	cmd2, base2 := startProcess(t, bin, dataDir, "--dev-no-rate-limits")
	defer func() { cmd2.Process.Signal(syscall.SIGTERM); cmd2.Wait() }()
	for _, key := range attempted {
		if _, ok := acked[key]; ok {
			continue
		}
		seq, ok := send(base2, key)
		if !ok {
			t.Fatalf("retry of %s after restart failed", key)
		}
		acked[key] = seq
	}

	// The history holds each key exactly once, at the seq the server gave it.
	seen := map[string]int64{}
	before := int64(0)
	cb := &apiClient{t: t, base: base2, token: lb.Token}
	for {
		var page struct {
			Messages []struct {
				Seq  int64  `json:"seq"`
				Text string `json:"text"`
			} `json:"messages"`
		}
		path := fmt.Sprintf("/api/v1/chats/%d/messages?limit=100", chat.ID)
		if before > 0 {
			path += fmt.Sprintf("&before=%d", before)
		}
		if st := cb.call("GET", path, nil, &page); st != http.StatusOK {
			t.Fatalf("history: %d", st)
		}
		if len(page.Messages) == 0 {
			break
		}
		for _, m := range page.Messages {
			key := strings.TrimPrefix(m.Text, "msg ")
			if prev, dup := seen[key]; dup {
				t.Errorf("message %s stored twice (seq %d and %d)", key, prev, m.Seq)
			}
			seen[key] = m.Seq
			before = m.Seq
		}
	}
	for key, seq := range acked {
		if got, ok := seen[key]; !ok {
			t.Errorf("acknowledged message %s (seq %d) is missing after the crash", key, seq)
		} else if got != seq {
			t.Errorf("message %s: acknowledged as seq %d, stored as %d", key, seq, got)
		}
	}
	if len(seen) != len(acked) {
		t.Errorf("history has %d messages, %d were acknowledged", len(seen), len(acked))
	}
	t.Logf("%d messages acknowledged before the SIGKILL, %d more retried after the restart; none lost or doubled", ackedBefore, len(acked)-ackedBefore)
}
