package safety_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/safety"
	"kurir/safety/hashbank"
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

// TestHoldRefusesTitlesAndNames: a hold rule keeps a message unseen, but a
// chat title, description, @name or account name cannot wait unseen, so
// it is refused as content_held, stored nowhere, and recorded for review.
func TestHoldRefusesTitlesAndNames(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		screen := safety.NewTextScreen(db, clock, nil, safety.Limits{}, nil)
		rules, err := textscan.ParseRules("t.rules", strings.NewReader("DRUGS\thold\tnarkoplik\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := screen.SetRules(rules); err != nil {
			t.Fatal(err)
		}
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}, Screen: screen.ScreenName})
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: screen})
		held := func(what string, err error) {
			t.Helper()
			if kurir.ErrorCode(err) != kurir.EForbidden || kurir.ErrorReason(err) != "content_held" {
				t.Errorf("%s: err = %v, want content_held", what, err)
			}
		}
		_, err = acc.Register(ctx, account.RegisterParams{Username: "narkoplik", Password: "wet-otter-lantern-9"})
		held("registering a held @name", err)
		_, err = acc.Register(ctx, account.RegisterParams{Username: "citra", DisplayName: "Narkoplik Shop", Password: "wet-otter-lantern-9"})
		held("registering a held display name", err)
		u, err := acc.Register(ctx, account.RegisterParams{Username: "dewi", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		name := "narkoplik dealer"
		_, err = acc.UpdateProfile(ctx, u.ID, account.ProfileUpdate{DisplayName: &name})
		held("renaming to a held name", err)
		if got, _ := acc.UserByID(ctx, u.ID); got.DisplayName != "dewi" {
			t.Errorf("display name is %q after a held rename, want it unchanged", got.DisplayName)
		}
		_, err = msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "Narkoplik club"})
		held("a held group title", err)
		_, err = msg.CreateChannel(ctx, u.ID, messaging.NewChat{Title: "Deals", Username: "narkoplik"})
		held("a held channel @name", err)
		g, err := msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "Fine"})
		if err != nil {
			t.Fatal(err)
		}
		about, title := "we sell narkoplik", "narkoplik"
		_, err = msg.EditInfo(ctx, u.ID, g.ID, messaging.ChatInfo{About: &about})
		held("a held description", err)
		_, err = msg.EditInfo(ctx, u.ID, g.ID, messaging.ChatInfo{Title: &title})
		held("a held title change", err)
		info, err := msg.Chat(ctx, u.ID, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Title != "Fine" || info.About != "" {
			t.Errorf("chat is %q / %q after held edits, want them unchanged", info.Title, info.About)
		}
		var users, chats, holds int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&users)
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM chats`).Scan(&chats)
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM safety_signals WHERE action = 'hold'`).Scan(&holds)
		if users != 1 || chats != 1 || holds != 7 {
			t.Errorf("%d users, %d chats, %d hold signals; want 1, 1 and 7", users, chats, holds)
		}
	}, account.Migrations, messaging.Migrations, safety.Migrations)
}

