package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"kurir/client"
)

const benchChannelHelp = `Usage: kurir bench channel --server URL [flags]

Measures a channel's fan-out: the time from a post until every connected
subscriber has it. It registers an owner, named bench_<run id>_owner, who
creates the public channel @bench_<run id>_chan, and --subscribers accounts,
named bench_<run id>_<n>, each of which logs in and joins the channel. The
first --connected of them then open their live stream (GET /api/v1/live),
spread over --processes worker processes, each a copy of this program
holding at most 4000 streams. Against a loopback server each worker dials
from its own address (127.0.0.1, 127.0.0.2, ...), so that no one address
runs out of ports.

Once every stream has had its hello frame, which must list the channel, it
waits 2 seconds and the owner posts --posts messages, one every --interval
whether or not earlier ones have been answered. Each post carries its send
time and number in its text ("t=<unix ns> k=<n>"). The workers note when
each post arrives on each stream and pass that on to this process; they run
on this machine, so all use one clock.

Latency counts from just before a post is sent. It reports the latency of
every arrival, over all posts and connected subscribers, and for each post
the time until the last connected subscriber had it ("all delivered"). After
the last post it waits up to --drain for posts still on their way, prints a
summary, and with --json also writes it to a file.

It exits with status 1 if any connected subscriber never received an
acknowledged post, or if no post was acknowledged. The accounts and the
channel stay on the server.

Every account costs the server two password hashes, so start it with cheap
hashing as well as without rate limits. For loopback or test servers only.
For example:

  kurir serve --dev-no-rate-limits --password-memory 64 --password-time 1 --data-dir $(mktemp -d)
  kurir bench channel --server http://127.0.0.1:8080 --subscribers 15000 --posts 10

The server needs a file for each connected subscriber: check its "ulimit -n".
`

// Bounds of "kurir bench channel". Every arrival of a post is a record in
// memory until the end; the connected subscribers are bounded by the
// server's open files, as for "kurir bench connections".
const (
	maxChannelSubscribers   = 100_000
	maxChannelPosts         = 1000
	maxChannelDeliveries    = 5_000_000
	maxChannelSetupParallel = 256
	channelProgressEvery    = 5 * time.Second
	channelMaxPostLines     = 30 // the summary lists each post up to this many
)

// channelConfig is everything "kurir bench channel" is told.
type channelConfig struct {
	server        string
	subscribers   int
	connected     int // 0: every subscriber
	processes     int // 0: one per maxConnsPerWorker connected subscribers
	posts         int
	interval      time.Duration
	drain         time.Duration
	setupTimeout  time.Duration
	setupParallel int
	jsonPath      string
	password      string
}

func (c *channelConfig) register(e envFlags) {
	e.string(&c.server, "server", "KURIR_BENCH_SERVER", "", "base URL of the server to load, e.g. http://127.0.0.1:8080 (required)")
	e.int(&c.subscribers, "subscribers", "KURIR_BENCH_SUBSCRIBERS", 1000, fmt.Sprintf("accounts to register and subscribe to the channel, 1 to %d", maxChannelSubscribers))
	e.int(&c.connected, "connected", "KURIR_BENCH_CONNECTED", 0, fmt.Sprintf("subscribers to connect to the live stream, at most %d (default: every subscriber)", maxConnSessions))
	e.int(&c.processes, "processes", "KURIR_BENCH_PROCESSES", 0, fmt.Sprintf("worker processes to spread the connected subscribers over, each at most %d (default: as few as that allows)", maxConnsPerWorker))
	e.int(&c.posts, "posts", "KURIR_BENCH_POSTS", 10, fmt.Sprintf("messages to post, 1 to %d", maxChannelPosts))
	e.duration(&c.interval, "interval", "KURIR_BENCH_INTERVAL", time.Second, "time between posts")
	e.duration(&c.drain, "drain", "KURIR_BENCH_DRAIN", 10*time.Second, "how long to wait after the last post for arrivals still on their way")
	e.duration(&c.setupTimeout, "setup-timeout", "KURIR_BENCH_SETUP_TIMEOUT", 30*time.Minute, "how long registering and subscribing the accounts and connecting them may take")
	e.int(&c.setupParallel, "setup-parallel", "KURIR_BENCH_SETUP_PARALLEL", benchSetupParallel, fmt.Sprintf("accounts to register and subscribe at once, 1 to %d", maxChannelSetupParallel))
	e.string(&c.jsonPath, "json", "KURIR_BENCH_JSON", "", "also write the results as JSON to this file")
	e.string(&c.password, "password-for-new-users", "KURIR_BENCH_PASSWORD", "", "password of the accounts it registers (default: a random one for each run)")
}

