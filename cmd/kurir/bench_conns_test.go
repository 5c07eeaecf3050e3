package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kurir/sqldb/sqldbtest"
)

// TestBenchConnections runs "kurir bench connections" as an operator would,
// as the built binary (its workers are copies of it), against a real server
// started with --dev-no-rate-limits, and checks the JSON it writes: every
// session reached the server, and they cost it memory. (A thousand of them,
// at about 14 KB each, stand well clear of the garbage collector's noise.)
func TestBenchConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs worker processes")
	}
	bin := buildKurir(t)
	base := startServer(t, sqldbtest.SQLiteURL(t), "--dev-no-rate-limits")
	out := filepath.Join(t.TempDir(), "conns.json")
	cmd := exec.Command(bin, "bench", "connections", "--server", base, "--sessions", "1000", "--processes", "2", "--hold", "30s", "--json", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Log(stdout.String())
	if !strings.Contains(stdout.String(), "per session") {
		t.Errorf("summary = %q, want the bytes per session", stdout.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep connReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if rep.Server != base || rep.Sessions != 1000 || rep.Processes != 2 {
		t.Errorf("settings in report = %+v, want server %s, 1000 sessions, 2 processes", rep, base)
	}
	if got := rep.LiveSessionsAfter - rep.LiveSessionsBefore; got != 1000 {
		t.Errorf("live sessions %d before, %d after: grew by %d, want 1000", rep.LiveSessionsBefore, rep.LiveSessionsAfter, got)
	}
	if !(rep.RSSBefore > 0 && rep.BytesPerSession > 0 && rep.RSSDelta == rep.RSSAfter-rep.RSSBefore) {
		t.Errorf("rss %d before, %d after, delta %d, %.0f bytes per session; want both above 0 and growth", rep.RSSBefore, rep.RSSAfter, rep.RSSDelta, rep.BytesPerSession)
	}
	if rep.OpenS <= 0 {
		t.Errorf("open time = %v, want above 0", rep.OpenS)
	}
}

func TestBenchConnectionsMistakes(t *testing.T) {
	server := []string{"--server", "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no server", []string{"connections", "--sessions", "10"}, "--server is required"},
		{"server without scheme", []string{"connections", "--server", "127.0.0.1:8080", "--sessions", "10"}, "want the server's base URL"},
		{"no sessions", append([]string{"connections"}, server...), "--sessions 0: want 1 to 19000"},
		{"too many sessions", append([]string{"connections", "--sessions", "19001"}, server...), "--sessions 19001: want 1 to 19000"},
		{"too few processes", append([]string{"connections", "--sessions", "9000", "--processes", "2"}, server...), "one process opens at most 4000"},
		{"more processes than sessions", append([]string{"connections", "--sessions", "2", "--processes", "3"}, server...), "more processes than --sessions"},
		{"negative processes", append([]string{"connections", "--sessions", "2", "--processes", "-1"}, server...), "--processes -1"},
		{"zero hold", append([]string{"connections", "--sessions", "2", "--hold", "0s"}, server...), "--hold 0s: want a positive duration"},
		{"argument", append([]string{"connections", "--sessions", "2", "extra"}, server...), "takes no arguments"},
		{"worker without token", append([]string{"connections-worker", "--count", "1"}, server...), "--token is required"},
		{"worker with too many", append([]string{"connections-worker", "--token", "x", "--count", "4001"}, server...), "--count 4001: want 1 to 4000"},
		{"worker off loopback", append([]string{"connections-worker", "--token", "x", "--count", "1", "--source", "10.0.0.1"}, server...), `--source "10.0.0.1": want a loopback address`},
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
	out, _, err := kurirCmd(t, "", "bench", "connections", "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(out, "loopback or test servers") || !strings.Contains(out, "KURIR_BENCH_SESSIONS") {
		t.Errorf("help: err %v, output %q", err, out)
	}
	out, _, _ = kurirCmd(t, "", "bench", "help")
	if !strings.Contains(out, "connections") || strings.Contains(out, "connections-worker") {
		t.Errorf("bench help = %q, want connections listed and its worker not", out)
	}
}

func TestParseMetrics(t *testing.T) {
	const text = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 3.7801984e+07
kurir_live_sessions_total 99
kurir_live_sessions{node="a b"} 3
kurir_live_sessions{node="c"} 4 1700000000000
`
	got, err := parseMetrics(strings.NewReader(text), "process_resident_memory_bytes", "kurir_live_sessions")
	if err != nil || len(got) != 2 || got[0] != 37801984 || got[1] != 7 {
		t.Errorf("parseMetrics = %v, %v; want [37801984 7]", got, err)
	}
	if _, err := parseMetrics(strings.NewReader(text), "kurir_missing"); err == nil || !strings.Contains(err.Error(), "no kurir_missing") {
		t.Errorf("missing metric: err = %v", err)
	}
	if _, err := parseMetrics(strings.NewReader("kurir_live_sessions x\n"), "kurir_live_sessions"); err == nil {
		t.Error("non-number accepted")
	}
}
