package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kurir/sqldb/sqldbtest"
)

// TestDebugAddrServesProfiler: --debug-addr serves Go's profiler on its own
// listener, and the public one does not.
func TestDebugAddrServesProfiler(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lineWatcher{marker: "profiler listening", found: make(chan string, 1)}
	out := &lineWatcher{marker: "kurir is serving on ", found: make(chan string, 1)}
	done := make(chan error, 1)
	args := append([]string{"kurir", "serve", "--addr", "127.0.0.1:0", "--database", sqldbtest.SQLiteURL(t), "--debug-addr", "127.0.0.1:0"}, cheap...)
	go func() { done <- run(ctx, args, noEnv, nil, out, logs) }()
	var line, base string
	for line == "" || base == "" {
		select {
		case line = <-logs.found:
		case base = <-out.found:
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not start")
		}
	}
	_, addr, ok := strings.Cut(line, "addr=")
	if !ok {
		t.Fatalf("no address in %q", line)
	}
	resp, err := http.Get("http://" + strings.Fields(addr)[0] + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine") {
		t.Errorf("profiler index: %d %.100s", resp.StatusCode, body)
	}
	if resp, err := http.Get(base + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("the public listener serves the profiler")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve stopped with %v", err)
	}
}
