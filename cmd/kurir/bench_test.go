package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kurir/sqldb/sqldbtest"
)

// TestBenchMessaging runs "kurir bench messaging" against a real server
// started with --dev-no-rate-limits, as an operator would, and checks the
// JSON it writes: every acknowledged message arrived once, and the latency
// figures are plausible.
func TestBenchMessaging(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t), "--dev-no-rate-limits")
	out := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, err := kurirCmd(t, "", "bench", "messaging", "--server", base,
		"--users", "20", "--rate", "200", "--warmup", "500ms", "--duration", "2s", "--drain", "5s", "--json", out)
	if err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	t.Log(stdout)
	if !strings.Contains(stdout, "latency") || !strings.Contains(stdout, "0 lost") {
		t.Errorf("summary = %q, want latency and loss", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if rep.Server != base || rep.Users != 20 || rep.TargetRate != 200 || rep.DurationS != 2 {
		t.Errorf("settings in report = %+v, want server %s, 20 users, rate 200, 2s", rep, base)
	}
	if want := int64(500); rep.Scheduled != want || rep.Sent != want {
		t.Errorf("scheduled %d, sent %d; want %d each (200/s for 2.5s)", rep.Scheduled, rep.Sent, want)
	}
	if rep.Acknowledged != rep.Sent || rep.Delivered != rep.Acknowledged || rep.Lost != 0 || rep.Duplicates != 0 {
		t.Errorf("sent %d, acknowledged %d, delivered %d, lost %d, duplicates %d; want all sent acknowledged and delivered once",
			rep.Sent, rep.Acknowledged, rep.Delivered, rep.Lost, rep.Duplicates)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors = %+v, want none", rep.Errors)
	}
	l := rep.LatencyMS
	if l.Samples != 400 {
		t.Errorf("latency samples = %d, want 400 (the messages due after the warmup)", l.Samples)
	}
	if !(l.P50 > 0 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latency = %+v, want 0 < p50 <= p95 <= p99 <= max", l)
	}
	// The schedule is open-loop: a slow server (say, one built with -race)
	// lowers the achieved rates, but nothing may exceed the target.
	if !(rep.SendRate > 0 && rep.SendRate <= 200.5 && rep.DeliveredRate > 0 && rep.DeliveredRate <= 200.5) {
		t.Errorf("send rate %.1f, delivered rate %.1f; want above 0 and at most the target of 200", rep.SendRate, rep.DeliveredRate)
	}
}

// TestBenchNeedsUnlimitedServer: against a server with its usual limits the
// bench stops at the registration limit and says what to do.
func TestBenchNeedsUnlimitedServer(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	_, _, err := kurirCmd(t, "", "bench", "messaging", "--server", base, "--users", "12", "--duration", "1s")
	if err == nil || !strings.Contains(err.Error(), "--dev-no-rate-limits") {
		t.Fatalf("err = %v, want it to point to --dev-no-rate-limits", err)
	}
}

// TestServeWarnsWithoutRateLimits: an operator who turns the limits off is
// told loudly at start-up.
func TestServeWarnsWithoutRateLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lineWatcher{marker: "RATE LIMITS ARE OFF", found: make(chan string, 1)}
	done := make(chan error, 1)
	env := map[string]string{"KURIR_DEV_NO_RATE_LIMITS": "true"}
	args := append([]string{"kurir", "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, cheap...)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, nil, &bytes.Buffer{}, logs) }()
	select {
	case <-logs.found:
	case err := <-done:
		t.Fatalf("serve exited without the warning: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no warning within 30s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestBenchMistakes(t *testing.T) {
	server := []string{"--server", "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no mode", nil, "name a mode"},
		{"unknown mode", []string{"groups"}, `unknown mode "groups"`},
		{"no server", []string{"messaging"}, "--server is required"},
		{"server without scheme", []string{"messaging", "--server", "127.0.0.1:8080"}, "want the server's base URL"},
		{"odd users", append([]string{"messaging", "--users", "7"}, server...), "--users 7: want an even number"},
		{"too many users", append([]string{"messaging", "--users", "5000"}, server...), "at most 4000 users"},
		{"bad duration", append([]string{"messaging", "--duration", "ten seconds"}, server...), `invalid value "ten seconds" for flag -duration`},
		{"zero duration", append([]string{"messaging", "--duration", "0s"}, server...), "--duration 0s: want a positive duration"},
		{"zero rate", append([]string{"messaging", "--rate", "0"}, server...), "--rate 0: want messages per second above 0"},
		{"too many messages", append([]string{"messaging", "--rate", "100000", "--duration", "10m"}, server...), "one run sends at most"},
		{"argument", append([]string{"messaging", "extra"}, server...), "takes no arguments"},
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
	out, _, err := kurirCmd(t, "", "bench", "messaging", "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(out, "loopback or test servers") || !strings.Contains(out, "KURIR_BENCH_SERVER") {
		t.Errorf("help: err %v, output %q", err, out)
	}
}

func TestParseBenchText(t *testing.T) {
	tests := []struct {
		in   string
		t, k int64
		ok   bool
	}{
		{"t=1700000000000000000 k=42", 1700000000000000000, 42, true},
		{"t=1 k=0", 1, 0, true},
		{"hello", 0, 0, false},
		{"t=x k=1", 0, 0, false},
		{"k=1 t=2", 0, 0, false},
		{"t=1 k=2 extra", 0, 0, false},
	}
	for _, tt := range tests {
		gotT, gotK, ok := parseBenchText(tt.in)
		if ok != tt.ok || (ok && (gotT != tt.t || gotK != tt.k)) {
			t.Errorf("parseBenchText(%q) = %d, %d, %v; want %d, %d, %v", tt.in, gotT, gotK, ok, tt.t, tt.k, tt.ok)
		}
	}
}
