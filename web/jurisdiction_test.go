package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kurir"
	"kurir/jurisdiction"
	"kurir/messaging"
	"kurir/moderation"
)

// TestCountryCodes checks that the web app offers exactly the country codes
// the server accepts.
func TestCountryCodes(t *testing.T) {
	src := staticFiles(t)["jurisdiction.js"]
	m := regexp.MustCompile(`(?s)export const countryCodes = \((.*?)\)\.split`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("jurisdiction.js: no countryCodes list found")
	}
	var got []string
	for _, lit := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(m[1], -1) {
		got = append(got, lit[1])
	}
	codes := strings.Fields(strings.Join(got, ""))
	if want := kurir.Countries(); !slices.Equal(codes, want) {
		t.Errorf("jurisdiction.js offers %d countries, the server accepts %d:\ngot  %v\nwant %v", len(codes), len(want), codes, want)
	}
}

// waitPlainText is waitText for text that the page wraps in Unicode bidi
// isolates (U+2068, U+2069), which it compares without them.
func waitPlainText(css, text string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.textContent.replace(/[\u2068\u2069]/g, '').includes(%s))`,
		jsString(css), jsString(text)))
}

// lastLine is a script for the last-message line of the chat titled title
// in the chat list.
func lastLine(title string) string {
	return `[...document.querySelectorAll('.dialogs a.dialog')].find((a) => a.querySelector('.d-title').textContent === ` +
		jsString(title) + `).querySelector('.d-last').textContent`
}

// scrollTo scrolls the element matching css into view.
func scrollTo(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(css) + `).scrollIntoView({ block: 'center' })`)
}

// registerIn makes an account that declares country, and logs it in
// through the API.
func registerIn(t testing.TB, base, username, country string) (*apiClient, int64) {
	t.Helper()
	c := &apiClient{t: t, base: base}
	var u struct {
		ID      int64  `json:"id"`
		Country string `json:"country"`
	}
	c.call("POST", "/accounts", map[string]string{"username": username, "password": password, "country": country}, &u)
	if u.Country != country {
		t.Fatalf("%s declares %q, want %q", username, u.Country, country)
	}
	var l struct {
		Token string `json:"token"`
	}
	c.call("POST", "/sessions", map[string]string{"username": username, "password": password, "device_name": "Go test"}, &l)
	c.token = l.Token
	return c, u.ID
}

// TestBrowserJurisdictionsConsole: an admin withdraws from Iran and adds a
// country rule on the console's Jurisdictions page, and finds both there
// after a reload; the server has them. A moderator reads the page but has
// nothing to change it with. In a case about a message, the restrict action
// withholds by country rules by default and shows where that is; the case
// then lists the restriction in force.
func TestBrowserJurisdictionsConsole(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{jurisdictions: true})
	adminAPI, _ := staffAccount(t, s, "adele_ops", kurir.RoleAdmin)
	staffAccount(t, s, "mo_mod", kurir.RoleModerator)

	ctx := b.page(t, 1280, 860)
	consoleLogIn(t, ctx, s.URL, "/console", "adele_ops")
	do(t, ctx, "open the Jurisdictions page",
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/jurisdictions"]`)),
		waitText("#jur-title", "Jurisdictions"),
		waitText(".console-jurisdictions", "Every market is open."),
		waitText(".console-jurisdictions", "No country rules yet."),
		waitJS(`document.querySelector('.console-nav a[href="/console/jurisdictions"]').getAttribute('aria-current') === 'page'`),
	)
	do(t, ctx, "withdraw from Iran",
		chooseOption(`form.jur-policy-form select[name="country"]`, "IR"),
		chooseOption(`form.jur-policy-form select[name="status"]`, "withdrawn"),
		waitJS(`document.querySelector('fieldset.jur-off').disabled`),
		chromedp.SendKeys(chromedp.CSS(`form.jur-policy-form textarea[name="note"]`), "Sanctions leave us no lawful way to serve Iran."),
		chromedp.Click(chromedp.CSS(`form.jur-policy-form button[type="submit"]`)),
		waitText("dialog[open]", "Nobody in Iran"),
		chromedp.Click(chromedp.CSS(`dialog[open] .btn.danger`)),
		waitText(`tr.jur-market[data-country="IR"]`, "Withdrawn"),
		waitText(`tr.jur-market[data-country="IR"]`, "Sanctions leave us no lawful way"),
	)
	do(t, ctx, "be told what a restricted market needs",
		chooseOption(`form.jur-policy-form select[name="country"]`, "RU"),
		chooseOption(`form.jur-policy-form select[name="status"]`, "restricted"),
		chromedp.Click(chromedp.CSS(`form.jur-policy-form button[type="submit"]`)),
		waitText("form.jur-policy-form .form-error", "at least one feature"),
		chromedp.Click(chromedp.CSS(`form.jur-policy-form input[name="off"][value="uploads"]`)),
		chromedp.Click(chromedp.CSS(`form.jur-policy-form button[type="submit"]`)),
		waitText(`tr.jur-market[data-country="RU"]`, "Restricted"),
		waitText(`tr.jur-market[data-country="RU"]`, "Photos and files"),
	)
	do(t, ctx, "add a rule: hate speech is illegal in Germany",
		chooseOption(`form.jur-rule-form select[name="scope"]`, "DE"),
		chooseOption(`form.jur-rule-form select[name="category"]`, "hate_speech"),
		chromedp.SendKeys(chromedp.CSS(`form.jur-rule-form input[name="legal_reference"]`), "§ 130 StGB"),
		chromedp.Click(chromedp.CSS(`form.jur-rule-form button[type="submit"]`)),
		waitText(`tr.jur-rule[data-scope="DE"]`, "§ 130 StGB"),
		waitText(".toast", "Rule added"),
	)
	do(t, ctx, "and one for the whole EU",
		chooseOption(`form.jur-rule-form select[name="scope"]`, "EU"),
		chooseOption(`form.jur-rule-form select[name="category"]`, "terrorism"),
		chromedp.SendKeys(chromedp.CSS(`form.jur-rule-form input[name="legal_reference"]`), "Regulation (EU) 2021/784"),
		chromedp.Click(chromedp.CSS(`form.jur-rule-form button[type="submit"]`)),
		waitText(`tr.jur-rule[data-scope="EU"]`, "European Union"),
	)
	do(t, ctx, "reload: all still there",
		chromedp.Reload(),
		waitText(`tr.jur-market[data-country="IR"]`, "Withdrawn"),
		waitText(`tr.jur-market[data-country="RU"]`, "Photos and files"),
		waitText(`tr.jur-rule[data-scope="DE"]`, "§ 130 StGB"),
		waitText(`tr.jur-rule[data-scope="EU"]`, "Regulation (EU) 2021/784"),
		waitText(`tr.jur-market[data-country="IR"]`, "@adele_ops"),
	)
	b.shot(t, ctx, "jurisdictions-1-console")
	do(t, ctx, "scroll to the rules", scrollTo(".jur-rules"))
	b.shot(t, ctx, "jurisdictions-1b-rules")

	var got struct {
		Countries []struct {
			Code, Status, Note string
		} `json:"countries"`
		Rules []struct {
			Scope, Category string
			LegalRef        string `json:"legal_reference"`
		} `json:"rules"`
	}
	adminAPI.call("GET", "/jurisdictions", nil, &got)
	if len(got.Countries) != 2 || got.Countries[0].Code != "IR" || got.Countries[0].Status != "withdrawn" ||
		got.Countries[1].Code != "RU" || got.Countries[1].Status != "restricted" {
		t.Errorf("the server has the markets %+v, want IR withdrawn and RU restricted", got.Countries)
	}
	if len(got.Rules) != 2 {
		t.Errorf("the server has the rules %+v, want two", got.Rules)
	}

	mo := b.page(t, 1100, 760)
	consoleLogIn(t, mo, s.URL, "/console/jurisdictions", "mo_mod")
	do(t, mo, "read the page as a moderator",
		waitText(`tr.jur-market[data-country="IR"]`, "Withdrawn"),
		waitText(".jur-read-only", "Only admins change jurisdictions"),
	)
	if n := eval[int](t, mo, `document.querySelectorAll('form.jur-policy-form, form.jur-rule-form, tr button').length`); n != 0 {
		t.Errorf("a moderator sees %d forms and buttons to change jurisdictions, want none", n)
	}

	phone := b.page(t, 390, 800)
	setLanguages(t, phone, "ar")
	consoleLogIn(t, phone, s.URL, "/console/jurisdictions", "mo_mod")
	do(t, phone, "read it on a phone, in Arabic",
		waitText(`tr.jur-market[data-country="IR"]`, "منسحب منه"),
		waitText(`tr.jur-rule[data-scope="EU"]`, "الاتحاد الأوروبي"),
		waitJS(`document.documentElement.dir === 'rtl' && document.documentElement.scrollWidth <= window.innerWidth`),
	)
	b.shot(t, phone, "jurisdictions-1c-phone-ar")

	// A case about a message: restrict it by country rules.
	olaf, _ := register(t, s.URL, "olaf_owner")
	forum := olaf.newChannel("Open Forum", "openforum")
	olaf.post(forum, "Good morning, forum", 0)
	slogan := olaf.post(forum, "A forbidden slogan", 0)
	rita, _ := register(t, s.URL, "rita_reader")
	rita.call("POST", fmt.Sprintf("/chats/%d/join", forum), nil, nil)
	rita.report(forum, slogan, "hate_speech", "This slogan is banned in Germany.")
	caseID := openCase(t, adminAPI, forum, slogan)
	do(t, mo, "open the case and withhold the message by country rules",
		chromedp.Navigate(fmt.Sprintf("%s/console/cases/%d", s.URL, caseID)),
		waitText(".case-restrictions", "None."),
		chromedp.Click(chromedp.CSS(`[data-act="restrict"]`)),
		waitText("dialog[open] .jur-preview", "is withheld in: DE (§ 130 StGB)"),
		waitJS(`document.querySelector('dialog[open] input[name="legal_reference"]').value === '§ 130 StGB'`),
		waitJS(`document.querySelector('dialog[open] select[name="ground"]').value === 'illegal'`),
	)
	do(t, mo, "see what naming countries means",
		chromedp.SendKeys(chromedp.CSS(`dialog[open] input[name="countries"]`), "at, EEA, ZZ"),
		waitText("dialog[open] .jur-preview", "(30)"),
		waitText("dialog[open] .jur-preview", "Unknown codes: ZZ"),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('dialog[open] input[name="countries"]'); i.value = ''; i.dispatchEvent(new Event('input')); })()`),
		waitText("dialog[open] .jur-preview", "is withheld in: DE"),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] textarea[name="facts"]`), "The post repeats a slogan of a banned organisation."),
	)
	b.shot(t, mo, "jurisdictions-2-restrict-dialog")
	do(t, mo, "restrict it",
		chromedp.Click(chromedp.CSS(`dialog[open] form.act-form button[type="submit"]`)),
		waitText(".toast", "Withhold in some countries"),
		chromedp.Navigate(fmt.Sprintf("%s/console/cases/%d", s.URL, caseID)),
		waitText(".case-restrictions", fmt.Sprintf("Message #%d", slogan)),
		waitText(".case-restrictions", "by country rules, today DE"),
		waitText(".actions-taken", "Where: By country rules"),
		scrollTo(".case-restrictions"),
	)
	b.shot(t, mo, "jurisdictions-3-case-restrictions")
}

