package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir"
)

// TestBrowserConsoleNoticeAndFile: a notice about a private group names
// nothing a visitor can see, so its case is about the notice; the console
// shows the notice whole (the location as given, the full explanation, the
// receipt mailed to its notifier), the queue finds it by the notifier's
// language, and a moderator links it to the group (triage may not link a
// private group, nor see who notified), after which it can be taken down. A reported message that carries a photo shows the file's SHA-256
// and offers to remove the file everywhere.
func TestBrowserConsoleNoticeAndFile(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	olga, _ := register(t, s.URL, "olga")
	pia, _ := register(t, s.URL, "piaf")
	var g struct {
		ID int64 `json:"id"`
	}
	olga.call("POST", "/chats/groups", map[string]any{"title": "Back room"}, &g)
	photo, sum := olga.uploadSHA(writePhoto(t), "image/png")
	ch := olga.newChannel("Bazaar", "bazaar")
	seq := olga.post(ch, "", photo)
	pia.report(ch, seq, "violence", "a picture of a killing")
	tina, _ := staffAccount(t, s, "tina", kurir.RoleTriage)
	mona, _ := staffAccount(t, s, "mona", kurir.RoleModerator)

	explanation := strings.Repeat("They sell forged passports in this group. ", 30) + "THE END"
	sendNotice(t, s.URL, explanation, s.URL+"/chats/"+itoa(g.ID), "ru-RU,ru;q=0.9")

	ctx := b.page(t, 1280, 900)
	consoleLogIn(t, ctx, s.URL, "/console", "mona")
	do(t, ctx, "filter the queue by the notifier's language",
		chromedp.WaitVisible(chromedp.CSS(`tr.case-row`)),
		chromedp.SendKeys(chromedp.CSS(`#q-lang`), "ru\n"),
		waitJS(`document.querySelectorAll('tr.case-row').length === 1 && location.search.includes('lang=ru')`),
		chromedp.Click(chromedp.CSS(`tr.case-row a.case-link`)),
		waitJS(`location.pathname.startsWith('/console/cases/')`),
	)
	do(t, ctx, "read the notice whole",
		waitText(".notice-item .notice-location", "/chats/"+itoa(g.ID)),
		waitText(".notice-item .notice-explanation", "THE END"),
		waitText(".notice-item", "Rita Meyer <rita@example.org>"),
		waitText(".notice-item .notice-mail", "Receipt"),
		waitText(".case-facts .origin", "ru"),
	)
	b.shot(t, ctx, "console-notice-1")
	do(t, ctx, "link it to the group",
		chromedp.SendKeys(chromedp.CSS(`form.link-form input[name="subject"]`), s.URL+"/chats/"+itoa(g.ID)),
		chromedp.Click(chromedp.CSS(`form.link-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.case-chat`)),
		waitJS(`!document.querySelector('form.link-form')`),
	)
	var d struct {
		Subject struct {
			Kind   string `json:"kind"`
			ChatID int64  `json:"chat_id"`
		} `json:"subject"`
	}
	var q struct {
		Cases []struct {
			ID int64 `json:"id"`
		} `json:"cases"`
	}
	tina.call("GET", "/moderation/cases?lang=ru", nil, &q)
	if len(q.Cases) != 1 {
		t.Fatalf("Russian queue %+v", q)
	}
	mona.call("GET", "/moderation/cases/"+itoa(q.Cases[0].ID), nil, &d)
	if d.Subject.Kind != "chat" || d.Subject.ChatID != g.ID {
		t.Fatalf("the linked case is about %+v, want the group %d", d.Subject, g.ID)
	}

	ctx = b.page(t, 1280, 900)
	consoleLogIn(t, ctx, s.URL, "/console/cases/"+itoa(openCase(t, mona, ch, seq)), "mona")
	do(t, ctx, "see the message's file with its hash, and remove it everywhere",
		waitText(".case-file .file-hash code", sum),
		chromedp.WaitVisible(chromedp.CSS(`.case-context .case-message.reported`)),
		chromedp.Click(chromedp.CSS(`button[data-act="remove_media"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.act-form textarea[name="facts"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.act-form textarea[name="facts"]`), "A photo of a killing, shared to shock."),
		chromedp.Click(chromedp.CSS(`form.act-form button[type="submit"]`)),
		waitJS(`location.pathname === '/console'`),
	)
	if st := olga.status("GET", "/media/"+itoa(photo), nil); st != 404 {
		t.Errorf("the removed file answers %d to its uploader, want 404 media_removed", st)
	}

	// A notifier following a notice whose decision was reversed sees so.
	rec := sendNotice(t, s.URL, "The channel sells counterfeit pills.", "@bazaar", "en")
	var c struct {
		ID int64 `json:"id"`
	}
	var a struct {
		ID int64 `json:"id"`
	}
	mona.call("GET", "/moderation/cases?source=notice&category=scam", nil, &q)
	for _, x := range q.Cases {
		var dd struct {
			Notices []struct {
				ID int64 `json:"id"`
			} `json:"notices"`
		}
		mona.call("GET", "/moderation/cases/"+itoa(x.ID), nil, &dd)
		if len(dd.Notices) == 1 && dd.Notices[0].ID == rec.ID {
			c.ID = x.ID
		}
	}
	mona.call("POST", "/moderation/cases/"+itoa(c.ID)+"/actions", map[string]any{"kind": "takedown", "facts": "Sells counterfeit pills."}, &a)
	mona.call("POST", "/moderation/actions/"+itoa(a.ID)+"/reverse", map[string]any{"reason": "The pills were genuine."}, nil)
	ctx = b.page(t, 1024, 800)
	do(t, ctx, "follow the notice to its reversed decision",
		chromedp.Navigate(s.URL+rec.StatusURL),
		waitText(".notice-status", "The group or channel was taken down."),
		waitText(".notice-status", "by the moderators: the content is available again"),
	)
}

type noticeReceipt struct {
	ID        int64  `json:"id"`
	StatusURL string `json:"status_url"`
}

// sendNotice sends a notice as someone without an account, in the
// language accept names.
func sendNotice(t *testing.T, base, explanation, location, accept string) noticeReceipt {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"explanation": explanation, "location": location,
		"category": "scam", "name": "Rita Meyer", "email": "rita@example.org", "good_faith": true})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/api/v1/notices", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", accept)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec noticeReceipt
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("notice: %d %v", resp.StatusCode, err)
	}
	return rec
}
