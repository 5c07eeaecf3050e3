package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir"
)

// uploadSHA uploads the file at path and returns the media's ID and the
// SHA-256 the server gives it.
func (c *apiClient) uploadSHA(path, contentType string) (int64, string) {
	c.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), "POST", c.base+"/api/v1/media?name=photo.png", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		ID     int64  `json:"id"`
		SHA256 string `json:"sha256"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 201 || m.SHA256 == "" {
		c.t.Fatalf("upload: %d %v %+v", resp.StatusCode, err, m)
	}
	return m.ID, m.SHA256
}

// clearField empties the input matching css.
func clearField(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(css) + `).value = ''`)
}

// openCase is the ID of the one unresolved case about chat and seq.
func openCase(t *testing.T, staff *apiClient, chat, seq int64) int64 {
	t.Helper()
	var q struct {
		Cases []struct {
			ID      int64 `json:"id"`
			Subject struct {
				ChatID int64 `json:"chat_id"`
				Seq    int64 `json:"seq"`
			} `json:"subject"`
		} `json:"cases"`
	}
	staff.call("GET", "/moderation/cases", nil, &q)
	for _, c := range q.Cases {
		if c.Subject.ChatID == chat && c.Subject.Seq == seq {
			return c.ID
		}
	}
	t.Fatalf("no open case about message %d of chat %d in %+v", seq, chat, q.Cases)
	return 0
}

// TestBrowserConsoleAccounts is a case as a moderator deciding it sees the
// people in it: reporters, senders and staff by name rather than "User
// 17"; the sender's standing, the decision already taken against them and
// the reporter's record; a field that assigns the case to another member
// of staff, which refuses an account that is not staff; a refresh that
// brings a new report without losing the note being typed; and a message
// a text rule held at sending, marked as such, which dismissing releases.
func TestBrowserConsoleAccounts(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{textRules: "TERRORISM\thold\tquasarbomb\n"})

	olga, _ := register(t, s.URL, "olga")
	market := olga.newChannel("Olga's Market", "olgas_market")
	first := olga.post(market, "Cheap followers, 1000 for $1", 0)
	second := olga.post(market, "Cheap followers again, 2000 for $1", 0)
	rita, _ := register(t, s.URL, "rita")
	rita.call("POST", "/chats/"+itoa(market)+"/join", nil, nil)
	sven, _ := register(t, s.URL, "sven")
	sven.call("POST", "/chats/"+itoa(market)+"/join", nil, nil)
	monaAPI, _ := staffAccount(t, s, "mona", kurir.RoleModerator)
	staffAccount(t, s, "tina", kurir.RoleTriage)

	// An earlier decision against olga, on rita's report.
	rita.report(market, first, "spam", "Spam")
	monaAPI.call("POST", "/moderation/cases/"+itoa(openCase(t, monaAPI, market, first))+"/actions",
		map[string]any{"kind": "remove_message", "category": "spam", "ground": "terms", "facts": "Advertising fake followers."}, nil)
	rita.report(market, second, "spam", "Spam again, same seller")
	caseID := openCase(t, monaAPI, market, second)

	mona := b.page(t, 1280, 1000)
	consoleLogIn(t, mona, s.URL, "/console/cases/"+itoa(caseID), "mona")
	do(t, mona, "see the people in the case by name",
		waitText(".signal .reporter", "@rita"),
		waitText(".case-message.reported .cm-sender", "@olga"),
		waitText(".case-chat", "@olga"), // the owner
	)
	if got := eval[string](t, mona, `document.querySelector(".console-case").textContent`); regexp.MustCompile(`User \d`).MatchString(got) {
		t.Errorf("the case still names someone as a number: %q", got)
	}
	do(t, mona, "see the sender's account: the earlier decision, the reporter's record",
		waitText(".case-account.account-sender h3", "The sender"),
		waitText(".case-account.account-sender .account-name", "@olga"),
		waitText(".case-account.account-sender .standing", "Active"),
		waitText(".case-account.account-sender .account-decisions li", "Remove message"),
		waitText(".case-account.account-sender .account-decisions li", "Spam"),
		waitText(".signal .reporter-record", "Reports: 2, led to action: 1"),
	)
	b.shot(t, mona, "console-more-1-account")

	do(t, mona, "be refused assigning the case to someone who is not staff",
		chromedp.SendKeys(chromedp.CSS(`form.assign-form input[name="assignee"]`), "@rita"),
		chromedp.Click(chromedp.CSS(`form.assign-form button[type="submit"]`)),
		waitText("form.assign-form .field-error", "not moderation staff"),
		waitJS(`document.activeElement === document.querySelector('form.assign-form input[name="assignee"]')`),
	)
	b.shot(t, mona, "console-more-2-assign-refused")
	do(t, mona, "assign it to triage by name",
		clearField(`form.assign-form input[name="assignee"]`),
		chromedp.SendKeys(chromedp.CSS(`form.assign-form input[name="assignee"]`), "tina"),
		chromedp.Click(chromedp.CSS(`form.assign-form button[type="submit"]`)),
		waitText(".toast", "The case is assigned to"),
		waitText(".toast", "@tina"),
		waitText(".case-facts dd", "@tina"),
		waitText(".history", "@tina"),
		waitJS(`document.querySelector('form.assign-form input[name="assignee"]').value === ''`),
	)

	// A new report arrives while the moderator types a note; the case
	// refreshes when she comes back to the tab, and keeps her note.
	const note = "The seller was warned before"
	do(t, mona, "type a note", chromedp.SendKeys(chromedp.CSS(`form.note-form textarea[name="note"]`), note))
	sven.report(market, second, "scam", "They took my money")
	do(t, mona, "come back to the tab and see the new report, the note kept",
		chromedp.Evaluate[chromedp.Void](`document.dispatchEvent(new Event('visibilitychange'))`),
		waitText(".signal", "They took my money"),
		waitText(".signal .reporter", "@sven"),
		waitJS(`document.querySelector('form.note-form textarea[name="note"]').value === `+jsString(note)),
		waitJS(`document.activeElement === document.querySelector('form.note-form textarea[name="note"]')`),
	)

	// A message a text rule held at sending: nobody has seen it.
	group := olga.newChannel("Olga's Lab", "olgas_lab")
	rita.call("POST", "/chats/"+itoa(group)+"/join", nil, nil)
	held := olga.post(group, "how to build a quasarbomb at home", 0)
	if n, err := s.mod.IntakeDetection(t.Context(), 100); err != nil || n != 1 {
		t.Fatalf("IntakeDetection filed %d, %v; want the held message", n, err)
	}
	heldCase := openCase(t, monaAPI, group, held)
	do(t, mona, "see the held message marked, and the dismiss button say it releases it",
		chromedp.Navigate(s.URL+"/console/cases/"+itoa(heldCase)),
		waitText(".case-message.held .held-tag", "Held for review — dismissing releases it to the chat"),
		waitText(".case-message.held .text", "quasarbomb"),
		waitText(`[data-act="dismiss"]`, "Dismiss and release"),
	)
	b.shot(t, mona, "console-more-3-held")
	var before struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	rita.call("GET", "/chats/"+itoa(group)+"/messages", nil, &before)
	if len(before.Messages) != 0 {
		t.Fatalf("a member sees %+v before review; the held message must not show", before.Messages)
	}
	do(t, mona, "dismiss it, which releases it",
		chromedp.Click(chromedp.CSS(`[data-act="dismiss"]`)),
		waitText("dialog form.act-form", "Dismissing the case releases it"),
		choose(`form.act-form select[name="template"]`, "in_context"),
		waitText(`form.act-form button[type="submit"]`, "Dismiss and release"),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
	)
	var after struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	rita.call("GET", "/chats/"+itoa(group)+"/messages", nil, &after)
	if len(after.Messages) != 1 || after.Messages[0].Text != "how to build a quasarbomb at home" {
		t.Errorf("after dismissal a member sees %+v, want the released message", after.Messages)
	}

	// On a phone the account panel fits.
	phone := b.page(t, 380, 800)
	consoleLogIn(t, phone, s.URL, "/console/cases/"+itoa(caseID), "mona")
	do(t, phone, "see the account on a phone",
		waitText(".case-account.account-sender .account-decisions", "Remove message"),
		waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		chromedp.ScrollIntoView(chromedp.CSS(`.case-account.account-sender`)),
	)
	b.shot(t, phone, "console-more-4-phone-account")
}

// TestBrowserConsoleBulk is a bulk takedown that needs a second person:
// the same photo was posted in two channels, and the server asks for
// approval above one subject. A moderator previews it (both channels, with
// their owners by name) and requests it; approving it herself is refused
// with a clear message; a second moderator approves it, and both channels
// are gone for their subscribers. Triage finds no bulk actions.
func TestBrowserConsoleBulk(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{bulkApprovalAbove: 1})

	photo := writePhoto(t)
	olga, _ := register(t, s.URL, "olga")
	market := olga.newChannel("Olga's Market", "olgas_market")
	id, sha := olga.uploadSHA(photo, "image/png")
	olga.post(market, "New stock", id)
	sven, _ := register(t, s.URL, "sven")
	deals := sven.newChannel("Sven's Deals", "svens_deals")
	id2, _ := sven.uploadSHA(photo, "image/png")
	sven.post(deals, "Look at this", id2)
	rita, _ := register(t, s.URL, "rita")
	for _, c := range []int64{market, deals} {
		rita.call("POST", "/chats/"+itoa(c)+"/join", nil, nil)
	}
	staffAccount(t, s, "mona", kurir.RoleModerator)
	staffAccount(t, s, "maxim", kurir.RoleModerator)
	staffAccount(t, s, "tina", kurir.RoleTriage)

	mona := b.page(t, 1280, 1000)
	consoleLogIn(t, mona, s.URL, "/console", "mona")
	do(t, mona, "open bulk actions from the console's navigation",
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/bulk"]`)),
		waitText("#bulk-title", "Bulk actions"),
		waitJS(`document.querySelector('.console-nav a[href="/console/bulk"]').getAttribute('aria-current') === 'page'`),
		waitJS(`!!document.querySelector('form.bulk-form select[name="category"] option[value="spam"]')`),
		waitText(".console-status", "No bulk actions here"),
	)
	do(t, mona, "be told what is missing",
		chromedp.Click(chromedp.CSS(`form.bulk-form button[data-step="preview"]`)),
		waitText("form.bulk-form .field-error", "Fill in"),
		waitJS(`document.activeElement === document.querySelector('form.bulk-form input[name="sha256"]')`),
	)
	do(t, mona, "preview a takedown of every channel that posted the photo",
		choose(`form.bulk-form select[name="kind"]`, "takedown"),
		choose(`form.bulk-form select[name="category"]`, "spam"),
		chromedp.SendKeys(chromedp.CSS(`form.bulk-form input[name="sha256"]`), sha),
		chromedp.SendKeys(chromedp.CSS(`form.bulk-form textarea[name="facts"]`), "The channel spreads an advertising image posted across many channels."),
		chromedp.Click(chromedp.CSS(`form.bulk-form button[data-step="preview"]`)),
		waitJS(`document.querySelectorAll('.bulk-preview tr.bulk-target').length === 2`),
		waitText(".bulk-preview", "Olga's Market"),
		waitText(".bulk-preview", "Sven's Deals"),
		waitText(".bulk-preview tr.bulk-target", "@olga"),
		waitText(".bulk-preview tr.bulk-target", "@sven"),
		waitText(".bulk-preview .warning", "second moderator"),
		chromedp.WaitVisible(chromedp.CSS(`form.bulk-form button[data-step="request"]`)),
	)
	b.shot(t, mona, "console-more-5-bulk-preview")
	do(t, mona, "request it, and be refused approving her own request",
		chromedp.Click(chromedp.CSS(`form.bulk-form button[data-step="request"]`)),
		waitText(".toast", "waits for a second moderator"),
		waitJS(`document.querySelectorAll('.bulk-row.pending').length === 1`),
		waitText(".bulk-row.pending .warning", "another moderator approves it"),
		chromedp.Click(chromedp.CSS(`.bulk-row.pending button[data-decision="approve"]`)),
		waitText(".bulk-row.pending .form-error", "another moderator must approve it"),
	)
	b.shot(t, mona, "console-more-6-bulk-own")
	if got := rita.status("GET", "/chats/"+itoa(market)+"/messages", nil); got != http.StatusOK {
		t.Errorf("before approval the channel answers %d, want 200", got)
	}

	maxim := b.page(t, 1280, 1000)
	consoleLogIn(t, maxim, s.URL, "/console/bulk", "maxim")
	do(t, maxim, "approve it",
		waitText(".bulk-row.pending", "@mona"),
		waitJS(`!document.querySelector('.bulk-row.pending .warning')`),
		chromedp.Click(chromedp.CSS(`.bulk-row.pending button[data-decision="approve"]`)),
		waitText(".toast", "Done: 2 acted on"),
		waitText(".console-status", "No bulk actions here"),
		choose(`select[name="state"]`, "done"),
		waitText(".bulk-row.done", "Done: 2 acted on, 0 could not be"),
		waitText(".bulk-row.done", "@maxim"),
	)
	b.shot(t, maxim, "console-more-7-bulk-done")
	for _, c := range []int64{market, deals} {
		if got := rita.status("GET", "/chats/"+itoa(c)+"/messages", nil); got != http.StatusForbidden {
			t.Errorf("after the bulk takedown channel %d answers %d, want 403", c, got)
		}
	}

	phone := b.page(t, 380, 800)
	setLanguages(t, phone, "ar")
	consoleLogIn(t, phone, s.URL, "/console/bulk", "maxim")
	do(t, phone, "see bulk actions on a phone, in Arabic",
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.WaitVisible(chromedp.CSS(`form.bulk-form`)),
		waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
	)
	b.shot(t, phone, "console-more-8-bulk-phone-ar")

	tina := b.page(t, 1100, 720)
	consoleLogIn(t, tina, s.URL, "/console", "tina")
	do(t, tina, "find no bulk actions as triage",
		waitJS(`document.querySelector('.console-nav a[href="/console/bulk"]').hidden`),
		chromedp.Navigate(s.URL+"/console/bulk"),
		waitText(".console-bulk", "Only moderators and admins"),
		waitJS(`!document.querySelector('form.bulk-form')`),
	)
}

