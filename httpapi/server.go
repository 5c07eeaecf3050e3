// Package httpapi is kurir's HTTP API: JSON under /api/v1, bearer-token
// authentication, RFC 9457 problem details for every error, health and
// readiness probes, Prometheus metrics and the OpenAPI document. It knows
// nothing of SQL: it calls the capability services it is given.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kurir"
	"kurir/account"
	"kurir/jurisdiction"
	"kurir/legal"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/openapi"
	"kurir/realtime"
	"kurir/secret"
)

// Pinger reports whether a dependency (the database) can serve requests.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the API serves from. Every field is required unless noted.
type Deps struct {
	Accounts  *account.Service
	Messaging *messaging.Service
	// Media stores uploads and serves downloads.
	Media *media.Service
	// Moderation takes reports and notices and serves the console's API.
	Moderation *moderation.Service
	// Live is this node's hub of live sessions, behind GET /api/v1/live.
	Live *realtime.Hub
	// Ready is checked by /readyz.
	Ready   Pinger
	Log     *slog.Logger
	Clock   kurir.Clock
	Version string
	// Metrics receives the API's metrics and is served at /metrics.
	Metrics *prometheus.Registry
	// MaxBodyBytes bounds JSON request bodies (default 64 KiB).
	MaxBodyBytes int64
	// Web, if set, serves every path the API does not (see withWeb): the
	// web app. Nil serves nothing there.
	Web http.Handler
	// Jurisdiction, if set, places each request in a country: content
	// restricted there is withheld, and withdrawn and restricted markets
	// refuse what they must. Nil places nobody anywhere.
	Jurisdiction *jurisdiction.Service
	// Legal, if set, runs the law-enforcement portal (/api/v1/legal) and
	// the legal team's API (/api/v1/legal-team). Nil answers them with 503.
	Legal *legal.Service
	// Secret, if set, runs secret chats' key directory and envelope relay
	// (/api/v1/secret). Nil answers them with 503.
	Secret *secret.Service
	// TrustedProxies are the proxies (such as the load balancer) whose
	// ClientIPHeader is believed about the client's address; by default
	// none, and the socket's address is the client's.
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the header trusted proxies name the client in
	// (default X-Forwarded-For; X-Real-IP for a single address).
	ClientIPHeader string
}

// Server is the API's http.Handler.
type Server struct {
	handler http.Handler
	spec    *openapi.Spec
}

// NewServer returns the API with every route installed.
func NewServer(d Deps) *Server {
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 64 << 10
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = kurir.SystemClock{}
	}
	if d.Metrics == nil {
		d.Metrics = prometheus.NewRegistry()
	}
	m := newMetrics(d.Metrics)
	mux := http.NewServeMux()
	spec := addRoutes(mux, d, m)
	doc, err := spec.MarshalJSON()
	if err != nil {
		// A route declared a type the document cannot describe: a programming
		// error that every test run finds at once.
		panic(fmt.Sprintf("httpapi: build OpenAPI document: %v", err))
	}
	mux.Handle("GET /api/v1/openapi.json", handleOpenAPI(doc))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{Registry: d.Metrics}))
	var h http.Handler = mux
	if d.Web != nil {
		h = withWeb(mux, d.Web)
	}
	return &Server{
		handler: withRequestContext(d.Log, withRecover(withProblemFallback(withSecurityHeaders(h)))),
		spec:    spec,
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Spec returns the OpenAPI description of the API, which tests validate real
// traffic against.
func (s *Server) Spec() *openapi.Spec { return s.spec }

// Spec returns the OpenAPI description of the API without serving it, for
// tests and tools that check traffic against it.
func Spec() *openapi.Spec {
	return addRoutes(http.NewServeMux(), Deps{}, newMetrics(prometheus.NewRegistry()))
}
