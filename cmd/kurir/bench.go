package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kurir"
	"kurir/client"
)

const benchHelp = `Usage: kurir bench <mode> [flags]

Generates load on a kurir server and measures it. It is meant for a loopback
or test server that you run yourself: it registers many accounts, so the
server must be started with --dev-no-rate-limits. It contacts only the
server named by --server.

Modes:
  messaging   1:1 delivery: pairs of users send each other messages at a
              target rate; measures the latency from send to arrival on the
              partner's live stream
  connections the server's memory per idle live session: opens many
              live streams from worker processes and reads the server's
              resident memory before and after
  channel     channel fan-out: S subscribers of one channel, C of them
              connected from worker processes; measures the time from a
              post until every connected subscriber has it

Run "kurir bench <mode> --help" for a mode's flags.
`

const benchMessagingHelp = `Usage: kurir bench messaging --server URL [flags]

Measures 1:1 message delivery. It registers --users new accounts, named
bench_<run id>_<n> so that runs against one server never collide, logs each
in, pairs them (0 with 1, 2 with 3, ...), opens each pair's private chat and
connects every user's live stream. It then sends for --warmup plus
--duration, at --rate messages per second in all, spread over every user,
each message to the user's partner.

The schedule is open-loop: a message is due at a fixed time whether or not
earlier ones have been answered, and its latency counts from that time, so
a server that falls behind shows it as latency, not as a politely lower
rate. At most --max-in-flight sends run at once and as many wait; a message
due when that many are waiting is dropped and counted as an error of kind
"backlog". Each message carries its due time and number in its text
("t=<unix ns> k=<n>") and a unique idempotency key.

Latency runs from a message's due time to its arrival on the partner's live
stream; each message counts once. Latency and rates cover the messages due
after the warmup; the counts (sent, acknowledged, delivered, lost) cover the
whole run. After the last send it waits up to --drain for deliveries in
flight, prints a summary, and with --json also writes it to a file.

It exits with status 1 if any acknowledged message never arrived, or if no
message was acknowledged. The accounts it registers stay on the server.

For loopback or test servers only. For example:

  kurir serve --dev-no-rate-limits --data-dir $(mktemp -d)
  kurir bench messaging --server http://127.0.0.1:8080 --users 200 --rate 2000 --duration 20s

Every user holds a live connection, so one process runs at most 4000 users.
`

// Bounds of one "kurir bench messaging" process. Every user holds a live
// connection and every send in flight another, and a process may open only
// so many files (commonly 20,000 or fewer), server included when both run on
// one machine. Every message due is a record in memory until the end.
const (
	maxBenchUsers       = 4000
	maxBenchInFlight    = 4096
	maxBenchMessages    = 10_000_000
	benchSendTimeout    = 10 * time.Second
	benchSetupParallel  = 32
	benchUserAgent      = "kurir-bench/1"
	benchDeviceName     = "kurir bench"
	benchMaxErrorKinds  = 32
	benchDrainPollEvery = 10 * time.Millisecond
)

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchHelp)
		return usagef("bench: name a mode, e.g. kurir bench messaging --server http://127.0.0.1:8080")
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, benchHelp)
		return nil
	case "messaging":
		return benchMessaging(ctx, args[1:], getenv, stdout, stderr)
	case "connections":
		return benchConnections(ctx, args[1:], getenv, stdout, stderr)
	case "channel":
		return benchChannel(ctx, args[1:], getenv, stdout, stderr)
	case "connections-worker":
		// Not in the help: "bench connections" starts it, and stops it by
		// closing its standard input, which runBench is not handed.
		return benchConnectionsWorker(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "channel-worker":
		// Not in the help either: "bench channel" starts it, hands it its
		// tokens on standard input, and stops it by closing that.
		return benchChannelWorker(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	default:
		fmt.Fprint(stderr, benchHelp)
		return usagef("bench: unknown mode %q", args[0])
	}
}

// benchConfig is everything "kurir bench messaging" is told.
type benchConfig struct {
	server       string
	users        int
	rate         float64
	duration     time.Duration
	warmup       time.Duration
	drain        time.Duration
	setupTimeout time.Duration
	maxInFlight  int
	jsonPath     string
	password     string
}

