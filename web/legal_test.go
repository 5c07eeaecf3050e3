package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/legal"
	"kurir/legal/totp"
)

// pageRecorder is the on-call pager of the test server: it keeps every
// page, as a webhook receiver would.
type pageRecorder struct {
	mu    sync.Mutex
	pages []legal.Page
}

// Page implements legal.Pager.
func (p *pageRecorder) Page(_ context.Context, pg legal.Page) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pages = append(p.pages, pg)
	return nil
}

func (p *pageRecorder) all() []legal.Page {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pages)
}

// mailedCode is the 6-digit code in the last e-mail sent to address.
func mailedCode(t *testing.T, s *testServer, address string) string {
	t.Helper()
	sent := s.mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To == address {
			if m := regexp.MustCompile(`\b\d{6}\b`).FindString(sent[i].Body); m != "" {
				return m
			}
		}
	}
	t.Fatalf("no code was mailed to %s; the mail sent: %+v", address, sent)
	return ""
}

// tallShot saves a screenshot of the whole of the page's scrolling pane
// (the portal's or the console's), the window made as tall as it for the
// moment.
func tallShot(t *testing.T, b *browser, ctx context.Context, name string, width int64) {
	t.Helper()
	height := eval[int64](t, ctx, `(() => { const m = document.querySelector('.portal-main, .console-main');
		return Math.ceil(m ? m.scrollHeight + m.getBoundingClientRect().top : document.documentElement.scrollHeight); })()`)
	height = min(max(height, 600), 4000)
	do(t, ctx, "make the window tall", chromedp.EmulateViewport(width, height))
	b.shot(t, ctx, name)
}

