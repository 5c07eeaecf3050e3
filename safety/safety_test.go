package safety_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/clocktest"
	"kurir/messaging"
	"kurir/ratelimit"
	"kurir/safety"
	"kurir/safety/textscan"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestTextScreen: with rules loaded, a blocked term is refused wherever it
// is published (message, edit, chat title, description, @name) and nothing
// is stored; a flagged one is delivered and recorded for review.
func TestTextScreen(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		screen := safety.NewTextScreen(db, clock, nil, safety.Limits{}, nil)
		rules, err := textscan.ParseRules("t.rules", strings.NewReader("SCAM\tblock\tglimmerfraud\nSPAM\tflag\tzorblax\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := screen.SetRules(rules); err != nil {
			t.Fatal(err)
		}
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}, Screen: screen.ScreenName})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "poster", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = acc.Register(ctx, account.RegisterParams{Username: "glimmerfraud_shop", Password: "wet-otter-lantern-9"})
		if kurir.ErrorReason(err) != "content_blocked" {
			t.Errorf("registering a blocked @name: %v, want content_blocked", err)
		}
		_, err = acc.Register(ctx, account.RegisterParams{Username: "honest", DisplayName: "Glimmerfraud Deals", Password: "wet-otter-lantern-9"})
		if kurir.ErrorReason(err) != "content_blocked" {
			t.Errorf("registering a blocked display name: %v, want content_blocked", err)
		}
		bad := "GLIMMERFRAUD"
		if _, err := acc.UpdateProfile(ctx, u.ID, account.ProfileUpdate{DisplayName: &bad}); kurir.ErrorReason(err) != "content_blocked" {
			t.Errorf("renaming to a blocked name: %v, want content_blocked", err)
		}
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: screen})
		g, err := msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "Fine"})
		if err != nil {
			t.Fatal(err)
		}
		blocked := func(what string, err error) {
			t.Helper()
			if kurir.ErrorCode(err) != kurir.EForbidden || kurir.ErrorReason(err) != "content_blocked" || !strings.Contains(kurir.ErrorMessage(err), "scam") {
				t.Errorf("%s: err = %v, want content_blocked naming the category", what, err)
			}
		}
		_, err = msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "cheap GL1MMERFRAUD here", IdempotencyKey: "1"})
		if err != nil {
			t.Fatalf("a leet spelling with no leet option is not the term: %v", err)
		}
		_, err = msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "get your glіmmerfraud now", IdempotencyKey: "2"}) // Cyrillic і
		blocked("message", err)
		ok, err := msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "fine words", IdempotencyKey: "3"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = msg.Edit(ctx, u.ID, g.ID, ok.Seq, "now glimmerfraud")
		blocked("edit", err)
		_, err = msg.CreateChannel(ctx, u.ID, messaging.NewChat{Title: "Glimmerfraud deals"})
		blocked("channel title", err)
		_, err = msg.CreateChannel(ctx, u.ID, messaging.NewChat{Title: "Deals", Username: "glimmerfraud"})
		blocked("channel @name", err)
		about := "all about glimmerfraud"
		_, err = msg.EditInfo(ctx, u.ID, g.ID, messaging.ChatInfo{About: &about})
		blocked("description", err)

		flagged, err := msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "zorblax for sale", IdempotencyKey: "4"})
		if err != nil {
			t.Fatalf("a flagged message is delivered: %v", err)
		}
		hist, _ := msg.History(ctx, u.ID, g.ID, 0, messaging.Older, 10)
		for _, m := range hist {
			if strings.Contains(strings.ToLower(m.Text), "glimmerfraud") && m.Text != "cheap GL1MMERFRAUD here" {
				t.Errorf("a blocked message was stored: %q", m.Text)
			}
		}
		var n int
		var action, cats, excerpt string
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM safety_signals`).Scan(&n)
		db.Read().QueryRowContext(ctx, `SELECT action, categories, excerpt FROM safety_signals WHERE action = 'flag'`).Scan(&action, &cats, &excerpt)
		if n != 9 || action != "flag" || cats != "SPAM" || excerpt != flagged.Text {
			t.Errorf("signals: %d recorded, flag %q %q %q; want 8 blocks and the flag with its text", n, action, cats, excerpt)
		}
	}, account.Migrations, messaging.Migrations, safety.Migrations)
}

// TestSpamLimits: an account sending too fast, pasting one text again and
// again, or mentioning crowds is refused with a clear reason.
func TestSpamLimits(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, messaging.Migrations, safety.Migrations)
	ctx := t.Context()
	clock := clocktest.New(time.Time{})
	screen := safety.NewTextScreen(db, clock, nil, safety.Limits{
		PerAccount:  ratelimit.Limit{Every: time.Second, Burst: 10},
		SameText:    ratelimit.Limit{Every: time.Minute, Burst: 3},
		MaxMentions: 5,
	}, nil)
	c := func(author kurir.UserID, text string) error {
		return screen.Screen(ctx, messaging.Content{Author: author, Field: "text", Text: text})
	}
	for i := range 3 {
		if err := c(1, "BUY CHEAP FOLLOWERS NOW at our shop"); err != nil {
			t.Fatalf("paste %d: %v", i+1, err)
		}
	}
	if err := c(1, "buy cheap followers now at our shop"); kurir.ErrorReason(err) != "repeated_message" {
		t.Errorf("4th paste (in other capitals): %v, want repeated_message", err)
	}
	if err := c(2, "BUY CHEAP FOLLOWERS NOW at our shop"); err != nil {
		t.Errorf("another account with the same text: %v", err)
	}
	if err := c(3, "hey @anna @boris @citra @dewi @eko @farah look"); kurir.ErrorReason(err) != "too_many_mentions" {
		t.Errorf("6 mentions: %v, want too_many_mentions", err)
	}
	if err := c(3, "mail me at a@b.example, @anna"); err != nil {
		t.Errorf("one mention and an address: %v", err)
	}
	var err error
	for i := range 20 {
		if err = c(4, fmt.Sprintf("message number %d", i)); err != nil {
			break
		}
	}
	if kurir.ErrorCode(err) != kurir.ERateLimited || kurir.ErrorReason(err) != "sending_too_fast" {
		t.Errorf("20 messages at once: %v, want sending_too_fast after 10", err)
	}
	clock.Advance(2 * time.Second)
	if err := c(4, "after a pause"); err != nil {
		t.Errorf("after a pause: %v", err)
	}
}

// TestNewAccountLimit: an account less than a day old may send only a few
// messages at a time; an older one is not held to it.
func TestNewAccountLimit(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, messaging.Migrations, safety.Migrations)
	clock := clocktest.New(time.Time{})
	ages := map[kurir.UserID]time.Duration{5: time.Hour, 6: 48 * time.Hour}
	screen := safety.NewTextScreen(db, clock, nil, safety.Limits{
		NewAccount: ratelimit.Limit{Every: 10 * time.Second, Burst: 3}, NewAccountAge: 24 * time.Hour,
	}, func(_ context.Context, u kurir.UserID) (time.Duration, error) { return ages[u], nil })
	send := func(u kurir.UserID, i int) error {
		return screen.Screen(t.Context(), messaging.Content{Author: u, Field: "text", Text: fmt.Sprintf("hello number %d", i)})
	}
	var err error
	for i := range 5 {
		if err = send(5, i); err != nil {
			break
		}
	}
	if kurir.ErrorReason(err) != "new_account_limit" {
		t.Errorf("a new account's 5 messages at once: %v, want new_account_limit after 3", err)
	}
	for i := range 5 {
		if err := send(6, i); err != nil {
			t.Fatalf("an old account's message %d: %v", i, err)
		}
	}
	clock.Advance(24 * time.Hour) // the new account comes of age
	for i := range 5 {
		if err := send(5, 10+i); err != nil {
			t.Fatalf("a day later, message %d: %v", i, err)
		}
	}
}