// TestBrowserConsoleFlaggers is an admin managing the trusted flaggers: an
// account added by @username with its organisation, listed by name, and
// removed again; a name nobody has is said beside the field. Moderators
// do not find the screen in their navigation.
func TestBrowserConsoleFlaggers(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	register(t, s.URL, "hotline")
	adminAPI, _ := staffAccount(t, s, "adele", kurir.RoleAdmin)
	staffAccount(t, s, "mona", kurir.RoleModerator)

	ada := b.page(t, 1280, 800)
	consoleLogIn(t, ada, s.URL, "/console", "adele")
	do(t, ada, "open the trusted flaggers",
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/flaggers"]`)),
		waitText("#flaggers-title", "Trusted flaggers"),
		waitText(".console-status", "No trusted flaggers yet"),
	)
	do(t, ada, "be told of a name nobody has",
		chromedp.SendKeys(chromedp.CSS(`form.flagger-form input[name="user"]`), "@nobody_here"),
		chromedp.SendKeys(chromedp.CSS(`form.flagger-form input[name="organisation"]`), "Internet Hotline Foundation"),
		chromedp.Click(chromedp.CSS(`form.flagger-form button[type="submit"]`)),
		waitText("form.flagger-form .field-error", "There is no user @nobody_here"),
	)
	do(t, ada, "add the hotline",
		clearField(`form.flagger-form input[name="user"]`),
		chromedp.SendKeys(chromedp.CSS(`form.flagger-form input[name="user"]`), "@hotline"),
		chromedp.Click(chromedp.CSS(`form.flagger-form button[type="submit"]`)),
		waitText(".toast", "@hotline"),
		waitText(".toast", "is a trusted flagger"),
		waitJS(`document.querySelectorAll('tr.flagger').length === 1`),
		waitText("tr.flagger", "@hotline"),
		waitText("tr.flagger", "Internet Hotline Foundation"),
		waitJS(`document.querySelector('form.flagger-form input[name="user"]').value === ''`),
	)
	b.shot(t, ada, "console-more-9-flaggers")
	var list struct {
		Flaggers []struct {
			Organisation string `json:"organisation"`
		} `json:"flaggers"`
	}
	adminAPI.call("GET", "/moderation/flaggers", nil, &list)
	if len(list.Flaggers) != 1 || list.Flaggers[0].Organisation != "Internet Hotline Foundation" {
		t.Fatalf("the flaggers are %+v, want the hotline", list.Flaggers)
	}
	do(t, ada, "remove it",
		chromedp.Click(chromedp.CSS(`tr.flagger button.remove`)),
		waitText("dialog[open]", "will no longer be a trusted flagger"),
		chromedp.Click(chromedp.CSS(`dialog[open] .btn.danger`)),
		waitText(".toast", "no longer a trusted flagger"),
		waitText(".console-status", "No trusted flaggers yet"),
	)
	adminAPI.call("GET", "/moderation/flaggers", nil, &list)
	if len(list.Flaggers) != 0 {
		t.Errorf("after removal the flaggers are %+v, want none", list.Flaggers)
	}

	mona := b.page(t, 1100, 720)
	consoleLogIn(t, mona, s.URL, "/console", "mona")
	do(t, mona, "find no trusted flaggers as a moderator",
		waitJS(`document.querySelector('.console-nav a[href="/console/flaggers"]').hidden`),
		waitJS(`!document.querySelector('.console-nav a[href="/console/bulk"]').hidden`),
	)
}