// writeFile writes data to a file called name in a directory of the test's.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBrowserLegalPortal is the law-enforcement portal end to end, as the
// issue asks. The legal team registers the agency BKA with the domain
// bka.example in the console. An officer opens /legal without any kurir
// account, is refused with an address at another domain and told why,
// signs up with o@bka.example, enters the code mailed to her (after being
// told that a new one cannot be sent yet), logs in, sets up her
// authenticator from the key shown in blocks of four, attests, and files an
// emergency request about an existing account asking for subscriber data
// and access logs, with an order attached — after a target that does not
// exist and a file that is no document are refused with nothing filed.
// On-call staff are paged. The legal team sees the emergency banner and the
// request first in the queue, notes, approves subscriber data only, and
// fulfils it; the banner goes. The officer sees the approved scope and the
// timeline without the team's note, and downloads a package that verifies
// with the public key the portal shows and holds subscriber data only. The
// account's owner finds the disclosure in their settings. Screens are saved
// on a desktop and a phone, and in Arabic.
func TestBrowserLegalPortal(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{legal: true})
	_, suspectID := register(t, s.URL, "suspect")
	staffAccount(t, s, "lena", kurir.RoleLegal)

	// The legal team registers the agency.
	lena := b.page(t, 1280, 860)
	consoleLogIn(t, lena, s.URL, "/console/agencies", "lena")
	do(t, lena, "open the agencies as the legal team",
		waitText("#le-agencies-title", "Agencies"),
		waitText(".console-status", "No agencies registered yet"),
		waitJS(`document.querySelector('.console-nav a[href="/console/appeals"]').hidden`),
		waitJS(`!document.querySelector('.console-nav a[href="/console/legal"]').hidden`),
		chromedp.SendKeys(chromedp.CSS(`form.le-agency-form input[name="name"]`), "BKA"),
		chooseOption(`form.le-agency-form select[name="country"]`, "DE"),
		chromedp.SendKeys(chromedp.CSS(`form.le-agency-form input[name="jurisdiction"]`), "Federal"),
		chromedp.SendKeys(chromedp.CSS(`form.le-agency-form textarea[name="domains"]`), "bka.example"),
		chromedp.Click(chromedp.CSS(`form.le-agency-form button[type="submit"]`)),
		waitText(".toast", "BKA is registered"),
		waitText("tr.le-agency", "bka.example"),
		waitText("tr.le-agency", "Germany (DE)"),
	)
	b.shot(t, lena, "legal-01-console-agencies")

	// The officer signs up: first at a domain no agency has.
	officer := b.page(t, 1100, 800)
	do(t, officer, "open the portal",
		chromedp.Navigate(s.URL+"/legal"),
		waitJS(`location.pathname === '/legal/login'`),
		waitText("#le-login-title", "Log in to the law-enforcement portal"),
	)
	b.shot(t, officer, "legal-02-login")
	do(t, officer, "sign up at a domain no agency has",
		chromedp.Click(chromedp.CSS(`a[href="/legal/signup"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#le-signup-title`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "o@wrong.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Olga Officer"),
		chromedp.SendKeys(chromedp.CSS(`input[name="badge"]`), "4711"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText(".field-error", "No registered agency uses the domain wrong.example"),
		waitJS(`document.querySelector('input[name="email"]').getAttribute('aria-invalid') === 'true'`),
		waitJS(`document.activeElement === document.querySelector('input[name="email"]')`),
	)
	b.shot(t, officer, "legal-03-signup-refused")
	if n := len(s.mail.Sent()); n != 0 {
		t.Fatalf("a refused sign-up sent %d e-mails", n)
	}
	do(t, officer, "sign up at the agency's domain",
		clearField(`input[name="email"]`),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "o@bka.example"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitJS(`location.pathname === '/legal/verify'`),
		waitText("#le-verify-title", "Check your e-mail"),
		waitText(".le-card", "We sent a 6-digit code to o@bka.example"),
		chromedp.Click(chromedp.CSS(`button.le-resend`)),
		waitText(".form-error", "A code was sent less than a minute ago"),
	)
	code := mailedCode(t, s, "o@bka.example")
	do(t, officer, "enter the password and the code",
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), code),
	)
	b.shot(t, officer, "legal-04-verify")
	do(t, officer, "verify and log in",
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitJS(`location.pathname === '/legal/login'`),
		waitText(".le-ok", "Your e-mail address is verified"),
		waitJS(`document.querySelector('input[name="email"]').value === 'o@bka.example'`),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText("#le-totp-title", "Set up your authenticator app"),
		waitJS(`/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/.test(document.querySelector('.le-secret').textContent)`),
		waitJS(`document.querySelector('.le-uri').href.startsWith('otpauth://totp/')`),
	)
	b.shot(t, officer, "legal-05-totp")
	if tok := eval[string](t, officer, `sessionStorage.getItem('kurir.legal.token') || ''`); tok == "" {
		t.Fatal("the officer's token is not in sessionStorage")
	}
	if tok := eval[string](t, officer, `localStorage.getItem('kurir.token') || ''`); tok != "" {
		t.Fatal("the portal put a token where the app keeps the user's")
	}
	key, err := totp.ParseKey(eval[string](t, officer, `document.querySelector('.le-secret').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	do(t, officer, "confirm the authenticator",
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), key.Code(time.Now())),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText("#le-attest-title", "Attest to your official capacity"),
		waitText(".le-attestation", "official capacity"),
		waitJS(`!document.querySelector('button.le-attest').disabled`),
	)
	b.shot(t, officer, "legal-06-attest")
	do(t, officer, "attest",
		chromedp.Click(chromedp.CSS(`button.le-attest`)),
		waitText("#le-list-title", "Your agency's requests"),
		waitText(".portal-officer", "Olga Officer"),
		waitText(".le-page [role=status]", "No requests yet"),
	)
	b.shot(t, officer, "legal-07-requests-empty")

	// She files an emergency request: first about nobody, and with a file
	// that is no document.
	notDoc := writeFile(t, "notes.txt", []byte("not a legal document"))
	order := writePhoto(t)
	do(t, officer, "fill in an emergency request",
		chromedp.Click(chromedp.CSS(`a.le-new`)),
		waitText("#le-new-title", "File a request"),
		chooseOption(`select[name="kind"]`, "emergency"),
		waitJS(`document.querySelector('select[name="process"]').value === 'emergency'`),
		waitJS(`!document.querySelector('fieldset[name="categories"]').hidden`),
		chromedp.SendKeys(chromedp.CSS(`input[name="case_reference"]`), "BKA-2026-0042"),
		chromedp.SendKeys(chromedp.CSS(`input[name="issuing_authority"]`), "Bundeskriminalamt, Lagezentrum"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="legal_basis"]`), "§ 100j StPO; imminent danger to life"),
		chooseOption(`.le-target-row select`, "username"),
		chromedp.SendKeys(chromedp.CSS(`.le-target-row input`), "@nobody_here"),
		chromedp.Click(chromedp.CSS(`input[name="categories"][value="subscriber"]`)),
		chromedp.Click(chromedp.CSS(`input[name="categories"][value="access"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "A threat to bomb a school tomorrow morning was posted from this account."),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name="documents"]`), []string{notDoc}),
		waitText(".le-chosen .field-error", "notes.txt is not a PDF, PNG or JPEG file"),
		chromedp.Click(chromedp.CSS(`form.le-form button[type="submit"]`)),
		waitText(".le-documents .field-error", "notes.txt is not a PDF, PNG or JPEG file"),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name="documents"]`), []string{order}),
		chromedp.Click(chromedp.CSS(`form.le-form button[type="submit"]`)),
		waitText(`fieldset[name="targets"] .field-error`, "@nobody_here"),
	)
	b.shot(t, officer, "legal-08-file-refused")
	var list struct {
		Requests []struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
		} `json:"requests"`
	}
	officerCall := func(method, path string, out any) []byte {
		t.Helper()
		tok := eval[string](t, officer, `sessionStorage.getItem('kurir.legal.token') || ''`)
		req, err := http.NewRequestWithContext(t.Context(), method, s.URL+"/api/v1/legal"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s /api/v1/legal%s: %d %s", method, path, resp.StatusCode, body)
		}
		if out != nil {
			if err := json.Unmarshal(body, out); err != nil {
				t.Fatal(err)
			}
		}
		return body
	}
	officerCall("GET", "/requests", &list)
	if len(list.Requests) != 0 {
		t.Fatalf("a refused request was filed: %+v", list.Requests)
	}
	do(t, officer, "file it about the suspect",
		clearField(`.le-target-row input`),
		chromedp.SendKeys(chromedp.CSS(`.le-target-row input`), "@suspect"),
	)
	tallShot(t, b, officer, "legal-09-file", 1100)
	do(t, officer, "send it",
		chromedp.EmulateViewport(1100, 800),
		chromedp.Click(chromedp.CSS(`form.le-form button[type="submit"]`)),
		waitJS(`/^\/legal\/requests\/\d+$/.test(location.pathname)`),
		waitText(".le-bar .le-state", "Received"),
		waitText(".le-docs", "sunset.png"),
		waitText(".le-timeline", "Filed"),
		waitText(".le-targets", "@suspect"),
		waitText(".le-targets", fmt.Sprintf("account %d", suspectID)),
		waitText(".le-emergency-note", "within the hour"),
	)
	officerCall("GET", "/requests", &list)
	if len(list.Requests) != 1 {
		t.Fatalf("the agency's requests are %+v, want the one filed", list.Requests)
	}
	id, number := list.Requests[0].ID, list.Requests[0].Number

	// On-call staff are paged.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.pages.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	pages := s.pages.all()
	if len(pages) != 1 || pages[0].Number != number || pages[0].Kind != legal.Emergency || pages[0].Agency != "BKA" || pages[0].Country != "DE" {
		t.Fatalf("the pages are %+v, want one for emergency %s of BKA in DE", pages, number)
	}
	do(t, officer, "see that staff were paged",
		chromedp.Reload(),
		waitText(".le-facts", "Staff paged"),
	)
	tallShot(t, b, officer, "legal-10-request", 1100)
	do(t, officer, "back to the normal window", chromedp.EmulateViewport(1100, 800))

	// The legal team: the banner, the queue, the request.
	do(t, lena, "see the emergency",
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/legal"]`)),
		waitText("#le-queue-title", "Law-enforcement requests"),
		waitText(".le-alarm", "Open emergency requests: 1"),
		waitText(".le-alarm a", number),
		waitText("tr.le-row.emergency", number),
		waitText("tr.le-row", "BKA"),
	)
	b.shot(t, lena, "legal-11-console-queue")
	do(t, lena, "open the request and note something",
		chromedp.Click(chromedp.CSS(`tr.le-row a.case-link`)),
		waitJS(fmt.Sprintf(`location.pathname === '/console/legal/%d'`, id)),
		waitText("#le-review-title", number),
		waitText(".le-docs", "sunset.png"),
		waitText(".le-facts", "§ 100j StPO"),
		waitText(".le-facts", "Bundeskriminalamt"),
		waitText(".le-alarm", number),
		waitText(".le-timeline li.internal", "On-call staff paged"),
		chromedp.Click(chromedp.CSS(`.le-docs button.le-doc`)),
		chromedp.SendKeys(chromedp.CSS(`form.le-note-form textarea[name="text"]`), "Called the BKA Lagezentrum: the order is genuine."),
		chromedp.Click(chromedp.CSS(`form.le-note-form button[type="submit"]`)),
		waitText(".le-timeline li.internal", "the order is genuine"),
	)
	noErrorToasts(t, lena, "download the order")
	tallShot(t, b, lena, "legal-12-console-review", 1280)
	do(t, lena, "approve subscriber data only",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Click(chromedp.CSS(`button[data-act="approve"]`)),
		waitText("dialog[open]", "Approve "+number),
		waitJS(`document.querySelectorAll('dialog[open] input[name="category"]').length === 2`),
		waitJS(`document.querySelector('dialog[open] input[value="access"]').checked`),
		chromedp.Click(chromedp.CSS(`dialog[open] input[value="access"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] textarea[name="reason"]`), "Access logs are not needed to identify the author."),
	)
	b.shot(t, lena, "legal-13-console-approve")
	do(t, lena, "fulfil",
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		waitText(".toast", number+" approved: Subscriber data"),
		waitText("#le-review-title + .le-tags .le-state", "Approved"),
		chromedp.Click(chromedp.CSS(`button[data-act="fulfil"]`)),
		waitText("dialog[open]", "Subscriber data"),
		chromedp.Click(chromedp.CSS(`dialog[open] .btn.primary`)),
		waitText(".toast", number+" fulfilled"),
		waitText("#le-review-title + .le-tags .le-state", "Fulfilled"),
		waitJS(`document.querySelector('.le-alarm').hidden`),
	)
	noErrorToasts(t, lena, "decide")
	b.shot(t, lena, "legal-14-console-fulfilled")

	// The officer downloads the package and verifies it.
	do(t, officer, "see the decision",
		chromedp.Reload(),
		waitText(".le-bar .le-state", "Fulfilled"),
		waitText(".le-facts .le-scope", "Subscriber data"),
		waitText(".le-timeline", "Access logs are not needed"),
		waitText(".le-package", "Download package"),
		chromedp.Click(chromedp.CSS(`.le-verify summary`)),
		waitJS(`/^[A-Za-z0-9+/]{43}=$/.test(document.querySelector('.le-key-text').textContent)`),
		chromedp.Click(chromedp.CSS(`button.le-download`)),
		waitText(".le-timeline", "Package downloaded"),
	)
	if text := eval[string](t, officer, `document.body.innerText`); strings.Contains(text, "the order is genuine") {
		t.Error("the officer sees the legal team's internal note")
	}
	tallShot(t, b, officer, "legal-15-package", 1100)
	shownKey := eval[string](t, officer, `document.querySelector('.le-key-text').textContent`)
	pub, err := base64.StdEncoding.DecodeString(shownKey)
	if err != nil {
		t.Fatal(err)
	}
	zipBytes := officerCall("GET", fmt.Sprintf("/requests/%d/package", id), nil)
	m, err := legal.VerifyPackage(zipBytes, ed25519.PublicKey(pub))
	if err != nil {
		t.Fatalf("the package does not verify with the key the portal shows: %v", err)
	}
	if !slices.Equal(m.Categories, []legal.Category{legal.Subscriber}) || m.Request != number {
		t.Errorf("the manifest is of %s with %v, want %s with subscriber data only", m.Request, m.Categories, number)
	}
	if len(m.Files) == 0 {
		t.Error("the package holds no files")
	}
	for _, f := range m.Files {
		if f.Category != legal.Subscriber || !strings.HasPrefix(f.Name, "subscriber/") || f.UserID != kurir.UserID(suspectID) {
			t.Errorf("the package holds %+v, want subscriber data of account %d only", f, suspectID)
		}
	}

	// The account's owner is told.
	suspect := b.page(t, 1100, 800)
	logIn(t, suspect, s.URL, "suspect")
	do(t, suspect, "read the disclosures in the settings",
		chromedp.Navigate(s.URL+"/settings"),
		waitText("#disclosures-title", "Disclosures of my data"),
		waitText(".disclosure", number),
		waitText(".disclosure", "Bundeskriminalamt, Lagezentrum"),
		waitText(".disclosure", "Germany (DE)"),
		waitText(".disclosure", "Subscriber data"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('disclosures-title').scrollIntoView()`),
	)
	b.shot(t, suspect, "legal-16-settings-disclosures")

	// A phone, and Arabic.
	do(t, officer, "the request on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		waitText(".le-bar .le-state", "Fulfilled"),
	)
	b.shot(t, officer, "legal-17-phone-request")
	do(t, officer, "the form on a phone",
		chromedp.Navigate(s.URL+"/legal/new"),
		waitText("#le-new-title", "File a request"),
	)
	tallShot(t, b, officer, "legal-18-phone-form", 390)
	do(t, officer, "the list in Arabic",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(s.URL+"/legal"),
		waitText("#le-list-title", "Your agency's requests"),
		pickLanguage("ar"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		waitText("#le-list-title", "طلبات جهتك"),
		waitText(".le-list", number),
	)
	b.shot(t, officer, "legal-19-phone-ar")
}

// officerSession signs an officer of an agency with the domain of email up
// through the API, sets up her authenticator and attests, and returns a
// client with her session token.
func officerSession(t *testing.T, s *testServer, email string) *apiClient {
	t.Helper()
	anon := &apiClient{t: t, base: s.URL}
	anon.call("POST", "/legal/officers", map[string]string{"email": email, "name": "Otto Officer", "password": password}, nil)
	anon.call("POST", "/legal/officers/verify", map[string]string{"email": email, "password": password, "code": mailedCode(t, s, email)}, nil)
	var login struct {
		Token string `json:"token"`
	}
	anon.call("POST", "/legal/sessions", map[string]string{"email": email, "password": password}, &login)
	o := &apiClient{t: t, base: s.URL, token: login.Token}
	var setup struct {
		Secret string `json:"secret"`
	}
	o.call("POST", "/legal/me/totp", nil, &setup)
	key, err := totp.ParseKey(setup.Secret)
	if err != nil {
		t.Fatal(err)
	}
	o.call("POST", "/legal/me/totp/confirm", map[string]string{"code": key.Code(time.Now())}, nil)
	var att struct {
		Text string `json:"text"`
	}
	o.call("GET", "/legal/attestation", nil, &att)
	o.call("POST", "/legal/me/attestation", map[string]string{"statement": att.Text}, nil)
	return o
}

// portalAs opens the portal at path in ctx as the officer of client o.
func portalAs(t *testing.T, ctx context.Context, s *testServer, o *apiClient, path string) {
	t.Helper()
	do(t, ctx, "open the portal as the officer",
		chromedp.Navigate(s.URL+"/legal/login"),
		chromedp.WaitVisible(chromedp.CSS(`#le-login-title`)),
		chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('kurir.legal.token', `+jsString(o.token)+`)`),
		chromedp.Navigate(s.URL+path),
		chromedp.WaitVisible(chromedp.CSS(`.portal-officer`)),
	)
}

// TestBrowserLegalReview is the rest of the legal team's workflow and the
// officer's side of it: the team asks for more information and the
// officer answers on the request's page, attaching a document there
// (after one that is no PDF, PNG or JPEG is refused); content cannot be
// approved under a subpoena; the team rejects the request with a reason
// template; and the officer withdraws another request.
func TestBrowserLegalReview(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{legal: true})
	register(t, s.URL, "target")
	lenaAPI, _ := staffAccount(t, s, "lena", kurir.RoleLegal)
	lenaAPI.call("POST", "/legal-team/agencies", map[string]any{"name": "Police Nord", "country": "NL", "domains": []string{"politie.example"}}, nil)
	o := officerSession(t, s, "otto@politie.example")
	file := func(ref string) (int64, string) {
		var q struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
		}
		o.call("POST", "/legal/requests", map[string]any{"kind": "disclosure", "process": "subpoena", "case_reference": ref,
			"legal_basis": "Art. 126nc Sv", "issuing_authority": "Officier van justitie Amsterdam",
			"targets": []map[string]string{{"kind": "username", "value": "target"}}, "categories": []string{"subscriber", "content"}}, &q)
		return q.ID, q.Number
	}
	id, number := file("NORD-1")
	other, otherNumber := file("NORD-2")

	lena := b.page(t, 1280, 860)
	consoleLogIn(t, lena, s.URL, fmt.Sprintf("/console/legal/%d", id), "lena")
	do(t, lena, "ask the officer",
		waitText("#le-review-title", number),
		waitJS(`document.querySelector('.le-alarm').hidden`),
		chromedp.Click(chromedp.CSS(`button[data-act="review"]`)),
		waitText(".toast", number+" is in review"),
		waitText("#le-review-title + .le-tags .le-state", "In legal review"),
		chromedp.Click(chromedp.CSS(`button[data-act="info"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] textarea[name="question"]`)),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		waitText(`dialog[open] .field-error`, "Fill in this field"),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] textarea[name="question"]`), "Which period does the subpoena cover?"),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		waitText("#le-review-title + .le-tags .le-state", "More information needed"),
		waitJS(`!document.querySelector('button[data-act="approve"]')`),
	)

	officer := b.page(t, 1100, 800)
	portalAs(t, officer, s, o, fmt.Sprintf("/legal/requests/%d", id))
	bad := writeFile(t, "order.pdf", []byte("<html>not a pdf</html>"))
	pdf := writeFile(t, "subpoena.pdf", []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	do(t, officer, "answer and attach the subpoena",
		waitText(".le-needs-info", "Which period does the subpoena cover?"),
		chromedp.SendKeys(chromedp.CSS(`.le-needs-info textarea[name="answer"]`), "January to March 2026."),
		chromedp.SetUploadFiles(chromedp.CSS(`form.le-attach input[name="documents"]`), []string{bad}),
		chromedp.Click(chromedp.CSS(`form.le-attach button[type="submit"]`)),
		waitText(".le-upload .field-error", "Attach legal documents as PDF, PNG or JPEG files"),
	)
	b.shot(t, officer, "legal-20-document-refused")
	do(t, officer, "attach the real one",
		chromedp.SetUploadFiles(chromedp.CSS(`form.le-attach input[name="documents"]`), []string{pdf}),
		chromedp.Click(chromedp.CSS(`form.le-attach button[type="submit"]`)),
		waitText(".toast", "Documents attached: 1"),
		waitText(".le-docs", "subpoena.pdf"),
		waitJS(`![...document.querySelectorAll('.le-docs li')].some((li) => li.textContent.includes('order.pdf'))`),
		chromedp.Click(chromedp.CSS(`.le-needs-info button[type="submit"]`)),
		waitText(".toast", "the request is back in review"),
		waitText(".le-bar .le-state", "In legal review"),
		waitText(".le-timeline", "January to March 2026."),
	)

	do(t, lena, "find content cannot be approved, and reject",
		chromedp.Reload(),
		waitText("#le-review-title + .le-tags .le-state", "In legal review"),
		waitText(".le-docs", "subpoena.pdf"),
		chromedp.Click(chromedp.CSS(`button[data-act="approve"]`)),
		waitJS(`document.querySelector('dialog[open] input[value="content"]').disabled`),
		waitText("dialog[open]", "content needs a warrant or an MLAT request"),
	)
	b.shot(t, lena, "legal-21-console-content-disabled")
	do(t, lena, "reject with a template",
		chromedp.Click(chromedp.CSS(`dialog[open] .modal-head button`)),
		chromedp.Click(chromedp.CSS(`button[data-act="reject"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] select[name="template"]`)),
		choose(`dialog[open] select[name="template"]`, "0"),
		waitJS(`document.querySelector('dialog[open] textarea[name="reason"]').value.includes('does not cover')`),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		waitText("#le-review-title + .le-tags .le-state", "Rejected"),
		waitText(".case-side", "This request is closed: Rejected."),
	)
	do(t, officer, "read the rejection",
		chromedp.Reload(),
		waitText(".le-bar .le-state", "Rejected"),
		waitText(".le-facts", "The legal process does not cover the data asked for."),
		waitJS(`!document.querySelector('button.le-withdraw') && !document.querySelector('form.le-attach')`),
	)
	do(t, officer, "withdraw the other request",
		chromedp.Navigate(fmt.Sprintf("%s/legal/requests/%d", s.URL, other)),
		waitText(".le-bar h1", otherNumber),
		chromedp.Click(chromedp.CSS(`button.le-withdraw`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] textarea[name="reason"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] textarea[name="reason"]`), "Filed twice."),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type="submit"]`)),
		waitText(".toast", "Request "+otherNumber+" withdrawn"),
		waitText(".le-bar .le-state", "Withdrawn"),
		waitText(".le-timeline", "Filed twice."),
		chromedp.Navigate(s.URL+"/legal"),
		waitJS(`document.querySelectorAll('.le-item').length === 2`),
	)
	b.shot(t, officer, "legal-22-requests")
}

