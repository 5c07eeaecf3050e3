package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kurir/client"
	"kurir/sqldb/sqldbtest"
)

// TestBenchChannel runs "kurir bench channel" as an operator would, as the
// built binary (its workers are copies of it), against a real server
// started with --dev-no-rate-limits, and checks the JSON it writes: every
// connected subscriber received every post once, and no one else did.
func TestBenchChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs worker processes")
	}
	bin := buildKurir(t)
	base := startServer(t, sqldbtest.SQLiteURL(t), "--dev-no-rate-limits")
	out := filepath.Join(t.TempDir(), "channel.json")
	cmd := exec.Command(bin, "bench", "channel", "--server", base, "--subscribers", "30", "--connected", "20",
		"--processes", "2", "--posts", "3", "--interval", "100ms", "--drain", "5s", "--json", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Log(stdout.String())
	if !strings.Contains(stdout.String(), "0 missing") || !strings.Contains(stdout.String(), "all delivered") {
		t.Errorf("summary = %q, want the arrivals and the time until all had each post", stdout.String())
	}
	if !strings.Contains(stderr.String(), "subscribed 30 of 30") {
		t.Errorf("progress on stderr = %q, want the subscriptions counted", stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep channelReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if rep.Server != base || rep.Subscribers != 30 || rep.Connected != 20 || rep.Processes != 2 || rep.Posts != 3 {
		t.Errorf("settings in report = %+v, want server %s, 30 subscribers, 20 connected, 2 processes, 3 posts", rep, base)
	}
	// Exactly 60: the 10 subscribers who are not connected must not count,
	// and nobody may get a post twice.
	if rep.Acknowledged != 3 || rep.Expected != 60 || rep.Delivered != 60 || rep.Missing != 0 || rep.Duplicates != 0 {
		t.Errorf("acknowledged %d, expected %d, delivered %d, missing %d, duplicates %d; want 3 posts to 20 subscribers, each once",
			rep.Acknowledged, rep.Expected, rep.Delivered, rep.Missing, rep.Duplicates)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors = %+v, want none", rep.Errors)
	}
	l, all := rep.LatencyMS, rep.AllDeliveredMS
	if l.Samples != 60 || !(l.P50 > 0 && l.P50 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latency = %+v, want 60 samples, 0 < p50 <= p99 <= max", l)
	}
	// The last arrival of a post is the slowest, and a loopback server
	// with 20 subscribers delivers well within the drain.
	if all.Samples != 3 || all.Max != l.Max || all.Max >= 5000 {
		t.Errorf("all delivered = %+v, latency max %v; want 3 posts, the slowest at the slowest arrival, under 5 s", all, l.Max)
	}
	if len(rep.PerPost) != 3 {
		t.Fatalf("per post = %+v, want 3", rep.PerPost)
	}
	for _, p := range rep.PerPost {
		if !p.Acknowledged || p.Delivered != 20 || !(p.AckMS > 0) || !(p.LastMS > 0) {
			t.Errorf("post %+v: want acknowledged and delivered to 20", p)
		}
	}
}

// TestChannelRunReport feeds a run the lines two workers would write, and
// checks that what never arrived is counted missing, and what arrived twice
// only once.
func TestChannelRunReport(t *testing.T) {
	cfg := channelConfig{server: "http://127.0.0.1:1", subscribers: 4, connected: 3, processes: 2, posts: 2, interval: time.Second}
	r := newChannelRun(cfg, "run", benchChannelSetup{chat: 7})
	const t0 = int64(1_700_000_000_000_000_000)
	milli := int64(time.Millisecond)
	r.posts[0].sent, r.posts[0].ack, r.posts[0].acked = t0, 2*time.Millisecond, true
	r.posts[1].sent, r.posts[1].ack, r.posts[1].acked = t0+1000*milli, 3*time.Millisecond, true
	// Worker one has subscribers 0 and 1, worker two subscriber 2.
	one := func(line string) { r.workerLine(0, 2, line) }
	two := func(line string) { r.workerLine(2, 1, line) }
	one("d 0 0 " + strconv.FormatInt(t0+10*milli, 10))
	one("d 1 0 " + strconv.FormatInt(t0+20*milli, 10))
	two("d 0 0 " + strconv.FormatInt(t0+40*milli, 10))
	one("d 0 1 " + strconv.FormatInt(t0+1005*milli, 10))
	one("d 1 1 " + strconv.FormatInt(t0+1015*milli, 10))
	one("d 1 1 " + strconv.FormatInt(t0+1016*milli, 10)) // a duplicate
	two("x 0 resync the server cut the session off: too slow")
	two("d 1 1 " + strconv.FormatInt(t0+1016*milli, 10)) // worker two has no subscriber 1
	one("d 0 2 " + strconv.FormatInt(t0, 10))            // there is no post 2
	one("hello")

	rep := r.report()
	if rep.Expected != 6 || rep.Delivered != 5 || rep.Missing != 1 || rep.Duplicates != 1 {
		t.Errorf("expected %d, delivered %d, missing %d, duplicates %d; want 6, 5, 1, 1", rep.Expected, rep.Delivered, rep.Missing, rep.Duplicates)
	}
	if l := rep.LatencyMS; l.Samples != 5 || l.P50 != 15 || l.Max != 40 {
		t.Errorf("latency = %+v, want 5 samples, p50 15 ms, max 40 ms", l)
	}
	// Only post 0 reached everyone, the last after 40 ms.
	if a := rep.AllDeliveredMS; a.Samples != 1 || a.Max != 40 {
		t.Errorf("all delivered = %+v, want 1 post at 40 ms", a)
	}
	if p := rep.PerPost[1]; p.Delivered != 2 || p.LastMS != 15 || p.AckMS != 3 {
		t.Errorf("post 1 = %+v, want 2 delivered, last after 15 ms, ack 3 ms", p)
	}
	if got := rep.Errors["resync"]; got.Count != 1 || !strings.Contains(got.First, "subscriber 2: the server cut") {
		t.Errorf("resync errors = %+v, want one, of subscriber 2", got)
	}
	if got := rep.Errors["worker_output"]; got.Count != 3 {
		t.Errorf("worker_output errors = %+v, want 3 (a subscriber and a post out of range, and junk)", got)
	}
}

// TestChannelWorkerNeedsSubscriber: a worker whose account does not follow
// the channel says so instead of waiting for posts that cannot come.
func TestChannelWorkerNeedsSubscriber(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t), "--dev-no-rate-limits")
	anon := client.New(base)
	res, err := registerBenchUser(t.Context(), anon, "outsider", "a long and unusual passphrase")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := registerBenchUser(t.Context(), anon, "owner", "a long and unusual passphrase")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := anon.WithToken(owner.Token).CreateChannel(t.Context(), client.NewChat{Title: "news", Username: "news_channel"})
	if err != nil {
		t.Fatal(err)
	}
	// The parent keeps the worker's stdin open while the run lasts.
	stdin, tokens := io.Pipe()
	defer tokens.Close()
	go io.WriteString(tokens, res.Token+"\n")
	var stdout, stderr bytes.Buffer
	err = benchChannelWorker(t.Context(), []string{"--server", base, "--chat", strconv.FormatInt(ch.ID, 10), "--count", "1"}, noEnv,
		stdin, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "does not list chat") {
		t.Fatalf("err = %v, want the channel missing from the hello", err)
	}
	if !strings.HasPrefix(stdout.String(), "error ") {
		t.Errorf("stdout = %q, want an error line for the parent", stdout.String())
	}
	err = benchChannelWorker(t.Context(), []string{"--server", base, "--chat", strconv.FormatInt(ch.ID, 10), "--count", "2"}, noEnv,
		strings.NewReader(res.Token+"\n"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "token 2 of 2 missing") {
		t.Errorf("one token for two sessions: err = %v", err)
	}
}

func TestBenchChannelMistakes(t *testing.T) {
	server := []string{"--server", "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no server", []string{"channel"}, "--server is required"},
		{"server without scheme", []string{"channel", "--server", "127.0.0.1:8080"}, "want the server's base URL"},
		{"no subscribers", append([]string{"channel", "--subscribers", "0"}, server...), "--subscribers 0: want 1 to 100000"},
		{"more connected than subscribers", append([]string{"channel", "--subscribers", "10", "--connected", "11"}, server...), "--connected 11: want 1 to --subscribers 10"},
		{"too many connected", append([]string{"channel", "--subscribers", "20000"}, server...), "--connected 20000: at most 19000"},
		{"too few processes", append([]string{"channel", "--subscribers", "9000", "--processes", "2"}, server...), "one process opens at most 4000"},
		{"more processes than connected", append([]string{"channel", "--subscribers", "2", "--processes", "3"}, server...), "more processes than connected subscribers"},
		{"no posts", append([]string{"channel", "--posts", "0"}, server...), "--posts 0: want 1 to 1000"},
		{"too many arrivals", append([]string{"channel", "--subscribers", "19000", "--posts", "1000"}, server...), "one run records at most"},
		{"zero interval", append([]string{"channel", "--interval", "0s"}, server...), "--interval 0s: want a positive duration"},
		{"bad interval", append([]string{"channel", "--interval", "often"}, server...), `invalid value "often" for flag -interval`},
		{"zero drain", append([]string{"channel", "--drain", "0s"}, server...), "--drain 0s: want a positive duration"},
		{"no setup parallelism", append([]string{"channel", "--setup-parallel", "0"}, server...), "--setup-parallel 0: want 1 to 256"},
		{"argument", append([]string{"channel", "extra"}, server...), "takes no arguments"},
		{"worker without chat", append([]string{"channel-worker", "--count", "1"}, server...), "--chat 0: want the channel's ID"},
		{"worker with too many", append([]string{"channel-worker", "--chat", "1", "--count", "4001"}, server...), "--count 4001: want 1 to 4000"},
		{"worker off loopback", append([]string{"channel-worker", "--chat", "1", "--count", "1", "--source", "10.0.0.1"}, server...), `--source "10.0.0.1": want a loopback address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := kurirCmd(t, "", append([]string{"bench"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("err = %v is not a usage error (exit 2)", err)
			}
		})
	}
	out, _, err := kurirCmd(t, "", "bench", "channel", "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(out, "loopback or test servers") || !strings.Contains(out, "KURIR_BENCH_SUBSCRIBERS") {
		t.Errorf("help: err %v, output %q", err, out)
	}
	out, _, _ = kurirCmd(t, "", "bench", "help")
	if !strings.Contains(out, "channel") || strings.Contains(out, "channel-worker") {
		t.Errorf("bench help = %q, want channel listed and its worker not", out)
	}
}

func TestIsLoopbackServer(t *testing.T) {
	tests := []struct {
		server string
		want   bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.5", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", false}, // workers dial from 127.0.0.x, which cannot reach ::1
		{"https://chat.example.org", false},
		{"http://10.0.0.1:8080", false},
	}
	for _, tt := range tests {
		if got := isLoopbackServer(tt.server); got != tt.want {
			t.Errorf("isLoopbackServer(%q) = %v, want %v", tt.server, got, tt.want)
		}
	}
}
