package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kurir/account"
	"kurir/audit"
	"kurir/bus"
	"kurir/clocktest"
	"kurir/httpapi"
	"kurir/jurisdiction"
	"kurir/jurisdiction/geo"
	"kurir/legal"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/openapi"
	"kurir/ratelimit"
	"kurir/realtime"
	"kurir/secret"
	"kurir/sqldb"
)

// fakeClock is the tests' clock, which moves only when a test moves it.
type fakeClock = clocktest.Fake

func newClock() *fakeClock { return clocktest.New(time.Time{}) }

// password passes the strength check for every username in these tests.
const password = "wet-otter-lantern-9"

// options tune a harness; the zero value is what most tests want.
type options struct {
	// limits are the account service's rate limits; zero means none.
	limits account.Limits
	// maxBody is Deps.MaxBodyBytes; zero means the server's default.
	maxBody int64
	// quiet drops the server's log instead of writing errors to the test's
	// output, for fuzzing, where the harness outlives each input's t.
	quiet bool
	// largeChat is messaging's Config.LargeChat; zero means the default.
	largeChat int64
	// places, if set, is an IP table (CSV: start, end, country) that
	// places requests in countries; requests from 127.0.0.1 may name their
	// address in X-Forwarded-For. With it the server has jurisdictions.
	places string
	// legal runs the law-enforcement portal (Deps.Legal); see legal_test.go.
	legal bool
	// claims limits secret-chat claims (secret.Config.Claims); nil means
	// the default.
	claims *ratelimit.Limit
	// maxText is messaging's Config.MaxText and maxUpload media's
	// Config.MaxSize; zero means the default.
	maxText   int
	maxUpload int64
	// staff2FA requires staff to have an authenticator app, as a server
	// does by default; without it the harness lets them through, so that
	// the tests of staff tools need not set one up.
	staff2FA bool
}

// schema is every migration the API's services need.
var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations, moderation.Migrations,
	jurisdiction.Migrations, geo.Migrations, legal.Migrations, secret.Migrations}

// harness is a real API server on a loopback port, over a real database,
// with a client that checks all traffic against the server's OpenAPI document.
type harness struct {
	laws   *jurisdiction.Service // nil without options.places
	legal  *legalPortal          // nil without options.legal
	secret *secret.Service
	msg    *messaging.Service
	mod    *moderation.Service
	db     *sqldb.DB
	svc    *account.Service
	clock  *fakeClock
	srv    *httpapi.Server
	url    string
	client *http.Client
}