// check refuses settings that make no sense or exceed the bounds above, and
// fills in the defaults that depend on other settings.
func (c *channelConfig) check() error {
	const cmd = "bench channel"
	if err := checkBenchServer(cmd, c.server); err != nil {
		return err
	}
	switch {
	case c.subscribers < 1 || c.subscribers > maxChannelSubscribers:
		return usagef("%s: --subscribers %d: want 1 to %d", cmd, c.subscribers, maxChannelSubscribers)
	case c.connected < 0 || c.connected > c.subscribers:
		return usagef("%s: --connected %d: want 1 to --subscribers %d, or 0 for all of them", cmd, c.connected, c.subscribers)
	case c.processes < 0 || c.processes > maxConnProcesses:
		return usagef("%s: --processes %d: want 1 to %d, or 0 for one per %d connected subscribers", cmd, c.processes, maxConnProcesses, maxConnsPerWorker)
	case c.posts < 1 || c.posts > maxChannelPosts:
		return usagef("%s: --posts %d: want 1 to %d", cmd, c.posts, maxChannelPosts)
	case c.interval <= 0:
		return usagef("%s: --interval %v: want a positive duration, such as 1s", cmd, c.interval)
	case c.drain <= 0:
		return usagef("%s: --drain %v: want a positive duration, such as 10s", cmd, c.drain)
	case c.setupTimeout <= 0:
		return usagef("%s: --setup-timeout %v: want a positive duration, such as 30m", cmd, c.setupTimeout)
	case c.setupParallel < 1 || c.setupParallel > maxChannelSetupParallel:
		return usagef("%s: --setup-parallel %d: want 1 to %d", cmd, c.setupParallel, maxChannelSetupParallel)
	}
	if c.connected == 0 {
		c.connected = c.subscribers
	}
	if c.connected > maxConnSessions {
		return usagef("%s: --connected %d: at most %d, because the server needs a file for each and a process may open only so many", cmd, c.connected, maxConnSessions)
	}
	if c.processes == 0 {
		c.processes = (c.connected + maxConnsPerWorker - 1) / maxConnsPerWorker
	}
	if c.processes > c.connected {
		return usagef("%s: --processes %d: more processes than connected subscribers (%d)", cmd, c.processes, c.connected)
	}
	if per := (c.connected + c.processes - 1) / c.processes; per > maxConnsPerWorker {
		return usagef("%s: %d connected subscribers over --processes %d is %d a process; one process opens at most %d", cmd, c.connected, c.processes, per, maxConnsPerWorker)
	}
	if n := c.posts * c.connected; n > maxChannelDeliveries {
		return usagef("%s: --posts × connected subscribers is %d arrivals; one run records at most %d", cmd, n, maxChannelDeliveries)
	}
	return nil
}

// hold is the most a worker keeps its streams open: long enough for the
// whole run, so that it outlives a parent that forgets to stop it only by
// that much.
func (c *channelConfig) hold() time.Duration {
	return c.setupTimeout + time.Duration(c.posts)*c.interval + benchSendTimeout + c.drain + time.Minute
}

