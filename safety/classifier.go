package safety

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
	"kurir/messaging"
	"kurir/sqldb"
)

// Classifier sends stored uploads, and the text of messages posted in
// public groups and channels, to an external classification service, off
// the upload and send paths: the sender has already been answered, and a
// verdict can still take the content down.
//
// Each piece of content is queued as a job in the database, in the
// transaction that stores or edits a message (or just after an upload is
// stored), and
// stays queued until the classifier has answered: a restart, a burst of
// uploads or a classifier that is down delays classification but loses
// nothing. A node claims a job before it calls, so each is classified once
// however many nodes run; a failed call is retried later, each time after
// twice as long, and given up (logged, and kept as failed) after
// classifyAttempts tries.
//
// The service gets a POST. For a file the body is its bytes (Content-Type
// the file's, X-Kurir-Kind "media", X-Kurir-Media-ID); for a message it is
// JSON {"chat": ID, "seq": N, "text": "..."} (X-Kurir-Kind "message"); the
// author is not named. X-Kurir-SHA256 is the hex SHA-256 of the body. With
// a secret, X-Kurir-Timestamp is the Unix time of the request and
// X-Kurir-Signature is "sha256=" and the hex HMAC-SHA256, under the secret,
// of the timestamp, a ".", and the body's hex SHA-256: the service checks
// the hash against the body it read, then the signature, and refuses old
// timestamps. It answers JSON {"action": "allow|flag|hold|block",
// "reason": "..."}:
//
//   - block takes the content down at once (a file everywhere, by its hash;
//     a message with its forwarded copies) and records a signal, which
//     moderation files as an automated decision with a statement of reasons
//     and an appeal to a person;
//   - hold takes a message out of sight until a moderator reviews its case
//     (a file cannot wait unseen once shared: it is taken down as for a
//     block, and its owner can appeal);
//   - flag records a signal, and moderation opens a case for review.
//
// Calls time out, and after a run of failures a circuit breaker stops
// calling for a while; then a single call probes the classifier, and only
// its success lets the others through again.
type Classifier struct {
	url      string
	secret   []byte
	text     TextScope
	client   *http.Client
	maxBytes int64
	db       *sqldb.DB
	clock    kurir.Clock
	log      *slog.Logger
	wake     chan struct{}

	mu       sync.Mutex
	failures int       // in a row
	openTill time.Time // the breaker is open until then
	probing  bool      // the one call after the cool-down is under way
}

// TextScope says which messages' text the classifier is sent.
type TextScope string

// The scopes. Messages in private chats, and in groups without an @name,
// are between people who chose each other: their text goes to an outside
// service only if the operator says so (TextAll), knowing what that means
// for their users' privacy and saying so in their terms. A text rule's flag
// does not widen this: a person reviews that message anyway.
const (
	TextOff    TextScope = "off"    // uploads only
	TextPublic TextScope = "public" // messages in groups and channels with an @name (the default)
	TextAll    TextScope = "all"    // every message with text
)

// ParseTextScope parses a TextScope's name; "" is TextPublic.
func ParseTextScope(s string) (TextScope, error) {
	switch TextScope(s) {
	case "":
		return TextPublic, nil
	case TextOff, TextPublic, TextAll:
		return TextScope(s), nil
	}
	return "", fmt.Errorf("classifier text scope %q: want off, public or all", s)
}

// Files is what the classifier needs of kurir/media: *media.Service.
type Files interface {
	OpenForReview(ctx context.Context, id media.ID, thumb bool) (media.Media, blob.Object, error)
	Remove(ctx context.Context, h blob.Hash, reason string) (int64, error)
}

// Messages is what the classifier needs of kurir/messaging:
// *messaging.Service.
type Messages interface {
	ReviewMessages(ctx context.Context, id messaging.ChatID, seq int64, around int) ([]messaging.ReviewedMessage, error)
	RemoveMessage(ctx context.Context, id messaging.ChatID, seq int64, reason string) (messaging.Message, error)
	HoldMessage(ctx context.Context, id messaging.ChatID, seq int64, reason string) (bool, error)
}

