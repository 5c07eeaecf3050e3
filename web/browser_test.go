package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary: $KURIR_CHROMIUM, then the
// usual names. Debian's package is "chromium" (/usr/bin/chromium).
func chromium() string {
	if p := os.Getenv("KURIR_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium process. Each page it opens may have a
// browser context of its own: a separate profile, as a second person on
// another computer would have.
type browser struct {
	ctx context.Context
	t   testing.TB
	dir string // where screenshots go

	mu     sync.Mutex
	errors []string
}

// newBrowser starts Chromium for the test, or skips it if there is none.
func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("no Chromium found (install Debian's chromium package, or set KURIR_CHROMIUM): skipping the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium keeps trying to reach Google's services.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 720),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	dir := os.Getenv("KURIR_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, "web")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &browser{ctx: ctx, t: t, dir: dir}
}

// page opens a tab in a fresh browser context (its own storage, as another
// person's computer would have), sized width×height.
func (b *browser) page(t testing.TB, width, height int64) context.Context {
	t.Helper()
	return b.open(t, b.ctx, width, height, chromedp.WithNewBrowserContext())
}

// tab opens another tab in the browser context of ctx (shared storage: a
// second tab of the same person).
func (b *browser) tab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	return b.open(t, ctx, 1100, 720)
}

// open opens a tab that fails the test on any uncaught script error or
// console.error call.
func (b *browser) open(t testing.TB, parent context.Context, width, height int64, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	note := func(s string) { mu.Lock(); problems = append(problems, s); mu.Unlock() }
	opts = append(opts, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			note("uncaught script error: " + msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				note("console.error: " + strings.Join(parts, " "))
			}
		}
	}))
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(func() {
		cancel()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Error(p)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// shot saves a screenshot of the page as name.png.
func (b *browser) shot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

// do runs actions with a deadline, failing the test with what was being
// done and the page's text.
func do(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// Generous: under -race on two busy cores, a step of several clicks
	// and page loads has taken over ten seconds.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		ectx, ecancel := context.WithTimeout(ctx, 2*time.Second)
		defer ecancel()
		body, _ := chromedp.Run(ectx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage text: %.2000s", what, err, body)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return chromedp.Void{}, err
	}
}

// waitText waits until an element matching css contains text.
func waitText(css, text string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.textContent.includes(%s))`, jsString(css), jsString(text)))
}

// signUp creates an account through the sign-up form and waits for the chat list.
func signUp(t testing.TB, ctx context.Context, base, username, display string) {
	t.Helper()
	do(t, ctx, "sign up "+username,
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="display_name"]`), display),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar .dialogs`)),
	)
}

const password = "wet-otter-lantern-9"

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pressEnter presses Enter in the focused element as a person does: the
// page sees the key go down and up. (SendKeys's "\n" also sends a character
// event, which types a newline even where the page handles the key.)
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
