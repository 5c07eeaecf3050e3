package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir"
	"kurir/account"
	"kurir/jurisdiction"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// testPlaces is the test IP table: each country has ten loopback addresses, and
// a range of IPv6 documentation addresses is in Germany.
const testPlaces = `start,end,country
127.0.0.10,127.0.0.19,DE
127.0.0.20,127.0.0.29,FR
127.0.0.30,127.0.0.39,IR
127.0.0.40,127.0.0.49,AT
127.0.0.50,127.0.0.59,US
127.0.0.60,127.0.0.69,RU
2001:db8::,2001:db8::ffff,DE
`

// The addresses requests come "from" (through the trusted proxy at 127.0.0.1).
const (
	inGermany = "127.0.0.11"
	inFrance  = "127.0.0.21"
	inIran    = "127.0.0.31"
	inAustria = "127.0.0.41"
	inUS      = "127.0.0.51"
	inRussia  = "127.0.0.61"
)

// from makes a request as if from ip: the harness's proxy names it.
func (h *harness) from(t testing.TB, ip, method, path, token string, body any) response {
	t.Helper()
	return h.send(t, call{method: method, path: path, token: token, body: body, header: http.Header{"X-Forwarded-For": {ip}}})
}

// liveFrom opens the live stream from ip.
func (h *harness) liveFrom(t *testing.T, token, ip string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(h.url, "http") + "/api/v1/live"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"kurir.v1", "kurir.token." + token},
		HTTPHeader:   http.Header{"X-Forwarded-For": {ip}},
	})
	if err != nil {
		t.Fatalf("dial live from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

type withheldJSON struct {
	Country  string `json:"country"`
	Reason   string `json:"reason"`
	LegalRef string `json:"legal_reference"`
}

type placedMessage struct {
	Seq      int64         `json:"seq"`
	Text     string        `json:"text"`
	Media    *struct{}     `json:"media"`
	Withheld *withheldJSON `json:"withheld"`
}

// restrictByModeration reports subject and has a moderator restrict it in
// countries (none: by country rules), as the console does.
func (h *harness) restrictByModeration(t *testing.T, reporter, mod person, subject subjectJSON, reason string, countries []string, law string) actionJSON {
	t.Helper()
	r := h.report(t, reporter, subject, reason)
	var a actionJSON
	body := map[string]any{"kind": "restrict", "facts": "Illegal where named.", "ground": "illegal", "legal_reference": law}
	if countries != nil {
		body["countries"] = countries
	}
	h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", r.CaseID), mod.token, body).want(t, "restrict", http.StatusCreated, &a)
	return a
}

// TestChannelRestrictedInOneCountry: a channel withheld in Germany is
// unavailable there on every path — lookup, history, sync, live push,
// media, search — with a notice saying why, and reads as before in France.
// Lifting the restriction brings it back.
func TestChannelRestrictedInOneCountry(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		owner, de, fr := h.person(t, "owneress"), h.person(t, "dieter"), h.person(t, "francoise")
		mod := h.staff(t, "modesta", kurir.RoleModerator)
		ch, first := h.publicChannel(t, owner, "lawnews", "the first post about banned symbols", de, fr)

		// A photo posted before the restriction.
		var up struct {
			ID int64 `json:"id"`
		}
		h.upload(t, owner.token, "?name=p.png", "image/png", smallPNG(t)).want(t, "upload", http.StatusCreated, &up)
		var photo messageJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), owner.token,
			map[string]any{"media_id": up.ID, "idempotency_key": "photo"}).want(t, "post photo", http.StatusCreated, &photo)
		mediaPath := fmt.Sprintf("/api/v1/media/%d/content", up.ID)
		h.from(t, inGermany, "GET", mediaPath, de.token, nil).want(t, "photo from Germany before", http.StatusOK, nil)

		a := h.restrictByModeration(t, de, mod, subjectJSON{Kind: "chat", ChatID: ch.ID}, "hate_speech", []string{"de"}, "§ 86a StGB")
		if a.Kind != "restrict" {
			t.Fatalf("action = %+v", a)
		}

		// Germany: every path refuses or leaves it out, and says why.
		withheld := problemWant{status: http.StatusUnavailableForLegalReasons, code: "unavailable_for_legal_reasons", reason: "withheld_in_country"}
		p := h.from(t, inGermany, "GET", "/api/v1/public-chats/lawnews", de.token, nil).wantProblem(t, "lookup from Germany", withheld)
		if !strings.Contains(p.Detail, "(DE)") || !strings.Contains(p.Detail, "§ 86a StGB") {
			t.Errorf("the notice %q does not name the country and the law", p.Detail)
		}
		h.from(t, inGermany, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), de.token, nil).wantProblem(t, "history from Germany", withheld)
		h.from(t, inGermany, "GET", fmt.Sprintf("/api/v1/chats/%d/updates?seq=0", ch.ID), de.token, nil).wantProblem(t, "sync from Germany", withheld)
		h.from(t, inGermany, "GET", mediaPath, de.token, nil).wantProblem(t, "photo from Germany", problemWant{status: http.StatusNotFound, code: "not_found"})
		var found struct{ Chats []chatJSON }
		h.from(t, inGermany, "GET", "/api/v1/search/chats?q=lawnews", de.token, nil).want(t, "search from Germany", http.StatusOK, &found)
		if len(found.Chats) != 0 {
			t.Errorf("search from Germany found %+v", found.Chats)
		}
		var msgs struct{ Messages []placedMessage }
		h.from(t, inGermany, "GET", "/api/v1/search/messages?q=symbols", de.token, nil).want(t, "message search from Germany", http.StatusOK, &msgs)
		if len(msgs.Messages) != 0 {
			t.Errorf("message search from Germany found %+v", msgs.Messages)
		}
		var chat struct {
			Withheld *withheldJSON `json:"withheld"`
		}
		h.from(t, inGermany, "GET", fmt.Sprintf("/api/v1/chats/%d", ch.ID), de.token, nil).want(t, "chat from Germany", http.StatusOK, &chat)
		if chat.Withheld == nil || chat.Withheld.Country != "DE" {
			t.Errorf("the chat from Germany does not say it is withheld there: %+v", chat.Withheld)
		}
		h.from(t, inGermany, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), owner.token,
			map[string]any{"text": "posted from Germany", "idempotency_key": "de-post"}).wantProblem(t, "owner posts from Germany", withheld)

		// France: everything as before.
		h.from(t, inFrance, "GET", "/api/v1/public-chats/lawnews", fr.token, nil).want(t, "lookup from France", http.StatusOK, nil)
		h.from(t, inFrance, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), fr.token, nil).want(t, "history from France", http.StatusOK, &msgs)
		if len(msgs.Messages) != 2 || msgs.Messages[1].Text != first.Text {
			t.Errorf("history from France = %+v", msgs.Messages)
		}
		h.from(t, inFrance, "GET", mediaPath, fr.token, nil).want(t, "photo from France", http.StatusOK, nil)
		h.from(t, inFrance, "GET", "/api/v1/search/messages?q=symbols", fr.token, nil).want(t, "message search from France", http.StatusOK, &msgs)
		if len(msgs.Messages) != 1 {
			t.Errorf("message search from France found %d messages, want 1", len(msgs.Messages))
		}

		// Live: a new post reaches France with its text, Germany without.
		liveDE, liveFR := h.liveFrom(t, de.token, inGermany), h.liveFrom(t, fr.token, inFrance)
		readFrame(t, liveDE) // hello
		readFrame(t, liveFR)
		h.sendMsg(t, owner, ch.ID, "a second post about banned symbols", "second")
		if got := readPlacedFrame(t, liveFR); got.Text != "a second post about banned symbols" || got.Withheld != nil {
			t.Errorf("France got %+v live", got)
		}
		if got := readPlacedFrame(t, liveDE); got.Text != "" || got.Withheld == nil || got.Withheld.Country != "DE" {
			t.Errorf("Germany got %+v live, want the post withheld", got)
		}

		// An IPv6 address in Germany is in Germany.
		h.from(t, "2001:db8::7", "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), de.token, nil).wantProblem(t, "history from a German IPv6 address", withheld)

		// Reversed, it is back in Germany.
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", a.ID), mod.token, map[string]any{"reason": "court order lifted"}).
			want(t, "reverse", http.StatusNoContent, nil)
		h.from(t, inGermany, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), de.token, nil).want(t, "history from Germany after", http.StatusOK, &msgs)
		if len(msgs.Messages) != 3 {
			t.Errorf("history from Germany after the reversal has %d messages, want 3", len(msgs.Messages))
		}
		h.from(t, inGermany, "GET", mediaPath, de.token, nil).want(t, "photo from Germany after", http.StatusOK, nil)
	}, schema...)
}