func benchChannel(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg channelConfig
	fs, e := newFlagSet("bench channel", benchChannelHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench channel takes no arguments, got %q", fs.Args())
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
	hc := newBenchHTTPClient(cfg.setupParallel)
	defer hc.CloseIdleConnections()
	anon := client.New(cfg.server, client.WithHTTPClient(hc), client.WithUserAgent(benchUserAgent))

	setupCtx, cancel := context.WithTimeout(ctx, cfg.setupTimeout)
	defer cancel()
	setupErr := func(err error) error {
		if errors.Is(setupCtx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("setting up took longer than --setup-timeout %v: %w", cfg.setupTimeout, err)
		}
		return err
	}
	fmt.Fprintf(stderr, "bench %s: registering %d subscribers of a new channel on %s, %d at once\n", runID, cfg.subscribers, cfg.server, cfg.setupParallel)
	ch, err := setupBenchChannel(setupCtx, anon, runID, password, cfg, stderr)
	if err != nil {
		return setupErr(err)
	}

	r := newChannelRun(cfg, runID, ch)
	fmt.Fprintf(stderr, "bench %s: connecting %d subscribers; worker processes: %d\n", runID, cfg.connected, cfg.processes)
	start := time.Now()
	workers := make([]*connWorker, 0, cfg.processes)
	defer func() { stopConnWorkers(workers, stderr) }()
	loopback := isLoopbackServer(cfg.server)
	for i, off := 0, 0; i < cfg.processes; i++ {
		// Worker i connects its share; the first ones take the remainder.
		n := cfg.connected / cfg.processes
		if i < cfg.connected%cfg.processes {
			n++
		}
		w, err := startChannelWorker(exe, cfg, ch.chat, ch.tokens[off:off+n], i, off, loopback, r, stderr)
		if w != nil {
			workers = append(workers, w)
		}
		if err != nil {
			return err
		}
		off += n
	}
	for _, w := range workers {
		select {
		case line := <-w.ready:
			if line != "ready "+strconv.Itoa(w.count) {
				return fmt.Errorf("worker %s: %s", w.name, strings.TrimPrefix(line, "error "))
			}
		case <-setupCtx.Done():
			return setupErr(fmt.Errorf("the live streams were not all open: %w", context.Cause(setupCtx)))
		}
	}
	r.connect = time.Since(start)
	fmt.Fprintf(stderr, "bench %s: %d live streams open after %.1fs; posting in %v\n", runID, cfg.connected, r.connect.Seconds(), connSettle)
	// Let the machine settle after opening thousands of connections, so
	// that the first post does not pay for their garbage.
	select {
	case <-time.After(connSettle):
	case <-ctx.Done():
		return fmt.Errorf("bench interrupted: %w", ctx.Err())
	}

	fmt.Fprintf(stderr, "bench %s: posting %d messages, one every %v\n", runID, cfg.posts, cfg.interval)
	r.post(ctx)
	if ctx.Err() == nil {
		fmt.Fprintf(stderr, "bench %s: waiting up to %v for posts on their way\n", runID, cfg.drain)
		r.waitDelivered(ctx, cfg.drain)
	}
	// Once the workers have exited, every line they wrote has been read.
	stopConnWorkers(workers, stderr)
	workers = nil
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench interrupted: %w", err)
	}

	rep := r.report()
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
	switch {
	case rep.Missing > 0:
		return fmt.Errorf("%d arrivals of acknowledged posts at connected subscribers never happened", rep.Missing)
	case rep.Acknowledged == 0:
		return errors.New("the server acknowledged no post; see the errors above")
	}
	return nil
}

// benchChannelSetup is the channel of a run, its owner, and the tokens of
// the subscribers to connect.
type benchChannelSetup struct {
	owner     *client.Client
	chat      int64
	tokens    []string
	subscribe time.Duration // registering and subscribing everyone took
}

