package web_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/blob"
	"kurir/bus"
	"kurir/httpapi"
	"kurir/jurisdiction"
	"kurir/legal"
	"kurir/legal/mail"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/realtime"
	"kurir/safety"
	"kurir/safety/textscan"
	"kurir/secret"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency"
	"kurir/web"
)

// serverOptions tune a test server; the zero value is what most tests want.
type serverOptions struct {
	// maxUpload is media's Config.MaxSize; zero means its default.
	maxUpload int64
	// textRules, if set, are the text rules messages are screened with
	// (textscan's format: category, action, pattern, tab-separated).
	textRules string
	// bulkApprovalAbove is moderation's Config.BulkApprovalAbove; zero
	// means its default.
	bulkApprovalAbove int
	// jurisdictions gives the server the law of the place, as kurir serve
	// has it: readers are placed in the country their account declares
	// (there is no IP table), and content restricted there is withheld.
	jurisdictions bool
	// legal runs the law-enforcement portal as kurir serve does, with
	// officers' codes sent to testServer.mail and emergencies paged to
	// testServer.pages.
	legal bool
	// transparency serves the public transparency pages at /transparency,
	// from testServer.reports (with the legal schema they count).
	transparency bool
	// staff2FA makes staff set up an authenticator app before using the
	// console, as kurir serve does by default.
	staff2FA bool
}

// testServer is the whole of kurir serve — API, live stream, media and the
// web app — on a loopback port, over a fresh SQLite database. It can be
// killed (every connection dropped, WebSockets included) and started again
// on the same address, as a crashed and restarted server would be.
type testServer struct {
	URL     string
	addr    string
	handler http.Handler
	api     *httpapi.Server
	// accounts is the server's account service, for what only the
	// operator can do, such as giving an account a staff role.
	accounts *account.Service
	// mod is the server's moderation service, for what runs in the
	// background of kurir serve, such as filing detection into cases.
	mod *moderation.Service
	// db is the server's database, for what outside processes write, such
	// as a classifier's signals.
	db *sqldb.DB
	// msg is the server's messaging service, for restricting a chat or
	// message as a legal order would.
	msg *messaging.Service
	// laws is the jurisdictions policy (nil without the option).
	laws *jurisdiction.Service
	// legal is the law-enforcement portal, mail the development sink its
	// codes go to and pages what on-call staff were paged with (all nil
	// without the option).
	legal *legal.Service
	mail  *mail.LogSender
	pages *pageRecorder
	// reports is the transparency service (nil without the option).
	reports *transparency.Service
	// blobDir is where the blob store keeps its files, for tests that read
	// what the server stored.
	blobDir string

	mu    sync.Mutex
	srv   *http.Server
	conns map[net.Conn]struct{}
}

func newServer(t testing.TB, opt serverOptions) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	schema := []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations, moderation.Migrations, safety.Migrations, secret.Migrations}
	if opt.jurisdictions {
		schema = append(schema, jurisdiction.Migrations)
	}
	if opt.legal || opt.transparency {
		schema = append(schema, legal.Migrations)
	}
	if opt.transparency {
		schema = append(schema, transparency.Migrations)
	}
	db := sqldbtest.SQLite(t, schema...)
	clock := kurir.SystemClock{}
	// Staff may use the console without an authenticator app here, as
	// with kurir serve --staff-2fa optional, so that the console's tests
	// need not set one up; totp_test.go sets one up through Settings.
	accounts := account.NewService(db, clock, log, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{},
		StaffTOTPOptional: !opt.staff2FA})
	events := bus.NewMemory(bus.MemoryOptions{})
	t.Cleanup(func() { events.Close() })
	var mcfg messaging.Config
	if opt.textRules != "" {
		screen := safety.NewTextScreen(db, clock, log, safety.Limits{}, nil)
		rules, err := textscan.ParseRules("test.rules", strings.NewReader(opt.textRules))
		if err != nil {
			t.Fatal(err)
		}
		if err := screen.SetRules(rules); err != nil {
			t.Fatal(err)
		}
		mcfg.Screen = screen
	}
	var laws *jurisdiction.Service
	var rcfg realtime.Config
	if opt.jurisdictions {
		laws = jurisdiction.NewService(db, nil, clock, log)
		mcfg.Territory = laws
	}
	msg := messaging.NewService(db, events, clock, log, mcfg)
	if opt.jurisdictions {
		rcfg.Territory = msg
	}
	dir := t.TempDir()
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := media.NewService(db, blobs, msg, filepath.Join(dir, "uploads"), clock, log,
		media.Config{MaxSize: opt.maxUpload, UploadsPerUser: &ratelimit.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	hub := realtime.NewHub(log, httpapi.EncodeEvent, nil, rcfg)
	ctx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(ctx, events) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	// As kurir serve has it: decisions reach the live streams (the affected
	// user's badge, a suspended account's streams ended), and statements
	// link to the clause of the terms.
	mod := moderation.NewService(db, msg, accounts, clock, log, moderation.Config{BulkApprovalAbove: opt.bulkApprovalAbove, Live: hub,
		TermsURL: "https://kurir.example/terms"})
	var (
		portal *legal.Service
		sender *mail.LogSender
		pages  *pageRecorder
	)
	if opt.legal {
		sender, pages = &mail.LogSender{Log: log}, &pageRecorder{}
		portal = legal.NewService(db, blobs, accounts, msg, mod, clock, log,
			legal.Config{Mail: sender, Pager: pages, Argon2: account.CheapArgon2Params})
		t.Cleanup(portal.Wait)
	}
	// Secret chats as kurir serve runs them, without the limit on claims
	// that many tests in a row would reach.
	secrets, err := secret.NewService(context.Background(), db, clock, log, secret.Config{Reports: mod, Claims: &ratelimit.Limit{}, Sends: &ratelimit.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	site := web.Handler()
	var reports *transparency.Service
	if opt.transparency {
		reports = transparency.NewService(db, clock, log, transparency.Config{})
		site = web.WithTransparency(site, web.Transparency(reports, clock, log))
	}
	api := httpapi.NewServer(httpapi.Deps{
		Accounts: accounts, Messaging: msg, Media: files, Moderation: mod, Live: hub, Ready: db, Log: log, Clock: clock,
		Version: "test", Metrics: prometheus.NewRegistry(), Web: site, Jurisdiction: laws, Legal: portal, Secret: secrets,
	})
	s := &testServer{handler: api, api: api, accounts: accounts, mod: mod, db: db, msg: msg, laws: laws,
		legal: portal, mail: sender, pages: pages, reports: reports, blobDir: filepath.Join(dir, "blobs"), conns: map[net.Conn]struct{}{}}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(s.kill)
	return s
}

// start serves on addr ("host:0" for any port).
func (s *testServer) start(t testing.TB, addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Track every connection, hijacked WebSockets too, so kill can drop them.
		ConnState: func(c net.Conn, st http.ConnState) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch st {
			case http.StateNew:
				s.conns[c] = struct{}{}
			case http.StateClosed:
				delete(s.conns, c)
			}
		},
	}
	go s.srv.Serve(ln)
}

// kill stops serving at once and drops every open connection.
func (s *testServer) kill() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	conns := s.conns
	s.conns = map[net.Conn]struct{}{}
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Close()
	for c := range conns {
		c.Close()
	}
}

// restart starts serving again on the same address after kill.
func (s *testServer) restart(t testing.TB) { s.start(t, s.addr) }