func (c *benchConfig) register(e envFlags) {
	e.string(&c.server, "server", "KURIR_BENCH_SERVER", "", "base URL of the server to load, e.g. http://127.0.0.1:8080 (required)")
	e.int(&c.users, "users", "KURIR_BENCH_USERS", 100, fmt.Sprintf("accounts to register: an even number, at most %d; they send in pairs", maxBenchUsers))
	e.float64(&c.rate, "rate", "KURIR_BENCH_RATE", 100, "messages to send per second, over all users")
	e.duration(&c.duration, "duration", "KURIR_BENCH_DURATION", 10*time.Second, "how long to send and measure, after the warmup")
	e.duration(&c.warmup, "warmup", "KURIR_BENCH_WARMUP", 2*time.Second, "how long to send before measuring")
	e.duration(&c.drain, "drain", "KURIR_BENCH_DRAIN", 5*time.Second, "how long to wait after the last send for messages still on their way")
	e.duration(&c.setupTimeout, "setup-timeout", "KURIR_BENCH_SETUP_TIMEOUT", 5*time.Minute, "how long registering, logging in and connecting the users may take")
	e.int(&c.maxInFlight, "max-in-flight", "KURIR_BENCH_MAX_IN_FLIGHT", 512, "most sends at once (as many more may wait)")
	e.string(&c.jsonPath, "json", "KURIR_BENCH_JSON", "", "also write the results as JSON to this file")
	e.string(&c.password, "password-for-new-users", "KURIR_BENCH_PASSWORD", "", "password of the accounts it registers (default: a random one for each run)")
}

// check refuses settings that make no sense or exceed the bounds above.
func (c *benchConfig) check() error {
	const cmd = "bench messaging"
	if c.server == "" {
		return usagef("%s: --server is required, e.g. --server http://127.0.0.1:8080", cmd)
	}
	if u, err := url.Parse(c.server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usagef("%s: --server %q: want the server's base URL, such as http://127.0.0.1:8080", cmd, c.server)
	}
	switch {
	case c.users < 2 || c.users%2 != 0:
		return usagef("%s: --users %d: want an even number, at least 2: users send to each other in pairs", cmd, c.users)
	case c.users > maxBenchUsers:
		return usagef("%s: --users %d: one process runs at most %d users, because each holds a live connection and a process may open only so many files", cmd, c.users, maxBenchUsers)
	case !(c.rate > 0) || math.IsInf(c.rate, 0):
		return usagef("%s: --rate %v: want messages per second above 0", cmd, c.rate)
	case c.duration <= 0:
		return usagef("%s: --duration %v: want a positive duration, such as 20s", cmd, c.duration)
	case c.warmup < 0:
		return usagef("%s: --warmup %v: want 0 or a positive duration, such as 2s", cmd, c.warmup)
	case c.drain <= 0:
		return usagef("%s: --drain %v: want a positive duration, such as 5s", cmd, c.drain)
	case c.setupTimeout <= 0:
		return usagef("%s: --setup-timeout %v: want a positive duration, such as 5m", cmd, c.setupTimeout)
	case c.maxInFlight < 1 || c.maxInFlight > maxBenchInFlight:
		return usagef("%s: --max-in-flight %d: want 1 to %d", cmd, c.maxInFlight, maxBenchInFlight)
	}
	if n := c.rate * (c.warmup + c.duration).Seconds(); n > maxBenchMessages {
		return usagef("%s: --rate × (--warmup + --duration) is %.0f messages; one run sends at most %d", cmd, n, maxBenchMessages)
	}
	return nil
}

// total is the number of messages the schedule holds: message k is due
// k/rate seconds after the start, and the last before warmup+duration.
func (c *benchConfig) total() int64 {
	return int64(math.Ceil(c.rate * (c.warmup + c.duration).Seconds()))
}

// first is the number of the first message due after the warmup.
func (c *benchConfig) first() int64 { return int64(math.Ceil(c.rate * c.warmup.Seconds())) }

