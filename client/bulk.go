package client

import (
	"context"
	"net/http"
	"time"
)

// BulkParams is one decision applied to every posting of a file: every
// message that carries it (ActionRemoveMessage) or every group and channel
// that posted it (ActionTakedown).
type BulkParams struct {
	Kind ActionKind `json:"kind"`
	// SHA256 names the file, as stored or as uploaded.
	SHA256         string `json:"sha256"`
	Category       string `json:"category"`
	Ground         string `json:"ground,omitempty"`
	LegalReference string `json:"legal_reference,omitempty"`
	// Facts are what every affected user reads in their statement.
	Facts string `json:"facts"`
}

// BulkTarget is one subject a previewed bulk action would act on.
type BulkTarget struct {
	Subject    Subject `json:"subject"`
	Title      string  `json:"title"`
	Members    int64   `json:"members"`
	AffectedID int64   `json:"affected_id"`
}

// Bulk is a bulk action, previewed or requested.
type Bulk struct {
	ID             int64        `json:"id,omitempty"`
	Kind           ActionKind   `json:"kind"`
	SHA256         string       `json:"sha256"`
	Category       string       `json:"category"`
	Ground         string       `json:"ground"`
	LegalReference string       `json:"legal_reference,omitempty"`
	Facts          string       `json:"facts"`
	Targets        []BulkTarget `json:"targets,omitempty"`
	Subjects       []Subject    `json:"subjects"`
	// State is pending (waiting for a second person), running (approved;
	// the server acts on its subjects in the background, Done and Failed
	// counting up), done or rejected.
	State         string     `json:"state,omitempty"`
	NeedsApproval bool       `json:"needs_approval"`
	RequestedBy   int64      `json:"requested_by,omitempty"`
	DecidedBy     int64      `json:"decided_by,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Done          int64      `json:"done"`
	Failed        int64      `json:"failed"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	// Results, from BulkRequest, say how each subject fared.
	Results []BulkResult `json:"results,omitempty"`
}

// BulkResult is how one subject of a bulk action fared.
type BulkResult struct {
	Subject Subject `json:"subject"`
	// State is "pending", "done" or "failed".
	State string `json:"state"`
	// CaseID is the case filed for it, with its action and statement.
	CaseID int64  `json:"case_id,omitempty"`
	Error  string `json:"error,omitempty"`
}

// BulkRequest returns bulk action id with how each of its subjects fared
// (moderation staff only).
func (c *Client) BulkRequest(ctx context.Context, id int64) (Bulk, error) {
	var b Bulk
	err := c.do(ctx, http.MethodGet, c.url("/moderation/bulk/*", id), nil, &b)
	return b, err
}

// PreviewBulk returns what a bulk action would act on, changing nothing
// (moderators and admins only).
func (c *Client) PreviewBulk(ctx context.Context, p BulkParams) (Bulk, error) {
	var b Bulk
	err := c.do(ctx, http.MethodPost, c.url("/moderation/bulk/preview"), p, &b)
	return b, err
}

// RequestBulk requests a bulk action: it starts at once if small (State
// "running", or "done" if it finished before the answer), and otherwise
// waits, State "pending", for a second person's ApproveBulk.
func (c *Client) RequestBulk(ctx context.Context, p BulkParams) (Bulk, error) {
	var b Bulk
	err := c.do(ctx, http.MethodPost, c.url("/moderation/bulk"), p, &b)
	return b, err
}

// BulkRequests lists bulk actions in state ("pending", "running", "done"
// or "rejected"; "" for pending), newest first.
func (c *Client) BulkRequests(ctx context.Context, state string) ([]Bulk, error) {
	var q query
	if state != "" {
		q.add("state", state)
	}
	var out struct {
		Bulk []Bulk `json:"bulk"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/moderation/bulk")+string(q.b), nil, &out)
	return out.Bulk, err
}

// ApproveBulk approves a pending bulk action, which then runs in the
// background (follow it with BulkRequest); the one who requested it
// cannot.
func (c *Client) ApproveBulk(ctx context.Context, id int64) (Bulk, error) {
	var b Bulk
	err := c.do(ctx, http.MethodPost, c.url("/moderation/bulk/*/approve", id), nil, &b)
	return b, err
}

// RejectBulk refuses a pending bulk action, saying why.
func (c *Client) RejectBulk(ctx context.Context, id int64, reason string) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/bulk/*/reject", id), reasonBody{reason}, nil)
}
