package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/blob"
	"kurir/bus"
	"kurir/bus/natsbus"
	"kurir/httpapi"
	"kurir/jurisdiction"
	"kurir/jurisdiction/geo"
	"kurir/legal"
	"kurir/legal/mail"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/realtime"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/secret"
	"kurir/sqldb"
	"kurir/transparency"
	"kurir/transparency/dsa"
	"kurir/web"
)

const serveHelp = `Usage: kurir serve [flags]

Runs the kurir server: the HTTP API under /api/v1, health probes at /healthz
and /readyz, metrics at /metrics and the API description at
/api/v1/openapi.json.

With no flags it needs nothing installed: the database is a SQLite file in
./kurir-data and live events stay in the process. To run several nodes,
point --database at PostgreSQL and --nats at NATS.

It stops cleanly on Ctrl-C or SIGTERM: requests in flight finish, then the
database is closed.

--dev-no-rate-limits turns off the limits on registrations and logins per
address and per account. It is for load tests only ("kurir bench", which
registers thousands of accounts from one address) on a loopback or test
server: never use it on a server that anyone else can reach.
`

// serveConfig is everything "kurir serve" is told.
type serveConfig struct {
	common
	addr            string
	natsURL         string
	natsPrefix      string
	shutdownTimeout time.Duration
	argon           account.Argon2Params
	noRateLimits    bool
	spam            spamConfig
	debugAddr       string
	maxUpload       int64
	uploadQuota     int64
	hashLaterMP     int
	textRules       string
	classifierURL   string
	classifierKey   string // file holding the shared secret
	classifierText  string
	bulkApproval    int
	appealSLA       time.Duration
	noticeRetention time.Duration
	trustedProxies  string
	clientIPHeader  string
	mailURL         string
	legalPagerURL   string
	dsaEndpoint     string
	dsaTokenFile    string
	bandBelow       int
	trChannel       string
	publicURL       string
	termsURL        string
	trLanguages     string
	envelopeTTL     time.Duration
	auditHeads      string
	auditHeadsEvery time.Duration
	staff2FA        string
}

