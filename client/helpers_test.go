package client_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kurir/account"
	"kurir/audit"
	"kurir/blob"
	"kurir/bus"
	"kurir/client"
	"kurir/clocktest"
	"kurir/httpapi"
	"kurir/jurisdiction"
	"kurir/jurisdiction/geo"
	"kurir/legal"
	"kurir/legal/mail"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/openapi"
	"kurir/realtime"
	"kurir/secret"
	"kurir/sqldb"
)

// schema is every migration the API's services need.
var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations, moderation.Migrations,
	jurisdiction.Migrations, legal.Migrations, secret.Migrations}

// places is the test servers' IP table: it places 192.0.2.0/24 in Germany,
// and the loopback address the tests connect from nowhere.
const places = "192.0.2.0,192.0.2.255,DE\n"

// password passes the strength check for every username in these tests.
const password = "wet-otter-lantern-9"

// fakeClock is the tests' clock, which moves only when a test moves it.
type fakeClock = clocktest.Fake

// options tune a test server; the zero value is what most tests want.
type options struct {
	// limits are the account service's rate limits; zero means none.
	limits account.Limits
	// wrap, if set, stands in front of the API, to mistreat requests.
	wrap func(http.Handler) http.Handler
	// unchecked turns off checking traffic against the OpenAPI document,
	// for benchmarks.
	unchecked bool
}

// server is the real API on a loopback port over a real database. Unless
// unchecked, it checks every request the SDK makes and every response it
// gets against the server's OpenAPI document, failing the test on a
// mismatch, and records which operations were called.
type server struct {
	URL   string
	ts    *httptest.Server
	clock *fakeClock
	// accounts is the server's account service, for what only the
	// operator can do, such as giving someone a moderation role.
	accounts *account.Service
	spec     *openapi.Spec
	ops      *http.ServeMux // matches a request to its documented operation

	// mail is where the law-enforcement portal mails officers their codes.
	mail *mail.LogSender

	mu     sync.Mutex
	called map[string]int // by "METHOD /path/{template}"
}

// newServer serves the API over db on 127.0.0.1 until t ends.
func newServer(t testing.TB, db *sqldb.DB, opt options) *server {
	t.Helper()
	clock := clocktest.New(time.Time{})
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	accounts := account.NewService(db, clock, log, account.Config{Argon2: account.CheapArgon2Params, Limits: &opt.limits,
		StaffTOTPOptional: true}) // as kurir serve --staff-2fa optional: staff tools without an authenticator
	events := bus.NewMemory(bus.MemoryOptions{})
	t.Cleanup(func() { events.Close() })
	table, _, err := geo.Parse(strings.NewReader(places), geo.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	laws := jurisdiction.NewService(db, table, clock, log)
	msg := messaging.NewService(db, events, clock, log, messaging.Config{Territory: laws})
	files := mediatest.New(t, db, msg, clock, log, media.Config{})
	hub := realtime.NewHub(log, httpapi.EncodeEvent, nil, realtime.Config{})
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx, events) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	mod := moderation.NewService(db, msg, accounts, clock, log, moderation.Config{})
	postbox := &mail.LogSender{Log: slog.New(slog.DiscardHandler)}
	legalBlobs, err := blob.OpenFS(filepath.Join(t.TempDir(), "legal-blobs"))
	if err != nil {
		t.Fatal(err)
	}
	portal := legal.NewService(db, legalBlobs, accounts, msg, mod, clock, log, legal.Config{Mail: postbox})
	secrets, err := secret.NewService(context.Background(), db, clock, log, secret.Config{Reports: mod})
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.NewServer(httpapi.Deps{
		Accounts: accounts, Messaging: msg, Media: files, Moderation: mod, Live: hub, Ready: db, Log: log, Clock: clock, Version: "test",
		Metrics: prometheus.NewRegistry(), Jurisdiction: laws, Legal: portal, Secret: secrets,
	})
	s := &server{clock: clock, accounts: accounts, mail: postbox, spec: api.Spec(), ops: http.NewServeMux(), called: map[string]int{}}
	for _, op := range s.spec.Operations() {
		s.ops.Handle(op.Method+" "+op.Path, http.NotFoundHandler())
	}
	var h http.Handler = api
	if !opt.unchecked {
		h = s.checking(t, api)
	}
	if opt.wrap != nil {
		h = opt.wrap(h)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	ts.Start()
	t.Cleanup(ts.Close)
	s.URL, s.ts = ts.URL, ts
	return s
}

// dropConnections cuts every client connection, as a network failure would.
func (s *server) dropConnections() { s.ts.CloseClientConnections() }

// checking validates each exchange with next against the document.
func (s *server) checking(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/live" {
			// A WebSocket: its frames are not HTTP bodies the document describes.
			s.mu.Lock()
			s.called["GET /api/v1/live"]++
			s.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		what := r.Method + " " + r.URL.RequestURI()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("%s: read request: %v", what, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := s.spec.ValidateRequest(r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), body); err != nil {
			t.Errorf("%s: the SDK's request does not match the OpenAPI document: %v\nbody: %s", what, err, body)
		}
		if _, pattern := s.ops.Handler(r); pattern != "" {
			s.mu.Lock()
			s.called[pattern]++
			s.mu.Unlock()
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if err := s.spec.ValidateResponse(r.Method, r.URL.RequestURI(), rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
			t.Errorf("%s: response does not match the OpenAPI document: %v\nbody: %s", what, err, rec.Body.Bytes())
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// calls returns how often the operation "METHOD /path/{template}" was called.
func (s *server) calls(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.called[pattern]
}

// uncalled returns the documented operations no request has called, but
// for those whose IDs are in except.
func (s *server) uncalled(except ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, op := range s.spec.Operations() {
		if p := op.Method + " " + op.Path; s.called[p] == 0 && !slices.Contains(except, op.ID) {
			out = append(out, p+" ("+op.ID+")")
		}
	}
	slices.Sort(out)
	return out
}

// client returns an SDK client of the server whose idle connections are
// closed when t ends.
func (s *server) client(t testing.TB, opts ...client.Option) *client.Client {
	c := client.New(s.URL, opts...)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// user registers username, logs in, and returns a client acting as the user.
func (s *server) user(t testing.TB, username string) (*client.Client, client.User) {
	t.Helper()
	c := s.client(t)
	if _, err := c.Register(t.Context(), client.RegisterParams{Username: username, Password: password}); err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	res, err := c.Login(t.Context(), client.LoginParams{Username: username, Password: password, DeviceName: "test"})
	if err != nil {
		t.Fatalf("log in %s: %v", username, err)
	}
	return c.WithToken(res.Token), res.User
}

// apiError returns err as an *client.Error, failing the test if it is not one.
func apiError(t testing.TB, what string, err error) *client.Error {
	t.Helper()
	e, ok := err.(*client.Error)
	if !ok {
		t.Fatalf("%s: got error %v (%T), want a *client.Error", what, err, err)
	}
	return e
}

// wantCode fails the test unless err is an *client.Error with the code.
func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want a %s error", what, code)
	}
	if e := apiError(t, what, err); string(e.Code) != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
}

// must returns v once a test has checked that err is nil:
// must(c.Me(ctx))(t, "me") fails t if Me failed.
func must[T any](v T, err error) func(t testing.TB, what string) T {
	return func(t testing.TB, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// ok fails the test if err is not nil.
func ok(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
