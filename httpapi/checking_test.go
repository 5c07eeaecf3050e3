package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"kurir/httpapi"
)

// recordingTB is a testing.TB that records errors instead of failing, to
// test that the checking client reports what it should.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckingClient proves that the client every other test uses would
// catch a server drifting from its OpenAPI document, by pointing it at a
// server that answers each request with a canned, sometimes wrong, response.
func TestCheckingClient(t *testing.T) {
	t.Parallel()
	type canned struct {
		status      int
		contentType string
		body        string
		noRequestID bool
	}
	const me = `{"id":1,"username":"pavel","display_name":"Pavel","role":"user","state":"active","created_at":"2025-03-01T09:00:00Z"}`
	const problem = `{"type":"urn:kurir:problem:not_found","title":"Not found","status":404,"detail":"No.","code":"not_found"}`
	tests := []struct {
		name    string
		call    call
		answer  canned
		wantErr string // in the reported error; empty means none
	}{
		{"matching exchange", call{method: "GET", path: "/api/v1/me"}, canned{200, "application/json", me, false}, ""},
		{"problem for any error status", call{method: "GET", path: "/api/v1/me"}, canned{404, "application/problem+json", problem, false}, ""},
		{"response missing a required field", call{method: "GET", path: "/api/v1/me"},
			canned{200, "application/json", `{"id":1,"username":"pavel"}`, false}, "response 200"},
		{"response with an undocumented field", call{method: "GET", path: "/api/v1/me"},
			canned{200, "application/json", strings.Replace(me, `{`, `{"password_hash":"x",`, 1), false}, "password_hash"},
		{"response with a field of the wrong type", call{method: "GET", path: "/api/v1/me"},
			canned{200, "application/json", strings.Replace(me, `"id":1`, `"id":"1"`, 1), false}, "response 200"},
		{"undocumented status", call{method: "GET", path: "/api/v1/me"}, canned{202, "application/json", me, false}, "not documented"},
		{"plain-text error", call{method: "GET", path: "/api/v1/me"}, canned{500, "text/plain", "oops", false}, "problem+json"},
		{"problem missing its code", call{method: "GET", path: "/api/v1/me"},
			canned{404, "application/problem+json", strings.Replace(problem, `,"code":"not_found"`, "", 1), false}, "problem"},
		{"request with an unknown field", call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"username": "pavel", "password": "x", "remember": "yes"}},
			canned{400, "application/problem+json", problem, false}, "request does not match"},
		{"request body where none is taken", call{method: "GET", path: "/api/v1/me", body: map[string]string{}},
			canned{200, "application/json", me, false}, "request does not match"},
		{"no request ID", call{method: "GET", path: "/healthz"}, canned{200, "text/plain", "ok\n", true}, "X-Request-ID"},
		{"probe not validated", call{method: "GET", path: "/healthz"}, canned{200, "text/plain", "ok\n", false}, ""},
		{"unknown path answered without a problem", call{method: "GET", path: "/api/v1/nothing", mode: checkProblem},
			canned{404, "text/plain", "404 page not found", false}, "not a problem response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if !tt.answer.noRequestID {
					w.Header().Set("X-Request-ID", "TEST")
				}
				w.Header().Set("Content-Type", tt.answer.contentType)
				w.WriteHeader(tt.answer.status)
				io.WriteString(w, tt.answer.body)
			}))
			h := &harness{url: ts.URL, client: checkingClient(httpapi.Spec())}
			rec := &recordingTB{TB: t}
			resp := h.send(rec, tt.call)
			if resp.status != tt.answer.status || string(resp.body) != tt.answer.body {
				t.Errorf("the client changed the response: got %d %q, want %d %q", resp.status, resp.body, tt.answer.status, tt.answer.body)
			}
			got := strings.Join(rec.errs, "\n")
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("reported %q, want nothing", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("reported %q, want an error containing %q", got, tt.wantErr)
			}
		})
	}
}