// setupBenchChannel registers the owner, who creates the channel, and the
// subscribers, who each log in and join it, reporting progress on stderr.
func setupBenchChannel(ctx context.Context, anon *client.Client, runID, password string, cfg channelConfig, stderr io.Writer) (benchChannelSetup, error) {
	start := time.Now()
	res, err := registerBenchUser(ctx, anon, "bench_"+runID+"_owner", password)
	if err != nil {
		return benchChannelSetup{}, err
	}
	owner := anon.WithToken(res.Token)
	ch, err := owner.CreateChannel(ctx, client.NewChat{Title: "kurir bench " + runID, Username: "bench_" + runID + "_chan"})
	if err != nil {
		return benchChannelSetup{}, fmt.Errorf("create the channel: %w", err)
	}
	tokens := make([]string, cfg.connected)
	var done atomic.Int64
	stop := startProgress(stderr, "bench "+runID+": subscribed", cfg.subscribers, &done)
	err = forEach(ctx, cfg.subscribers, cfg.setupParallel, func(ctx context.Context, i int) error {
		name := fmt.Sprintf("bench_%s_%d", runID, i)
		res, err := registerBenchUser(ctx, anon, name, password)
		if err != nil {
			return err
		}
		if _, err := anon.WithToken(res.Token).Join(ctx, ch.ID); err != nil {
			return fmt.Errorf("%s joins the channel: %w", name, err)
		}
		if i < len(tokens) {
			tokens[i] = res.Token
		}
		done.Add(1)
		return nil
	})
	stop()
	if err != nil {
		return benchChannelSetup{}, err
	}
	// The count proves every join took, and that nobody else joined.
	got, err := owner.Chat(ctx, ch.ID)
	if err != nil {
		return benchChannelSetup{}, fmt.Errorf("read the channel: %w", err)
	}
	if want := int64(cfg.subscribers) + 1; got.MemberCount != want {
		return benchChannelSetup{}, fmt.Errorf("the channel has %d members, want %d: the subscribers and its owner", got.MemberCount, want)
	}
	if !got.Large {
		return benchChannelSetup{}, errors.New("the server does not treat the channel as a large chat, so its posts are not fanned out as chat_event frames")
	}
	return benchChannelSetup{owner: owner, chat: ch.ID, tokens: tokens, subscribe: time.Since(start)}, nil
}

