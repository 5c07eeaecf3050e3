package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// try makes an API call that may be refused, and returns its status and body.
func (c *apiClient) try(method, path string, body any) (int, string) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+"/api/v1"+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBrowserPeopleInGroups checks that a person met in a group can be
// dealt with where they are shown: their name on a message and their row
// in the member list open their profile, from which they can be blocked
// (and are then refused in private), unblocked, reported or written to.
func TestBrowserPeopleInGroups(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	ben, benID := register(t, s.URL, "benito")
	ana, anaID := register(t, s.URL, "anabel") // also her other device
	var group struct {
		ID int64 `json:"id"`
	}
	ben.call("POST", "/chats/groups", map[string]any{"title": "Book club", "members": []int64{anaID}}, &group)
	ben.call("POST", fmt.Sprintf("/chats/%d/messages", group.ID), map[string]string{"text": "Next book?", "idempotency_key": "k1"}, nil)

	ctx := b.page(t, 1100, 720)
	logIn(t, ctx, s.URL, "anabel")
	do(t, ctx, "open the group and click the sender's name",
		openChat("Book club"),
		waitText(".messages .text", "Next book?"),
		chromedp.Click(chromedp.CSS(`.messages button.sender`)),
		waitText("dialog h2", "benito"),
		chromedp.WaitVisible(chromedp.CSS(`dialog [data-action="private-chat"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog [data-action="report-user"]`)),
	)
	b.shot(t, ctx, "people-1-profile-from-message")
	do(t, ctx, "block him",
		chromedp.Click(chromedp.CSS(`dialog [data-action="block"]`)),
		clickText(`dialog[open]:last-of-type .actions button`, "Block"), // the confirmation
		waitText("dialog [data-action=block]", "Unblock"),
		waitText("dialog .block-section", "You blocked benito"),
	)
	b.shot(t, ctx, "people-2-blocked")
	var private struct {
		ID int64 `json:"id"`
	}
	ben.call("PUT", fmt.Sprintf("/users/%d/chat", anaID), nil, &private)
	if code, body := ben.try("POST", fmt.Sprintf("/chats/%d/messages", private.ID), map[string]string{"text": "hi", "idempotency_key": "k2"}); code != http.StatusForbidden || !strings.Contains(body, `"reason":"blocked"`) {
		t.Errorf("a blocked person's private message: %d %s, want 403 blocked", code, body)
	}

	do(t, ctx, "find him in the member list, unblock him and report him",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog[open]').close()`),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog .member-open`)),
		chromedp.Click(chromedp.CSS(`dialog .member-open`)),
		waitJS(`document.querySelectorAll('dialog[open]').length === 2`),
		waitText("dialog[open]:last-of-type [data-action=block]", "Unblock"),
		chromedp.Click(chromedp.CSS(`dialog[open]:last-of-type [data-action="block"]`)),
		waitText("dialog[open]:last-of-type [data-action=block]", "Block"),
	)
	if code, body := ben.try("POST", fmt.Sprintf("/chats/%d/messages", private.ID), map[string]string{"text": "hi", "idempotency_key": "k3"}); code != http.StatusCreated && code != http.StatusOK {
		t.Errorf("after the unblock, his private message: %d %s", code, body)
	}
	do(t, ctx, "report him from his profile",
		chromedp.Click(chromedp.CSS(`dialog[open]:last-of-type [data-action="report-user"]`)),
		waitText("dialog[open] h2", "Report a person"),
	)
	b.shot(t, ctx, "people-3-report-from-members")
	do(t, ctx, "write to him in private from the group's member list",
		chromedp.Evaluate[chromedp.Void](`for (const d of document.querySelectorAll('dialog[open]')) d.close()`),
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog .member-open`)),
		chromedp.Click(chromedp.CSS(`dialog .member-open`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open]:last-of-type [data-action="private-chat"]`)),
		chromedp.Click(chromedp.CSS(`dialog[open]:last-of-type [data-action="private-chat"]`)),
		waitJS(fmt.Sprintf(`location.pathname === '/chats/%d' && !document.querySelector('dialog[open]')`, private.ID)),
		waitText(".messages .text", "hi"),
	)

	// A block made on her other device shows in his profile here too.
	ana.call("PUT", fmt.Sprintf("/users/%d/block", benID), nil, nil)
	do(t, ctx, "see a block made on another device",
		chromedp.Click(chromedp.CSS(`.conv-head button[aria-label="Chat info"]`)),
		waitText("dialog[open] h2", "benito"),
		waitText("dialog[open] [data-action=block]", "Unblock"),
		waitText("dialog[open] .block-section", "You blocked benito"),
	)
}

// TestBrowserAccountSettings changes the display name and the password
// (which logs out the other devices, as the form says) and deletes the
// account, which logs this device out too.
func TestBrowserAccountSettings(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	other, _ := register(t, s.URL, "rosalind") // another device of the same account
	ctx := b.page(t, 1100, 900)
	logIn(t, ctx, s.URL, "rosalind")
	do(t, ctx, "change the display name",
		chromedp.Click(chromedp.CSS(`a[href="/settings"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.profile-form input[name="display_name"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.profile-form input[name="display_name"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`.profile-form input[name="display_name"]`), "Rosalind F."),
		chromedp.Click(chromedp.CSS(`.profile-form button[type="submit"]`)),
		waitText(".toasts", "Your name was saved."),
	)
	var me struct {
		DisplayName string `json:"display_name"`
	}
	other.call("GET", "/me", nil, &me)
	if me.DisplayName != "Rosalind F." {
		t.Errorf("display name after saving: %q", me.DisplayName)
	}
	do(t, ctx, "change the password with a wrong current one",
		waitText(".settings", "logs out every other device"),
		chromedp.SendKeys(chromedp.CSS(`.password-form input[name="current_password"]`), "not-my-password"),
		chromedp.SendKeys(chromedp.CSS(`.password-form input[name="new_password"]`), "brave-heron-orchard-4"),
		chromedp.Click(chromedp.CSS(`.password-form button[type="submit"]`)),
		waitText(".password-form .field-error", "The password is wrong."),
	)
	b.shot(t, ctx, "settings-1-wrong-password")
	do(t, ctx, "change the password",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.password-form input[name="current_password"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`.password-form input[name="current_password"]`), password),
		chromedp.Click(chromedp.CSS(`.password-form button[type="submit"]`)),
		waitText(".toasts", "Your other devices were logged out."),
		waitJS(`document.querySelector('.password-form input[name="new_password"]').value === ''`),
	)
	if code, _ := other.try("GET", "/me", nil); code != http.StatusUnauthorized {
		t.Errorf("the other device after a password change: %d, want 401", code)
	}
	do(t, ctx, "delete the account, with the password",
		chromedp.Click(chromedp.CSS(`.delete-account`)),
		waitText("dialog", "deleted in 7 days"),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="password"]`), "brave-heron-orchard-4"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
		waitJS(`location.pathname === '/login'`),
		waitText(".toasts", "Your account will be deleted on"),
	)
	b.shot(t, ctx, "settings-2-deleted")
	if got := eval[string](t, ctx, `localStorage.getItem('kurir.token') || ''`); got != "" {
		t.Errorf("a token is still kept after the deletion: %q", got)
	}
}