func benchMessaging(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg benchConfig
	fs, e := newFlagSet("bench messaging", benchMessagingHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench messaging takes no arguments, got %q", fs.Args())
	}
	if err := cfg.check(); err != nil {
		return err
	}
	runID := newBenchRunID()
	password := cfg.password
	if password == "" {
		password = rand.Text()
	}
	hc := newBenchHTTPClient(cfg.maxInFlight)
	defer hc.CloseIdleConnections()
	anon := client.New(cfg.server, client.WithHTTPClient(hc), client.WithUserAgent(benchUserAgent))

	// The live streams last until the report is made; everything before
	// the first send must finish within the setup timeout.
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	fmt.Fprintf(stderr, "bench %s: registering, logging in and connecting %d users on %s\n", runID, cfg.users, cfg.server)
	setupCtx, cancel := context.WithTimeout(ctx, cfg.setupTimeout)
	users, err := benchSetup(setupCtx, liveCtx, anon, runID, password, cfg.users)
	timedOut := errors.Is(setupCtx.Err(), context.DeadlineExceeded)
	cancel()
	defer closeLives(users)
	if err != nil {
		if timedOut {
			return fmt.Errorf("setting up the users took longer than --setup-timeout %v: %w", cfg.setupTimeout, err)
		}
		return err
	}

	r := newMessagingRun(cfg, runID, users)
	fmt.Fprintf(stderr, "bench %s: sending %.0f msgs/s for %v (warmup %v, then %v measured)\n", runID, cfg.rate, cfg.warmup+cfg.duration, cfg.warmup, cfg.duration)
	r.run(ctx)
	if ctx.Err() == nil {
		fmt.Fprintf(stderr, "bench %s: waiting up to %v for messages on their way\n", runID, cfg.drain)
		r.waitDelivered(ctx, cfg.drain)
	}
	stopLive()
	r.receivers.Wait()
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
	case rep.Lost > 0:
		return fmt.Errorf("%d acknowledged messages never arrived on their receiver's live stream", rep.Lost)
	case rep.Acknowledged == 0:
		return errors.New("the server acknowledged no message; see the errors above")
	}
	return nil
}

