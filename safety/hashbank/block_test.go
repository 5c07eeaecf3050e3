package hashbank_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestBlockedUploadOpensACaseAboutTheUploader: an upload a CHILD_SAFETY
// bank blocks is refused and nothing is stored, but it leaves a record
// (who, which entry, the file's hashes) and moderation opens a child-abuse
// case about the uploader's account.
func TestBlockedUploadOpensACaseAboutTheUploader(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		banks := node(t, db)
		must(t, banks.CreateBank(ctx, "CHILD_SAFETY", hashbank.Block, ""))
		file := []byte("%PDF-1.4 known abuse material stand-in")
		sum := sha256.Sum256(file)
		if _, err := banks.Import(ctx, "CHILD_SAFETY", strings.NewReader(fmt.Sprintf("%x\n", sum)), hashbank.List, hashbank.SignalSHA256, "hotline list", nil); err != nil {
			t.Fatal(err)
		}
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "uploader", Password: "wet-otter-lantern-9"})
		must(t, err)
		admin, err := acc.Register(ctx, account.RegisterParams{Username: "adalove", Password: "wet-otter-lantern-9"})
		must(t, err)
		must(t, acc.SetRole(ctx, admin.ID, kurir.RoleAdmin))
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
		files := mediatest.New(t, db, msg, clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		_, err = files.Upload(ctx, u.ID, media.UploadParams{Name: "x.pdf", Size: int64(len(file))}, bytes.NewReader(file))
		if kurir.ErrorReason(err) != "media_blocked" {
			t.Fatalf("upload: %v, want media_blocked", err)
		}

		var author int64
		var action, rules, excerpt string
		err = db.Read().QueryRowContext(ctx, `SELECT author_id, action, rules, excerpt FROM safety_signals WHERE source = 'hash_bank'`).Scan(&author, &action, &rules, &excerpt)
		must(t, err)
		if author != int64(u.ID) || action != "block" || !strings.HasPrefix(rules, "CHILD_SAFETY#") || !strings.Contains(excerpt, fmt.Sprintf("sha256 %x", sum)) {
			t.Errorf("signal: author %d, action %q, rules %q, excerpt %q; want the uploader, block, the entry and the file's SHA-256", author, action, rules, excerpt)
		}

		mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
		n, err := mod.IntakeDetection(ctx, 100)
		must(t, err)
		q, err := mod.Queue(ctx, moderation.Staff{ID: admin.ID, Role: kurir.RoleAdmin}, moderation.QueueFilter{Source: moderation.SourceHashBank})
		must(t, err)
		if n != 1 || len(q) != 1 || q[0].Subject.Kind != moderation.SubjectUser || q[0].Subject.User != u.ID || q[0].Category != moderation.ChildAbuse {
			t.Errorf("intake filed %d; queue %+v; want one child-abuse case about the uploader", n, q)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, moderation.Migrations)
}
