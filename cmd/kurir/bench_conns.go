package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"kurir/client"
)

const benchConnectionsHelp = `Usage: kurir bench connections --server URL --sessions N [flags]

Measures the server's memory per idle live session. It registers one
account, named bench_<run id>_conns, logs it in once, and reads the
server's /metrics: process_resident_memory_bytes and kurir_live_sessions.
It then opens --sessions live streams (GET /api/v1/live) with that one
token, spread over --processes worker processes, each a copy of this
program dialling from its own loopback address (127.0.0.1, 127.0.0.2, ...)
so that no one address runs out of ports, and none opening more than 4000.

Once every stream is open and has had its hello frame it waits 2 seconds,
reads /metrics again, and reports the growth of the server's resident
memory divided by the number of sessions. The sessions stay idle: they
only answer the server's pings. Then it closes them.

It exits with status 1 if not every session opened, or if the server's
kurir_live_sessions did not grow by exactly --sessions (another client
connected or left meanwhile: measure on a server of your own). The
account it registers stays on the server.

The server's memory also moves for reasons of its own (the Go runtime
grows and returns its heap in steps), so measure with thousands of
sessions, not tens; and since the workers dial from 127.0.0.x, the
server must listen on loopback.

For loopback or test servers only. For example:

  kurir serve --dev-no-rate-limits --data-dir $(mktemp -d)
  kurir bench connections --server http://127.0.0.1:8080 --sessions 10000

The server needs a file for each session: check its "ulimit -n".
`

// Bounds of "kurir bench connections". A process may open only so many
// files (commonly 20,000 or fewer), and the server, with a file per
// session, is usually the first to hit that; each worker holds its
// sessions and stays well under it.
const (
	maxConnSessions      = 19_000
	maxConnsPerWorker    = 4000
	maxConnProcesses     = 64
	connDialParallel     = 64
	connDialTimeout      = 15 * time.Second
	connSettle           = 2 * time.Second
	connWorkerStopWait   = 10 * time.Second
	connMetricsTimeout   = 10 * time.Second
	connMetricsMaxBytes  = 4 << 20
	connFirstSourceOctet = 1 // worker i dials from 127.0.0.(1+i)
)

// connConfig is everything "kurir bench connections" is told.
type connConfig struct {
	server    string
	sessions  int
	processes int // 0: one per maxConnsPerWorker sessions
	hold      time.Duration
	jsonPath  string
	password  string
}

func (c *connConfig) register(e envFlags) {
	e.string(&c.server, "server", "KURIR_BENCH_SERVER", "", "base URL of the server to measure, e.g. http://127.0.0.1:8080 (required)")
	e.int(&c.sessions, "sessions", "KURIR_BENCH_SESSIONS", 0, fmt.Sprintf("idle live sessions to open: 1 to %d (required)", maxConnSessions))
	e.int(&c.processes, "processes", "KURIR_BENCH_PROCESSES", 0, fmt.Sprintf("worker processes to spread the sessions over, each at most %d (default: as few as that allows)", maxConnsPerWorker))
	e.duration(&c.hold, "hold", "KURIR_BENCH_HOLD", 5*time.Minute, "the most the sessions stay open: opening them and measuring must fit in it")
	e.string(&c.jsonPath, "json", "KURIR_BENCH_JSON", "", "also write the results as JSON to this file")
	e.string(&c.password, "password-for-new-users", "KURIR_BENCH_PASSWORD", "", "password of the account it registers (default: a random one for each run)")
}

// check refuses settings that make no sense or exceed the bounds above, and
// fills in the number of processes.
func (c *connConfig) check() error {
	const cmd = "bench connections"
	if err := checkBenchServer(cmd, c.server); err != nil {
		return err
	}
	switch {
	case c.sessions < 1 || c.sessions > maxConnSessions:
		return usagef("%s: --sessions %d: want 1 to %d", cmd, c.sessions, maxConnSessions)
	case c.processes < 0 || c.processes > maxConnProcesses:
		return usagef("%s: --processes %d: want 1 to %d, or 0 for one per %d sessions", cmd, c.processes, maxConnProcesses, maxConnsPerWorker)
	case c.hold <= 0:
		return usagef("%s: --hold %v: want a positive duration, such as 5m", cmd, c.hold)
	}
	if c.processes == 0 {
		c.processes = (c.sessions + maxConnsPerWorker - 1) / maxConnsPerWorker
	}
	if c.processes > c.sessions {
		return usagef("%s: --processes %d: more processes than --sessions %d", cmd, c.processes, c.sessions)
	}
	if per := (c.sessions + c.processes - 1) / c.processes; per > maxConnsPerWorker {
		return usagef("%s: --sessions %d over --processes %d is %d a process; one process opens at most %d", cmd, c.sessions, c.processes, per, maxConnsPerWorker)
	}
	return nil
}