// Breaker and retry settings: breakerFailures failures in a row open the
// breaker for breakerCooldown, after which one call probes again. A
// failed job is retried after classifyBackoff, then twice as long each
// time up to classifyBackoffMax, and given up after classifyAttempts
// tries. A claim keeps other nodes off a job for classifyClaim.
const (
	breakerFailures    = 5
	breakerCooldown    = 30 * time.Second
	classifyBackoff    = 10 * time.Second
	classifyBackoffMax = time.Hour
	classifyAttempts   = 12
	classifyClaim      = 5 * time.Minute
)

// ClassifierConfig configures a Classifier.
type ClassifierConfig struct {
	URL string
	// Secret, if set, signs every request (see Classifier).
	Secret   []byte
	Text     TextScope     // which messages are sent (default TextPublic)
	Timeout  time.Duration // per call (default 10 s)
	MaxBytes int64         // larger files are not sent (default 20 MiB)
}

// NewClassifier returns a classifier that calls cfg.URL. Its Stored and
// MessageStored queue content; Run classifies it.
func NewClassifier(cfg ClassifierConfig, db *sqldb.DB, clock kurir.Clock, log *slog.Logger) *Classifier {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 20 << 20
	}
	if cfg.Text == "" {
		cfg.Text = TextPublic
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Classifier{url: cfg.URL, secret: cfg.Secret, text: cfg.Text, client: &http.Client{Timeout: cfg.Timeout},
		maxBytes: cfg.MaxBytes, db: db, clock: clock, log: log, wake: make(chan struct{}, 1)}
}

// Stored queues a stored media object for classification; it is
// media.Config.Stored. The upload is stored already: a failure to queue
// it is logged, not the uploader's.
func (c *Classifier) Stored(m media.Media, _ func(ctx context.Context) (blob.Object, error)) {
	if m.Size > c.maxBytes {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return c.enqueue(ctx, tx, "media", int64(m.ID), 0, 0)
	})
	if err != nil {
		c.log.Error("queue an upload for the classifier", "media", m.ID, "err", err)
		return
	}
	c.poke()
}

// MessageStored queues a message for classification, in the transaction
// that stores it, if the scope takes it (see TextScope); it is
// messaging.Config.Stored.
func (c *Classifier) MessageStored(ctx context.Context, tx *sqldb.Tx, msg *messaging.Message, public bool) error {
	if msg.Text == "" || c.text == TextOff || c.text == TextPublic && !public {
		return nil
	}
	if err := c.enqueue(ctx, tx, "message", 0, msg.ChatID, msg.Seq); err != nil {
		return fmt.Errorf("queue message for the classifier: %w", err)
	}
	c.poke()
	return nil
}