// readPlacedFrame reads live frames until a message event, and returns its message.
func readPlacedFrame(t *testing.T, c *websocket.Conn) placedMessage {
	t.Helper()
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := c.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("read live frame: %v", err)
		}
		var f struct {
			Event struct {
				Kind    string         `json:"kind"`
				Message *placedMessage `json:"message"`
			} `json:"event"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if f.Event.Kind == "message" && f.Event.Message != nil {
			return *f.Event.Message
		}
	}
	t.Fatal("no message event in 10 frames")
	return placedMessage{}
}

// TestEUWideRuleByCountryRules: a rule that makes a category illegal in the
// EU withholds a message restricted "by country rules" in every EU member,
// and nowhere else; a rule added later for another country extends it there.
func TestEUWideRuleByCountryRules(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		admin := moderation.Staff{Role: kurir.RoleAdmin}
		if _, err := h.laws.AddRule(t.Context(), admin, jurisdiction.Rule{Scope: "eu", Category: moderation.HateSpeech,
			LegalRef: "Framework Decision 2008/913/JHA"}); err != nil {
			t.Fatal(err)
		}
		owner, reader := h.person(t, "publisher"), h.person(t, "everyreader")
		mod := h.staff(t, "moderata", kurir.RoleModerator)
		ch, post := h.publicChannel(t, owner, "eunews", "words that some laws forbid", reader)
		h.sendMsg(t, owner, ch.ID, "harmless weather report", "weather")

		a := h.restrictByModeration(t, reader, mod, subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}, "hate_speech", nil, "")
		_ = a
		history := func(ip string) []placedMessage {
			t.Helper()
			var page struct{ Messages []placedMessage }
			h.from(t, ip, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), reader.token, nil).want(t, "history from "+ip, http.StatusOK, &page)
			return page.Messages
		}
		for _, ip := range []string{inGermany, inAustria, inFrance} {
			ms := history(ip)
			if len(ms) != 2 || ms[0].Text != "harmless weather report" {
				t.Fatalf("history from %s = %+v", ip, ms)
			}
			if w := ms[1].Withheld; w == nil || ms[1].Text != "" || w.LegalRef != "Framework Decision 2008/913/JHA" {
				t.Errorf("from %s the post reads %+v, withheld %+v; want it withheld under the EU rule", ip, ms[1], w)
			}
		}
		if ms := history(inUS); ms[1].Withheld != nil || ms[1].Text != post.Text {
			t.Errorf("from the US the post reads %+v, want it as posted", ms[1])
		}
		// A rule for the US, added afterwards, withholds it there too.
		if _, err := h.laws.AddRule(t.Context(), admin, jurisdiction.Rule{Scope: "US", Category: moderation.HateSpeech, LegalRef: "a test statute"}); err != nil {
			t.Fatal(err)
		}
		if ms := history(inUS); ms[1].Withheld == nil || ms[1].Withheld.LegalRef != "a test statute" {
			t.Errorf("after a US rule, from the US the post reads %+v", ms[1])
		}
		// Sync carries it withheld too.
		var cu struct {
			Events []struct {
				Kind    string         `json:"kind"`
				Message *placedMessage `json:"message"`
			} `json:"events"`
		}
		h.from(t, inAustria, "GET", fmt.Sprintf("/api/v1/chats/%d/updates?seq=0", ch.ID), reader.token, nil).want(t, "sync from Austria", http.StatusOK, &cu)
		for _, e := range cu.Events {
			if e.Message != nil && e.Message.Seq == post.Seq && (e.Message.Withheld == nil || e.Message.Text != "") {
				t.Errorf("sync from Austria carries the post as %+v", e.Message)
			}
		}
	}, schema...)
}

// TestWithdrawnMarket: where the operator has withdrawn, nobody can sign up
// or log in, by where they connect from or the country their account
// declares, and sessions already open stop working; each refusal explains
// itself in the reader's language. The accounts are kept.
func TestWithdrawnMarket(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		before := h.person(t, "arashbefore")
		declared := h.register(t, "declaredir")
		if _, err := h.svc.UpdateProfile(t.Context(), kurir.UserID(declared.ID), accountCountry("IR")); err != nil {
			t.Fatal(err)
		}
		if _, err := h.laws.SetPolicy(t.Context(), moderation.Staff{Role: kurir.RoleAdmin}, jurisdiction.Policy{
			Country: "IR", Status: jurisdiction.Withdrawn, Note: "See our blog."}); err != nil {
			t.Fatal(err)
		}
		withdrawn := problemWant{status: http.StatusUnavailableForLegalReasons, code: "unavailable_for_legal_reasons", reason: "market_withdrawn"}
		p := h.from(t, inIran, "POST", "/api/v1/sessions", "", map[string]string{"username": "arashbefore", "password": password}).
			wantProblem(t, "login from Iran", withdrawn)
		if !strings.Contains(p.Detail, "Iran") || !strings.Contains(p.Detail, "(IR)") || !strings.Contains(p.Detail, "kept") || !strings.Contains(p.Detail, "See our blog.") {
			t.Errorf("refusal %q does not explain itself", p.Detail)
		}
		r := h.send(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"username": "arashbefore", "password": password},
			header: http.Header{"X-Forwarded-For": {inIran}, "Accept-Language": {"ru-RU,ru;q=0.9"}}})
		if p := r.wantProblem(t, "login from Iran in Russian", withdrawn); !strings.Contains(p.Detail, "недоступен") {
			t.Errorf("the Russian refusal reads %q", p.Detail)
		}
		h.from(t, inIran, "GET", "/api/v1/me", before.token, nil).wantProblem(t, "a session used from Iran", withdrawn)
		h.from(t, inIran, "POST", "/api/v1/accounts", "", map[string]string{"username": "newcomer", "password": password}).
			wantProblem(t, "sign-up from Iran", withdrawn)
		h.from(t, inFrance, "POST", "/api/v1/accounts", "", map[string]string{"username": "newcomer", "password": password, "country": "ir"}).
			wantProblem(t, "sign-up declaring Iran", withdrawn)
		// The account that declares Iran is refused wherever it logs in
		// from, but only once its password is proven.
		h.from(t, inFrance, "POST", "/api/v1/sessions", "", map[string]string{"username": "declaredir", "password": "wrong-password-1"}).
			wantProblem(t, "wrong password of an account in Iran", problemWant{status: http.StatusUnauthorized, code: "unauthenticated", reason: "wrong_credentials"})
		h.from(t, inFrance, "POST", "/api/v1/sessions", "", map[string]string{"username": "declaredir", "password": password}).
			wantProblem(t, "login of an account in Iran", withdrawn)
		// Elsewhere, others go on; the accounts are kept.
		h.from(t, inFrance, "GET", "/api/v1/me", before.token, nil).want(t, "the same session from France", http.StatusOK, nil)
		if _, err := h.svc.UserByID(t.Context(), kurir.UserID(declared.ID)); err != nil {
			t.Errorf("the account in Iran is gone: %v", err)
		}
		// The session can still be ended from Iran.
		h.from(t, inIran, "DELETE", "/api/v1/sessions/current", before.token, nil).want(t, "log out from Iran", http.StatusNoContent, nil)
	}, schema...)
}

// TestRestrictedMarketTurnsFeaturesOff: a restricted market refuses the
// features it turned off, and only those.
func TestRestrictedMarketTurnsFeaturesOff(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		owner := h.person(t, "ownerofnews")
		h.publicChannel(t, owner, "opennews", "hello")
		if _, err := h.laws.SetPolicy(t.Context(), moderation.Staff{Role: kurir.RoleAdmin}, jurisdiction.Policy{
			Country: "RU", Status: jurisdiction.Restricted, Off: []jurisdiction.Feature{jurisdiction.Discovery, jurisdiction.Uploads}}); err != nil {
			t.Fatal(err)
		}
		off := problemWant{status: http.StatusUnavailableForLegalReasons, code: "unavailable_for_legal_reasons", reason: "feature_unavailable"}
		h.from(t, inRussia, "GET", "/api/v1/public-chats/opennews", owner.token, nil).wantProblem(t, "lookup from Russia", off)
		h.from(t, inRussia, "GET", "/api/v1/search/chats?q=open", owner.token, nil).wantProblem(t, "search from Russia", off)
		h.send(t, call{method: "POST", path: "/api/v1/media?name=p.png", token: owner.token, body: smallPNG(t), contentType: "image/png",
			header: http.Header{"X-Forwarded-For": {inRussia}}}).wantProblem(t, "upload from Russia", off)
		// Still open there: reading and writing.
		h.from(t, inRussia, "GET", "/api/v1/dialogs", owner.token, nil).want(t, "chat list from Russia", http.StatusOK, nil)
		h.from(t, inFrance, "GET", "/api/v1/public-chats/opennews", owner.token, nil).want(t, "lookup from France", http.StatusOK, nil)
	}, schema...)
}

// accountCountry is a profile change that declares country c.
func accountCountry(c string) account.ProfileUpdate { return account.ProfileUpdate{Country: &c} }

// fromSocket makes a request over a connection from local address ip, with
// extra headers: the server sees ip as the socket's address.
func (h *harness) fromSocket(t *testing.T, ip, method, path string, body string, header http.Header) *http.Response {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, ip, err)
	}
	resp.Body.Close()
	return resp
}

// TestSocketAddressPlacesTheClient: without a proxy in front, the client is
// where its connection comes from, and it cannot move itself by naming
// another address in X-Forwarded-For: only trusted proxies are believed.
func TestSocketAddressPlacesTheClient(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	h := newHarness(t, db, options{places: testPlaces})
	h.register(t, "farida")
	if _, err := h.laws.SetPolicy(t.Context(), moderation.Staff{Role: kurir.RoleAdmin}, jurisdiction.Policy{Country: "IR", Status: jurisdiction.Withdrawn}); err != nil {
		t.Fatal(err)
	}
	login := `{"username":"farida","password":"` + password + `"}`
	if r := h.fromSocket(t, inIran, "POST", "/api/v1/sessions", login, http.Header{}); r.StatusCode != http.StatusUnavailableForLegalReasons {
		t.Errorf("login from an Iranian socket address: %d, want 451", r.StatusCode)
	}
	spoof := http.Header{"X-Forwarded-For": {inFrance}}
	if r := h.fromSocket(t, inIran, "POST", "/api/v1/sessions", login, spoof); r.StatusCode != http.StatusUnavailableForLegalReasons {
		t.Errorf("login from Iran claiming France: %d, want 451", r.StatusCode)
	}
	if r := h.fromSocket(t, inFrance, "POST", "/api/v1/sessions", login, http.Header{"X-Forwarded-For": {inIran}}); r.StatusCode != http.StatusCreated {
		t.Errorf("login from France claiming Iran: %d, want 201 (an untrusted header is ignored)", r.StatusCode)
	}
}
