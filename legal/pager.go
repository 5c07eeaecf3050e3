package legal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"kurir/sqldb"
)

// Page is what on-call legal staff are told of an emergency request or a
// removal order.
type Page struct {
	Number   string    `json:"number"`
	Kind     Kind      `json:"kind"`
	Process  Process   `json:"process"`
	Agency   string    `json:"agency"`
	Country  string    `json:"country"`
	Received time.Time `json:"received_at"`
	Due      time.Time `json:"due_at"`
	Enforced bool      `json:"enforced,omitempty"` // a removal order already in force
}

// Pager tells on-call staff of a page; it returns once they have it.
type Pager interface {
	Page(ctx context.Context, p Page) error
}

// Webhook pages by POSTing the page as JSON to a URL, such as an on-call
// service's incoming webhook; any 2xx answer is delivery.
type Webhook struct {
	URL    string
	Client *http.Client // default: 10 s timeout
}

// Page implements Pager.
func (w Webhook) Page(ctx context.Context, p Page) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kurir-legal-pager")
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("pager answered %s", resp.Status)
	}
	return nil
}

// pageAttempts bounds how often a page is tried, a second apart and then
// longer, before the console's banner is the only alarm left.
var pageBackoff = []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}

// page tells on-call staff of r in the background, retrying, and records on
// the timeline when they were paged (or that paging failed). Without a
// pager only the console's banner shows it.
func (s *Service) page(r Request, ag Agency) {
	if s.cfg.Pager == nil {
		return
	}
	p := Page{Number: r.Number, Kind: r.Kind, Process: r.Process, Agency: ag.Name, Country: r.Jurisdiction, Received: r.Received, Due: r.Due,
		Enforced: !r.Enforced.IsZero()}
	s.pages.Go(func() {
		ctx := context.Background()
		var err error
		for _, wait := range pageBackoff {
			time.Sleep(wait)
			if err = s.cfg.Pager.Page(ctx, p); err == nil {
				break
			}
			s.log.Warn("page on-call legal staff", "request", r.Number, "err", err)
		}
		now := s.now()
		kind, note := "paged", "On-call legal staff were paged."
		if err != nil {
			kind, note = "page_failed", "Paging on-call staff failed; the console shows the request."
			s.log.Error("could not page on-call legal staff", slog.String("request", r.Number), slog.Any("err", err))
		}
		werr := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if kind == "paged" {
				if _, err := tx.ExecContext(ctx, `UPDATE legal_requests SET paged_at = $2 WHERE id = $1`, r.ID, sqldb.Micros(now)); err != nil {
					return err
				}
			}
			return event(ctx, tx, r.ID, now, "system", 0, kind, note, true)
		})
		if werr != nil {
			s.log.Error("record a page", "request", r.Number, "err", werr)
		}
	})
}
