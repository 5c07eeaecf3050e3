package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestViewsAPI: a subscriber's device reports the posts it showed; each
// counts once, the count comes back in history, and bad reports are
// refused with a problem and count nothing.
func TestViewsAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben, cleo := h.person(t, "anabel"), h.person(t, "benedikt"), h.person(t, "cleopatra")
		ch, post := h.publicChannel(t, ana, "harbourviews", "Ferry cancelled", ben)
		path := fmt.Sprintf("/api/v1/chats/%d/views", ch.ID)

		var got struct {
			Counted int `json:"counted"`
		}
		h.do(t, "POST", path, ben.token, map[string]any{"seqs": []int64{post.Seq}}).want(t, "views", http.StatusOK, &got)
		if got.Counted != 1 {
			t.Errorf("first view counted %d, want 1", got.Counted)
		}
		h.do(t, "POST", path, ben.token, map[string]any{"seqs": []int64{post.Seq}}).want(t, "views again", http.StatusOK, &got)
		if got.Counted != 0 {
			t.Errorf("repeat view counted %d, want 0", got.Counted)
		}
		views := func() int64 {
			t.Helper()
			var page struct {
				Messages []struct {
					Seq   int64 `json:"seq"`
					Views int64 `json:"views"`
				} `json:"messages"`
			}
			h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), ana.token, nil).want(t, "history", http.StatusOK, &page)
			for _, m := range page.Messages {
				if m.Seq == post.Seq {
					return m.Views
				}
			}
			t.Fatalf("post %d not in history %+v", post.Seq, page)
			return 0
		}
		if v := views(); v != 1 {
			t.Errorf("history shows %d views, want 1", v)
		}

		var private chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", cleo.id), ana.token, nil).want(t, "open chat", http.StatusOK, &private)
		dm := h.sendMsg(t, ana, private.ID, "hi", "dm-1")
		tooMany := make([]int64, 101)
		for i := range tooMany {
			tooMany[i] = int64(i + 1)
		}
		for _, c := range []struct {
			what string
			path string
			body any
			want problemWant
		}{
			{"no seqs", path, map[string]any{"seqs": []int64{}}, problemWant{status: http.StatusBadRequest, code: "invalid", reason: "count", field: "seqs"}},
			{"seqs missing", path, map[string]any{}, problemWant{status: http.StatusBadRequest, code: "invalid", reason: "count", field: "seqs"}},
			{"too many seqs", path, map[string]any{"seqs": tooMany}, problemWant{status: http.StatusBadRequest, code: "invalid", reason: "count", field: "seqs"}},
			{"seq 0", path, map[string]any{"seqs": []int64{post.Seq, 0}}, problemWant{status: http.StatusBadRequest, code: "invalid", reason: "range", field: "seqs"}},
			{"no such chat", "/api/v1/chats/999999/views", map[string]any{"seqs": []int64{1}}, problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"private chat", fmt.Sprintf("/api/v1/chats/%d/views", private.ID), map[string]any{"seqs": []int64{dm.Seq}}, problemWant{status: http.StatusBadRequest, code: "invalid", reason: "no_views", field: "chat"}},
		} {
			h.send(t, call{method: "POST", path: c.path, token: cleo.token, body: c.body, mode: checkProblem}).wantProblem(t, c.what, c.want)
		}
		if v := views(); v != 1 {
			t.Errorf("after refused reports history shows %d views, want 1", v)
		}
	}, schema...)
}