// TestBrowserLegalOfficerAccess: the legal team opens an agency's officers
// in the console, keeps one out (their session ends at once) and lets them
// in again, resets another (who must sign up again), and keeps the whole
// agency out.
func TestBrowserLegalOfficerAccess(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{legal: true})
	lenaAPI, _ := staffAccount(t, s, "lena", kurir.RoleLegal)
	lenaAPI.call("POST", "/legal-team/agencies", map[string]any{"name": "Police Nord", "country": "NL", "domains": []string{"politie.example"}}, nil)
	otto := officerSession(t, s, "otto@politie.example")
	if code := otto.status("GET", "/legal/me", nil); code != http.StatusOK {
		t.Fatalf("Otto's session before: %d", code)
	}

	lena := b.page(t, 1280, 900)
	consoleLogIn(t, lena, s.URL, "/console/agencies", "lena")
	do(t, lena, "open the agency's officers",
		waitText("tr.le-agency", "politie.example"),
		waitText("tr.le-agency", "Let in"),
		chromedp.Click(chromedp.CSS(`tr.le-agency button[data-action="officers"]`)),
		waitText("tr.le-officers-row caption", "Officers of Police Nord"),
		waitText("tr.le-officer", "otto@politie.example"),
		waitText("tr.le-officer", "Done"),
	)
	do(t, lena, "keep Otto out",
		chromedp.Click(chromedp.CSS(`tr.le-officer button[data-action="disable"]`)),
		waitText("dialog[open]", "Keep Otto Officer out of the portal?"),
		chromedp.Click(chromedp.CSS(`dialog[open] button.danger`)),
		waitText(".toast", "Otto Officer is kept out of the portal."),
		waitText("tr.le-officer", "Kept out since"),
		waitJS(`!!document.querySelector('tr.le-officer button[data-action="enable"]')`),
	)
	b.shot(t, lena, "legal-30-console-officer-kept-out")
	if code := otto.status("GET", "/legal/me", nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("Otto's session after he was kept out: %d, want it ended", code)
	}
	do(t, lena, "let Otto in again, then reset him",
		chromedp.Click(chromedp.CSS(`tr.le-officer button[data-action="enable"]`)),
		waitText(".toast", "Otto Officer is let into the portal again."),
		waitJS(`!!document.querySelector('tr.le-officer button[data-action="disable"]')`),
		chromedp.Click(chromedp.CSS(`tr.le-officer button[data-action="reset"]`)),
		waitText("dialog[open]", "Reset Otto Officer?"),
		chromedp.Click(chromedp.CSS(`dialog[open] button.danger`)),
		waitText(".toast", "Otto Officer is reset and must sign up again."),
		waitText("tr.le-officer", "Not yet: E-mail verified, Authenticator, Attestation"),
	)
	do(t, lena, "keep the agency out",
		chromedp.Click(chromedp.CSS(`tr.le-agency button[data-action="disable"]`)),
		waitText("dialog[open]", "Its officers cannot log in"),
		chromedp.Click(chromedp.CSS(`dialog[open] button.danger`)),
		waitText(".toast", "Police Nord is kept out of the portal."),
		waitText("tr.le-agency", "Kept out since"),
	)
	var agencies struct {
		Agencies []struct {
			DisabledAt *time.Time `json:"disabled_at"`
		} `json:"agencies"`
	}
	lenaAPI.call("GET", "/legal-team/agencies", nil, &agencies)
	if len(agencies.Agencies) != 1 || agencies.Agencies[0].DisabledAt == nil {
		t.Errorf("agencies after keeping Police Nord out: %+v", agencies)
	}
}
