package moderation_test

import (
	"strings"
	"testing"

	"kurir"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/moderation"
	"kurir/safety/hashbank"
	"kurir/sqldb"
)

// TestHashBankHoldsAndFlagsReachModeration: an upload a bank holds, and one
// a bank flags, each open a case about the file; dismissing the held one
// releases it to its owner; removing the flagged one takes it down
// everywhere, with a statement of reasons, until reversed.
func TestHashBankHoldsAndFlagsReachModeration(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		banks, err := hashbank.NewService(e.ctx, e.db, e.clock, nil)
		must(t, "hashbank", err)
		held := []byte("%PDF-1.4\n% a leaflet that needs a look\n")
		flagged := []byte("%PDF-1.4\n% a leaflet that is spam\n")
		must(t, "CreateBank TERRORISM", banks.CreateBank(e.ctx, "TERRORISM", hashbank.Hold, ""))
		must(t, "CreateBank SPAM", banks.CreateBank(e.ctx, "SPAM", hashbank.Flag, ""))
		_, err = banks.Import(e.ctx, "TERRORISM", strings.NewReader(sha256Hex(held)+"\n"), hashbank.List, hashbank.SignalSHA256, "test", nil)
		must(t, "Import", err)
		_, err = banks.Import(e.ctx, "SPAM", strings.NewReader(sha256Hex(flagged)+"\n"), hashbank.List, hashbank.SignalSHA256, "test", nil)
		must(t, "Import", err)
		must(t, "Sync", banks.Sync(e.ctx))
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		owner := e.user("uploader")
		upload := func(b []byte) media.Media {
			t.Helper()
			m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: "leaflet.pdf", Size: int64(len(b))}, strings.NewReader(string(b)))
			must(t, "Upload", err)
			return m
		}
		h, f := upload(held), upload(flagged)
		if h.Status != media.Held || f.Status != media.Ready {
			t.Fatalf("statuses: held %q, flagged %q", h.Status, f.Status)
		}
		n, err := e.mod.IntakeDetection(e.ctx, 100)
		must(t, "IntakeDetection", err)
		q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceHashBank})
		if n != 2 || len(q) != 2 {
			t.Fatalf("intake filed %d, queue %+v; want a case for each file", n, q)
		}
		cases := map[int64]moderation.Case{}
		for _, c := range q {
			if c.Subject.Kind != moderation.SubjectMedia {
				t.Errorf("case %d is about %+v, want a file", c.ID, c.Subject)
			}
			cases[c.Subject.Media] = c
		}
		if cases[int64(h.ID)].Category != moderation.Terrorism || cases[int64(h.ID)].Priority <= cases[int64(f.ID)].Priority {
			t.Errorf("held file's case %+v should be terrorism, above the spam one %+v", cases[int64(h.ID)], cases[int64(f.ID)])
		}
		d, err := e.mod.Case(e.ctx, e.mod1, cases[int64(h.ID)].ID)
		must(t, "Case", err)
		if d.Media == nil || d.Media.Status != media.Held || d.Media.OwnerID != owner {
			t.Errorf("the case shows the file as %+v; want it held, with its owner", d.Media)
		}
		must(t, "ReviewMedia", e.mod.ReviewMedia(e.ctx, e.mod1, cases[int64(h.ID)].ID, int64(h.ID)))
		wantCode(t, "ReviewMedia of another file", e.mod.ReviewMedia(e.ctx, e.mod1, cases[int64(h.ID)].ID, int64(f.ID)), kurir.ENotFound, "")

		must(t, "Dismiss", e.mod.Dismiss(e.ctx, e.mod1, cases[int64(h.ID)].ID, "a news report quoting it"))
		if m, err := files.Get(e.ctx, owner, h.ID); err != nil || m.Status != media.Ready {
			t.Errorf("after dismissal the held file is %+v (%v); want it released", m, err)
		}

		act, err := e.mod.Act(e.ctx, e.mod1, cases[int64(f.ID)].ID, moderation.ActParams{Kind: moderation.RemoveMedia, Facts: "Spam leaflet sent to hundreds of groups."})
		must(t, "Act remove_media", err)
		if act.Affected != owner || act.ContentType != "other" {
			t.Errorf("action %+v; want the uploader affected", act)
		}
		if _, err := files.Get(e.ctx, owner, f.ID); kurir.ErrorReason(err) != "media_removed" {
			t.Errorf("the removed file: %v, want media_removed", err)
		}
		_, err = files.Upload(e.ctx, owner, media.UploadParams{Name: "again.pdf", Size: int64(len(flagged))}, strings.NewReader(string(flagged)))
		wantCode(t, "uploading the removed file again", err, kurir.EForbidden, "media_removed")
		acts, _, _ := e.mod.Statements(e.ctx, owner)
		if len(acts) != 1 || !strings.Contains(e.mod.Statement(acts[0], nil, "en").Restriction, "leaflet.pdf") {
			t.Errorf("statements: %+v", acts)
		}
		must(t, "Reverse", e.mod.Reverse(e.ctx, e.mod2, act.ID, "it was an invitation"))
		if m, err := files.Get(e.ctx, owner, f.ID); err != nil || m.Status != media.Ready {
			t.Errorf("after reversal: %+v, %v", m, err)
		}
		_, err = e.mod.Act(e.ctx, e.mod1, cases[int64(h.ID)].ID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "x"})
		wantCode(t, "act on a resolved case", err, kurir.EConflict, "")
	})
}

// TestClassifierRemovalIsOwedAStatementAndAHumanAppeal: a file an external
// classifier took down by itself becomes a decided case whose statement says
// automated means decided; its owner appeals, and a person restores it.
func TestClassifierRemovalIsOwedAStatementAndAHumanAppeal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{})
		owner := e.user("uploader")
		body := "%PDF-1.4\n% judged by a machine\n"
		m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: "flyer.pdf", Size: int64(len(body))}, strings.NewReader(body))
		must(t, "Upload", err)
		_, err = media.Remove(e.ctx, e.db, e.clock.Now(), m.SHA256, "classifier: violent extremism")
		must(t, "Remove", err)
		must(t, "signal", e.db.WriteTx(e.ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(e.ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, media_id, field, excerpt, created_at)
				VALUES ('classifier', 'block', 'terrorism', 'violent extremism (0.97)', $1, $2, 'media', 'media', 1)`, owner, int64(m.ID))
			return err
		}))
		_, err = e.mod.IntakeDetection(e.ctx, 100)
		must(t, "IntakeDetection", err)
		acts, _, err := e.mod.Statements(e.ctx, owner)
		must(t, "Statements", err)
		if len(acts) != 1 || !acts[0].AutomatedDecision || !acts[0].AutomatedDetection || acts[0].Kind != moderation.RemoveMedia || acts[0].Moderator != 0 {
			t.Fatalf("statements: %+v; want one automated removal of the file", acts)
		}
		if st := e.mod.Statement(acts[0], nil, "en"); !strings.Contains(st.Automation, "taken by automated means") {
			t.Errorf("statement automation: %q", st.Automation)
		}
		p, err := e.mod.FileAppeal(e.ctx, owner, acts[0].ID, "It is a peace-march flyer.")
		must(t, "FileAppeal", err)
		_, err = e.mod.DecideAppeal(e.ctx, e.mod1, p.ID, true, "A flyer for a peace march.")
		must(t, "DecideAppeal", err)
		if got, err := files.Get(e.ctx, owner, m.ID); err != nil || got.Status != media.Ready {
			t.Errorf("after the upheld appeal the file is %+v (%v); want it back", got, err)
		}
	})
}