// newHarness serves the API over db on 127.0.0.1 until t ends.
func newHarness(t testing.TB, db *sqldb.DB, opt options) *harness {
	t.Helper()
	clock := newClock()
	log := slog.New(slog.DiscardHandler)
	if !opt.quiet {
		// 5xx responses log their cause at error level; show it beside the failure.
		log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	}
	svc := account.NewService(db, clock, log, account.Config{Argon2: account.CheapArgon2Params, Limits: &opt.limits,
		StaffTOTPOptional: !opt.staff2FA})
	events := bus.NewMemory(bus.MemoryOptions{})
	t.Cleanup(func() { events.Close() })
	var laws *jurisdiction.Service
	var proxies []netip.Prefix
	if opt.places != "" {
		table, _, err := geo.Parse(strings.NewReader(opt.places), geo.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := geo.Save(context.Background(), db, table, "test", clock.Now()); err != nil {
			t.Fatal(err)
		}
		places := geo.NewLocator(db, log)
		if err := places.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		laws = jurisdiction.NewService(db, places, clock, log)
		proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	mcfg := messaging.Config{LargeChat: opt.largeChat, MaxText: opt.maxText}
	if laws != nil {
		mcfg.Territory = laws
	}
	msg := messaging.NewService(db, events, clock, log, mcfg)
	files := mediatest.New(t, db, msg, clock, log, media.Config{MaxSize: opt.maxUpload})
	hub := realtime.NewHub(log, httpapi.EncodeEvent, nil, realtime.Config{Territory: msg})
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx, events) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	mod := moderation.NewService(db, msg, svc, clock, log, moderation.Config{Live: hub})
	secrets, err := secret.NewService(context.Background(), db, clock, log, secret.Config{Reports: mod, Claims: opt.claims})
	if err != nil {
		t.Fatal(err)
	}
	var portal *legalPortal
	if opt.legal {
		portal = newLegalPortal(t, db, svc, msg, mod, clock, log)
	}
	srv := httpapi.NewServer(httpapi.Deps{
		Accounts: svc, Messaging: msg, Media: files, Moderation: mod, Live: hub, Ready: db, Log: log, Clock: clock, Version: "test",
		Metrics: prometheus.NewRegistry(), MaxBodyBytes: opt.maxBody,
		Jurisdiction: laws, TrustedProxies: proxies, Legal: portal.service(), Secret: secrets,
	})
	ts := serve(t, srv)
	client := checkingClient(srv.Spec())
	t.Cleanup(client.CloseIdleConnections)
	return &harness{laws: laws, legal: portal, secret: secrets, msg: msg, mod: mod, db: db, svc: svc, clock: clock, srv: srv, url: ts.URL, client: client}
}

// serve starts h on 127.0.0.1 and closes it, waiting for its requests, when t ends.
func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// checkMode says how much of an exchange the checking client validates.
type checkMode int

const (
	// checkBoth validates the request and the response against the document.
	checkBoth checkMode = iota
	// checkResponse validates only the response: for deliberately malformed
	// requests, which the document rightly does not allow.
	checkResponse
	// checkProblem requires a problem+json response matching the Problem
	// schema: for paths and methods the document does not describe at all.
	checkProblem
)

type ctxKey int

const (
	keyTB ctxKey = iota
	keyMode
)

// checkingClient returns a client that validates every /api/v1 request
// before sending it and every response after receiving it against spec,
// reporting a mismatch as an error of the test the request was made for.
// Every response of any path must carry an X-Request-ID.
func checkingClient(spec *openapi.Spec) *http.Client {
	return &http.Client{
		Transport: &checkingTransport{spec: spec, base: &http.Transport{}},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type checkingTransport struct {
	spec *openapi.Spec
	base http.RoundTripper
}

// documented reports whether path belongs to the versioned API the document describes.
func documented(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json"
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t, _ := req.Context().Value(keyTB).(testing.TB)
	if t == nil {
		panic("checkingTransport: request made without a test in its context; use harness.send")
	}
	mode, _ := req.Context().Value(keyMode).(checkMode)
	what := req.Method + " " + req.URL.RequestURI()

	if mode == checkBoth && documented(req.URL.Path) {
		var body []byte
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				t.Errorf("%s: request body cannot be re-read for validation", what)
			} else {
				rc, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				body, err = io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return nil, err
				}
			}
		}
		if err := c.spec.ValidateRequest(req.Method, req.URL.RequestURI(), req.Header.Get("Content-Type"), body); err != nil {
			t.Errorf("%s: request does not match the OpenAPI document: %v", what, err)
		}
	}

	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	if resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s: response %d has no X-Request-ID header", what, resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case mode == checkProblem:
		if err := validateProblem(c.spec, resp.StatusCode, ct, body); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	case documented(req.URL.Path):
		if err := c.spec.ValidateResponse(req.Method, req.URL.RequestURI(), resp.StatusCode, ct, body); err != nil {
			t.Errorf("%s: response does not match the OpenAPI document: %v\nbody: %s", what, err, body)
		}
	}
	return resp, nil
}

// validateProblem checks a response outside any documented operation (an
// unknown path, a wrong method, a failed probe) against the document's
// Problem schema. The document lets every operation answer any status of 400
// or more with a Problem, so validating it as a response of one operation
// that documents no error status checks exactly the Problem schema.
func validateProblem(spec *openapi.Spec, status int, contentType string, body []byte) error {
	if status < 400 {
		return &problemError{"status " + http.StatusText(status) + " is not an error"}
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/problem+json" {
		return &problemError{"content type " + contentType + ", want application/problem+json"}
	}
	return spec.ValidateResponse("GET", "/api/v1/me", status, contentType, body)
}

type problemError struct{ msg string }

func (e *problemError) Error() string { return "not a problem response: " + e.msg }

// call is one request a test makes.
type call struct {
	method, path string
	// token, if set, is sent as "Authorization: Bearer <token>".
	token string
	// body is sent as is if it is a []byte, and as JSON otherwise; nil sends none.
	body any
	// contentType overrides the application/json sent with a body.
	contentType string
	header      http.Header
	mode        checkMode
}