// checkBenchServer refuses a --server that is not a server's base URL.
func checkBenchServer(cmd, server string) error {
	if server == "" {
		return usagef("%s: --server is required, e.g. --server http://127.0.0.1:8080", cmd)
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usagef("%s: --server %q: want the server's base URL, such as http://127.0.0.1:8080", cmd, server)
	}
	return nil
}

// connReport is the result of "kurir bench connections", as --json writes it.
type connReport struct {
	Mode      string `json:"mode"`
	Server    string `json:"server"`
	RunID     string `json:"run_id"`
	Sessions  int    `json:"sessions"`
	Processes int    `json:"processes"`
	// OpenS is how long opening every session took, from starting the
	// workers to the last one's "ready".
	OpenS              float64 `json:"open_s"`
	RSSBefore          int64   `json:"rss_before"`
	RSSAfter           int64   `json:"rss_after"`
	RSSDelta           int64   `json:"rss_delta"`
	BytesPerSession    float64 `json:"bytes_per_session"`
	LiveSessionsBefore int64   `json:"live_sessions_before"`
	LiveSessionsAfter  int64   `json:"live_sessions_after"`
}

func (rep connReport) print(w io.Writer) {
	fmt.Fprintf(w, "kurir bench connections, run %s against %s\n", rep.RunID, rep.Server)
	fmt.Fprintf(w, "  sessions      %d idle, over %d processes, opened in %.1fs\n", rep.Sessions, rep.Processes, rep.OpenS)
	fmt.Fprintf(w, "  live          %d before, %d after\n", rep.LiveSessionsBefore, rep.LiveSessionsAfter)
	fmt.Fprintf(w, "  server RSS    %.1f MiB before, %.1f MiB after, %+.1f MiB\n", mib(rep.RSSBefore), mib(rep.RSSAfter), mib(rep.RSSDelta))
	fmt.Fprintf(w, "  per session   %.0f bytes (%.1f KiB)\n", rep.BytesPerSession, rep.BytesPerSession/1024)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func benchConnections(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg connConfig
	fs, e := newFlagSet("bench connections", benchConnectionsHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench connections takes no arguments, got %q", fs.Args())
	}
	if err := cfg.check(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start the workers: %w", err)
	}
	runID := newBenchRunID()
	password := cfg.password
	if password == "" {
		password = rand.Text()
	}
	// Everything, workers included, ends when --hold does.
	ctx, cancel := context.WithTimeout(ctx, cfg.hold)
	defer cancel()
	hc := newBenchHTTPClient(1)
	defer hc.CloseIdleConnections()
	anon := client.New(cfg.server, client.WithHTTPClient(hc), client.WithUserAgent(benchUserAgent))
	name := "bench_" + runID + "_conns"
	res, err := registerBenchUser(ctx, anon, name, password)
	if err != nil {
		return err
	}
	before, err := readServerMetrics(ctx, hc, cfg.server)
	if err != nil {
		return err
	}

	fmt.Fprintf(stderr, "bench %s: opening %d live sessions on %s from %d processes\n", runID, cfg.sessions, cfg.server, cfg.processes)
	start := time.Now()
	workers := make([]*connWorker, 0, cfg.processes)
	defer func() { stopConnWorkers(workers, stderr) }()
	for i := range cfg.processes {
		// Worker i opens its share; the first ones take the remainder.
		n := cfg.sessions / cfg.processes
		if i < cfg.sessions%cfg.processes {
			n++
		}
		w, err := startConnWorker(exe, cfg.server, res.Token, n, i, cfg.hold, stderr)
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	for _, w := range workers {
		select {
		case line := <-w.ready:
			if line != "ready "+strconv.Itoa(w.count) {
				return fmt.Errorf("worker %s: %s", w.name, strings.TrimPrefix(line, "error "))
			}
		case <-ctx.Done():
			return fmt.Errorf("the sessions were not all open within --hold %v: %w", cfg.hold, context.Cause(ctx))
		}
	}
	open := time.Since(start)
	fmt.Fprintf(stderr, "bench %s: %d sessions open after %.1fs; measuring in %v\n", runID, cfg.sessions, open.Seconds(), connSettle)
	select {
	case <-time.After(connSettle):
	case <-ctx.Done():
		return fmt.Errorf("bench interrupted: %w", context.Cause(ctx))
	}
	after, err := readServerMetrics(ctx, hc, cfg.server)
	if err != nil {
		return err
	}
	stopConnWorkers(workers, stderr)
	workers = nil

	rep := connReport{
		Mode: "connections", Server: cfg.server, RunID: runID, Sessions: cfg.sessions, Processes: cfg.processes,
		OpenS:     open.Seconds(),
		RSSBefore: before.rss, RSSAfter: after.rss, RSSDelta: after.rss - before.rss,
		BytesPerSession:    float64(after.rss-before.rss) / float64(cfg.sessions),
		LiveSessionsBefore: before.live, LiveSessionsAfter: after.live,
	}
	rep.print(stdout)
	if cfg.jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("encode results: %w", err)
		}
		if err := os.WriteFile(cfg.jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	if got := after.live - before.live; got != int64(cfg.sessions) {
		return fmt.Errorf("the server's kurir_live_sessions grew by %d, not %d: sessions failed, or other clients came or went", got, cfg.sessions)
	}
	return nil
}

// connWorker is one running worker process of a bench: "kurir bench
// connections-worker" or "kurir bench channel-worker".
type connWorker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	name  string // how messages name it: its source address, or its number
	count int
	// ready receives the worker's first line: "ready <n>" or "error <text>"
	// (or "error ..." made up here if it exits without a line).
	ready chan string
	done  chan struct{} // closed when the process has exited
}

// startConnWorker starts worker i, which opens n sessions from 127.0.0.(1+i).
// Its token travels in the environment, not on its command line, where
// every user of the machine could read it.
func startConnWorker(exe, server, token string, n, i int, hold time.Duration, stderr io.Writer) (*connWorker, error) {
	source := fmt.Sprintf("127.0.0.%d", connFirstSourceOctet+i)
	args := []string{"bench", "connections-worker", "--server", server,
		"--count", strconv.Itoa(n), "--source", source, "--hold", hold.String()}
	return startWorker(exe, args, []string{"KURIR_BENCH_TOKEN=" + token}, source, n, nil, stderr)
}

// startWorker runs exe with args, and env added to this process's
// environment, as a worker named name that opens n sessions. Its first line
// of output goes to the worker's ready channel, and every later line to
// onLine (when not nil), called from one goroutine until the process exits.
func startWorker(exe string, args, env []string, name string, n int, onLine func(string), stderr io.Writer) (*connWorker, error) {
	w := &connWorker{name: name, count: n, ready: make(chan string, 1), done: make(chan struct{})}
	w.cmd = exec.Command(exe, args...)
	w.cmd.Env = append(os.Environ(), env...)
	w.cmd.Stderr = stderr
	stdin, err := w.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker %s: %w", w.name, err)
	}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker %s: %w", w.name, err)
	}
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", w.name, err)
	}
	w.stdin = stdin
	// The reader owns stdout until the process exits; Wait then closes it.
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			w.ready <- sc.Text()
		} else {
			w.ready <- "error exited before opening its sessions"
		}
		for onLine != nil && sc.Scan() {
			onLine(sc.Text())
		}
		io.Copy(io.Discard, stdout)
		w.cmd.Wait()
	}()
	return w, nil
}

