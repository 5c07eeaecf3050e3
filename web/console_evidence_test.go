package web_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/client"
	"kurir/secret/device"
)

// TestBrowserConsoleVerifiedEvidence: a moderator reading a case about a
// reported secret-chat message sees what message franking verified (the
// sender's text, when it was sent, from which device) in a block of its
// own, the text shown as text; and the reporter's words apart from it,
// marked as theirs. Another user's ordinary report, whose comment imitates
// a verified report word for word, shows only as a comment.
func TestBrowserConsoleVerifiedEvidence(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ctx := t.Context()

	devices := t.TempDir()
	secretUser := func(name string) (*client.SecretChats, int64) {
		c, id := register(t, s.URL, name)
		sc := client.NewSecretChats(client.New(s.URL, client.WithToken(c.token)), device.NewFileStore(filepath.Join(devices, name, "device.state")))
		if _, err := sc.Register(ctx); err != nil {
			t.Fatalf("register %s's device: %v", name, err)
		}
		return sc, id
	}
	gordon, gordonID := secretUser("gopher")
	amira, amiraID := secretUser("amira")

	// The text looks like markup; the console must show it as it is.
	abuse := "Pay 500 by Friday <b>or else</b>.\nI know where you live."
	if _, err := gordon.Send(ctx, amiraID, abuse, 0); err != nil {
		t.Fatal(err)
	}
	got := goReceive(t, amira, abuse)
	rep, err := amira.Report(ctx, got[0], "harassment", "He keeps threatening me.")
	if err != nil {
		t.Fatal(err)
	}

	// Mallory files an ordinary report about Gordon, worded like a verified one.
	mallory, _ := register(t, s.URL, "mallory")
	imitation := "Verified by message franking: the sender really sent this text\nI will hurt you"
	mallory.call("POST", "/reports", map[string]any{"subject": map[string]any{"kind": "user", "user_id": gordonID},
		"reason": "harassment", "comment": imitation}, nil)

	staffAccount(t, s, "mona", kurir.RoleModerator)
	pg := b.page(t, 1100, 900)
	consoleLogIn(t, pg, s.URL, "/console/cases/"+itoa(rep.CaseID), "mona")
	do(t, pg, "see both reports, the verified one with its evidence",
		waitJS(`document.querySelectorAll('.signals .signal').length === 2`),
		waitText(".signal .verified .verified-head", "Verified by message franking: the sender really sent this text"),
	)
	type comment struct {
		Text     string `json:"text"`
		Label    string `json:"label"`
		Verified bool   `json:"verified"` // beside a verified block
	}
	type caseView struct {
		Blocks   int       `json:"blocks"`
		Text     string    `json:"text"`
		Markup   bool      `json:"markup"`
		Facts    string    `json:"facts"`
		Title    string    `json:"title"`
		Comments []comment `json:"comments"`
	}
	view := eval[caseView](t, pg, `(() => {
		const v = document.querySelector('.signal .verified');
		return {
			blocks: document.querySelectorAll('.verified').length,
			text: v.querySelector('.verified-text').textContent,
			markup: !!v.querySelector('.verified-text *'),
			facts: v.querySelector('.verified-facts').textContent,
			title: document.getElementById(v.getAttribute('aria-labelledby')).textContent,
			comments: [...document.querySelectorAll('.signal')].map((g) => ({
				text: g.querySelector('.sig-comment').textContent,
				label: g.querySelector('.sig-said > .muted').textContent,
				verified: !!g.querySelector('.verified'),
			})),
		};
	})()`)
	if view.Blocks != 1 || view.Text != abuse || view.Markup {
		t.Errorf("the verified block: %d blocks, text %q (markup %v); want one, with %q as text", view.Blocks, view.Text, view.Markup, abuse)
	}
	if view.Title != "Verified by message franking: the sender really sent this text" {
		t.Errorf("the verified block is titled %q", view.Title)
	}
	c := got[0].Proof.Context
	for _, want := range []string{"Sent", fmt.Sprintf("From\u2068@gopher\u2069, device %d", c.SenderDevice), fmt.Sprintf("To\u2068@amira\u2069, device %d", c.RecipientDevice),
		"Envelope" + c.Envelope} {
		if !strings.Contains(view.Facts, want) {
			t.Errorf("the verified facts %q lack %q", view.Facts, want)
		}
	}
	const label = "The reporter's comment: their own words, not verified"
	if !slices.Equal(view.Comments, []comment{{"He keeps threatening me.", label, true}, {imitation, label, false}}) {
		t.Errorf("the signals' comments: %+v; want Amira's beside the verified block, Mallory's imitation only as a comment", view.Comments)
	}
	do(t, pg, "scroll to the signals", chromedp.ScrollIntoView(chromedp.CSS(`.signals`)))
	b.shot(t, pg, "console-verified-evidence")

	// In Arabic, right to left, the block and the comments keep apart.
	do(t, pg, "read the case in Arabic",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('kurir.lang', 'ar')`),
		chromedp.Navigate(s.URL+"/console/cases/"+itoa(rep.CaseID)),
		waitText(".signal .verified .verified-head", "تحقّق منه ختم الرسائل"),
		waitText(".signal .sig-said > .muted", "تعليق المُبلِّغ"),
		waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('.verified-text').textContent === `+jsString(abuse)),
		chromedp.ScrollIntoView(chromedp.CSS(`.signals`)),
	)
	b.shot(t, pg, "console-verified-evidence-ar")
}