// startProgress writes "<what> <n> of <total>" and the rate to w every
// channelProgressEvery, n being done, until the returned stop is called.
func startProgress(w io.Writer, what string, total int, done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(channelProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				n := done.Load()
				fmt.Fprintf(w, "%s %d of %d in %.1fs (%.0f/s)\n", what, n, total, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
				return
			case <-tick.C:
				n := done.Load()
				fmt.Fprintf(w, "%s %d of %d (%.0f/s)\n", what, n, total, float64(n)/time.Since(start).Seconds())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}

// isLoopbackServer reports whether server is on an IPv4 loopback address,
// which workers may reach from any 127.0.0.x.
func isLoopbackServer(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(u.Hostname())
	return err == nil && a.Is4() && a.IsLoopback()
}

// startChannelWorker starts worker i, which connects the subscribers with
// tokens, numbered from off in the run, and hands it the tokens on its
// standard input (not its command line, which every user of the machine
// may read). It returns the worker, if it started, even with an error.
func startChannelWorker(exe string, cfg channelConfig, chat int64, tokens []string, i, off int, loopback bool, r *channelRun, stderr io.Writer) (*connWorker, error) {
	source, name := "", fmt.Sprintf("#%d", i+1)
	if loopback {
		source = fmt.Sprintf("127.0.0.%d", connFirstSourceOctet+i)
		name = source
	}
	n := len(tokens)
	args := []string{"bench", "channel-worker", "--server", cfg.server, "--chat", strconv.FormatInt(chat, 10),
		"--count", strconv.Itoa(n), "--source", source, "--hold", cfg.hold().String()}
	w, err := startWorker(exe, args, nil, name, n, func(line string) { r.workerLine(off, n, line) }, stderr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w.stdin, strings.Join(tokens, "\n")+"\n"); err != nil {
		return w, fmt.Errorf("hand worker %s its tokens: %w", name, err)
	}
	return w, nil
}

// channelPost is what a run knows of one post.
type channelPost struct {
	sent  int64 // Unix ns just before sending, as in its text
	ack   time.Duration
	acked bool
	// delivered counts the connected subscribers that have it.
	delivered atomic.Int64
}

// channelRun is one run of "kurir bench channel" after setup.
type channelRun struct {
	cfg     channelConfig
	runID   string
	ch      benchChannelSetup
	connect time.Duration

	// posts are written by their senders and read once they have returned.
	posts []channelPost
	// arrivals holds, at k×connected + i, when post k reached connected
	// subscriber i (Unix ns), or 0. Each i belongs to one worker, whose
	// lines are read by one goroutine; they are read once every worker
	// has exited.
	arrivals   []int64
	duplicates atomic.Int64
	errs       benchErrors
}

func newChannelRun(cfg channelConfig, runID string, ch benchChannelSetup) *channelRun {
	return &channelRun{
		cfg: cfg, runID: runID, ch: ch,
		posts:    make([]channelPost, cfg.posts),
		arrivals: make([]int64, cfg.posts*cfg.connected),
		errs:     benchErrors{kinds: map[string]*benchErrorCount{}},
	}
}

// post sends every post when it is due, and returns when each has been
// answered or has failed, or ctx ends.
func (r *channelRun) post(ctx context.Context) {
	var senders sync.WaitGroup
	defer senders.Wait()
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := range r.cfg.posts {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		senders.Go(func() { r.send(ctx, k) })
		timer.Reset(time.Until(start.Add(time.Duration(k+1) * r.cfg.interval)))
	}
}

// send posts message k as the channel's owner.
func (r *channelRun) send(ctx context.Context, k int) {
	p := &r.posts[k]
	start := time.Now()
	p.sent = start.UnixNano()
	ks := strconv.Itoa(k)
	text := "t=" + strconv.FormatInt(p.sent, 10) + " k=" + ks
	sctx, cancel := context.WithTimeout(ctx, benchSendTimeout)
	_, err := r.ch.owner.Send(sctx, r.ch.chat, client.SendParams{Text: text, IdempotencyKey: r.runID + "-" + ks})
	cancel()
	if err != nil {
		r.errs.add(benchErrorKind(err), err)
		return
	}
	p.ack, p.acked = time.Since(start), true
}

// waitDelivered waits until every acknowledged post has reached every
// connected subscriber, at most for d.
func (r *channelRun) waitDelivered(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		all := true
		for k := range r.posts {
			if p := &r.posts[k]; p.acked && p.delivered.Load() < int64(r.cfg.connected) {
				all = false
				break
			}
		}
		if all {
			return
		}
		time.Sleep(benchDrainPollEvery)
	}
}

// workerLine records one line of the worker whose n subscribers are
// numbered from off: "d <i> <k> <unix ns>", subscriber i has post k since
// then, or "x <i> <kind> <detail>", something went wrong with it.
func (r *channelRun) workerLine(off, n int, line string) {
	kind, rest, _ := strings.Cut(line, " ")
	f := strings.SplitN(rest, " ", 3)
	if len(f) == 3 {
		i, err := strconv.Atoi(f[0])
		if err == nil && i >= 0 && i < n {
			switch kind {
			case "d":
				k, err1 := strconv.Atoi(f[1])
				at, err2 := strconv.ParseInt(f[2], 10, 64)
				if err1 == nil && err2 == nil && k >= 0 && k < len(r.posts) && at > 0 {
					r.arrived(k, off+i, at)
					return
				}
			case "x":
				r.errs.add(f[1], fmt.Errorf("subscriber %d: %s", off+i, f[2]))
				return
			}
		}
	}
	r.errs.add("worker_output", fmt.Errorf("a worker wrote %.100q", line))
}

// arrived records that connected subscriber i has had post k since at.
func (r *channelRun) arrived(k, i int, at int64) {
	slot := &r.arrivals[k*r.cfg.connected+i]
	if *slot != 0 {
		r.duplicates.Add(1)
		return
	}
	*slot = at
	r.posts[k].delivered.Add(1)
}

// channelReport is the result of "kurir bench channel", as --json writes it.
type channelReport struct {
	Mode        string `json:"mode"`
	Server      string `json:"server"`
	RunID       string `json:"run_id"`
	ChatID      int64  `json:"chat_id"`
	Subscribers int    `json:"subscribers"`
	Connected   int    `json:"connected"`
	Processes   int    `json:"processes"`
	// SubscribeS is how long registering and subscribing the accounts
	// took, and ConnectS opening the connected ones' live streams.
	SubscribeS   float64 `json:"subscribe_s"`
	ConnectS     float64 `json:"connect_s"`
	Posts        int     `json:"posts"`
	IntervalS    float64 `json:"interval_s"`
	Acknowledged int     `json:"acknowledged"`
	// Expected is acknowledged posts times connected subscribers. Delivered
	// counts each post's first arrival at each subscriber; Missing the
	// expected ones that never came; Duplicates the arrivals after the first.
	Expected   int64                      `json:"expected"`
	Delivered  int64                      `json:"delivered"`
	Missing    int64                      `json:"missing"`
	Duplicates int64                      `json:"duplicates"`
	Errors     map[string]benchErrorCount `json:"errors"`
	// AckMS is from sending a post to the server's answer; LatencyMS from
	// sending it to each arrival; AllDeliveredMS, for each post that
	// reached every connected subscriber, from sending it to the last arrival.
	AckMS          benchLatency        `json:"ack_ms"`
	LatencyMS      benchLatency        `json:"latency_ms"`
	AllDeliveredMS benchLatency        `json:"all_delivered_ms"`
	PerPost        []channelPostReport `json:"per_post"`
}

// channelPostReport is one post's part of a channelReport.
type channelPostReport struct {
	Post         int     `json:"post"`
	Acknowledged bool    `json:"acknowledged"`
	AckMS        float64 `json:"ack_ms"`
	Delivered    int64   `json:"delivered"`
	// LastMS is from sending the post to its last arrival: when Delivered
	// is every connected subscriber, the time until all had it.
	LastMS float64 `json:"last_ms"`
}

// report sums up the run, once the senders have returned and the workers
// have exited.
func (r *channelRun) report() channelReport {
	c := r.cfg.connected
	rep := channelReport{
		Mode: "channel", Server: r.cfg.server, RunID: r.runID, ChatID: r.ch.chat,
		Subscribers: r.cfg.subscribers, Connected: c, Processes: r.cfg.processes,
		SubscribeS: r.ch.subscribe.Seconds(), ConnectS: r.connect.Seconds(),
		Posts: r.cfg.posts, IntervalS: r.cfg.interval.Seconds(),
		Duplicates: r.duplicates.Load(), Errors: map[string]benchErrorCount{},
		PerPost: make([]channelPostReport, len(r.posts)),
	}
	var acks, latencies, all []time.Duration
	for k := range r.posts {
		p := &r.posts[k]
		pr := channelPostReport{Post: k, Acknowledged: p.acked, Delivered: p.delivered.Load()}
		if p.acked {
			rep.Acknowledged++
			rep.Expected += int64(c)
			rep.Missing += int64(c) - pr.Delivered
			pr.AckMS = ms(p.ack)
			acks = append(acks, p.ack)
		}
		var last int64
		for _, at := range r.arrivals[k*c : (k+1)*c] {
			if at != 0 {
				latencies = append(latencies, time.Duration(at-p.sent))
				last = max(last, at)
			}
		}
		rep.Delivered += pr.Delivered
		if last != 0 {
			pr.LastMS = ms(time.Duration(last - p.sent))
		}
		if pr.Delivered == int64(c) {
			all = append(all, time.Duration(last-p.sent))
		}
		rep.PerPost[k] = pr
	}
	rep.AckMS = latencySummary(acks)
	rep.LatencyMS = latencySummary(latencies)
	rep.AllDeliveredMS = latencySummary(all)
	r.errs.mu.Lock()
	for kind, c := range r.errs.kinds {
		rep.Errors[kind] = *c
	}
	r.errs.mu.Unlock()
	return rep
}

func (rep channelReport) print(w io.Writer) {
	fmt.Fprintf(w, "kurir bench channel, run %s against %s\n", rep.RunID, rep.Server)
	fmt.Fprintf(w, "  channel       chat %d: %d subscribers, %d connected, worker processes: %d\n", rep.ChatID, rep.Subscribers, rep.Connected, rep.Processes)
	fmt.Fprintf(w, "  setup         subscribed in %.1fs, connected in %.1fs\n", rep.SubscribeS, rep.ConnectS)
	a := rep.AckMS
	fmt.Fprintf(w, "  posts         %d, one every %gs; %d acknowledged, ack p50 %.2f ms, max %.2f ms\n", rep.Posts, rep.IntervalS, rep.Acknowledged, a.P50, a.Max)
	fmt.Fprintf(w, "  arrivals      %d expected, %d delivered, %d missing, %d duplicates\n", rep.Expected, rep.Delivered, rep.Missing, rep.Duplicates)
	l := rep.LatencyMS
	fmt.Fprintf(w, "  latency       p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (each arrival, from the send; %d arrivals)\n", l.P50, l.P95, l.P99, l.Max, l.Samples)
	d := rep.AllDeliveredMS
	fmt.Fprintf(w, "  all delivered p50 %.1f ms, p99 %.1f ms, max %.1f ms (each post, until every connected subscriber had it; %d posts)\n", d.P50, d.P99, d.Max, d.Samples)
	if len(rep.PerPost) <= channelMaxPostLines {
		for _, p := range rep.PerPost {
			fmt.Fprintf(w, "    post %-3d    ack %7.2f ms, %d of %d delivered, last after %.1f ms\n", p.Post, p.AckMS, p.Delivered, rep.Connected, p.LastMS)
		}
	}
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "  errors        none")
		return
	}
	kinds := make([]string, 0, len(rep.Errors))
	for k := range rep.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprintln(w, "  errors")
	for _, k := range kinds {
		fmt.Fprintf(w, "    %-20s %d, first: %s\n", k, rep.Errors[k].Count, rep.Errors[k].First)
	}
}