// TestRegistrationFlagOpensCase: a flagged name chosen at registration is
// recorded naming the new account, so moderation opens a case on it.
func TestRegistrationFlagOpensCase(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		screen := safety.NewTextScreen(db, clock, nil, safety.Limits{}, nil)
		rules, err := textscan.ParseRules("t.rules", strings.NewReader("SPAM\tflag\tzorblax\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := screen.SetRules(rules); err != nil {
			t.Fatal(err)
		}
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}, Screen: screen.ScreenName})
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: screen})
		mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
		// A registration that fails after the check records nothing.
		if _, err := acc.Register(ctx, account.RegisterParams{Username: "zorblax_deals", Password: "short"}); err == nil {
			t.Fatal("a weak password was accepted")
		}
		u, err := acc.Register(ctx, account.RegisterParams{Username: "zorblax_deals", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatalf("a flagged @name is accepted: %v", err)
		}
		var author kurir.UserID
		var field string
		var n int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM safety_signals`).Scan(&n)
		db.Read().QueryRowContext(ctx, `SELECT author_id, field FROM safety_signals`).Scan(&author, &field)
		if n != 1 || author != u.ID || field != "username" {
			t.Fatalf("%d signals, about user %d field %q; want one about the new account %d's username", n, author, field, u.ID)
		}
		admin, err := acc.Register(ctx, account.RegisterParams{Username: "adalove", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.SetRole(ctx, admin.ID, kurir.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		filed, err := mod.IntakeDetection(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		q, err := mod.Queue(ctx, moderation.Staff{ID: admin.ID, Role: kurir.RoleAdmin}, moderation.QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if filed != 1 || len(q) != 1 || q[0].Subject.Kind != moderation.SubjectUser || q[0].Subject.User != u.ID {
			t.Errorf("intake filed %d, queue %+v; want one case about user %d", filed, q, u.ID)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, moderation.Migrations)
}

// TestSpamLimitsCoverFilesAndForwards: the limits apply to every message,
// not only to text: forwarding one post into group after group, or
// sending one file again and again (even uploaded afresh), is refused
// like pasted text, and files count toward the per-account rate.
func TestSpamLimitsCoverFilesAndForwards(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, messaging.Migrations, safety.Migrations)
	ctx := t.Context()
	clock := clocktest.New(time.Time{})
	screen := safety.NewTextScreen(db, clock, nil, safety.Limits{
		PerAccount: ratelimit.Limit{Every: time.Hour, Burst: 6},
		SameText:   ratelimit.Limit{Every: time.Minute, Burst: 3},
	}, nil)
	// Media 7 and 8 are the same file uploaded twice; 9 to 16 are others.
	hashes := map[int64]string{7: "aa", 8: "aa"}
	screen.SetMediaHash(func(_ context.Context, _ kurir.UserID, id int64) (string, error) {
		if h, ok := hashes[id]; ok {
			return h, nil
		}
		return fmt.Sprint("other", id), nil
	})
	acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: screen})
	var users []kurir.UserID
	for _, name := range []string{"anna", "boris", "citra"} {
		u, err := acc.Register(ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	anna, boris, citra := users[0], users[1], users[2]
	group := func(owner kurir.UserID, title string) messaging.ChatID {
		g, err := msg.CreateGroup(ctx, owner, messaging.NewChat{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	key := 0
	send := func(u kurir.UserID, chat messaging.ChatID, p messaging.SendParams) error {
		key++
		p.IdempotencyKey = fmt.Sprint(key)
		_, err := msg.Send(ctx, u, chat, p)
		return err
	}
	src := group(anna, "source")
	post, err := msg.Send(ctx, anna, src, messaging.SendParams{Text: "a post worth sharing", IdempotencyKey: "post"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		err := send(anna, group(anna, fmt.Sprint("target ", i)), messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: src, Seq: post.Seq}})
		if i < 3 && err != nil {
			t.Fatalf("forward %d: %v", i+1, err)
		}
		if i == 3 && kurir.ErrorReason(err) != "repeated_message" {
			t.Errorf("4th forward of one post: %v, want repeated_message", err)
		}
	}

	g := group(boris, "photos")
	photo := func(id int64) messaging.SendParams {
		return messaging.SendParams{Media: &messaging.Attachment{MediaID: id, Kind: "photo", ContentType: "image/jpeg", Name: "x.jpg", Size: 10}}
	}
	for i := range 3 {
		if err := send(boris, g, photo(7)); err != nil {
			t.Fatalf("photo %d: %v", i+1, err)
		}
	}
	if err := send(boris, g, photo(8)); kurir.ErrorReason(err) != "repeated_message" {
		t.Errorf("the same photo a 4th time, uploaded afresh: %v, want repeated_message", err)
	}

	g = group(citra, "files")
	for i := range 7 {
		err := send(citra, g, photo(int64(9+i)))
		if i < 6 && err != nil {
			t.Fatalf("file %d: %v", i+1, err)
		}
		if i == 6 && kurir.ErrorReason(err) != "sending_too_fast" {
			t.Errorf("a 7th file within the hour: %v, want sending_too_fast", err)
		}
	}
}

// TestFloodAcrossAccounts: the same content from many accounts within the
// window is flagged for review (or held), though each account sends it
// once; short replies and the same content after the window are not.
func TestFloodAcrossAccounts(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		screen := safety.NewTextScreen(db, clock, nil, safety.Limits{
			SameText: ratelimit.Limit{Every: time.Minute, Burst: 3},
			Flood:    safety.Flood{Senders: 3, Window: 10 * time.Minute, Action: textscan.Flag},
		}, nil)
		text := func(u kurir.UserID, chat messaging.ChatID, s string) error {
			return screen.Screen(ctx, messaging.Content{Author: u, Chat: chat, Field: "text", Text: s})
		}
		signals := func() int {
			var n int
			db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM safety_signals WHERE action = 'flag' AND categories = 'SPAM' AND rules LIKE 'flood:%'`).Scan(&n)
			return n
		}
		for u := range kurir.UserID(10) {
			if err := text(100+u, messaging.ChatID(u), "ok thanks"); err != nil {
				t.Fatal(err)
			}
		}
		for u := range kurir.UserID(5) {
			if err := text(u+1, messaging.ChatID(u+1), "Claim your FREE prize at our shop today"); err != nil {
				t.Fatalf("sender %d: %v", u+1, err)
			}
			// Flagged once, by the copy that made it a flood: a popular
			// text does not put every later sender in the queue.
			if want := min(1, max(0, int(u)-1)); signals() != want {
				t.Errorf("after %d senders, %d flood signals; want %d", u+1, signals(), want)
			}
		}
		var author kurir.UserID
		db.Read().QueryRowContext(ctx, `SELECT author_id FROM safety_signals ORDER BY id LIMIT 1`).Scan(&author)
		if author != 3 {
			t.Errorf("the flood signal names user %d, want 3, the sender who made it a flood", author)
		}
		// Forwarding a post is sharing it: fifty people forwarding one
		// channel post is no flood.
		fwd := &messaging.MessageRef{ChatID: 42, Seq: 7}
		for u := range kurir.UserID(50) {
			if err := screen.Screen(ctx, messaging.Content{Author: 200 + u, Chat: 1, Field: "text", Forward: fwd}); err != nil {
				t.Fatal(err)
			}
		}
		if signals() != 1 {
			t.Errorf("a post forwarded by 50 accounts: %d flood signals, want none added", signals()-1)
		}
		clock.Advance(11 * time.Minute)
		if err := text(9, 9, "claim your free prize at our shop today"); err != nil || signals() != 1 {
			t.Errorf("after the window: %v, %d signals; want no new flag", err, signals())
		}
		for u := range kurir.UserID(3) {
			if err := text(20+u, 9, "claim your free prize at our shop today"); err != nil {
				t.Fatal(err)
			}
		}
		if signals() != 2 {
			t.Errorf("a flood in the next window: %d signals in all, want it flagged again (2)", signals())
		}

		// Held instead: the message is stored unseen.
		held := safety.NewTextScreen(db, clock, nil, safety.Limits{Flood: safety.Flood{Senders: 2, Window: time.Minute, Action: textscan.Hold}}, nil)
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: held})
		var sent []messaging.Message
		for _, name := range []string{"ekoo", "farah"} {
			u, err := acc.Register(ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
			if err != nil {
				t.Fatal(err)
			}
			g, err := msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "g"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "join the giveaway in our channel", IdempotencyKey: "k"})
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, m)
		}
		if sent[0].Held || !sent[1].Held {
			t.Errorf("held: first %v, second %v; want only the second (the flood) held", sent[0].Held, sent[1].Held)
		}
	}, account.Migrations, messaging.Migrations, safety.Migrations)
}