// response is what the server answered, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes c against the harness server on behalf of t. It reports a
// failure to send with t.Errorf and returns a zero response, so that it may
// be called from any goroutine.
func (h *harness) send(t testing.TB, c call) response {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		b, ok := c.body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(c.body); err != nil {
				t.Errorf("%s %s: encode body: %v", c.method, c.path, err)
				return response{}
			}
		}
		body = bytes.NewReader(b)
	}
	ctx := context.WithValue(context.WithValue(t.Context(), keyTB, t), keyMode, c.mode)
	req, err := http.NewRequestWithContext(ctx, c.method, h.url+c.path, body)
	if err != nil {
		t.Errorf("%s %s: %v", c.method, c.path, err)
		return response{}
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.body != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", c.method, c.path, err)
		return response{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: read response: %v", c.method, c.path, err)
		return response{}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// do makes a well-formed request, validated both ways.
func (h *harness) do(t testing.TB, method, path, token string, body any) response {
	t.Helper()
	return h.send(t, call{method: method, path: path, token: token, body: body})
}

// want fails the test unless the response has status, and decodes its JSON
// body into v if v is not nil.
func (r response) want(t testing.TB, what string, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got status %d, want %d; body: %s", what, r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("%s: decode %s: %v", what, r.body, err)
		}
	}
}

// problemWant is what a test expects of an error response; empty strings
// are checked to be absent.
type problemWant struct {
	status              int
	code, reason, field string
}

// wantProblem fails the test unless r is an RFC 9457 problem with the
// expected status, code, reason and field, a detail for a person, and the
// request ID of the X-Request-ID header. 401s must say how to authenticate.
func (r response) wantProblem(t testing.TB, what string, want problemWant) httpapi.Problem {
	t.Helper()
	if r.status != want.status {
		t.Errorf("%s: got status %d, want %d; body: %s", what, r.status, want.status, r.body)
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/problem+json" {
		t.Errorf("%s: got Content-Type %q, want application/problem+json", what, r.header.Get("Content-Type"))
	}
	var p httpapi.Problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Errorf("%s: decode problem %s: %v", what, r.body, err)
		return p
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"status member", p.Status, r.status},
		{"code", p.Code, want.code},
		{"type", p.Type, "urn:kurir:problem:" + want.code},
		{"reason", p.Reason, want.reason},
		{"field", p.Field, want.field},
		{"request_id", p.RequestID, r.header.Get("X-Request-ID")},
		{"detail is empty", strings.TrimSpace(p.Detail) == "", false},
		{"title is empty", p.Title == "", false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %s: got %v, want %v (detail %q)", what, c.name, c.got, c.want, p.Detail)
		}
	}
	if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 with WWW-Authenticate %q, want a Bearer challenge", what, r.header.Get("WWW-Authenticate"))
	}
	return p
}

// user is an account as GET /api/v1/me shows it.
type user struct {
	ID                  int64      `json:"id"`
	Username            string     `json:"username"`
	DisplayName         string     `json:"display_name"`
	Email               string     `json:"email"`
	Phone               string     `json:"phone"`
	Role                string     `json:"role"`
	State               string     `json:"state"`
	CreatedAt           time.Time  `json:"created_at"`
	DeletionScheduledAt *time.Time `json:"deletion_scheduled_at"`
}

// session is a device as GET /api/v1/sessions lists it.
type session struct {
	ID         int64     `json:"id"`
	DeviceName string    `json:"device_name"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Current    bool      `json:"current"`
}

type loginResult struct {
	Token   string  `json:"token"`
	Session session `json:"session"`
	User    user    `json:"user"`
}

// register creates an account through the API, failing the test if it cannot.
func (h *harness) register(t testing.TB, username string) user {
	t.Helper()
	var u user
	h.do(t, "POST", "/api/v1/accounts", "", map[string]string{"username": username, "password": password}).
		want(t, "register "+username, http.StatusCreated, &u)
	return u
}

// login opens a session through the API, failing the test if it cannot.
func (h *harness) login(t testing.TB, username, pw, device string) loginResult {
	t.Helper()
	var l loginResult
	h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": username, "password": pw, "device_name": device}).
		want(t, "login "+username+" on "+device, http.StatusCreated, &l)
	return l
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// rows counts the rows of the tables a request could change.
type rows struct{ users, sessions int }

func countRows(t testing.TB, db *sqldb.DB) rows {
	t.Helper()
	var n rows
	for _, c := range []struct {
		table string
		dst   *int
	}{{"users", &n.users}, {"sessions", &n.sessions}} {
		if err := db.Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+c.table).Scan(c.dst); err != nil {
			t.Fatalf("count %s: %v", c.table, err)
		}
	}
	return n
}
