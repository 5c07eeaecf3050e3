package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// interactiveRoles are the roles of what a person operates; each needs an
// accessible name, or a screen reader says only "button".
var interactiveRoles = map[string]bool{
	"button": true, "link": true, "textbox": true, "searchbox": true, "checkbox": true, "radio": true,
	"combobox": true, "listbox": true, "menuitem": true, "menuitemcheckbox": true, "menuitemradio": true,
	"option": true, "slider": true, "spinbutton": true, "switch": true, "tab": true,
}

// auditA11y checks the page as it is now: every control the browser's
// accessibility tree shows has a name (as Chromium computes it, from
// labels, aria-*, alt, title and content), no two elements share an ID, and
// nothing sets a positive tabindex (which breaks the tab order).
func auditA11y(t *testing.T, ctx context.Context, screen string) {
	t.Helper()
	tree, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatalf("%s: accessibility tree: %v", screen, err)
	}
	str := func(v *accessibility.Value) string {
		if v == nil || len(v.Value) == 0 {
			return ""
		}
		var s string
		if json.Unmarshal([]byte(v.Value), &s) != nil {
			return ""
		}
		return s
	}
	controls := 0
	for _, n := range tree.Nodes {
		role := str(n.Role)
		if n.Ignored || !interactiveRoles[role] {
			continue
		}
		controls++
		if strings.TrimSpace(str(n.Name)) == "" {
			t.Errorf("%s: a %s without an accessible name (DOM node %d): %s", screen, role, n.BackendDOMNodeID, describeNode(ctx, n.BackendDOMNodeID))
		}
	}
	if controls < 5 {
		t.Errorf("%s: the accessibility tree shows only %d controls; the audit would prove nothing", screen, controls)
	}
	if dups := eval[[]string](t, ctx, `(() => { const seen = new Map();
		for (const e of document.querySelectorAll('[id]')) seen.set(e.id, (seen.get(e.id) || 0) + 1);
		return [...seen].filter(([, n]) => n > 1).map(([id]) => id); })()`); len(dups) > 0 {
		t.Errorf("%s: duplicate IDs %v", screen, dups)
	}
	if pos := eval[[]string](t, ctx, `[...document.querySelectorAll('[tabindex]')].filter((e) => e.tabIndex > 0).map((e) => e.outerHTML.slice(0, 80))`); len(pos) > 0 {
		t.Errorf("%s: positive tabindex on %v", screen, pos)
	}
}

// describeNode is the start of a DOM node's HTML, to say which it is.
func describeNode(ctx context.Context, id cdp.BackendNodeID) string {
	r, err := chromedp.Call(ctx, dom.GetOuterHTML, dom.GetOuterHTMLParams{BackendNodeID: id})
	if err != nil {
		return fmt.Sprintf("backend node %d", id)
	}
	return fmt.Sprintf("%.160s", r.OuterHTML)
}

// tabOrder presses Tab n times from the top of the page and returns, for
// each stop, what has focus: its zone of the screen and its name.
func tabOrder(t *testing.T, ctx context.Context, n int) [][2]string {
	t.Helper()
	// Tab starts from the skip link, the first thing on the page that
	// takes focus (the app puts focus in the message box on opening a
	// chat, and a Tab from there would go on from it).
	first := eval[string](t, ctx, `(() => { const tabbable = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
		.filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0 || e.classList.contains('skip'));
		return tabbable[0] ? tabbable[0].className : ''; })()`)
	if first != "skip" {
		t.Errorf("the first element Tab reaches is %q, want the skip link", first)
	}
	do(t, ctx, "start from the skip link", chromedp.Evaluate[chromedp.Void](`document.querySelector('.skip').focus()`))
	stops := [][2]string{{"skip", "skip link"}}
	for range n {
		_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
				if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, input.DispatchKeyEventParams{
					Type: typ, Key: "Tab", Code: "Tab", WindowsVirtualKeyCode: 9, NativeVirtualKeyCode: 9,
				}); err != nil {
					return err
				}
			}
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		stop := eval[[]string](t, ctx, `(() => { const e = document.activeElement;
			const zone = e.closest('.skip') ? 'skip' : e.closest('.sidebar') ? 'sidebar' : e.closest('.conv-head') ? 'header'
				: e.closest('.scroller') ? 'history' : e.closest('.conv-foot') ? 'composer' : e === document.body ? 'body' : 'other';
			return [zone, (e.getAttribute('aria-label') || e.textContent || e.name || e.tagName).trim().slice(0, 40)]; })()`)
		stops = append(stops, [2]string{stop[0], stop[1]})
		if stop[0] == "composer" && strings.Contains(stop[1], "Send") {
			break
		}
	}
	return stops
}