func TestLimitsValidate(t *testing.T) {
	if err := safety.DefaultLimits.Validate(); err != nil {
		t.Errorf("DefaultLimits: %v", err)
	}
	for _, l := range []safety.Limits{
		{Flood: safety.Flood{Senders: 3, Window: time.Minute, Action: textscan.Block}},
		{MaxMentions: -1},
		{SameText: ratelimit.Limit{Every: time.Second}},
	} {
		if l.Validate() == nil {
			t.Errorf("%+v is valid, want an error", l)
		}
	}
}

// BenchmarkScreen measures what the inline check adds to sending a
// message: TextScreen.Screen with 100,000 terms (plus domains and
// regexps) and the default spam limits, on typical messages in four
// languages from rotating senders, each text once (as most are). It
// reports the median and 99th percentile per call, timed one by one
// (which adds the clock's own cost, some 20-40 ns).
//
//	go test -run '^$' -bench Screen -cpu 1 ./safety/
func BenchmarkScreen(b *testing.B) {
	db := sqldbtest.SQLite(b, safety.Migrations)
	screen := safety.NewTextScreen(db, kurir.SystemClock{}, nil, safety.DefaultLimits, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for i := range 100_000 {
		w := make([]byte, 5+rng.IntN(8))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		opts := ""
		if i%10 == 0 {
			opts = "\tleet,spacing"
		}
		fmt.Fprintf(&sb, "CAT%d\tflag\t%s%s\n", i%40, w, opts)
	}
	for i := range 100 {
		fmt.Fprintf(&sb, "PHISH\tblock\tdomain:bad%d.example\n", i)
	}
	for i := range 20 {
		fmt.Fprintf(&sb, "SCAM\tblock\tre:win\\s+%d\\s+qoins\n", i)
	}
	rules, err := textscan.ParseRules("bench", strings.NewReader(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	if err := screen.SetRules(rules); err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct{ name, text string }{
		{"english", "hey, are we still on for dinner tonight? I can bring the wine"},
		{"indonesian", "Selamat pagi! Jangan lupa rapat jam 10 di kantor ya"},
		{"russian", "Привет! Как дела? Увидимся завтра на станции метро"},
		{"arabic", "مرحبا، هل يمكنك إرسال الملف قبل الاجتماع غدا؟"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			// Each call sends a text of its own, from one of a million
			// senders in turn, so no limit refuses and nothing is recorded:
			// the cost measured is the check of a message that passes.
			// A suffix of punctuation tells the texts apart without digits,
			// which would make the scanner try the leet reading too.
			texts := make([]string, 1<<16)
			for i := range texts {
				suffix := []byte(" ")
				for n := i; n > 0 || len(suffix) == 1; n /= 8 {
					suffix = append(suffix, ",;:-()~^"[n%8])
				}
				texts[i] = tt.text + string(suffix)
			}
			ns := make([]int64, 0, 1<<20)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := messaging.Content{Author: kurir.UserID(1 + i%1_000_000), Chat: 1, Field: "text", Text: texts[i%len(texts)]}
				if i >= len(texts) {
					c.Text += strings.Repeat("~", i/len(texts)) // still unique
				}
				start := time.Now()
				err := screen.Screen(b.Context(), c)
				if len(ns) < cap(ns) {
					ns = append(ns, int64(time.Since(start)))
				}
				if err != nil {
					b.Fatalf("message %d: %v", i, err)
				}
				i++
			}
			slices.Sort(ns)
			b.ReportMetric(float64(ns[len(ns)/2]), "p50-ns")
			b.ReportMetric(float64(ns[len(ns)*99/100]), "p99-ns")
		})
	}
}

// TestRuleFilesReload: an edited rule file applies without a restart; a
// broken edit is refused whole, the rules in force stay, and the refusal
// is logged; mending the file applies it.
func TestRuleFilesReload(t *testing.T) {
	db := sqldbtest.SQLite(t, safety.Migrations)
	var logs syncBuffer
	screen := safety.NewTextScreen(db, clocktest.New(time.Time{}), slog.New(slog.NewTextHandler(&logs, nil)), safety.Limits{}, nil)
	file := filepath.Join(t.TempDir(), "live.rules")
	write := func(content string) {
		t.Helper()
		// Write beside and rename, as an operator's deploy would, so the
		// watch never reads half a file.
		tmp := file + ".new"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	blocked := func(term string) bool {
		err := screen.Screen(t.Context(), messaging.Content{Author: 1, Chat: 1, Field: "title", Text: "about " + term})
		return kurir.ErrorReason(err) == "content_blocked"
	}
	write("SCAM\tblock\tglimmerfraud\n")
	digest, n, err := screen.LoadRuleFiles([]string{file})
	if err != nil || n != 1 || len(digest) != 16 {
		t.Fatalf("LoadRuleFiles: %q, %d, %v", digest, n, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { screen.WatchRuleFiles(ctx, []string{file}, digest, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
		}
	}
	if !blocked("glimmerfraud") {
		t.Fatal("the loaded rule does not block")
	}
	write("SCAM\tblock\tzorblax\n")
	wait("the edited rule applies", func() bool { return blocked("zorblax") && !blocked("glimmerfraud") })
	write("SCAM\tblock\tquibbleton\nSCAM\tblok\tbroken\n")
	wait("the broken file is refused and logged", func() bool { return strings.Contains(logs.String(), "changed text rules refused") })
	if !blocked("zorblax") || blocked("quibbleton") {
		t.Error("a refused file changed the rules in force")
	}
	if !strings.Contains(logs.String(), "line 2") {
		t.Errorf("the refusal does not name the bad line: %s", logs.String())
	}
	write("SCAM\tblock\tquibbleton\n")
	wait("the mended file applies", func() bool { return blocked("quibbleton") && !blocked("zorblax") })
	if !strings.Contains(logs.String(), "text rules reloaded") {
		t.Errorf("no reload logged: %s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer a logger and a test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRefusalsEscalate: an account that keeps hitting the spam limits gets
// one case about it after the tenth refusal within the window, not one per
// refusal; a refusal that is not a limit's does not count.
func TestRefusalsEscalate(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		limits := safety.Limits{PerAccount: ratelimit.Limit{Every: time.Hour, Burst: 1}, Escalate: safety.Escalate{Refusals: 3, Window: time.Hour}}
		screen := safety.NewTextScreen(db, clock, nil, limits, nil)
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Screen: screen})
		mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "pusher", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		g, err := msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "g"})
		if err != nil {
			t.Fatal(err)
		}
		signals := func() int {
			var n int
			db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM safety_signals WHERE author_id = $1`, u.ID).Scan(&n)
			return n
		}
		for i := range 6 {
			_, err := msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: fmt.Sprintf("message %d", i), IdempotencyKey: fmt.Sprint(i)})
			if i == 0 && err != nil || i > 0 && kurir.ErrorReason(err) != "sending_too_fast" {
				t.Fatalf("message %d: %v", i, err)
			}
			// Refusals 1 and 2 record nothing; the third records one
			// signal, and later ones in the window none.
			if want := map[bool]int{true: 1, false: 0}[i >= 3]; signals() != want {
				t.Fatalf("after message %d: %d signals, want %d", i, signals(), want)
			}
		}
		filed, err := mod.IntakeDetection(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var subject string
		db.Read().QueryRowContext(ctx, `SELECT subject FROM mod_cases`).Scan(&subject)
		if want := fmt.Sprintf("user:%d", u.ID); filed != 1 || subject != want {
			t.Errorf("intake filed %d cases, about %q; want 1 about %s", filed, subject, want)
		}
		// A new window counts afresh.
		clock.Advance(2 * time.Hour)
		for i := range 4 {
			msg.Send(ctx, u.ID, g.ID, messaging.SendParams{Text: "again", IdempotencyKey: fmt.Sprint("w2-", i)})
		}
		if n := signals(); n != 2 {
			t.Errorf("after a second window of refusals: %d signals, want 2", n)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, moderation.Migrations)
}