const benchChannelWorkerHelp = `Usage: kurir bench channel-worker --server URL --chat ID --count N [flags]

A worker of "kurir bench channel", which starts it; not for use by hand.
It reads --count tokens from its standard input, one a line, opens a live
session with each, dialling from --source (from any address if it is
empty), and checks that each one's hello frame lists chat --chat among its
large chats. It prints "ready <count>" (or "error <text>", and exits with
status 1). Then, for each post of the chat that arrives on session i
(counted from 0), it prints "d <i> <k> <unix ns>", k being the number in
the post's text, and for anything else that happens to a session before it
stops, "x <i> <kind> <detail>". It keeps the sessions open until --hold
ends or its standard input closes, then closes them and exits.
`

// channelWorkerConfig is everything "kurir bench channel-worker" is told.
type channelWorkerConfig struct {
	server string
	chat   int
	count  int
	source string
	hold   time.Duration
}

func (c *channelWorkerConfig) register(e envFlags) {
	e.string(&c.server, "server", "KURIR_BENCH_SERVER", "", "base URL of the server (required)")
	e.int(&c.chat, "chat", "KURIR_BENCH_CHAT", 0, "the channel's ID (required)")
	e.int(&c.count, "count", "KURIR_BENCH_COUNT", 0, fmt.Sprintf("tokens to read and live sessions to open, 1 to %d", maxConnsPerWorker))
	e.string(&c.source, "source", "KURIR_BENCH_SOURCE", "", "loopback address to dial from (default: any)")
	e.duration(&c.hold, "hold", "KURIR_BENCH_HOLD", 5*time.Minute, "the most the sessions stay open")
}

