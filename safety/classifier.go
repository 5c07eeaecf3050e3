package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"kurir"
	"kurir/blob"
	"kurir/media"
	"kurir/sqldb"
)

// Classifier sends each stored photo, video or file to an external
// classification service, off the upload path: the upload has already been
// answered, and a verdict can still take the content down. The service gets
// the bytes in a POST (Content-Type the file's, X-Kurir-Media-ID and
// X-Kurir-SHA256 set) and answers JSON {"action": "allow|flag|block",
// "reason": "..."}. A block removes the content everywhere (media.Remove by
// its hash); a flag records a signal for review.
//
// Calls time out, and after a run of failures a circuit breaker stops
// calling for a while, so that a sick classifier costs nothing but its
// checks. Work that does not fit the queue is skipped and logged: the
// classifier is a second opinion after the hash banks, not a gate.
type Classifier struct {
	url      string
	client   *http.Client
	maxBytes int64
	remove   func(ctx context.Context, h blob.Hash, reason string) (int64, error)
	db       *sqldb.DB
	clock    kurir.Clock
	log      *slog.Logger
	jobs     chan classifyJob

	mu       sync.Mutex
	failures int       // in a row
	openTill time.Time // the breaker is open until then
}

type classifyJob struct {
	m    media.Media
	open func(ctx context.Context) (blob.Object, error)
}

// Breaker settings: this many failures in a row open the breaker for
// breakerCooldown, after which one call is tried again.
const (
	breakerFailures = 5
	breakerCooldown = 30 * time.Second
)

// ClassifierConfig configures a Classifier.
type ClassifierConfig struct {
	URL      string
	Timeout  time.Duration // per call (default 10 s)
	MaxBytes int64         // larger files are not sent (default 20 MiB)
	Queue    int           // uploads waiting (default 1,000)
}

// NewClassifier returns a classifier that calls cfg.URL and takes content
// down with remove (media.Service.Remove). Start it with Run.
func NewClassifier(cfg ClassifierConfig, remove func(ctx context.Context, h blob.Hash, reason string) (int64, error), db *sqldb.DB, clock kurir.Clock, log *slog.Logger) *Classifier {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 20 << 20
	}
	if cfg.Queue == 0 {
		cfg.Queue = 1000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Classifier{url: cfg.URL, client: &http.Client{Timeout: cfg.Timeout}, maxBytes: cfg.MaxBytes,
		remove: remove, db: db, clock: clock, log: log, jobs: make(chan classifyJob, cfg.Queue)}
}

// Stored queues a stored media object for classification; it is
// media.Config.Stored and never blocks.
func (c *Classifier) Stored(m media.Media, open func(ctx context.Context) (blob.Object, error)) {
	select {
	case c.jobs <- classifyJob{m, open}:
	default:
		c.log.Warn("classifier queue full; upload not classified", "media", m.ID)
	}
}

// Run classifies queued uploads, workers at a time, until ctx ends.
func (c *Classifier) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-c.jobs:
					c.classify(ctx, j)
				}
			}
		})
	}
	wg.Wait()
}

type verdictBody struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

func (c *Classifier) classify(ctx context.Context, j classifyJob) {
	if j.m.Size > c.maxBytes {
		return
	}
	if !c.allowCall() {
		c.log.Debug("classifier breaker open; upload not classified", "media", j.m.ID)
		return
	}
	v, err := c.call(ctx, j)
	c.result(err)
	if err != nil {
		c.log.Warn("classifier call failed", "media", j.m.ID, "err", err)
		return
	}
	switch v.Action {
	case "allow":
	case "flag":
		if err := c.signal(ctx, j.m, "flag", v.Reason); err != nil {
			c.log.Error("record classifier signal", "media", j.m.ID, "err", err)
		}
	case "block":
		reason := "automated classifier"
		if v.Reason != "" {
			reason += ": " + v.Reason
		}
		n, err := c.remove(ctx, j.m.SHA256, reason)
		if err != nil {
			c.log.Error("take down after classifier verdict", "media", j.m.ID, "err", err)
			return
		}
		c.log.Warn("classifier took content down", "media", j.m.ID, "sha256", j.m.SHA256, "objects", n, "reason", v.Reason)
		if err := c.signal(ctx, j.m, "block", v.Reason); err != nil {
			c.log.Error("record classifier signal", "media", j.m.ID, "err", err)
		}
	default:
		c.log.Warn("classifier answered an unknown action", "media", j.m.ID, "action", v.Action)
	}
}

func (c *Classifier) call(ctx context.Context, j classifyJob) (verdictBody, error) {
	o, err := j.open(ctx)
	if err != nil {
		return verdictBody{}, err
	}
	defer o.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, io.LimitReader(o, c.maxBytes))
	if err != nil {
		return verdictBody{}, err
	}
	req.ContentLength = o.Size()
	req.Header.Set("Content-Type", j.m.ContentType)
	req.Header.Set("X-Kurir-Media-ID", strconv.FormatInt(int64(j.m.ID), 10))
	req.Header.Set("X-Kurir-SHA256", j.m.SHA256.String())
	resp, err := c.client.Do(req)
	if err != nil {
		return verdictBody{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return verdictBody{}, fmt.Errorf("classifier answered HTTP %d", resp.StatusCode)
	}
	var v verdictBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&v); err != nil {
		return verdictBody{}, fmt.Errorf("classifier answer: %w", err)
	}
	return v, nil
}

// allowCall reports whether the breaker lets a call through.
func (c *Classifier) allowCall() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.clock.Now().Before(c.openTill)
}

// result counts a call's outcome, opening the breaker after a run of
// failures; one success closes it.
func (c *Classifier) result(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil || errors.Is(err, context.Canceled) {
		c.failures = 0
		return
	}
	c.failures++
	if c.failures >= breakerFailures {
		c.openTill = c.clock.Now().Add(breakerCooldown)
		c.failures = breakerFailures - 1 // after the cool-down, one more failure reopens it
		c.log.Warn("classifier failing; not calling it for a while", "cooldown", breakerCooldown)
	}
}

func (c *Classifier) signal(ctx context.Context, m media.Media, action, reason string) error {
	return c.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, media_id, field, excerpt, created_at)
			VALUES ('classifier', $1, '', $2, $3, $4, 'media', $5, $6)`,
			action, reason, m.OwnerID, int64(m.ID), fmt.Sprintf("media %d %s", m.ID, m.SHA256), sqldb.Micros(c.clock.Now()))
		return err
	})
}