func (c *serveConfig) register(e envFlags) {
	c.common.register(e)
	e.string(&c.addr, "addr", "KURIR_ADDR", "127.0.0.1:8080", "address to listen on for HTTP")
	e.string(&c.natsURL, "nats", "KURIR_NATS_URL", "", "NATS server URL(s) that carry live events between nodes, e.g. nats://10.0.0.5:4222 (default: in-process, for one node)")
	e.string(&c.natsPrefix, "nats-prefix", "KURIR_NATS_PREFIX", "kurir", "the first part of the NATS subjects this deployment's nodes share; give each deployment on one NATS its own")
	e.duration(&c.shutdownTimeout, "shutdown-timeout", "KURIR_SHUTDOWN_TIMEOUT", 30*time.Second, "how long requests in flight may take to finish when stopping")
	registerArgon(e, &c.argon)
	e.string(&c.debugAddr, "debug-addr", "KURIR_DEBUG_ADDR", "", "address for Go's profiler (net/http/pprof), e.g. 127.0.0.1:6060; keep it off public networks (default: off)")
	e.string(&c.textRules, "text-rules", "KURIR_TEXT_RULES", "", "rule files (comma-separated) that messages, chat titles, descriptions and @names are checked against; see kurir scan --help (default: none)")
	e.string(&c.classifierURL, "classifier-url", "KURIR_CLASSIFIER_URL", "", "URL of an external classification service that every stored upload (and, see --classifier-text, message) is sent to, after it is answered; a block verdict takes it down (default: none)")
	e.string(&c.classifierKey, "classifier-secret-file", "KURIR_CLASSIFIER_SECRET_FILE", "", "file holding a shared secret that signs every request to the classifier (X-Kurir-Signature, HMAC-SHA256) (default: unsigned)")
	e.string(&c.classifierText, "classifier-text", "KURIR_CLASSIFIER_TEXT", "public", "which messages' text the classifier is sent: public (groups and channels with an @name), all (private chats too: a privacy choice to state in your terms) or off")
	e.bytes(&c.maxUpload, "max-upload", "KURIR_MAX_UPLOAD", 2<<30, "largest file a user may upload")
	e.bytes(&c.uploadQuota, "upload-quota", "KURIR_UPLOAD_QUOTA", 20<<30, "most bytes of files one user may keep")
	e.int(&c.hashLaterMP, "hash-later-megapixels", "KURIR_HASH_LATER_MEGAPIXELS", 24, "photos larger than this many megapixels are decoded for their thumbnail and PDQ hash after the upload is answered, and taken down then if a hash bank blocks them")
	e.int(&c.bulkApproval, "bulk-approval-above", "KURIR_BULK_APPROVAL_ABOVE", 10, "a bulk moderation action on more subjects than this waits for a second person's approval")
	e.duration(&c.appealSLA, "appeal-sla", "KURIR_APPEAL_SLA", 7*24*time.Hour, "how long after it is filed an appeal (or a notifier's request to review a dismissal) is due to be decided; the appeal queue shows the soonest due first")
	e.duration(&c.noticeRetention, "notice-retention", "KURIR_NOTICE_RETENTION", 183*24*time.Hour, "how long a notifier's name and e-mail address, and the mail sent to them, are kept after the last appeal window of their case closes; then they are erased")
	e.string(&c.trustedProxies, "trusted-proxies", "KURIR_TRUSTED_PROXIES", "", "addresses or CIDR ranges (comma-separated) of proxies in front of kurir, such as a load balancer, whose --client-ip-header is believed about the client's address (default: none; the connection's address is the client's)")
	e.string(&c.clientIPHeader, "client-ip-header", "KURIR_CLIENT_IP_HEADER", "X-Forwarded-For", "the header trusted proxies name the client's address in")
	e.string(&c.mailURL, "mail", "KURIR_MAIL_URL", "log:", "where e-mail goes (the law-enforcement portal's verification codes, notifiers' receipts and decisions): smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS, or log: to write it to the log, for development")
	e.string(&c.legalPagerURL, "legal-pager-url", "KURIR_LEGAL_PAGER_URL", "", "URL of an on-call webhook that emergency requests and removal orders from law enforcement are POSTed to as JSON (default: none; the legal console's banner shows them)")
	e.string(&c.trChannel, "transparency-channel", "KURIR_TRANSPARENCY_CHANNEL", "transparency", "@name of the public channel a system account posts each day's transparency report in; off (or empty) posts none")
	e.string(&c.termsURL, "terms-url", "KURIR_TERMS_URL", "", "the address of your terms of service, such as https://kurir.example/terms: a statement of reasons on the terms links to its clause there (#clause-4.1); default: the clause is named without a link")
	e.string(&c.publicURL, "public-url", "KURIR_PUBLIC_URL", "", "the address people reach this server at, such as https://kurir.example, for links kurir writes into messages (the transparency channel's); default: links are paths only")
	e.string(&c.trLanguages, "transparency-languages", "KURIR_TRANSPARENCY_LANGUAGES", "en,id,ru,ar", "languages the transparency channel posts in, one message each, in order: en, id, ru, ar")
	e.int(&c.bandBelow, "transparency-band-below", "KURIR_TRANSPARENCY_BAND_BELOW", 10, "the public transparency report shows law-enforcement request counts from 0 to this less one as a range (\"0-9\"), so that no single request can be picked out; 1 shows every count exactly. They are published only for whole months once over, for every country")
	e.string(&c.dsaEndpoint, "dsa-endpoint", "KURIR_DSA_ENDPOINT", "", "base URL of the EU DSA Transparency Database API, such as https://transparency.dsa.ec.europa.eu, that every statement of reasons is submitted to each minute; with --dsa-token-file (default: none; see kurir admin dsa)")
	e.string(&c.dsaTokenFile, "dsa-token-file", "KURIR_DSA_TOKEN_FILE", "", "file holding the DSA Transparency Database API token, kept out of the process list")
	e.duration(&c.envelopeTTL, "secret-envelope-ttl", "KURIR_SECRET_ENVELOPE_TTL", secret.DefaultEnvelopeTTL, "how long a secret-chat envelope waits for its recipient device to fetch and acknowledge it before it is deleted unread")
	e.string(&c.auditHeads, "audit-heads", "KURIR_AUDIT_HEADS", "", "file the audit log's head is appended to, one line each time it moves, for kurir audit verify --heads; off writes none (the head still goes to the log) (default: DATA-DIR/audit-heads.log)")
	e.duration(&c.auditHeadsEvery, "audit-heads-every", "KURIR_AUDIT_HEADS_EVERY", 5*time.Minute, "how often the audit log's head is written to the log and --audit-heads, if it moved; 0 turns this off")
	e.string(&c.staff2FA, "staff-2fa", "KURIR_STAFF_2FA", "required", "whether staff (triage, moderators, legal and admins) need an authenticator app for their tools: required, or optional while rolling it out")
	c.spam.register(e)
	e.bool(&c.noRateLimits, "dev-no-rate-limits", "KURIR_DEV_NO_RATE_LIMITS", "for load tests only: no limits on registrations and logins (never on a server others can reach)")
}

