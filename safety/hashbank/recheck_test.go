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
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/safety/pdq"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestStoredMediaCheckedAgainstNewEntries: files stored before their
// hashes were banked are found once the hashes are imported or enabled:
// a photo in a block bank (banked turned a quarter, so only its stored
// PDQ variants find it) is taken down everywhere, a file in a hold bank is
// held, a photo in a flag bank stays up; each leaves a signal for
// moderation, once. An unrelated photo is left alone.
func TestStoredMediaCheckedAgainstNewEntries(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		banks := node(t, db)
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "early", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
		files := mediatest.New(t, db, msg, clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		upload := func(name string, data []byte) media.Media {
			t.Helper()
			m, err := files.Upload(ctx, u.ID, media.UploadParams{Name: name, Size: int64(len(data))}, bytes.NewReader(data))
			if err != nil || m.Status != media.Ready {
				t.Fatalf("upload %s before anything is banked: %+v, %v", name, m, err)
			}
			return m
		}
		terror := encodeJPEG(t, picture(1), 90)
		flyer := []byte("%PDF-1.4 a spam flyer uploaded before the spam list arrived")
		stored := map[string]media.Media{
			"terror": upload("a.jpg", terror),
			"other":  upload("b.jpg", encodeJPEG(t, picture(2), 90)),
			"flyer":  upload("flyer.pdf", flyer),
			"flag":   upload("c.jpg", encodeJPEG(t, picture(3), 90)),
		}
		recheck := hashbank.Rechecker{Banks: banks, Media: files}
		if n, err := recheck.Recheck(ctx); err != nil || n != 0 {
			t.Fatalf("recheck with nothing banked: %d, %v", n, err)
		}

		must(t, banks.CreateBank(ctx, "TERRORISM", hashbank.Block, ""))
		must(t, banks.CreateBank(ctx, "SPAM", hashbank.Hold, ""))
		must(t, banks.CreateBank(ctx, "NCII", hashbank.Flag, ""))
		turned, _, err := pdq.HashImage(rotate90(picture(1)))
		if err != nil {
			t.Fatal(err)
		}
		flagged, _, err := pdq.HashImage(picture(3))
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range []struct {
			bank   string
			signal hashbank.SignalType
			line   string
		}{
			{"TERRORISM", hashbank.SignalPDQ, turned.String()},
			{"SPAM", hashbank.SignalSHA256, fmt.Sprintf("%x", sha256.Sum256(flyer))},
			{"NCII", hashbank.SignalPDQ, flagged.String()},
		} {
			if _, err := banks.Import(ctx, imp.bank, strings.NewReader(imp.line+"\n"), hashbank.List, imp.signal, "test", nil); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := recheck.Recheck(ctx); err != nil || n != 3 {
			t.Fatalf("recheck after the imports: %d matched, %v; want 3", n, err)
		}
		if _, err := files.Get(ctx, u.ID, stored["terror"].ID); kurir.ErrorReason(err) != "media_removed" {
			t.Errorf("the photo in the block bank: %v, want it taken down", err)
		}
		if _, err := files.Upload(ctx, u.ID, media.UploadParams{Name: "again.jpg", Size: int64(len(terror))}, bytes.NewReader(terror)); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("uploading the taken-down photo again: %v, want it refused", err)
		}
		for name, want := range map[string]media.Status{"flyer": media.Held, "flag": media.Ready, "other": media.Ready} {
			if m, err := files.Get(ctx, u.ID, stored[name].ID); err != nil || m.Status != want {
				t.Errorf("%s: %+v, %v; want %s", name, m.Status, err, want)
			}
		}
		signals := func(id media.ID) string {
			var actions []string
			rows, err := db.Read().QueryContext(ctx, `SELECT action FROM safety_signals WHERE media_id = $1 ORDER BY id`, int64(id))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var a string
				rows.Scan(&a)
				actions = append(actions, a)
			}
			return strings.Join(actions, ",")
		}
		check := func(when string) {
			t.Helper()
			for name, want := range map[string]string{"terror": "block", "flyer": "hold", "flag": "flag", "other": ""} {
				if got := signals(stored[name].ID); got != want {
					t.Errorf("%s: signals for %s: %q, want %q", when, name, got, want)
				}
			}
		}
		check("after the recheck")
		if n, err := recheck.Recheck(ctx); err != nil || n != 0 {
			t.Errorf("a second recheck: %d matched, %v; want nothing new", n, err)
		}
		check("after a second recheck")

		// Disabled and enabled again, an entry is checked again.
		found, err := banks.Find(ctx, flagged.String())
		if err != nil || len(found) != 1 {
			t.Fatalf("find the flag entry: %+v, %v", found, err)
		}
		must(t, banks.SetEnabled(ctx, found[0].ID, false))
		must(t, banks.SetEnabled(ctx, found[0].ID, true))
		if n, err := recheck.Recheck(ctx); err != nil || n != 1 {
			t.Errorf("recheck after enabling an entry again: %d matched, %v; want 1", n, err)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations, hashbank.Migrations)
}
