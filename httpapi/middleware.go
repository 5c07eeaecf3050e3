package httpapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kurir"
	"kurir/account"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyPrincipal
	keyOutcome
)

// outcome is what a handler tells the request log about how its request
// ended, beyond the status.
type outcome struct {
	// notConfigured: a 503 that refuses a feature this server is not
	// configured for (see notConfigured), an answer rather than a fault.
	notConfigured bool
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// logger returns the server's logger with the request's ID. It is built
// when asked for, since most requests log nothing but their last line.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l.With("request_id", requestID(ctx))
	}
	return slog.New(slog.DiscardHandler)
}

// principal returns the authenticated caller; only handlers behind
// withAuth may call it.
func principal(ctx context.Context) account.Principal {
	return ctx.Value(keyPrincipal).(account.Principal)
}

// statusRecorder remembers what a handler wrote, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestContext gives each request an ID (echoed in X-Request-ID) and a
// logger carrying it, and logs one line per request when it ends.
func withRequestContext(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := rand.Text()[:16]
		w.Header().Set("X-Request-ID", id)
		out := &outcome{}
		ctx := context.WithValue(context.WithValue(context.WithValue(r.Context(), keyRequestID, id), keyLogger, log), keyOutcome, out)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK // the handler wrote nothing
		}
		level := slog.LevelInfo
		if rec.status >= 500 && !out.notConfigured {
			level = slog.LevelError
		}
		if !log.Enabled(ctx, level) {
			return
		}
		log.LogAttrs(ctx, level, "http request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", r.Pattern),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", clientIP(r)))
	})
}

// withRecover turns a handler panic into a logged 500 problem instead of a
// dropped connection.
func withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(w, r, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withSecurityHeaders sets headers every response should carry.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// problemWriter replaces a plain-text error from net/http (an unknown path or
// a wrong method) with a problem+json body.
type problemWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (p *problemWriter) WriteHeader(code int) {
	if code >= 400 && !strings.HasSuffix(p.Header().Get("Content-Type"), "json") {
		p.replaced = true
		p.Header().Del("Content-Type")
		p.Header().Del("X-Content-Type-Options")
		var err error
		switch code {
		case http.StatusNotFound:
			err = kurir.Errorf(kurir.ENotFound, "There is no API endpoint at %s.", p.r.URL.Path)
		case http.StatusMethodNotAllowed:
			err = &kurir.Error{Code: kurir.EInvalid, Reason: reasonMethod,
				Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s.", p.r.Method, p.r.URL.Path, p.Header().Get("Allow"))}
		default:
			err = &kurir.Error{Code: kurir.EInvalid, Message: http.StatusText(code)}
		}
		p.Header().Set("X-Content-Type-Options", "nosniff")
		writeError(p.ResponseWriter, p.r, err)
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if p.replaced {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

func (p *problemWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

func withProblemFallback(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&problemWriter{ResponseWriter: w, r: r}, r)
	})
}

// withAuth requires a valid bearer token and puts the caller in the context.
// The token comes from the Authorization header or, for a WebSocket upgrade
// from a browser (which cannot set headers), from a subprotocol
// "kurir.token.<token>".
func withAuth(accounts *account.Service, next http.Handler) http.Handler {
	return authenticated(accounts.Authenticate, next)
}

// withRestrictedAuth is withAuth that lets suspended and banned accounts
// through (see account.AuthenticateRestricted).
func withRestrictedAuth(accounts *account.Service, next http.Handler) http.Handler {
	return authenticated(accounts.AuthenticateRestricted, next)
}

func authenticated(authenticate func(context.Context, string) (account.Principal, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			writeError(w, r, &kurir.Error{Code: kurir.EUnauthenticated, Reason: "missing_token",
				Message: "This endpoint needs an access token: send \"Authorization: Bearer <token>\" from POST /api/v1/sessions."})
			return
		}
		p, err := authenticate(r.Context(), token)
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyPrincipal, p)))
	})
}

func bearerToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
	}
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
			for _, p := range strings.Split(v, ",") {
				if t, ok := strings.CutPrefix(strings.TrimSpace(p), liveTokenProtocol); ok && t != "" {
					return t, true
				}
			}
		}
	}
	return "", false
}

// metrics are the API's Prometheus instruments.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kurir_http_requests_total", Help: "HTTP API requests by operation and status code.",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kurir_http_request_duration_seconds", Help: "HTTP API request latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// instrument counts and times one operation.
func (m *metrics) instrument(op string, next http.Handler) http.Handler {
	hist := m.duration.WithLabelValues(op)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		hist.Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(op, fmt.Sprint(rec.status)).Inc()
	})
}
