package httpapi

import (
	"context"
	"io"
	"net/http"
	"time"

	"kurir"
)

// handleHealthz answers as long as the process serves HTTP (liveness).
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
}

// handleReadyz answers 200 only when the database answers (readiness), so a
// load balancer stops sending traffic to a node that lost its store.
func handleReadyz(db Pinger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			writeError(w, r, &kurir.Error{Code: kurir.EUnavailable, Message: "The database is not reachable.", Err: err})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ready\n")
	})
}

// handleOpenAPI serves the API's OpenAPI 3.1 document.
func handleOpenAPI(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(doc)
	})
}