// check refuses bad settings and returns the address to dial from, the
// zero Addr for any.
func (c *channelWorkerConfig) check() (netip.Addr, error) {
	const cmd = "bench channel-worker"
	if err := checkBenchServer(cmd, c.server); err != nil {
		return netip.Addr{}, err
	}
	var src netip.Addr
	var err error
	if c.source != "" {
		src, err = netip.ParseAddr(c.source)
	}
	switch {
	case c.chat < 1:
		return netip.Addr{}, usagef("%s: --chat %d: want the channel's ID; this worker is started by kurir bench channel", cmd, c.chat)
	case c.count < 1 || c.count > maxConnsPerWorker:
		return netip.Addr{}, usagef("%s: --count %d: want 1 to %d", cmd, c.count, maxConnsPerWorker)
	case err != nil || src.IsValid() && (!src.Is4() || !src.IsLoopback()):
		return netip.Addr{}, usagef("%s: --source %q: want a loopback address such as 127.0.0.2, or none", cmd, c.source)
	case c.hold <= 0:
		return netip.Addr{}, usagef("%s: --hold %v: want a positive duration", cmd, c.hold)
	}
	return src, nil
}

// benchChannelWorker is one worker process. Its sessions stay open until
// hold ends or stdin closes (the parent's way to stop it, and what happens
// when the parent dies).
func benchChannelWorker(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg channelWorkerConfig
	fs, e := newFlagSet("bench channel-worker", benchChannelWorkerHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench channel-worker takes no arguments, got %q", fs.Args())
	}
	src, err := cfg.check()
	if err != nil {
		return err
	}
	fail := func(err error) error {
		fmt.Fprintf(stdout, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return err
	}
	in := bufio.NewReader(stdin)
	tokens := make([]string, cfg.count)
	for i := range tokens {
		line, err := in.ReadString('\n')
		tokens[i] = strings.TrimSpace(line)
		if err != nil || tokens[i] == "" {
			return fail(fmt.Errorf("token %d of %d missing on standard input", i+1, cfg.count))
		}
	}
	holdCtx, stop := context.WithTimeout(ctx, cfg.hold)
	defer stop()
	// The reader lives as long as the process: a read of stdin cannot be
	// interrupted, and the worker exits right after the sessions close.
	go func() {
		io.Copy(io.Discard, in)
		stop()
	}()

	chat := int64(cfg.chat)
	conns, err := dialLiveSessions(holdCtx, cfg.server, tokens, src, func(hello []byte) error {
		var h struct {
			LargeChats []struct {
				ChatID int64 `json:"chat_id"`
			} `json:"large_chats"`
		}
		if err := json.Unmarshal(hello, &h); err != nil {
			return fmt.Errorf("hello frame: %w", err)
		}
		for _, c := range h.LargeChats {
			if c.ChatID == chat {
				return nil
			}
		}
		return fmt.Errorf("the hello frame does not list chat %d among the large chats the session follows", chat)
	})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "ready %d\n", len(conns))

	out := startLineWriter(stdout)
	var readers sync.WaitGroup
	for i, c := range conns {
		// A pending Read is also what answers the server's pings. The
		// readers end when their connection closes.
		readers.Go(func() { readChannelSession(ctx, holdCtx, c, i, chat, out) })
	}
	<-holdCtx.Done()
	closeLiveSessions(conns)
	readers.Wait()
	out.close()
	return nil
}

