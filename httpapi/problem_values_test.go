package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestProblemValues checks the problem details a client needs to word a
// refusal in its own language: the limit a text went over, and a stable
// reason for a chat not joined and for a person who blocks the sender.
func TestProblemValues(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben := h.person(t, "anabel"), h.person(t, "benedikt")
		var c chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ben.id), ana.token, nil).want(t, "open chat", http.StatusOK, &c)
		path := fmt.Sprintf("/api/v1/chats/%d/messages", c.ID)

		p := h.do(t, "POST", path, ana.token, map[string]any{"text": strings.Repeat("ж", 4097), "idempotency_key": "a"}).
			wantProblem(t, "text too long", problemWant{status: 400, code: "invalid", reason: "too_long", field: "text"})
		if p.Limit != 4096 {
			t.Errorf("text too long: limit %d, want 4096", p.Limit)
		}

		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/block", ana.id), ben.token, nil).want(t, "block", http.StatusNoContent, nil)
		h.do(t, "POST", path, ana.token, map[string]any{"text": "hello", "idempotency_key": "b"}).
			wantProblem(t, "to a person who blocks you", problemWant{status: 403, code: "forbidden", reason: "blocked"})
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/users/%d/block", ana.id), ben.token, nil).want(t, "unblock", http.StatusNoContent, nil)
		h.do(t, "POST", path, ana.token, map[string]any{"text": "hello", "idempotency_key": "b"}).want(t, "after the unblock", http.StatusCreated, nil)

		var ch chatJSON
		h.do(t, "POST", "/api/v1/chats/channels", ben.token, map[string]any{"title": "Tide tables", "username": "tide_tables"}).
			want(t, "create channel", http.StatusCreated, &ch)
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), ana.token, map[string]any{"text": "hi", "idempotency_key": "c"}).
			wantProblem(t, "to a channel not joined", problemWant{status: 403, code: "forbidden", reason: "not_member"})
	}, schema...)
}
