package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/legal/totp"
)

// TestBrowserTwoStepLogin: a person sets up an authenticator app in
// Settings (the key is shown once and a first code turns it on); logging in
// then asks for the code after the password, refuses a wrong one beside the
// field, and lets them in with the right one.
func TestBrowserTwoStepLogin(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	register(t, s.URL, "rosalind")
	ctx := b.page(t, 1100, 900)
	logIn(t, ctx, s.URL, "rosalind")
	do(t, ctx, "start setting up an authenticator app",
		chromedp.Click(chromedp.CSS(`a[href="/settings"]`)),
		waitText(".settings", "No authenticator app is set up."),
		chromedp.Click(chromedp.CSS(`.totp-start`)),
		chromedp.WaitVisible(chromedp.CSS(`.totp-secret`)),
	)
	uri := eval[string](t, ctx, `document.querySelector('.totp-uri').getAttribute('href')`)
	if !strings.HasPrefix(uri, "otpauth://totp/kurir:rosalind?secret=") {
		t.Errorf("the link is %q, want an otpauth:// URI for kurir:rosalind", uri)
	}
	key, err := totp.ParseKey(eval[string](t, ctx, `document.querySelector('.totp-secret').textContent`))
	if err != nil {
		t.Fatalf("the key shown: %v", err)
	}
	do(t, ctx, "turn it on with a code",
		chromedp.SendKeys(chromedp.CSS(`.totp-confirm-form input[name="code"]`), key.Code(time.Now())),
		chromedp.Click(chromedp.CSS(`.totp-confirm-form button[type="submit"]`)),
		waitText(".toasts", "Two-step login is on."),
		waitText(".settings", "An authenticator app is set up."),
	)
	b.shot(t, ctx, "totp-1-on")

	// A wrong code: none of the three steps Verify accepts around now.
	wrong := "000000"
	for _, d := range []time.Duration{-totp.Period, 0, totp.Period, 2 * totp.Period} {
		if key.Code(time.Now().Add(d)) == wrong {
			wrong = "999999"
		}
	}
	do(t, ctx, "log in again: the password, then a wrong code",
		chromedp.Evaluate[chromedp.Void](`localStorage.removeItem('kurir.token')`),
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		waitJS(`document.querySelector('input[name="totp"]').closest('.field').hidden`),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "rosalind"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="totp"]`)),
		waitText(".auth .field-error", "This account has an authenticator app."),
		chromedp.SendKeys(chromedp.CSS(`input[name="totp"]`), wrong+"\n"),
		waitText(".auth .field-error", "That code is wrong or was already used."),
	)
	b.shot(t, ctx, "totp-2-wrong-code")
	// The next step's code: the one that turned the app on was used.
	do(t, ctx, "log in with the right code",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name="totp"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`input[name="totp"]`), key.Code(time.Now().Add(totp.Period))+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar .dialogs`)),
	)
}

// TestBrowserConsoleAsksStaffForTwoStepLogin: a moderator without an
// authenticator app is told, in their language, to set one up, with the way
// to Settings, not that they are not staff.
func TestBrowserConsoleAsksStaffForTwoStepLogin(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{staff2FA: true})
	staffAccount(t, s, "magda", kurir.RoleModerator)
	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "magda")
	do(t, ctx, "open the console",
		chromedp.Navigate(s.URL+"/console"),
		waitText(".console-problem h2", "Set up two-step login first"),
		chromedp.WaitVisible(chromedp.CSS(`.console-problem a[href="/settings"]`)),
	)
	b.shot(t, ctx, "console-needs-2fa")
	do(t, ctx, "follow the way to Settings",
		chromedp.Click(chromedp.CSS(`.console-problem a[href="/settings"]`)),
		waitText(".settings", "No authenticator app is set up."),
	)
}
