package httpapi

import (
	"net/http"
	"time"

	"kurir/moderation"
	"kurir/openapi"
)

type bulkRequest struct {
	Kind           string `json:"kind" jsonschema:"enum=remove_message,enum=takedown,description=remove_message: every message carrying the file; takedown: every group and channel that posted it."`
	SHA256         string `json:"sha256" jsonschema:"description=The file's SHA-256\\, as stored or as uploaded."`
	Category       string `json:"category"`
	Ground         string `json:"ground,omitempty" jsonschema:"enum=terms,enum=illegal"`
	LegalReference string `json:"legal_reference,omitempty"`
	Facts          string `json:"facts" jsonschema:"description=The facts every affected user reads in their statement of reasons."`
}

func (r bulkRequest) params() moderation.BulkParams {
	return moderation.BulkParams{Kind: moderation.ActionKind(r.Kind), SHA256: r.SHA256, Category: moderation.Category(r.Category),
		Ground: moderation.Ground(r.Ground), LegalReference: r.LegalReference, Facts: r.Facts}
}

type bulkTargetView struct {
	Subject    subjectView `json:"subject"`
	Title      string      `json:"title"`
	Members    int64       `json:"members"`
	AffectedID int64       `json:"affected_id"`
}

type bulkView struct {
	ID             int64            `json:"id,omitempty" jsonschema:"description=Absent in a preview."`
	Kind           string           `json:"kind"`
	SHA256         string           `json:"sha256"`
	Category       string           `json:"category"`
	Ground         string           `json:"ground"`
	LegalReference string           `json:"legal_reference,omitempty"`
	Facts          string           `json:"facts"`
	Targets        []bulkTargetView `json:"targets,omitempty" jsonschema:"description=In a preview: what it would act on."`
	Subjects       []subjectView    `json:"subjects"`
	State          string           `json:"state,omitempty" jsonschema:"enum=pending,enum=running,enum=done,enum=rejected,description=running: approved; the server is acting on its subjects in the background."`
	NeedsApproval  bool             `json:"needs_approval" jsonschema:"description=A second person must approve it before it runs."`
	RequestedBy    int64            `json:"requested_by,omitempty"`
	DecidedBy      int64            `json:"decided_by,omitempty"`
	Reason         string           `json:"reason,omitempty"`
	Done           int64            `json:"done"`
	Failed         int64            `json:"failed" jsonschema:"description=Subjects that could not be acted on (gone\\, or already acted on)."`
	CreatedAt      *time.Time       `json:"created_at,omitempty"`
	DecidedAt      *time.Time       `json:"decided_at,omitempty"`
	Results        []bulkResultView `json:"results,omitempty" jsonschema:"description=From GET /api/v1/moderation/bulk/{id}: how each subject fared."`
}

type bulkResultView struct {
	Subject subjectView `json:"subject"`
	State   string      `json:"state" jsonschema:"enum=pending,enum=done,enum=failed"`
	CaseID  int64       `json:"case_id,omitempty" jsonschema:"description=The case filed for it\\, with its action and statement of reasons."`
	Error   string      `json:"error,omitempty" jsonschema:"description=Why it failed."`
}

func newBulkView(b moderation.Bulk) bulkView {
	v := bulkView{ID: b.ID, Kind: string(b.Params.Kind), SHA256: b.Params.SHA256, Category: string(b.Params.Category),
		Ground: string(b.Params.Ground), LegalReference: b.Params.LegalReference, Facts: b.Params.Facts, Subjects: []subjectView{},
		State: b.State, NeedsApproval: b.NeedsApproval, RequestedBy: int64(b.RequestedBy), DecidedBy: int64(b.DecidedBy),
		Reason: b.Reason, Done: b.Done, Failed: b.Failed}
	for _, t := range b.Targets {
		v.Targets = append(v.Targets, bulkTargetView{Subject: newSubjectView(t.Subject), Title: t.Title, Members: t.Members, AffectedID: int64(t.Affected)})
	}
	for _, s := range b.Subjects {
		v.Subjects = append(v.Subjects, newSubjectView(s))
	}
	if !b.Created.IsZero() {
		v.CreatedAt = &b.Created
	}
	if !b.Decided.IsZero() {
		v.DecidedAt = &b.Decided
	}
	return v
}