func (c *Classifier) enqueue(ctx context.Context, tx *sqldb.Tx, kind string, mediaID int64, chat messaging.ChatID, seq int64) error {
	now := sqldb.Micros(c.clock.Now())
	_, err := tx.ExecContext(ctx, `INSERT INTO safety_classify_jobs (kind, media_id, chat_id, seq, next_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		kind, mediaID, chat, seq, now)
	return err
}

// poke wakes Run early; the job is in the database whether or not it is
// awake.
func (c *Classifier) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run classifies queued content, up to workers calls at a time, until ctx
// ends, reading and taking it down through files and msgs. It looks for
// due jobs when one is queued on this node and every second otherwise
// (for jobs queued on other nodes and retries).
func (c *Classifier) Run(ctx context.Context, workers int, files Files, msgs Messages) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for {
			n, err := c.ClassifyDue(ctx, max(workers, 1), files, msgs)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("classifier queue", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
		}
	}
}

type classifyJob struct {
	id, attempts, next int64
	kind               string
	media              media.ID
	chat               messaging.ChatID
	seq                int64
}

// ClassifyDue claims up to workers due jobs, classifies them side by side
// and returns how many it claimed. While the breaker is open it claims
// none; when its cool-down has passed it claims one, the probe.
func (c *Classifier) ClassifyDue(ctx context.Context, workers int, files Files, msgs Messages) (int, error) {
	limit := c.callsAllowed(workers)
	if limit == 0 {
		return 0, nil
	}
	now := c.clock.Now()
	rows, err := c.db.Read().QueryContext(ctx, `SELECT id, attempts, next_at, kind, media_id, chat_id, seq FROM safety_classify_jobs
		WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, sqldb.Micros(now), limit)
	if err != nil {
		c.endProbe()
		return 0, fmt.Errorf("classifier jobs due: %w", err)
	}
	var due []classifyJob
	for rows.Next() {
		var j classifyJob
		if err := rows.Scan(&j.id, &j.attempts, &j.next, &j.kind, &j.media, &j.chat, &j.seq); err != nil {
			rows.Close()
			c.endProbe()
			return 0, err
		}
		due = append(due, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		c.endProbe()
		return 0, err
	}
	var claimed []classifyJob
	err = c.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		claimed = claimed[:0]
		for _, j := range due {
			res, err := tx.ExecContext(ctx, `UPDATE safety_classify_jobs SET next_at = $3 WHERE id = $1 AND state = 'pending' AND next_at = $2`,
				j.id, j.next, sqldb.Micros(now.Add(classifyClaim)))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				claimed = append(claimed, j)
			}
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		c.endProbe()
		if err != nil {
			return 0, fmt.Errorf("claim classifier jobs: %w", err)
		}
		return 0, nil
	}
	var wg sync.WaitGroup
	for _, j := range claimed {
		wg.Go(func() { c.run(ctx, j, files, msgs) })
	}
	wg.Wait()
	return len(claimed), nil
}

// run classifies one claimed job and records the outcome: done (the row
// goes), retried later, or given up.
func (c *Classifier) run(ctx context.Context, j classifyJob, files Files, msgs Messages) {
	err := c.classify(ctx, j, files, msgs)
	// A probe that found nothing to send (the content is gone) made no
	// call: the next job probes.
	c.endProbe()
	if err != nil && ctx.Err() != nil {
		return // the claim runs out and the job is tried again
	}
	now := c.clock.Now()
	attempts := j.attempts + 1
	ctx = context.WithoutCancel(ctx) // the outcome is recorded even as the node stops
	werr := c.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err2 error
		switch {
		case err == nil:
			_, err2 = tx.ExecContext(ctx, `DELETE FROM safety_classify_jobs WHERE id = $1`, j.id)
		case errors.Is(err, errBreakerOpen):
			// Not tried: due again when the breaker lets calls through.
			_, err2 = tx.ExecContext(ctx, `UPDATE safety_classify_jobs SET next_at = $2 WHERE id = $1`, j.id, sqldb.Micros(c.reopensAt(now)))
		case attempts >= classifyAttempts:
			_, err2 = tx.ExecContext(ctx, `UPDATE safety_classify_jobs SET state = 'failed', attempts = $2, last_error = $3 WHERE id = $1`,
				j.id, attempts, truncate(err.Error(), 500))
		default:
			wait := min(classifyBackoffMax, classifyBackoff<<min(attempts-1, 20))
			_, err2 = tx.ExecContext(ctx, `UPDATE safety_classify_jobs SET attempts = $2, last_error = $3, next_at = $4 WHERE id = $1`,
				j.id, attempts, truncate(err.Error(), 500), sqldb.Micros(now.Add(wait)))
		}
		return err2
	})
	switch {
	case werr != nil:
		c.log.Error("record a classifier job's outcome", "job", j.id, "err", werr)
	case err != nil && !errors.Is(err, errBreakerOpen) && attempts >= classifyAttempts:
		c.log.Error("classifier job given up", "job", j.id, "kind", j.kind, "attempts", attempts, "err", err)
	case err != nil && !errors.Is(err, errBreakerOpen):
		c.log.Warn("classifier call failed; will retry", "job", j.id, "kind", j.kind, "attempt", attempts, "err", err)
	}
}