// TestBrowserAccessibility audits the main screens (the chat list with a
// conversation, its menus and info, settings, and the phone layout) for
// controls without names, duplicate IDs and positive tabindex, and checks
// that Tab goes from "skip to the chat" through the chat list, the
// conversation's header and history to the message box, in that order.
func TestBrowserAccessibility(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ana, _ := register(t, s.URL, "anabel")
	_, benID := register(t, s.URL, "benedikt")
	var club struct {
		ID int64 `json:"id"`
	}
	ana.call("POST", "/chats/groups", map[string]any{"title": "Book club", "members": []int64{benID}}, &club)
	for i, text := range []string{"welcome, see https://example.org", "ask @benedikt", "meeting at 8"} {
		ana.call("POST", fmt.Sprintf("/chats/%d/messages", club.ID), map[string]string{"text": text, "idempotency_key": fmt.Sprint(i)}, nil)
	}

	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "anabel")
	auditA11y(t, ctx, "chat list")
	do(t, ctx, "open the chat", openChat("Book club"), waitText(".messages .text", "meeting at 8"))
	auditA11y(t, ctx, "conversation")

	stops := tabOrder(t, ctx, 60)
	t.Logf("Tab stops: %v", stops)
	zones := map[string]int{"skip": 0, "sidebar": 1, "header": 2, "history": 3, "composer": 4}
	if len(stops) == 0 || stops[0][0] != "skip" {
		t.Errorf("the first Tab stop is %v, want the skip link", stops)
	}
	last := 0
	for _, s := range stops {
		z, ok := zones[s[0]]
		if !ok {
			t.Errorf("Tab stops at %v, outside the screen's parts (stops: %v)", s, stops)
			continue
		}
		if z < last {
			t.Errorf("Tab goes back from zone %d to %v (stops: %v)", last, s, stops)
		}
		last = z
	}
	if end := stops[len(stops)-1]; end[0] != "composer" || !strings.Contains(end[1], "Send") {
		t.Errorf("Tab never reached the message box's send button: stops %v", stops)
	}

	do(t, ctx, "open a message's menu", clickMenuOpen("meeting at 8"), chromedp.WaitVisible(chromedp.CSS(`[role=menu]`)))
	auditA11y(t, ctx, "message menu")
	do(t, ctx, "close it, open the chat's info",
		chromedp.KeyEvent("\x1b"),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open]`)),
	)
	auditA11y(t, ctx, "chat info")
	b.shot(t, ctx, "a11y-1-chat-info")
	do(t, ctx, "settings", chromedp.Navigate(s.URL+"/settings"), chromedp.WaitVisible(chromedp.CSS(`#settings-title`)))
	auditA11y(t, ctx, "settings")

	phone := b.page(t, 390, 780)
	logIn(t, phone, s.URL, "anabel")
	do(t, phone, "open the chat on a phone", openChat("Book club"), waitText(".messages .text", "meeting at 8"))
	auditA11y(t, phone, "phone conversation")
}

// clickMenuOpen opens the actions menu of the message containing text.
func clickMenuOpen(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll('.messages .msg')].find((m) => m.textContent.includes(%s)).querySelector('.more').click()`, jsString(text)))
}