// TestBrowserWithheld: a reader who declares Germany at sign-up sees a
// channel withheld in Germany as such in the chat list and, opening it, why
// and under which law, instead of its posts; a message of another channel
// withheld in Germany (by country rules, while they read it) turns into a
// notice. A reader who declares France reads both. Lifting the channel's
// restriction brings it back at once; a public @name withheld in Germany
// says so in the search instead of an error.
func TestBrowserWithheld(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{jurisdictions: true})
	desk := newModerationDesk(t, s, "mia_mod")
	if _, err := s.laws.AddRule(t.Context(), moderation.Staff{Role: kurir.RoleAdmin}, jurisdiction.Rule{
		Scope: "DE", Category: "hate_speech", LegalRef: "§ 130 StGB"}); err != nil {
		t.Fatal(err)
	}
	olaf, _ := register(t, s.URL, "olaf_owner")
	news := olaf.newChannel("Nordlicht News", "nordlicht")
	olaf.post(news, "Welcome to Nordlicht", 0)
	forum := olaf.newChannel("Open Forum", "openforum")
	olaf.post(forum, "Good morning, forum", 0)
	slogan := olaf.post(forum, "A forbidden slogan", 0)
	fritz, _ := registerIn(t, s.URL, "fritz_fr", "FR")

	dora := b.page(t, 1100, 720)
	do(t, dora, "sign up declaring Germany",
		chromedp.Navigate(s.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		waitText(`label[for]`, "Country"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "dora_de"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chooseOption(`select[name="country"]`, "DE"),
		waitJS(`document.querySelector('select[name="country"] option[value="DE"]').textContent === 'Germany (DE)'`),
	)
	b.shot(t, dora, "withheld-0-signup")
	do(t, dora, "finish signing up",
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar .dialogs`)),
	)
	doraAPI := &apiClient{t: t, base: s.URL, token: eval[string](t, dora, `localStorage.getItem('kurir.token')`)}
	var me struct {
		Country string `json:"country"`
	}
	doraAPI.call("GET", "/me", nil, &me)
	if me.Country != "DE" {
		t.Fatalf("dora declares %q, want DE", me.Country)
	}
	for _, c := range []*apiClient{doraAPI, fritz} {
		c.call("POST", fmt.Sprintf("/chats/%d/join", news), nil, nil)
		c.call("POST", fmt.Sprintf("/chats/%d/join", forum), nil, nil)
	}
	r, err := s.msg.Restrict(t.Context(), messaging.Restriction{Chat: messaging.ChatID(news), Scope: []string{"DE"},
		Category: "hate_speech", Reason: "Hate speech", LegalRef: "§ 130 StGB"})
	if err != nil {
		t.Fatal(err)
	}

	do(t, dora, "see the channel withheld in the chat list",
		chromedp.Reload(),
		waitText(".dialogs a.dialog.withheld .d-title", "Nordlicht News"),
		waitText(".dialogs a.dialog.withheld .d-last", "Not available in your country (DE)"),
	)
	do(t, dora, "open it: why, not what",
		clickText(".dialogs .d-title", "Nordlicht News"),
		waitText(".chat-unavailable.withheld h3", "This channel is not available in your country"),
		waitPlainText(".chat-unavailable.withheld", "Germany (DE)"),
		waitPlainText(".chat-unavailable.withheld", "Reason: Hate speech"),
		waitPlainText(".chat-unavailable.withheld", "Law: § 130 StGB"),
		waitJS(`document.querySelector('.composer').hidden && !document.querySelector('.messages .msg')`),
	)
	do(t, dora, "wait a moment", chromedp.Sleep(300*time.Millisecond))
	noErrorToasts(t, dora, "a withheld channel")
	if txt := eval[string](t, dora, `document.body.innerText`); strings.Contains(txt, "Welcome to Nordlicht") {
		t.Errorf("a reader in Germany sees the withheld channel's post")
	}
	b.shot(t, dora, "withheld-1-channel")

	do(t, dora, "read the forum",
		openChat("Open Forum"),
		waitText(".messages .text", "A forbidden slogan"),
	)
	rita, _ := register(t, s.URL, "rita_reader")
	rita.call("POST", fmt.Sprintf("/chats/%d/join", forum), nil, nil)
	rita.report(forum, slogan, "hate_speech", "Banned slogan.")
	caseID := desk.caseAbout(func(s deskSubject, _ []string) bool { return s.Kind == "message" && s.ChatID == forum })
	desk.api.call("POST", fmt.Sprintf("/moderation/cases/%d/actions", caseID), map[string]any{
		"kind": "restrict", "ground": "illegal", "legal_reference": "§ 130 StGB", "facts": "A slogan of a banned organisation."}, nil)
	do(t, dora, "see the message withheld live, by country rules",
		waitPlainText(".msg.withheld .withheld-note", "This message is not available in your country (DE): Hate speech (§ 130 StGB)"),
		waitText(".messages .text", "Good morning, forum"),
		waitJS(lastLine("Open Forum")+`.includes('Not available in your country (DE)')`),
	)
	if txt := eval[string](t, dora, `document.querySelector('.messages').innerText`); strings.Contains(txt, "forbidden slogan") {
		t.Errorf("a reader in Germany still sees the withheld message: %q", txt)
	}
	b.shot(t, dora, "withheld-2-message")
	do(t, dora, "reload: still withheld, and the chat list says so too",
		chromedp.Reload(),
		waitPlainText(".msg.withheld .withheld-note", "(§ 130 StGB)"),
		waitJS(lastLine("Open Forum")+`.includes('Not available in your country (DE)')`),
	)
	do(t, dora, "look the withheld channel up by its @name",
		chromedp.SendKeys(chromedp.CSS(`input.search`), "@nordlicht"),
		waitText(".results .withheld-result", "Not available in your country"),
		waitText(".results .withheld-result", "§ 130 StGB"),
	)
	noErrorToasts(t, dora, "searching a withheld @name")
	b.shot(t, dora, "withheld-3-search")

	fr := b.page(t, 1100, 720)
	logIn(t, fr, s.URL, "fritz_fr")
	do(t, fr, "read both from France",
		openChat("Nordlicht News"),
		waitText(".messages .text", "Welcome to Nordlicht"),
		openChat("Open Forum"),
		waitText(".messages .text", "A forbidden slogan"),
	)
	if n := eval[int](t, fr, `document.querySelectorAll('.withheld, .withheld-note').length`); n != 0 {
		t.Errorf("a reader in France sees %d withheld notices, want none", n)
	}
	b.shot(t, fr, "withheld-4-france")

	do(t, dora, "open the withheld channel again",
		chromedp.SendKeys(chromedp.CSS(`input.search`), kb.Escape),
		clickText(".dialogs .d-title", "Nordlicht News"),
		waitPlainText(".chat-unavailable.withheld", "Reason: Hate speech"),
	)
	if err := s.msg.Unrestrict(t.Context(), r.ID); err != nil {
		t.Fatal(err)
	}
	do(t, dora, "see it back live when the restriction is lifted",
		waitText(".messages .text", "Welcome to Nordlicht"),
		waitJS(`document.querySelector('.chat-unavailable').hidden && !document.querySelector('.dialogs a.dialog.withheld .d-title')`),
	)
	noErrorToasts(t, dora, "after the restriction was lifted")

	do(t, dora, "read the notice in Arabic, right to left",
		chromedp.Click(chromedp.CSS(`a[href="/settings"]`)),
		waitText("form.country-form select[name=\"country\"] option[value=\"DE\"]", "Germany (DE)"),
		waitJS(`document.querySelector('form.country-form select[name="country"]').value === 'DE'`),
		pickLanguage("ar"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		clickText(".dialogs .d-title", "Open Forum"),
		waitPlainText(".msg.withheld .withheld-note", "هذه الرسالة غير متاحة في دولتك (DE)"),
		waitPlainText(".msg.withheld .withheld-note", "(§ 130 StGB)"),
		waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
	)
	b.shot(t, dora, "withheld-5-message-ar")
}

// TestBrowserWithdrawnMarket: where the operator has withdrawn, a person
// whose account declares that country is told so at login, in their
// language (Arabic, right to left, in the server's words) and in full
// screen; someone logged in who declares it in their settings is told the
// same at once, and can log out.
func TestBrowserWithdrawnMarket(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{jurisdictions: true})
	registerIn(t, s.URL, "reza_ir", "IR")
	register(t, s.URL, "lena_anywhere")
	if _, err := s.laws.SetPolicy(t.Context(), moderation.Staff{Role: kurir.RoleAdmin}, jurisdiction.Policy{
		Country: "IR", Status: jurisdiction.Withdrawn}); err != nil {
		t.Fatal(err)
	}

	ctx := b.page(t, 1000, 720)
	setLanguages(t, ctx, "ar")
	do(t, ctx, "log in from a withdrawn market, in Arabic",
		chromedp.Navigate(s.URL+"/"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "reza_ir"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitText(".withdrawn h1", "kurir غير متاح حيث أنت"),
		waitText(".withdrawn-detail", "انسحب المشغّل من هذا السوق"),
		waitText(".withdrawn-detail", "(IR)"),
		waitJS(`document.activeElement && document.activeElement.id === 'withdrawn-title'`),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('.sidebar, form').length`); n != 0 {
		t.Errorf("the withdrawn screen shows %d other parts of the app, want none", n)
	}
	if tok := eval[string](t, ctx, `localStorage.getItem('kurir.token') || ''`); tok != "" {
		t.Errorf("a refused login left a token behind")
	}
	b.shot(t, ctx, "withdrawn-1-login-ar")
	do(t, ctx, "go back to the login form",
		chromedp.Click(chromedp.CSS(`.withdrawn .btn.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
	)

	lena := b.page(t, 1000, 720)
	logIn(t, lena, s.URL, "lena_anywhere")
	do(t, lena, "declare Iran in the settings",
		chromedp.Click(chromedp.CSS(`a[href="/settings"]`)),
		waitJS(`document.querySelector('form.country-form select[name="country"]').value === ''`),
		chooseOption(`form.country-form select[name="country"]`, "IR"),
	)
	b.shot(t, lena, "withdrawn-2-settings-country")
	do(t, lena, "save it",
		chromedp.Click(chromedp.CSS(`form.country-form button[type="submit"]`)),
		waitText(".withdrawn h1", "kurir is not available where you are"),
		waitText(".withdrawn-detail", "the operator has withdrawn from this market"),
	)
	b.shot(t, lena, "withdrawn-3-settings")
	do(t, lena, "reload: still refused",
		chromedp.Reload(),
		waitText(".withdrawn h1", "kurir is not available where you are"),
	)
	do(t, lena, "log out",
		clickText(".withdrawn button", "Log out"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		waitJS(`location.pathname === '/login' && !localStorage.getItem('kurir.token')`),
	)
}