// channelFrame is the part of a live frame a channel worker reads.
type channelFrame struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Event  struct {
		ChatID  int64  `json:"chat_id"`
		Kind    string `json:"kind"`
		Message *struct {
			Text string `json:"text"`
		} `json:"message"`
	} `json:"event"`
}

// readChannelSession reports to out what arrives on session i, until it
// closes. Once stopping ends, its end is expected and not reported.
func readChannelSession(ctx, stopping context.Context, c *websocket.Conn, i int, chat int64, out *lineWriter) {
	problem := func(kind, detail string) {
		out.send(fmt.Appendf(nil, "x %d %s %s\n", i, kind, strings.ReplaceAll(detail, "\n", " ")))
	}
	resynced := false
	for {
		_, data, err := c.Read(ctx)
		at := time.Now().UnixNano()
		if err != nil {
			if stopping.Err() == nil && !resynced {
				problem("live_stream", "the live stream ended: "+err.Error())
			}
			return
		}
		var f channelFrame
		if err := json.Unmarshal(data, &f); err != nil {
			problem("unexpected_frame", fmt.Sprintf("undecodable frame %.80q", data))
			continue
		}
		switch {
		case f.Type == "chat_event" && f.Event.ChatID == chat && f.Event.Kind == "message" && f.Event.Message != nil:
			_, k, ok := parseBenchText(f.Event.Message.Text)
			if !ok {
				problem("unexpected_message", fmt.Sprintf("a post not of this run: %.80q", f.Event.Message.Text))
				continue
			}
			b := make([]byte, 0, 48)
			b = append(b, "d "...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, k, 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, at, 10)
			out.send(append(b, '\n'))
		case f.Type == "resync":
			resynced = true
			problem("resync", "the server cut the session off: "+f.Reason)
		default:
			problem("unexpected_frame", fmt.Sprintf("%.80q", data))
		}
	}
}

// lineWriter writes lines from any number of goroutines to one writer. It
// writes the lines waiting together and flushes when none is left, so that
// each reaches the reader soon, in few writes.
type lineWriter struct {
	lines chan []byte
	done  chan struct{}
}

// startLineWriter returns a lineWriter whose lines go to w until close.
func startLineWriter(w io.Writer) *lineWriter {
	l := &lineWriter{lines: make(chan []byte, 4096), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		bw := bufio.NewWriterSize(w, 64<<10)
		for b := range l.lines {
			bw.Write(b)
			if len(l.lines) == 0 {
				bw.Flush()
			}
		}
		bw.Flush()
	}()
	return l
}

// send queues a line, which ends in a newline.
func (l *lineWriter) send(b []byte) { l.lines <- b }

// close writes the lines still queued and returns; send must not be called
// after it.
func (l *lineWriter) close() {
	close(l.lines)
	<-l.done
}
