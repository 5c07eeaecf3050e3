// Package safety runs the inline checks on what people publish: text
// against the operator's rules (kurir/safety/textscan) and the spam
// heuristics, before a message, title, description or name is stored.
// Blocks are refused with a clear reason; everything that asks for review
// is recorded as a signal for the moderation queue.
package safety

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/safety/textscan"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the safety schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("safety", migrationFiles, "migrations")

// TextScreen checks text against rules; it implements messaging.Screener.
// It is safe for concurrent use, and its rules can be replaced at any time.
type TextScreen struct {
	db        *sqldb.DB
	clock     kurir.Clock
	log       *slog.Logger
	scanner   atomic.Pointer[textscan.Scanner]
	limits    *heuristics
	mediaHash atomic.Pointer[MediaHash]
}

// NewTextScreen returns a screen that applies the spam heuristics in limits
// (see Limits) and no text rules until SetRules. age tells how old a
// sender's account is, for the limits on new accounts; nil turns them off.
func NewTextScreen(db *sqldb.DB, clock kurir.Clock, log *slog.Logger, limits Limits, age AccountAge) *TextScreen {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TextScreen{db: db, clock: clock, log: log, limits: newHeuristics(limits, clock, age)}
}

// SetRules replaces the rules.
func (t *TextScreen) SetRules(rules []textscan.Rule) error {
	s, err := textscan.NewScanner(rules)
	if err != nil {
		return err
	}
	t.scanner.Store(s)
	return nil
}

// LoadRuleFiles reads, parses and applies the rule files names, all of
// them or none: a file that cannot be read, or has any bad line, leaves
// the rules as they were and the error names the file and its lines. It
// returns the rules' digest, a hash of the files' names and contents that
// is the same on every node running the same files.
func (t *TextScreen) LoadRuleFiles(names []string) (digest string, n int, err error) {
	h := sha256.New()
	var rules []textscan.Rule
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", 0, err
		}
		rs, err := textscan.ParseRules(name, bytes.NewReader(b))
		if err != nil {
			return "", 0, fmt.Errorf("%s is refused:\n%w", name, err)
		}
		rules = append(rules, rs...)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	if err := t.SetRules(rules); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], len(rules), nil
}

// WatchRuleFiles applies the rule files names again whenever one of them
// changes, checking every interval until ctx ends, and logs the new
// rules' digest. A changed set with any bad file is refused whole: the
// rules in force stay, and the error is logged (and logged again only
// once the files change again). digest is the digest of the rules in
// force, which LoadRuleFiles returned.
func (t *TextScreen) WatchRuleFiles(ctx context.Context, names []string, digest string, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	seen := statFiles(names)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := statFiles(names)
		if now == seen {
			continue
		}
		seen = now
		d, n, err := t.LoadRuleFiles(names)
		switch {
		case err != nil:
			t.log.Error("changed text rules refused; the rules in force stay", "digest", digest, "err", err)
		case d != digest:
			t.log.Info("text rules reloaded", "digest", d, "was", digest, "rules", n)
			digest = d
		}
	}
}

