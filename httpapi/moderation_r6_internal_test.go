package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// A feature the server runs without answers 503 on purpose: the console
// asks anyway, and that is no error for the operator's log; a real fault
// still is.
func TestNotConfiguredIsLoggedAtInfoAndFaultsAtError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantError bool
	}{
		{"jurisdictions not configured", noJurisdictions, false},
		{"legal not configured", noLegal, false},
		{"a fault", errors.New("database is gone"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			h := withRequestContext(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, tc.err) }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/jurisdictions", nil))
			if rec.Code < 500 {
				t.Fatalf("status %d, want a 5xx", rec.Code)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tc.wantError {
				t.Errorf("logged an error: %v, want %v; log:\n%s", got, tc.wantError, logs.String())
			}
			if !strings.Contains(logs.String(), "status="+strconv.Itoa(rec.Code)) {
				t.Errorf("log has no request line with status %d:\n%s", rec.Code, logs.String())
			}
		})
	}
}