var errBreakerOpen = errors.New("classifier breaker open")

type verdictBody struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// classify calls the classifier on a job's content and does what it
// answers. Content gone meanwhile (a message deleted, a file no longer
// stored) is done with, unsent.
func (c *Classifier) classify(ctx context.Context, j classifyJob, files Files, msgs Messages) error {
	switch j.kind {
	case "media":
		return c.classifyMedia(ctx, j, files)
	case "message":
		return c.classifyMessage(ctx, j, msgs)
	}
	c.log.Error("classifier job of an unknown kind dropped", "job", j.id, "kind", j.kind)
	return nil
}

func (c *Classifier) classifyMedia(ctx context.Context, j classifyJob, files Files) error {
	m, o, err := files.OpenForReview(ctx, j.media, false)
	if kurir.ErrorCode(err) == kurir.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	defer o.Close()
	if m.Size > c.maxBytes {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, io.LimitReader(o, c.maxBytes))
	if err != nil {
		return err
	}
	req.ContentLength = o.Size()
	req.Header.Set("Content-Type", m.ContentType)
	req.Header.Set("X-Kurir-Media-ID", strconv.FormatInt(int64(m.ID), 10))
	v, err := c.call(req, "media", m.SHA256.String())
	if err != nil {
		return err
	}
	switch v.Action {
	case "allow":
	case "flag":
		return c.signal(ctx, "flag", m.OwnerID, 0, 0, int64(m.ID), "media", v.Reason, fmt.Sprintf("media %d %s", m.ID, m.SHA256))
	case "hold", "block":
		reason := "automated classifier"
		if v.Reason != "" {
			reason += ": " + v.Reason
		}
		n, err := files.Remove(ctx, m.SHA256, reason)
		if err != nil {
			return fmt.Errorf("take down media %d after the classifier's %s: %w", m.ID, v.Action, err)
		}
		c.log.Warn("classifier took content down", "media", m.ID, "sha256", m.SHA256, "objects", n, "verdict", v.Action, "reason", v.Reason)
		return c.signal(ctx, "block", m.OwnerID, 0, 0, int64(m.ID), "media", v.Reason, fmt.Sprintf("media %d %s", m.ID, m.SHA256))
	default:
		c.log.Warn("classifier answered an unknown action", "media", m.ID, "action", v.Action)
	}
	return nil
}

func (c *Classifier) classifyMessage(ctx context.Context, j classifyJob, msgs Messages) error {
	page, err := msgs.ReviewMessages(ctx, j.chat, j.seq, 1)
	if kurir.ErrorCode(err) == kurir.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	var m *messaging.ReviewedMessage
	for i := range page {
		if page[i].Seq == j.seq {
			m = &page[i]
		}
	}
	// Deleted by its author, or removed or held by moderation meanwhile:
	// nothing to send.
	if m == nil || m.Deleted || !m.Removed.IsZero() || m.Text == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		Chat messaging.ChatID `json:"chat"`
		Seq  int64            `json:"seq"`
		Text string           `json:"text"`
	}{j.chat, j.seq, m.Text})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	v, err := c.call(req, "message", hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	where := fmt.Sprintf("message %d in chat %d", j.seq, j.chat)
	reason := "automated classifier"
	if v.Reason != "" {
		reason += ": " + v.Reason
	}
	switch v.Action {
	case "allow":
		return nil
	case "flag":
	case "hold":
		held, err := msgs.HoldMessage(ctx, j.chat, j.seq, reason)
		if err != nil {
			return fmt.Errorf("hold %s after the classifier's verdict: %w", where, err)
		}
		if !held {
			return nil // deleted or removed meanwhile
		}
	case "block":
		if _, err := msgs.RemoveMessage(ctx, j.chat, j.seq, reason); err != nil {
			if kurir.ErrorCode(err) == kurir.EConflict {
				return nil // deleted or removed meanwhile
			}
			return fmt.Errorf("remove %s after the classifier's verdict: %w", where, err)
		}
		c.log.Warn("classifier took a message down", "chat", j.chat, "seq", j.seq, "reason", v.Reason)
	default:
		c.log.Warn("classifier answered an unknown action", "chat", j.chat, "seq", j.seq, "action", v.Action)
		return nil
	}
	return c.signal(ctx, v.Action, m.SenderID, j.chat, j.seq, 0, "text", v.Reason, m.Text)
}

