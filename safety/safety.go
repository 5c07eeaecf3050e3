// Package safety runs the inline checks on what people publish: text
// against the operator's rules (kurir/safety/textscan) before a message,
// title, description or @name is stored. Blocks are refused with a clear
// reason; everything that asks for review is recorded as a signal for the
// moderation queue.
package safety

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"kurir"
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
	db      *sqldb.DB
	clock   kurir.Clock
	log     *slog.Logger
	scanner atomic.Pointer[textscan.Scanner]
	limits  *heuristics
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

// Screen implements messaging.Screener. A block refuses the text, naming
// the categories it falls under; a flag lets it through and records a
// signal for review; a hold stores a message unseen (a *messaging.Hold)
// and records the signal naming it once it is stored.
func (t *TextScreen) Screen(ctx context.Context, c messaging.Content) error {
	if err := t.limits.check(ctx, c); err != nil {
		return err
	}
	s := t.scanner.Load()
	if s == nil {
		return nil
	}
	res := s.Scan(c.Text)
	if res.Action == textscan.Allow {
		return nil
	}
	if res.Action == textscan.Hold && c.Field == "text" {
		return &messaging.Hold{Reason: strings.ToLower(strings.Join(res.Categories, ", ")),
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
	if res.Action == textscan.Block {
		what := map[string]string{"text": "message", "title": "title", "about": "description", "username": "@name", "display_name": "name"}[c.Field]
		return &kurir.Error{Code: kurir.EForbidden, Reason: "content_blocked", Field: c.Field,
			Message: fmt.Sprintf("This %s cannot be posted: it matches this service's rules on %s.", what, strings.ToLower(strings.Join(res.Categories, ", ")))}
	}
	return nil
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
// "username" or "display_name"): account.Config.Screen.
func (t *TextScreen) ScreenName(ctx context.Context, user kurir.UserID, field, name string) error {
	return t.Screen(ctx, messaging.Content{Author: user, Field: field, Text: name})
}