// stopConnWorkers closes every worker's stdin, which tells it to close its
// sessions and exit, and kills those still running after connWorkerStopWait.
func stopConnWorkers(workers []*connWorker, stderr io.Writer) {
	for _, w := range workers {
		w.stdin.Close()
	}
	deadline := time.After(connWorkerStopWait)
	for _, w := range workers {
		select {
		case <-w.done:
		case <-deadline:
			fmt.Fprintf(stderr, "bench: worker %s did not exit within %v; killing it\n", w.name, connWorkerStopWait)
			w.cmd.Process.Kill()
			<-w.done
		}
	}
}

// serverMetrics are the figures of the server's /metrics the bench reads.
type serverMetrics struct {
	rss  int64 // process_resident_memory_bytes
	live int64 // kurir_live_sessions
}

// readServerMetrics fetches the server's /metrics and picks out its
// resident memory and live sessions.
func readServerMetrics(ctx context.Context, hc *http.Client, server string) (serverMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, connMetricsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/metrics", nil)
	if err != nil {
		return serverMetrics{}, fmt.Errorf("read the server's metrics: %w", err)
	}
	req.Header.Set("User-Agent", benchUserAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return serverMetrics{}, fmt.Errorf("read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverMetrics{}, fmt.Errorf("read the server's metrics: GET /metrics: HTTP %d", resp.StatusCode)
	}
	vals, err := parseMetrics(io.LimitReader(resp.Body, connMetricsMaxBytes), "process_resident_memory_bytes", "kurir_live_sessions")
	if err != nil {
		return serverMetrics{}, fmt.Errorf("read the server's metrics: %w", err)
	}
	return serverMetrics{rss: int64(vals[0]), live: int64(vals[1])}, nil
}

// parseMetrics reads Prometheus text exposition and returns, for each of
// names, the sum of its samples (over all label sets). A name with no
// sample is an error.
func parseMetrics(r io.Reader, names ...string) ([]float64, error) {
	sums := make([]float64, len(names))
	seen := make([]bool, len(names))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			// Label values may hold spaces: the value follows the closing brace.
			name = line[:i]
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("malformed sample %q", line)
			}
			rest = line[j+1:]
		}
		for k, want := range names {
			if name != want {
				continue
			}
			// A sample is "value [timestamp]".
			f := strings.Fields(rest)
			if len(f) == 0 {
				return nil, fmt.Errorf("malformed sample %q", line)
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("sample %q: not a number", line)
			}
			sums[k] += v
			seen[k] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for k, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("no %s in the metrics", names[k])
		}
	}
	return sums, nil
}