type bulkList struct {
	Bulk []bulkView `json:"bulk"`
}

func handleBulk(limit int64, fn func(r *http.Request, p moderation.BulkParams) (moderation.Bulk, error), status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[bulkRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		b, err := fn(r, req.params())
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, status, newBulkView(b))
	})
}

func addBulkRoutes(rt *router, mod *moderation.Service, limit int64) {
	tags := []string{"moderation"}
	idParam := openapi.Param{Name: "id", In: "path", Description: "The bulk action's ID.", Schema: int64(0)}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/bulk/preview", ID: "previewBulk", Tags: tags, Auth: true,
		Summary:     "Preview a bulk action: what acting on every posting of a file would affect",
		Description: "For moderators and admins. Changes nothing.",
		Request:     bulkRequest{}, Responses: map[int]openapi.Response{200: {Body: bulkView{}}},
	}, handleBulk(limit, func(r *http.Request, p moderation.BulkParams) (moderation.Bulk, error) {
		return mod.PreviewBulk(r.Context(), staff(r), p)
	}, http.StatusOK))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/bulk", ID: "requestBulk", Tags: tags, Auth: true,
		Summary: "Request a bulk action",
		Description: "For moderators and admins. The targets are frozen now. Up to the configured size it starts at once, in the background; " +
			"above it, it waits for a second person's approval.",
		Request: bulkRequest{}, Responses: map[int]openapi.Response{201: {Description: "The request: running (or done), or pending approval.", Body: bulkView{}}},
	}, handleBulk(limit, func(r *http.Request, p moderation.BulkParams) (moderation.Bulk, error) {
		return mod.RequestBulk(r.Context(), staff(r), p)
	}, http.StatusCreated))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/bulk", ID: "bulkRequests", Tags: tags, Auth: true,
		Summary: "Bulk actions, newest first", Description: "For moderation staff.",
		Params:    []openapi.Param{{Name: "state", In: "query", Description: "pending (default), running, done or rejected.", Schema: ""}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: bulkList{}}},
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := queryInt(r, "limit", 50)
		if err != nil {
			writeError(w, r, err)
			return
		}
		bs, err := mod.BulkRequests(r.Context(), staff(r), r.URL.Query().Get("state"), int(n))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := bulkList{Bulk: make([]bulkView, 0, len(bs))}
		for _, b := range bs {
			out.Bulk = append(out.Bulk, newBulkView(b))
		}
		encode(w, http.StatusOK, out)
	}))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/bulk/{id}", ID: "bulkRequest", Tags: tags, Auth: true,
		Summary: "A bulk action, with how each of its subjects fared", Description: "For moderation staff. Audited.",
		Params: []openapi.Param{idParam}, Responses: map[int]openapi.Response{200: {Body: bulkView{}}},
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "bulk action ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		b, results, err := mod.BulkProgress(r.Context(), staff(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := newBulkView(b)
		for _, t := range results {
			v.Results = append(v.Results, bulkResultView{Subject: newSubjectView(t.Subject), State: t.State, CaseID: t.CaseID, Error: t.Error})
		}
		encode(w, http.StatusOK, v)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/bulk/{id}/approve", ID: "approveBulk", Tags: tags, Auth: true,
		Summary: "Approve a pending bulk action, which then runs",
		Description: "For moderators and admins other than the one who asked. The server acts on its subjects in the background: " +
			"the answer comes at once, with the action running, and it finishes whatever becomes of the client.",
		Params: []openapi.Param{idParam}, Responses: map[int]openapi.Response{200: {Body: bulkView{}}},
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "bulk action ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		b, err := mod.ApproveBulk(r.Context(), staff(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newBulkView(b))
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/bulk/{id}/reject", ID: "rejectBulk", Tags: tags, Auth: true,
		Summary: "Reject a pending bulk action", Description: "For moderators and admins.",
		Params: []openapi.Param{idParam}, Request: reasonRequest{}, Responses: map[int]openapi.Response{204: {Description: "Rejected."}},
	}, caseStep(limit, func(r *http.Request, id int64, req reasonRequest) error {
		return mod.RejectBulk(r.Context(), staff(r), id, req.Reason)
	}))
}
