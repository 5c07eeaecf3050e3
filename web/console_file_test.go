package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/sqldb"
)

// TestBrowserConsoleFileCase: a file a classifier flagged is a case about
// the file: the console shows it blurred with its uploader, and removing it
// takes it down everywhere.
func TestBrowserConsoleFileCase(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	olga, olgaID := register(t, s.URL, "olga")
	photo, _ := olga.uploadSHA(writePhoto(t), "image/png")
	mona, _ := staffAccount(t, s, "mona", kurir.RoleModerator)
	if err := s.db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(), `INSERT INTO safety_signals (source, action, categories, rules, author_id, media_id, field, excerpt, created_at)
			VALUES ('classifier', 'flag', 'violence', 'graphic violence (0.81)', $1, $2, 'media', 'media', 1)`, olgaID, photo)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mod.IntakeDetection(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	var q struct {
		Cases []struct {
			ID int64 `json:"id"`
		} `json:"cases"`
	}
	mona.call("GET", "/moderation/cases", nil, &q)
	if len(q.Cases) != 1 {
		t.Fatalf("queue: %+v", q)
	}
	ctx := b.page(t, 1280, 900)
	consoleLogIn(t, ctx, s.URL, "/console/cases/"+itoa(q.Cases[0].ID), "mona")
	do(t, ctx, "see the file, blurred, and who uploaded it",
		waitText(".console-case h2, .console-case h1", "Violence"),
		chromedp.WaitVisible(chromedp.CSS(`.case-file img.review-img.blurred`)),
		waitText(".case-account h3", "Uploaded by"),
		waitText(".case-account .account-name", "@olga"),
	)
	b.shot(t, ctx, "console-file-1")
	do(t, ctx, "remove it everywhere",
		chromedp.Click(chromedp.CSS(`button[data-act="remove_media"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.act-form textarea[name="facts"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.act-form textarea[name="facts"]`), "A photo of a killing, shared to shock."),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
	)
	if st := olga.status("GET", "/media/"+itoa(photo), nil); st != 404 {
		t.Errorf("the removed file answers %d to its uploader, want 404 media_removed", st)
	}
}