const benchConnectionsWorkerHelp = `Usage: kurir bench connections-worker --server URL --token T --count N --source 127.0.0.K

A worker of "kurir bench connections", which starts it; not for use by hand.
It opens --count live sessions with --token, dialling from --source, reads
each one's hello frame, and prints "ready <count>" (or "error <text>", and
exits with status 1). It keeps them open, answering pings, until --hold
ends or its standard input closes, then closes them and exits.
`

// connWorkerConfig is everything "kurir bench connections-worker" is told.
type connWorkerConfig struct {
	server string
	token  string
	count  int
	source string
	hold   time.Duration
}

func (c *connWorkerConfig) register(e envFlags) {
	e.string(&c.server, "server", "KURIR_BENCH_SERVER", "", "base URL of the server (required)")
	e.string(&c.token, "token", "KURIR_BENCH_TOKEN", "", "the bench account's token (required)")
	e.int(&c.count, "count", "KURIR_BENCH_COUNT", 0, fmt.Sprintf("live sessions to open, 1 to %d", maxConnsPerWorker))
	e.string(&c.source, "source", "KURIR_BENCH_SOURCE", "127.0.0.1", "loopback address to dial from")
	e.duration(&c.hold, "hold", "KURIR_BENCH_HOLD", 5*time.Minute, "the most the sessions stay open")
}

func (c *connWorkerConfig) check() (netip.Addr, error) {
	const cmd = "bench connections-worker"
	if err := checkBenchServer(cmd, c.server); err != nil {
		return netip.Addr{}, err
	}
	src, err := netip.ParseAddr(c.source)
	switch {
	case c.token == "":
		return netip.Addr{}, usagef("%s: --token is required; this worker is started by kurir bench connections", cmd)
	case c.count < 1 || c.count > maxConnsPerWorker:
		return netip.Addr{}, usagef("%s: --count %d: want 1 to %d", cmd, c.count, maxConnsPerWorker)
	case err != nil || !src.Is4() || !src.IsLoopback():
		return netip.Addr{}, usagef("%s: --source %q: want a loopback address such as 127.0.0.2", cmd, c.source)
	case c.hold <= 0:
		return netip.Addr{}, usagef("%s: --hold %v: want a positive duration", cmd, c.hold)
	}
	return src, nil
}