// statFiles sums up the files' sizes and modification times: a change to
// any of them changes it, cheaply enough to look every few seconds.
func statFiles(names []string) string {
	var b strings.Builder
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil {
			fmt.Fprintf(&b, "%s:missing;", name)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", name, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// SetMediaHash tells the screen how to learn a file's content hash, so
// that the limits on the same content count a file uploaded again as the
// same file; without it each upload counts on its own.
func (t *TextScreen) SetMediaHash(f MediaHash) { t.mediaHash.Store(&f) }

// Screen implements messaging.Screener. A block refuses the text, naming
// the categories it falls under; a flag lets it through and records a
// signal for review; a hold stores a message unseen (a *messaging.Hold)
// and records the signal naming it once it is stored, and refuses any
// other field (a *messaging.Hold too, which messaging answers as
// content_held) and records the signal at once. The spam heuristics run
// on every message, with or without text; a limit exceeded refuses it,
// and a flood of one content from many accounts flags or holds it.
func (t *TextScreen) Screen(ctx context.Context, c messaging.Content) error {
	res, err := t.check(ctx, c)
	if err != nil {
		return err
	}
	return t.act(ctx, c, res)
}

// check runs the heuristics and the rules on c.
func (t *TextScreen) check(ctx context.Context, c messaging.Content) (textscan.Result, error) {
	var hash MediaHash
	if p := t.mediaHash.Load(); p != nil {
		hash = *p
	}
	// The rules and the limits on the same text both read its normal
	// form: it is computed once.
	s := t.scanner.Load()
	var normalized string
	if c.Text != "" && (s != nil || len(c.Text) >= minRepeatedText) {
		normalized = textscan.Normalize(c.Text)
	}
	res, err := t.limits.check(ctx, c, normalized, hash)
	if err != nil {
		t.escalate(ctx, c, err)
		return textscan.Result{}, err
	}
	if s != nil && c.Text != "" {
		res = merge(s.ScanNormalized(c.Text, normalized), res)
	}
	return res, nil
}

// escalate counts a limit's refusal of c and, at the count that
// escalates (Limits.Escalate), records a flag about its author, which
// moderation files as a case about the account.
func (t *TextScreen) escalate(ctx context.Context, c messaging.Content, err error) {
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.ERateLimited && e.Reason != "too_many_mentions" {
		return // not a limit (the account's age could not be read)
	}
	n, now := t.limits.refused(c.Author)
	if !now {
		return
	}
	w := t.limits.limits.Escalate.Window
	res := textscan.Result{Action: textscan.Flag, Categories: []string{"SPAM"}, Severity: 2,
		Rules: []string{fmt.Sprintf("spam limits: %d messages refused within %s (the last: %s)", n, w, e.Reason)}}
	if err := t.record(ctx, c, res, 0); err != nil {
		t.log.Error("record an account that keeps hitting the spam limits", "err", err, "author", c.Author)
	}
}

// merge combines the findings of the rules and the heuristics.
func merge(a, b textscan.Result) textscan.Result {
	if b.Action == textscan.Allow {
		return a
	}
	if a.Action == textscan.Allow {
		return b
	}
	a.Action = max(a.Action, b.Action)
	a.Severity = max(a.Severity, b.Severity)
	for _, c := range b.Categories {
		if !slices.Contains(a.Categories, c) {
			a.Categories = append(a.Categories, c)
		}
	}
	slices.Sort(a.Categories)
	a.Rules = append(a.Rules, b.Rules...)
	return a
}

// act does what res asks for c: see Screen.
func (t *TextScreen) act(ctx context.Context, c messaging.Content, res textscan.Result) error {
	if res.Action == textscan.Allow {
		return nil
	}
	reason := strings.ToLower(strings.Join(res.Categories, ", "))
	if res.Action == textscan.Hold && c.Field == "text" {
		return &messaging.Hold{Reason: reason,
			Signal: func(ctx context.Context, chat messaging.ChatID, seq int64) {
				if err := t.record(ctx, c, res, seq); err != nil {
					t.log.Error("record safety signal of a held message", "err", err, "chat", chat, "seq", seq)
				}
			}}
	}
	if err := t.record(ctx, c, res, 0); err != nil {
		// A refusal must not depend on the record; a flag is logged instead.
		t.log.Error("record safety signal", "err", err, "author", c.Author, "rules", res.Rules)
	}
	switch res.Action {
	case textscan.Hold:
		// Only a message can wait unseen; a title, description or name
		// is refused until a moderator has looked at the signal.
		return &messaging.Hold{Reason: reason}
	case textscan.Block:
		return &kurir.Error{Code: kurir.EForbidden, Reason: "content_blocked", Field: c.Field,
			Message: fmt.Sprintf("This %s cannot be posted: it matches this service's rules on %s.", fieldName(c.Field), reason)}
	}
	return nil
}

func fieldName(field string) string {
	return map[string]string{"text": "message", "title": "title", "about": "description", "username": "@name", "display_name": "name"}[field]
}

// record writes a signal about c; seq names the message when it is one
// that was stored held.
func (t *TextScreen) record(ctx context.Context, c messaging.Content, res textscan.Result, seq int64) error {
	excerpt := c.Text
	for utf8.RuneCountInString(excerpt) > 1024 {
		_, n := utf8.DecodeLastRuneInString(excerpt)
		excerpt = excerpt[:len(excerpt)-n]
	}
	return t.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, chat_id, seq, field, excerpt, created_at)
			VALUES ('text_rule', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			res.Action.String(), strings.Join(res.Categories, ","), strings.Join(res.Rules, ","),
			c.Author, c.Chat, seq, c.Field, excerpt, sqldb.Micros(t.clock.Now()))
		return err
	})
}

// ScreenName checks a name a person chooses for their account (field
// "username" or "display_name"): account.Config.Screen. A hold refuses the
// name (content_held), as a name cannot wait unseen. A flag on a name
// chosen at registration (user 0) is an *account.Review, so the signal
// names the account once it exists and moderation can open a case on it.
func (t *TextScreen) ScreenName(ctx context.Context, user kurir.UserID, field, name string) error {
	c := messaging.Content{Author: user, Field: field, Text: name}
	res, err := t.check(ctx, c)
	if err != nil {
		return err
	}
	if user == 0 && res.Action == textscan.Flag {
		return &account.Review{Record: func(ctx context.Context, user kurir.UserID) {
			c.Author = user
			if err := t.record(ctx, c, res, 0); err != nil {
				t.log.Error("record safety signal of a new account's name", "err", err, "user", user, "rules", res.Rules)
			}
		}}
	}
	err = t.act(ctx, c, res)
	var hold *messaging.Hold
	if errors.As(err, &hold) {
		return &kurir.Error{Code: kurir.EForbidden, Reason: "content_held", Field: field, Message: hold.Error()}
	}
	return err
}