// registerArgon adds the password-hashing cost flags.
func registerArgon(e envFlags, p *account.Argon2Params) {
	*p = account.DefaultArgon2Params
	e.uint32(&p.Memory, "password-memory", "KURIR_PASSWORD_MEMORY", "argon2id memory per password hash, in KiB")
	e.uint32(&p.Time, "password-time", "KURIR_PASSWORD_TIME", "argon2id passes per password hash")
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs, e := newFlagSet("serve", serveHelp, getenv, stdout, stderr)
	cfg.register(e)
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	proxies, err := parseProxies(cfg.trustedProxies)
	if err != nil {
		return err
	}
	limits, err := cfg.spam.limits()
	if err != nil {
		return err
	}
	if cfg.envelopeTTL < time.Minute {
		return usagef("--secret-envelope-ttl: want a duration of a minute or more, such as 720h")
	}
	if cfg.auditHeadsEvery != 0 && cfg.auditHeadsEvery < time.Second {
		return usagef("--audit-heads-every: want 0 (off) or a duration of a second or more, such as 5m")
	}
	if cfg.bandBelow < 1 {
		return usagef("--transparency-band-below: want 1 or more")
	}
	if cfg.staff2FA != "required" && cfg.staff2FA != "optional" {
		return usagef("--staff-2fa: want required or optional, got %q", cfg.staff2FA)
	}
	trLanguages, err := transparency.ParseLanguages(cfg.trLanguages)
	if err != nil {
		return usagef("--transparency-languages: %v", clientError(err))
	}
	if cfg.termsURL != "" {
		if u, err := url.Parse(cfg.termsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--terms-url %q: want an address such as https://kurir.example/terms", cfg.termsURL)
		}
	}
	if cfg.publicURL != "" {
		if u, err := url.Parse(cfg.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--public-url %q: want an address such as https://kurir.example", cfg.publicURL)
		}
	}
	if cfg.trChannel = strings.TrimPrefix(cfg.trChannel, "@"); cfg.trChannel == "off" {
		cfg.trChannel = ""
	}
	if cfg.trChannel != "" {
		if _, err := account.ParseSystemUsername(cfg.trChannel); err != nil {
			return usagef("--transparency-channel: %v", clientError(err))
		}
	}
	statements, err := dsaExporter(cfg.dsaEndpoint, cfg.dsaTokenFile, dsa.Exporter{Clock: kurir.SystemClock{}, TermsURL: cfg.termsURL})
	if err != nil {
		return err
	}
	postbox, err := mail.Parse(cfg.mailURL)
	if err != nil {
		return usagef("--mail: %v", err)
	}
	lcfg := legal.Config{Mail: postbox}
	if cfg.legalPagerURL != "" {
		if u, err := url.Parse(cfg.legalPagerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--legal-pager-url: want an http:// or https:// URL")
		}
		lcfg.Pager = legal.Webhook{URL: cfg.legalPagerURL}
	}
	log, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	db, err := cfg.openDB(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()

	clock := kurir.SystemClock{}
	acfg := account.Config{Argon2: cfg.argon, StaffTOTPOptional: cfg.staff2FA == "optional"}
	if cfg.noRateLimits {
		acfg.Limits = &account.Limits{}
		log.Warn("RATE LIMITS ARE OFF (--dev-no-rate-limits): anyone who can reach this server may register accounts and guess passwords without limit; this is for load tests on a loopback or test server only")
	}
	if cfg.noRateLimits {
		limits = safety.Limits{}
	}
	var accounts *account.Service // set below; the screen asks it only once serving
	age := func(ctx context.Context, user kurir.UserID) (time.Duration, error) {
		u, err := accounts.UserByID(ctx, user)
		if err != nil {
			return 0, err
		}
		return clock.Now().Sub(u.CreatedAt), nil
	}
	screen := safety.NewTextScreen(db, clock, log.With("component", "safety"), limits, age)
	ruleFiles, rulesDigest, err := loadTextRules(screen, cfg.textRules, log)
	if err != nil {
		return err
	}
	acfg.Screen = screen.ScreenName
	accounts = account.NewService(db, clock, log.With("component", "account"), acfg)
	var events bus.Bus = bus.NewMemory(bus.MemoryOptions{})
	if cfg.natsURL != "" {
		if events, err = natsbus.Open(ctx, cfg.natsURL, log.With("component", "bus"), natsbus.Options{Prefix: cfg.natsPrefix}); err != nil {
			return err
		}
	}
	defer events.Close()
	places := geo.NewLocator(db, log.With("component", "geo"))
	laws := jurisdiction.NewService(db, places, clock, log.With("component", "jurisdiction"))
	classifier, err := newClassifier(cfg.classifierURL, cfg.classifierKey, cfg.classifierText, db, clock, log.With("component", "classifier"))
	if err != nil {
		return err
	}
	msgcfg := messaging.Config{Screen: screen, Territory: laws}
	if classifier != nil {
		msgcfg.Stored = classifier.MessageStored
	}
	messages := messaging.NewService(db, events, clock, log.With("component", "messaging"), msgcfg)
	blobs, err := blob.OpenFS(filepath.Join(cfg.dataDir, "blobs"))
	if err != nil {
		return err
	}
	mcfg := media.Config{MaxSize: cfg.maxUpload, Quota: cfg.uploadQuota, HashLaterPixels: max(int64(cfg.hashLaterMP), 1) * 1_000_000}
	if classifier != nil {
		mcfg.Stored = classifier.Stored
	}
	if cfg.noRateLimits {
		mcfg.UploadsPerUser = &ratelimit.Limit{}
	}
	// Loading the banks is quick; a stop asked for meanwhile is seen below.
	banks, err := hashbank.NewService(context.WithoutCancel(ctx), db, clock, log.With("component", "hashbank"))
	if err != nil {
		return err
	}
	files, err := media.NewService(db, blobs, messages, filepath.Join(cfg.dataDir, "uploads"), clock, log.With("component", "media"), mcfg,
		hashbank.MediaScanner{Banks: banks, Log: log.With("component", "hashbank")})
	if err != nil {
		return err
	}
	screen.SetMediaHash(func(ctx context.Context, owner kurir.UserID, id int64) (string, error) {
		m, err := files.Get(ctx, owner, media.ID(id))
		return m.SHA256.String(), err
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db.Engine() == sqldb.SQLite {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kurir_sqlite_group_commits_total",
				Help: "Commits made by the SQLite writer, each carrying one or more write transactions.",
			}, func() float64 { c, _ := db.GroupStats(); return float64(c) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kurir_sqlite_group_transactions_total",
				Help: "Write transactions run by the SQLite writer; divided by kurir_sqlite_group_commits_total, the average group size.",
			}, func() float64 { _, t := db.GroupStats(); return float64(t) }),
		)
	}
	hub := realtime.NewHub(log.With("component", "realtime"), httpapi.EncodeEvent, reg, realtime.Config{Territory: messages})
	moderate := moderation.NewService(db, messages, accounts, clock, log.With("component", "moderation"), moderation.Config{BulkApprovalAbove: max(cfg.bulkApproval, 1), BulkInBackground: true,
		AppealSLA: cfg.appealSLA, NoticeRetention: cfg.noticeRetention, Live: hub,
		Mail: postbox, Site: strings.TrimSuffix(cfg.publicURL, "/"), TermsURL: cfg.termsURL})
	if sink, ok := postbox.(*mail.LogSender); ok {
		sink.Log = log.With("component", "mail")
		log.Warn("e-mail is written to the log (--mail log:), verification codes included; set --mail to an SMTP server in production")
	}
	portal := legal.NewService(db, blobs, accounts, messages, moderate, clock, log.With("component", "legal"), lcfg)
	scfg := secret.Config{EnvelopeTTL: cfg.envelopeTTL, Reports: moderate}
	if cfg.noRateLimits {
		scfg.Claims, scfg.Sends = &ratelimit.Limit{}, &ratelimit.Limit{}
	}
	// Like the banks, the franking key loads quickly; a stop is seen below.
	secrets, err := secret.NewService(context.WithoutCancel(ctx), db, clock, log.With("component", "secret"), scfg)
	if err != nil {
		return err
	}
	reports := transparency.NewService(db, clock, log.With("component", "transparency"), transparency.Config{BandBelow: int64(cfg.bandBelow)})
	api := httpapi.NewServer(httpapi.Deps{
		Accounts: accounts, Messaging: messages, Media: files, Moderation: moderate, Live: hub,
		Web: web.WithTransparency(web.Handler(), web.Transparency(reports, clock, log.With("component", "transparency"))), Ready: db, Log: log, Clock: clock, Version: version(), Metrics: reg,
		Jurisdiction: laws, TrustedProxies: proxies, ClientIPHeader: cfg.clientIPHeader, Legal: portal,
		Secret: secrets,
	})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}

	// Background jobs live as long as the server and are stopped before the
	// database closes.
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { accounts.RunPurger(jobs, 10*time.Minute) })
	wg.Go(func() { messages.RunJanitor(jobs, time.Hour) })
	wg.Go(func() { secrets.RunJanitor(jobs, time.Hour) })
	wg.Go(func() { messages.RunSearchIndexer(jobs, 200*time.Millisecond) })
	wg.Go(func() { files.RunCollector(jobs, time.Hour) })
	wg.Go(func() { files.RunHasher(jobs, 5*time.Second, 2) })
	wg.Go(func() { banks.RunSync(jobs, 500*time.Millisecond) })
	wg.Go(func() {
		hashbank.Rechecker{Banks: banks, Media: files, Log: log.With("component", "hashbank")}.Run(jobs, 10*time.Second)
	})
	wg.Go(func() { moderate.RunIntake(jobs, time.Second) })
	// Edited rule files apply within seconds, on every node that reads them.
	if len(ruleFiles) > 0 {
		wg.Go(func() { screen.WatchRuleFiles(jobs, ruleFiles, rulesDigest, 3*time.Second) })
	}
	wg.Go(func() { moderate.RunMail(jobs, 10*time.Second) })
	wg.Go(func() { moderate.RunBulk(jobs, 5*time.Second) })
	wg.Go(func() { moderate.RunRetention(jobs, time.Hour) })
	// Policy, restrictions and the IP table change on any node: each takes
	// effect on this one within a second.
	wg.Go(func() { laws.RunSync(jobs, time.Second) })
	wg.Go(func() { messages.RunRestrictionSync(jobs, time.Second) })
	wg.Go(func() { places.RunSync(jobs, time.Second) })
	if classifier != nil {
		wg.Go(func() { classifier.Run(jobs, 2, files, messages) })
	}
	// Users are told of a disclosure once its non-disclosure order ends.
	wg.Go(func() { portal.RunNotifier(jobs, time.Hour) })
	// Statements of reasons go to the EU DSA Transparency Database as they
	// are made; several nodes may submit at once (the database refuses a
	// PUID twice).
	if statements != nil {
		statements.DB, statements.Log = db, log.With("component", "dsa")
		wg.Go(func() { statements.Run(jobs, time.Minute) })
	}
	// Each finished day's report is stored once, by whichever node gets
	// there first, and posted in the transparency channel.
	var trPosts func(ctx context.Context, stored int)
	if cfg.trChannel != "" {
		ch := &transparency.Channel{Msg: messages, Acc: accounts, Reports: reports, Username: cfg.trChannel, Languages: trLanguages,
			Site: strings.TrimSuffix(cfg.publicURL, "/")}
		trPosts = func(ctx context.Context, stored int) {
			if err := ch.PostLatest(ctx, stored); err != nil && ctx.Err() == nil {
				log.Error("post to the transparency channel", "channel", cfg.trChannel, "err", err)
			}
		}
	}
	wg.Go(func() { reports.RunDaily(jobs, 10*time.Minute, trPosts) })
	wg.Go(func() {
		if err := hub.Run(jobs, events); err != nil {
			log.Error("live delivery stopped", "err", err)
		}
	})
	// Pages to on-call legal staff still being sent are recorded before the
	// database closes.
	defer func() { stopJobs(); wg.Wait(); portal.Wait() }()
	// The audit log's head goes out of the database, so that a rewrite of the
	// whole log is caught (kurir audit verify --heads). A file that cannot be
	// written stops the start, rather than leave the operator believing it is.
	if cfg.auditHeadsEvery > 0 {
		anchor := &audit.Anchor{DB: db.Read(), Path: cfg.auditHeads, Clock: clock, Log: log.With("component", "audit")}
		switch anchor.Path {
		case "":
			anchor.Path = filepath.Join(cfg.dataDir, "audit-heads.log")
		case "off":
			anchor.Path = ""
		}
		if _, _, err := anchor.Once(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // told to stop while starting
			}
			return fmt.Errorf("--audit-heads: %w", err)
		}
		wg.Go(func() { anchor.Run(jobs, cfg.auditHeadsEvery) })
	}

	if cfg.debugAddr != "" {
		dbg, err := startDebug(jobs, cfg.debugAddr)
		if err != nil {
			return err
		}
		log.Warn("profiler listening; keep this address off public networks", "addr", dbg)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("kurir serving", "addr", ln.Addr().String(), "database", string(db.Engine()), "version", version())
	fmt.Fprintf(stdout, "kurir is serving on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: waiting for requests in flight", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// startDebug serves net/http/pprof on addr until ctx ends and returns the
// address it listens on. The profiler shows internals (stacks, memory), so it
// has its own listener, never the public one.
func startDebug(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on --debug-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return ln.Addr().String(), nil
}

// loadTextRules reads the comma-separated rule files into screen and
// returns their names and digest, for the watch that reloads them; a bad
// file stops the server from starting, naming its bad lines.
func loadTextRules(screen *safety.TextScreen, files string, log *slog.Logger) ([]string, string, error) {
	if strings.TrimSpace(files) == "" {
		return nil, "", nil
	}
	var names []string
	for _, name := range strings.Split(files, ",") {
		names = append(names, strings.TrimSpace(name))
	}
	digest, n, err := screen.LoadRuleFiles(names)
	if err != nil {
		return nil, "", fmt.Errorf("--text-rules: %w", err)
	}
	log.Info("text rules loaded", "rules", n, "files", files, "digest", digest)
	return names, digest, nil
}

// parseProxies reads --trusted-proxies: addresses and CIDR ranges.
func parseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, usagef("--trusted-proxies: %q is neither an address nor a CIDR range such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