// benchConnectionsWorker is one worker process. Its sessions stay open
// until hold ends or stdin closes (the parent's way to stop it, and what
// happens when the parent dies).
func benchConnectionsWorker(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg connWorkerConfig
	fs, e := newFlagSet("bench connections-worker", benchConnectionsWorkerHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench connections-worker takes no arguments, got %q", fs.Args())
	}
	src, err := cfg.check()
	if err != nil {
		return err
	}
	holdCtx, stop := context.WithTimeout(ctx, cfg.hold)
	defer stop()
	// The reader lives as long as the process: a read of stdin cannot be
	// interrupted, and the worker exits right after the sessions close.
	go func() {
		io.Copy(io.Discard, stdin)
		stop()
	}()

	conns, err := dialLiveSessions(holdCtx, cfg.server, slices.Repeat([]string{cfg.token}, cfg.count), src, nil)
	if err != nil {
		fmt.Fprintf(stdout, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return err
	}
	fmt.Fprintf(stdout, "ready %d\n", len(conns))

	// A pending Read is what answers the server's pings. The readers end
	// when their connection closes.
	var readers sync.WaitGroup
	for _, c := range conns {
		readers.Go(func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		})
	}
	<-holdCtx.Done()
	closeLiveSessions(conns)
	readers.Wait()
	return nil
}

// dialLiveSessions opens a live session with each of tokens, dialling from
// src (from any address if src is the zero Addr), and reads each one's
// hello frame, which checkHello, if not nil, inspects too. On error it
// closes the ones it opened.
func dialLiveSessions(ctx context.Context, server string, tokens []string, src netip.Addr, checkHello func(hello []byte) error) ([]*websocket.Conn, error) {
	dialer := &net.Dialer{Timeout: connDialTimeout, KeepAlive: 30 * time.Second}
	if src.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	// No proxy: only the server is contacted. No client timeout: it would
	// bound the life of every WebSocket, not just its handshake.
	hc := &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: connDialTimeout},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer hc.CloseIdleConnections()
	u := "ws" + strings.TrimPrefix(strings.TrimSuffix(server, "/"), "http") + "/api/v1/live"
	n := len(tokens)
	conns := make([]*websocket.Conn, n)
	err := forEach(ctx, n, connDialParallel, func(ctx context.Context, i int) error {
		dctx, cancel := context.WithTimeout(ctx, connDialTimeout)
		defer cancel()
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tokens[i])
		h.Set("User-Agent", benchUserAgent)
		c, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: h, Subprotocols: []string{liveProtocolName}})
		if err != nil {
			if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
				return fmt.Errorf("session %d of %d: connect: HTTP %d: %w", i+1, n, resp.StatusCode, err)
			}
			return fmt.Errorf("session %d of %d: connect: %w", i+1, n, err)
		}
		c.SetReadLimit(1 << 20)
		_, data, err := c.Read(dctx)
		var hello struct {
			Type string `json:"type"`
		}
		if err == nil {
			err = json.Unmarshal(data, &hello)
		}
		if err != nil || hello.Type != "hello" {
			c.CloseNow()
			return fmt.Errorf("session %d of %d: no hello from the server (got %.80q): %v", i+1, n, data, err)
		}
		if checkHello != nil {
			if err := checkHello(data); err != nil {
				c.CloseNow()
				return fmt.Errorf("session %d of %d: %w", i+1, n, err)
			}
		}
		conns[i] = c
		return nil
	})
	if err != nil {
		closeLiveSessions(conns)
		return nil, err
	}
	return conns, nil
}

// liveProtocolName is the live stream's WebSocket subprotocol.
const liveProtocolName = "kurir.v1"

// closeLiveSessions closes every open connection of conns with a normal
// closure, many at once, since each waits for the server's reply.
func closeLiveSessions(conns []*websocket.Conn) {
	forEach(context.Background(), len(conns), 256, func(_ context.Context, i int) error {
		if c := conns[i]; c != nil {
			if err := c.Close(websocket.StatusNormalClosure, "bench done"); err != nil && !errors.Is(err, net.ErrClosed) {
				c.CloseNow()
			}
		}
		return nil
	})
}