// call sends req, whose body has the hex SHA-256 sum, through the
// breaker, signing it if there is a secret, and reads the verdict.
func (c *Classifier) call(req *http.Request, kind, sum string) (verdictBody, error) {
	if !c.allowCall() {
		return verdictBody{}, errBreakerOpen
	}
	req.Header.Set("X-Kurir-Kind", kind)
	req.Header.Set("X-Kurir-SHA256", sum)
	if len(c.secret) > 0 {
		ts := strconv.FormatInt(c.clock.Now().Unix(), 10)
		req.Header.Set("X-Kurir-Timestamp", ts)
		req.Header.Set("X-Kurir-Signature", Sign(c.secret, ts, sum))
	}
	v, err := c.do(req)
	c.result(err)
	return v, err
}

// Sign returns the X-Kurir-Signature of a request sent at timestamp (Unix
// seconds, as in X-Kurir-Timestamp) whose body has the hex SHA-256 sum,
// under secret: "sha256=" and the hex HMAC-SHA256 of timestamp "." sum.
// A classifier service computes it to check a request.
func Sign(secret []byte, timestamp, sum string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "." + sum))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (c *Classifier) do(req *http.Request) (verdictBody, error) {
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

// callsAllowed returns how many calls the breaker lets start now, at most
// want: all of them while it is closed, none while it is open, and one,
// the probe, once its cool-down has passed (until that call's result).
func (c *Classifier) callsAllowed(want int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.failures < breakerFailures:
		return want
	case c.probing || c.clock.Now().Before(c.openTill):
		return 0
	}
	c.probing = true
	return 1
}

// allowCall reports whether a call may go out: the breaker is closed, or
// this is the probe that callsAllowed let through.
func (c *Classifier) allowCall() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failures < breakerFailures || c.probing
}

// endProbe ends a probe that made no call (there was nothing to send), so
// that the next job may probe; after a call, result has ended it.
func (c *Classifier) endProbe() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probing = false
}

// reopensAt is when the breaker lets a call through again, as of now.
func (c *Classifier) reopensAt(now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.openTill) {
		return c.openTill
	}
	return now
}

// result counts a call's outcome: a run of failures opens the breaker, a
// failed probe opens it again, and one success closes it.
func (c *Classifier) result(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	probe := c.probing
	c.probing = false
	if err == nil || errors.Is(err, context.Canceled) {
		c.failures = 0
		return
	}
	c.failures++
	if c.failures >= breakerFailures || probe {
		c.failures = breakerFailures
		c.openTill = c.clock.Now().Add(breakerCooldown)
		c.log.Warn("classifier failing; not calling it for a while", "cooldown", breakerCooldown)
	}
}

// signal records a classifier's verdict for moderation.
func (c *Classifier) signal(ctx context.Context, action string, author kurir.UserID, chat messaging.ChatID, seq, mediaID int64, field, reason, excerpt string) error {
	err := c.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, chat_id, seq, media_id, field, excerpt, created_at)
			VALUES ('classifier', $1, '', $2, $3, $4, $5, $6, $7, $8, $9)`,
			action, truncate(reason, 500), author, chat, seq, mediaID, field, truncate(excerpt, 1024), sqldb.Micros(c.clock.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("record the classifier's %s: %w", action, err)
	}
	return nil
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