// newBenchRunID returns 8 random hex digits, which no reserved username
// word can be made of.
func newBenchRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newBenchHTTPClient returns the one http.Client of a run. It keeps as many
// idle connections as sends may be in flight, so that sends reuse them
// rather than dial anew; it uses no proxy, so only the server is contacted.
func newBenchHTTPClient(maxInFlight int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	idle := maxInFlight + benchSetupParallel
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
		Timeout: benchSendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// benchUser is one account of a run. Its fields are set during setup and
// only read afterwards.
type benchUser struct {
	name string
	id   int64
	c    *client.Client
	peer int   // index of the partner
	chat int64 // the pair's private chat
	live *client.Live
}

// benchSetup registers and logs in n users, opens each pair's chat and
// connects every user's live stream, which lasts as long as liveCtx. The
// returned users are valid, and their streams must be closed (closeLives),
// even with an error.
func benchSetup(ctx, liveCtx context.Context, anon *client.Client, runID, password string, n int) ([]*benchUser, error) {
	users := make([]*benchUser, n)
	for i := range users {
		users[i] = &benchUser{name: fmt.Sprintf("bench_%s_%d", runID, i), peer: i ^ 1}
	}
	err := forEach(ctx, n, benchSetupParallel, func(ctx context.Context, i int) error {
		u := users[i]
		res, err := registerBenchUser(ctx, anon, u.name, password)
		if err != nil {
			return err
		}
		u.id, u.c = res.User.ID, anon.WithToken(res.Token)
		return nil
	})
	if err != nil {
		return users, err
	}
	// Both partners open the chat, so that either may send first.
	err = forEach(ctx, n, benchSetupParallel, func(ctx context.Context, i int) error {
		u := users[i]
		chat, err := u.c.OpenPrivateChat(ctx, users[u.peer].id)
		if err != nil {
			return fmt.Errorf("open the private chat of %s with %s: %w", u.name, users[u.peer].name, err)
		}
		u.chat = chat.ID
		return nil
	})
	if err != nil {
		return users, err
	}
	for i := 0; i < n; i += 2 {
		if users[i].chat != users[i+1].chat {
			return users, fmt.Errorf("%s and %s got different private chats, %d and %d", users[i].name, users[i+1].name, users[i].chat, users[i+1].chat)
		}
	}
	err = forEach(ctx, n, benchSetupParallel, func(ctx context.Context, i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l, err := users[i].c.Live(liveCtx)
		if err != nil {
			return fmt.Errorf("connect the live stream of %s: %w", users[i].name, err)
		}
		users[i].live = l
		return nil
	})
	return users, err
}

// registerBenchUser registers the account name and logs it in.
func registerBenchUser(ctx context.Context, anon *client.Client, name, password string) (client.LoginResult, error) {
	if _, err := anon.Register(ctx, client.RegisterParams{Username: name, Password: password}); err != nil {
		return client.LoginResult{}, fmt.Errorf("register %s: %w%s", name, err, rateLimitHint(err))
	}
	res, err := anon.Login(ctx, client.LoginParams{Username: name, Password: password, DeviceName: benchDeviceName})
	if err != nil {
		return client.LoginResult{}, fmt.Errorf("log in as %s: %w%s", name, err, rateLimitHint(err))
	}
	return res, nil
}

func rateLimitHint(err error) string {
	if client.IsCode(err, kurir.ERateLimited) {
		return " (the server limits registrations and logins: start it with --dev-no-rate-limits for load tests)"
	}
	return ""
}

func closeLives(users []*benchUser) {
	for _, u := range users {
		if u.live != nil {
			u.live.Close()
		}
	}
}

// forEach calls fn for 0 to n-1, at most par calls at once. After the first
// error, or when ctx ends, it starts no more calls; it returns that error
// once the calls it started have returned.
func forEach(ctx context.Context, n, par int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
start:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break start
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// The states of a message, as bits: a message due is sent or dropped; a
// sent one is acknowledged or failed; any sent one may be delivered.
const (
	msgSent uint32 = 1 << iota
	msgAcked
	msgFailed
	msgDropped
	msgDelivered
)

// benchMsg is what a run knows of one message.
type benchMsg struct {
	state atomic.Uint32
	// latency is written once, by the receiver that sets msgDelivered, and
	// read after every receiver has stopped.
	latency time.Duration
}

// messagingRun is one run of "kurir bench messaging" after setup.
type messagingRun struct {
	cfg   benchConfig
	runID string
	users []*benchUser
	msgs  []benchMsg
	first int64 // first message due after the warmup

	// start is when message 0 is due; startUnix is its Unix time in ns.
	// Times are measured on the monotonic clock from start.
	start     time.Time
	startUnix int64

	pending    atomic.Int64 // acknowledged, not yet delivered
	duplicates atomic.Int64
	// lastAck and lastDelivery are the latest acknowledgement and delivery
	// of a measured message, since start.
	lastAck, lastDelivery atomic.Int64

	errs      benchErrors
	receivers sync.WaitGroup
}

func newMessagingRun(cfg benchConfig, runID string, users []*benchUser) *messagingRun {
	return &messagingRun{
		cfg: cfg, runID: runID, users: users,
		msgs:  make([]benchMsg, cfg.total()),
		first: cfg.first(),
		errs:  benchErrors{kinds: map[string]*benchErrorCount{}},
	}
}

// due is when message k is due, after start.
func (r *messagingRun) due(k int64) time.Duration {
	return time.Duration(float64(k) * float64(time.Second) / r.cfg.rate)
}

// run starts the receivers, sends every message of the schedule, and
// returns when every send has been answered or has failed, or ctx ends.
func (r *messagingRun) run(ctx context.Context) {
	r.start = time.Now()
	r.startUnix = r.start.UnixNano()
	for _, u := range r.users {
		r.receivers.Go(func() { r.receive(u) })
	}
	queue := make(chan int64, r.cfg.maxInFlight)
	var senders sync.WaitGroup
	for range r.cfg.maxInFlight {
		senders.Go(func() {
			for k := range queue {
				r.send(ctx, k)
			}
		})
	}
	r.schedule(ctx, queue)
	senders.Wait()
}

var errBacklog = errors.New("dropped: the sends in flight and waiting were at --max-in-flight, because the server did not keep up with --rate")

// schedule hands each message to the senders when it is due, whether or not
// earlier ones have been answered, and closes queue after the last.
func (r *messagingRun) schedule(ctx context.Context, queue chan<- int64) {
	defer close(queue)
	total := int64(len(r.msgs))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for next := int64(0); next < total; {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		// Messages 0..due-1 are due by now.
		due := min(int64(time.Since(r.start).Seconds()*r.cfg.rate)+1, total)
		for ; next < due; next++ {
			select {
			case queue <- next:
			default:
				r.msgs[next].state.Or(msgDropped)
				r.errs.add("backlog", errBacklog)
			}
		}
		if next < total {
			// At high rates this wakes every millisecond and hands out a
			// batch; at low rates, when the next message is due.
			timer.Reset(max(r.due(next)-time.Since(r.start), time.Millisecond))
		}
	}
}

// send sends message k from user k mod N to its partner.
func (r *messagingRun) send(ctx context.Context, k int64) {
	u := r.users[k%int64(len(r.users))]
	m := &r.msgs[k]
	ks := strconv.FormatInt(k, 10)
	text := "t=" + strconv.FormatInt(r.startUnix+int64(r.due(k)), 10) + " k=" + ks
	m.state.Or(msgSent)
	sctx, cancel := context.WithTimeout(ctx, benchSendTimeout)
	_, err := u.c.Send(sctx, u.chat, client.SendParams{Text: text, IdempotencyKey: r.runID + "-" + ks})
	cancel()
	if err != nil {
		m.state.Or(msgFailed)
		r.errs.add(benchErrorKind(err), err)
		return
	}
	if m.state.Or(msgAcked)&msgDelivered == 0 {
		r.pending.Add(1)
	}
	if k >= r.first {
		storeMax(&r.lastAck, int64(time.Since(r.start)))
	}
}

// receive records the messages that arrive on u's live stream from its
// partner, until the stream is closed.
func (r *messagingRun) receive(u *benchUser) {
	for ev := range u.live.Events() {
		if ev.Reset {
			r.errs.add("live_reset", fmt.Errorf("the live stream of %s fell too far behind and was reset", u.name))
			continue
		}
		msg := ev.Event.Message
		if ev.Event.Kind != client.EventMessage || msg == nil || msg.SenderID == u.id {
			continue // the user's own messages come back on its stream too
		}
		now := time.Since(r.start)
		t, k, ok := parseBenchText(msg.Text)
		if !ok || k < 0 || k >= int64(len(r.msgs)) || r.users[r.users[k%int64(len(r.users))].peer] != u {
			r.errs.add("unexpected_message", fmt.Errorf("%s received %q in chat %d, not a message of this run for it", u.name, msg.Text, msg.ChatID))
			continue
		}
		m := &r.msgs[k]
		old := m.state.Or(msgDelivered)
		if old&msgDelivered != 0 {
			r.duplicates.Add(1)
			continue
		}
		m.latency = time.Duration(r.startUnix + int64(now) - t)
		if old&msgAcked != 0 {
			r.pending.Add(-1)
		}
		if k >= r.first {
			storeMax(&r.lastDelivery, int64(now))
		}
	}
	if err := u.live.Err(); err != nil {
		r.errs.add("live_stream", fmt.Errorf("the live stream of %s ended: %w", u.name, err))
	}
}

// waitDelivered waits until every acknowledged message has arrived, at most
// for d.
func (r *messagingRun) waitDelivered(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for r.pending.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(benchDrainPollEvery)
	}
}

// parseBenchText reads the due time and number from a message's text,
// "t=<unix ns> k=<n>".
func parseBenchText(s string) (t, k int64, ok bool) {
	ts, ks, found := strings.Cut(s, " ")
	ts, okT := strings.CutPrefix(ts, "t=")
	ks, okK := strings.CutPrefix(ks, "k=")
	if !found || !okT || !okK {
		return 0, 0, false
	}
	t, err1 := strconv.ParseInt(ts, 10, 64)
	k, err2 := strconv.ParseInt(ks, 10, 64)
	return t, k, err1 == nil && err2 == nil
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// benchErrors counts errors by kind, keeping the first of each. It is safe
// for concurrent use, and holds at most benchMaxErrorKinds kinds.
type benchErrors struct {
	mu    sync.Mutex
	kinds map[string]*benchErrorCount
}

// benchErrorCount is how often an error of one kind happened, and the
// first one's message.
type benchErrorCount struct {
	Count int64  `json:"count"`
	First string `json:"first"`
}

func (b *benchErrors) add(kind string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.kinds[kind]; !ok && len(b.kinds) >= benchMaxErrorKinds {
		kind = "other"
	}
	if c, ok := b.kinds[kind]; ok {
		c.Count++
		return
	}
	b.kinds[kind] = &benchErrorCount{Count: 1, First: err.Error()}
}

// benchErrorKind names the kind of a failed send: the HTTP status and
// error code, or what failed underneath.
func benchErrorKind(err error) string {
	var ce *client.Error
	var ne net.Error
	switch {
	case errors.As(err, &ce) && ce.Code != "":
		return fmt.Sprintf("http_%d_%s", ce.Status, ce.Code)
	case errors.As(err, &ce):
		return fmt.Sprintf("http_%d", ce.Status)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "network"
	}
}

// benchReport is the result of a run, as --json writes it. Counts cover the
// whole run; rates and latency cover the messages due after the warmup.
type benchReport struct {
	Mode       string  `json:"mode"`
	Server     string  `json:"server"`
	RunID      string  `json:"run_id"`
	Users      int     `json:"users"`
	DurationS  float64 `json:"duration_s"`
	WarmupS    float64 `json:"warmup_s"`
	TargetRate float64 `json:"target_rate"`
	// SendRate is acknowledged messages per second, and DeliveredRate
	// delivered ones, over the measured time (longer than the duration when
	// the server fell behind).
	SendRate      float64 `json:"send_rate"`
	DeliveredRate float64 `json:"delivered_rate"`
	// Scheduled messages were due; Sent were handed to the server (the
	// others were dropped, see errors "backlog"); Lost were acknowledged
	// but never arrived; Duplicates arrived more than once.
	Scheduled    int64                      `json:"scheduled"`
	Sent         int64                      `json:"sent"`
	Acknowledged int64                      `json:"acknowledged"`
	Delivered    int64                      `json:"delivered"`
	Lost         int64                      `json:"lost"`
	Duplicates   int64                      `json:"duplicates"`
	Errors       map[string]benchErrorCount `json:"errors"`
	LatencyMS    benchLatency               `json:"latency_ms"`
}

// benchLatency are delivery latencies in milliseconds.
type benchLatency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

// report sums up the run, once the senders and receivers have stopped.
func (r *messagingRun) report() benchReport {
	rep := benchReport{
		Mode: "messaging", Server: r.cfg.server, RunID: r.runID, Users: len(r.users),
		DurationS: r.cfg.duration.Seconds(), WarmupS: r.cfg.warmup.Seconds(), TargetRate: r.cfg.rate,
		Scheduled: int64(len(r.msgs)), Duplicates: r.duplicates.Load(), Errors: map[string]benchErrorCount{},
	}
	var measuredAcked, measuredDelivered int64
	latencies := make([]time.Duration, 0, len(r.msgs)-int(r.first))
	for k := range r.msgs {
		m := &r.msgs[k]
		s := m.state.Load()
		measured := int64(k) >= r.first
		if s&msgSent != 0 {
			rep.Sent++
		}
		if s&msgAcked != 0 {
			rep.Acknowledged++
			if measured {
				measuredAcked++
			}
			if s&msgDelivered == 0 {
				rep.Lost++
			}
		}
		if s&msgDelivered != 0 {
			rep.Delivered++
			if measured {
				measuredDelivered++
				latencies = append(latencies, m.latency)
			}
		}
	}
	rate := func(n int64, last time.Duration) float64 {
		window := max(r.cfg.duration, last-r.cfg.warmup)
		return float64(n) / window.Seconds()
	}
	rep.SendRate = rate(measuredAcked, time.Duration(r.lastAck.Load()))
	rep.DeliveredRate = rate(measuredDelivered, time.Duration(r.lastDelivery.Load()))
	rep.LatencyMS = latencySummary(latencies)
	r.errs.mu.Lock()
	for kind, c := range r.errs.kinds {
		rep.Errors[kind] = *c
	}
	r.errs.mu.Unlock()
	return rep
}

// latencySummary returns the nearest-rank percentiles of d, which it sorts.
func latencySummary(d []time.Duration) benchLatency {
	if len(d) == 0 {
		return benchLatency{}
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := max(int(math.Ceil(q*float64(len(d))))-1, 0)
		return ms(d[i])
	}
	return benchLatency{Samples: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (rep benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "kurir bench messaging, run %s against %s\n", rep.RunID, rep.Server)
	fmt.Fprintf(w, "  users        %d (%d pairs)\n", rep.Users, rep.Users/2)
	fmt.Fprintf(w, "  time         %gs measured after %gs warmup\n", rep.DurationS, rep.WarmupS)
	fmt.Fprintf(w, "  rate         %.1f msgs/s target, %.1f acknowledged, %.1f delivered\n", rep.TargetRate, rep.SendRate, rep.DeliveredRate)
	fmt.Fprintf(w, "  messages     %d due, %d sent, %d acknowledged, %d delivered, %d lost, %d duplicates\n",
		rep.Scheduled, rep.Sent, rep.Acknowledged, rep.Delivered, rep.Lost, rep.Duplicates)
	l := rep.LatencyMS
	fmt.Fprintf(w, "  latency      p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms (%d messages after warmup)\n", l.P50, l.P95, l.P99, l.Max, l.Samples)
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "  errors       none")
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
