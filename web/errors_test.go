package web_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserErrorsInLanguage checks that the server's refusals are told in
// the app's language, not in the server's English: a weak password, a taken
// username, a wrong password, text and files over the limits, and a person
// who blocks you, in Russian; then the same in Arabic, right to left.
func TestBrowserErrorsInLanguage(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{maxUpload: 64 << 10})
	boris, borisID := register(t, s.URL, "boris")
	olga, olgaID := register(t, s.URL, "olga")
	ctx := b.page(t, 1100, 720)
	setLanguages(t, ctx, "ru-RU")

	do(t, ctx, "sign up with a common password and a taken name",
		chromedp.Navigate(s.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "vera"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password\n"),
		waitText(".field-error", "слишком легко угадать"),
	)
	b.shot(t, ctx, "errors-ru-1-weak-password")
	do(t, ctx, "sign up as boris, who exists",
		chromedp.Evaluate[chromedp.Void](`(() => { for (const [n, v] of [['username', 'boris'], ['password', '']]) document.querySelector('input[name="' + n + '"]').value = v; })()`),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+"\n"),
		waitText(".field-error, .form-error", "Это имя уже занято"),
	)
	do(t, ctx, "log in with a wrong password",
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "olga"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not the password\n"),
		waitText(".form-error, .field-error", "Неверные данные для входа"),
	)
	b.shot(t, ctx, "errors-ru-2-wrong-login")

	var group struct {
		ID int64 `json:"id"`
	}
	olga.call("POST", "/chats/groups", map[string]any{"title": "Заметки"}, &group)
	logIn(t, ctx, s.URL, "olga")
	long := strings.Repeat("я", 4097)
	do(t, ctx, "send a text over 4,096 characters",
		chromedp.Navigate(fmt.Sprintf("%s/chats/%d", s.URL, group.ID)),
		waitText("#conv-title", "Заметки"),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('.composer-input'); i.value = `+jsString(long)+`; i.dispatchEvent(new Event('input')); i.focus(); })()`),
		pressEnter(),
		waitText(".composer-error", "Слишком длинно: не больше 4096 символов"),
	)
	b.shot(t, ctx, "errors-ru-3-too-long")
	if got := eval[string](t, ctx, `document.querySelector('.composer-input').value`); got != long {
		t.Errorf("after a refused send the box holds %d characters, want the %d typed", len([]rune(got)), 4097)
	}

	big := filepath.Join(t.TempDir(), "архив.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte{7}, 100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "choose a file over the server's limit: refused at once",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('.composer-input'); i.value = ''; i.dispatchEvent(new Event('input')); })()`),
		chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type="file"]`), []string{big}),
		waitText(".composer-error", "Файл «архив.bin» слишком большой: максимальный размер — 64 кБ"),
	)
	b.shot(t, ctx, "errors-ru-4-file-too-large")

	// Boris blocks olga: her message to him is refused, in Russian.
	var private struct {
		ID int64 `json:"id"`
	}
	olga.call("PUT", fmt.Sprintf("/users/%d/chat", borisID), nil, &private)
	boris.call("PUT", fmt.Sprintf("/users/%d/block", olgaID), nil, nil)
	do(t, ctx, "write to boris, who blocks her",
		chromedp.Navigate(fmt.Sprintf("%s/chats/%d", s.URL, private.ID)),
		waitText("#conv-title", "boris"),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), "Привет\n"),
		waitText(".composer-error", "Вы не можете писать этому человеку"),
	)
	b.shot(t, ctx, "errors-ru-5-blocked")

	// Refusals a test server does not easily provoke, worded from the
	// problem details the server sends with them.
	got := evalAsync[string](t, ctx, `(async () => {
		const api = await import(document.querySelector('link[href$="/api.js"]').href);
		const e = (p) => api.errorText(new api.ApiError(p));
		return [
			e({ status: 429, code: 'rate_limited', reason: 'too_many_attempts', retryAfter: 180, detail: 'Too many attempts.' }),
			e({ status: 403, code: 'forbidden', reason: 'quota_exceeded', limit: 1073741824, detail: 'Your files take' }),
			e({ status: 403, code: 'forbidden', reason: 'content_blocked', detail: 'This message cannot be posted' }),
			e({ status: 451, code: 'unavailable_for_legal_reasons', reason: 'withheld_in_country', country: 'DE', detail: 'This channel is not available' }),
			e({ status: 409, code: 'conflict', reason: 'some_new_reason', detail: 'The server says why.' }),
		].join('\n');
	})()`)
	for _, want := range []string{"через 3 минуты", "ГБ", "нарушает правила", "Недоступно в вашей стране (DE)", "The server says why."} {
		if !strings.Contains(got, want) {
			t.Errorf("worded refusals:\n%s\nwant one with %q", got, want)
		}
	}

	do(t, ctx, "the same refusal in Arabic",
		chromedp.Navigate(s.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`select[name="language"]`)),
		pickLanguage("ar"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.Navigate(fmt.Sprintf("%s/chats/%d", s.URL, private.ID)),
		chromedp.WaitVisible(chromedp.CSS(`.composer-input`)),
		chromedp.SendKeys(chromedp.CSS(`.composer-input`), " مرحبا"),
		pressEnter(),
		waitText(".composer-error", "لا يمكنك مراسلة هذا الشخص"),
	)
	b.shot(t, ctx, "errors-ar-1-blocked")
}
