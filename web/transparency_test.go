package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/legal"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency"
	"kurir/web"
)

// stoppedClock is a clock that always says the same time.
type stoppedClock struct{ t time.Time }

func (c stoppedClock) Now() time.Time { return c.t }

// trAction is one moderation action to record: its case opened before it
// by sinceSignal.
type trAction struct {
	kind, category, source, content, territory string
	autoDetect, autoDecide, reversed           bool
	sinceSignal                                time.Duration
}

// recordActions writes actions taken at the times given, each with a case
// of its own, as moderation does; it returns their IDs.
func recordActions(t testing.TB, db *sqldb.DB, at time.Time, actions ...trAction) []int64 {
	t.Helper()
	var ids []int64
	err := db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		for i, a := range actions {
			when := at.Add(time.Duration(i) * time.Minute)
			opened := when.Add(-a.sinceSignal)
			subject := fmt.Sprintf("chat:%d", when.UnixNano()+int64(i))
			var caseID, id int64
			if err := tx.QueryRowContext(t.Context(), `INSERT INTO mod_cases (subject, category, priority, state, due_at, opened_at, updated_at, resolved_at, outcome)
				VALUES ($1, $2, 10, 'resolved', $3, $3, $4, $4, 'actioned') RETURNING id`,
				subject, a.category, sqldb.Micros(opened), sqldb.Micros(when)).Scan(&caseID); err != nil {
				return err
			}
			var reversedAt int64
			if a.reversed {
				reversedAt = sqldb.Micros(when.Add(time.Hour))
			}
			if err := tx.QueryRowContext(t.Context(), `INSERT INTO mod_actions (case_id, kind, subject, affected_id, category, ground, facts, content_type,
				source, automated_detection, automated_decision, moderator_id, created_at, territory, reversed_at)
				VALUES ($1, $2, $3, 7, $4, 'terms', 'facts', $5, $6, $7, $8, 1, $9, $10, $11) RETURNING id`,
				caseID, a.kind, subject, a.category, a.content, a.source, b2i(a.autoDetect), b2i(a.autoDecide),
				sqldb.Micros(when), a.territory, reversedAt).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trLegal is a law-enforcement request to record.
type trLegal struct {
	country, kind, state string
	users                []int64 // the accounts it named
	closed               bool
}

// recordLegal writes law-enforcement requests received at, from an agency
// of each one's country, closed at the same day if closed.
func recordLegal(t testing.TB, db *sqldb.DB, at time.Time, reqs ...trLegal) {
	t.Helper()
	err := db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		for i, r := range reqs {
			var agency, officer int64
			if err := tx.QueryRowContext(t.Context(), `INSERT INTO legal_agencies (name, country, domains, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
				"Agency "+r.country, r.country, strings.ToLower(r.country)+".example", sqldb.Micros(at)).Scan(&agency); err != nil {
				return err
			}
			email := fmt.Sprintf("o%d-%d@%s.example", at.Unix(), i, strings.ToLower(r.country))
			if err := tx.QueryRowContext(t.Context(), `INSERT INTO legal_officers (agency_id, email, name, password_hash, created_at) VALUES ($1, $2, 'Officer', 'x', $3) RETURNING id`,
				agency, email, sqldb.Micros(at)).Scan(&officer); err != nil {
				return err
			}
			var targets []map[string]int64
			for _, u := range r.users {
				targets = append(targets, map[string]int64{"user_id": u})
			}
			tj, _ := json.Marshal(targets)
			approved, closedAt := "", int64(0)
			if r.state == "fulfilled" {
				approved = "subscriber"
			}
			if r.closed {
				closedAt = sqldb.Micros(at.Add(2 * time.Hour))
			}
			if _, err := tx.ExecContext(t.Context(), `INSERT INTO legal_requests (number, agency_id, officer_id, kind, state, case_reference, legal_basis,
				process, issuing_authority, jurisdiction, targets, approved, due_at, received_at, updated_at, closed_at)
				VALUES ($1, $2, $3, $4, $5, 'ref', 'basis', 'court_order', 'court', $6, $7, $8, $9, $10, $10, $11)`,
				fmt.Sprintf("LE-%d-%06d", at.Unix(), i), agency, officer, r.kind, r.state, r.country, string(tj), approved,
				sqldb.Micros(at.Add(48*time.Hour)), sqldb.Micros(at), closedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recordAppeal writes an appeal against an action, filed at and decided
// (upheld: the action reversed) an hour later if decided.
func recordAppeal(t testing.TB, db *sqldb.DB, action int64, at time.Time, state string) {
	t.Helper()
	var decided int64
	if state != "pending" {
		decided = sqldb.Micros(at.Add(time.Hour))
	}
	err := db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(), `INSERT INTO mod_appeals (action_id, user_id, text, state, created_at, decided_at) VALUES ($1, 7, 'please', $2, $3, $4)`,
			action, state, sqldb.Micros(at), decided)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// seedDay records a busy day: 12 actions (5 groups and channels taken
// down, 3 of them for child abuse and 2 for terrorism) and 2 appeals.
func seedDay(t testing.TB, db *sqldb.DB, day time.Time) {
	t.Helper()
	at := day.Add(10 * time.Hour)
	ids := recordActions(t, db, at,
		trAction{kind: "takedown", category: "child_abuse", source: "hash_bank", content: "image", autoDetect: true, autoDecide: true, sinceSignal: 30 * time.Second},
		trAction{kind: "takedown", category: "child_abuse", source: "hash_bank", content: "image", autoDetect: true, sinceSignal: 30 * time.Second},
		trAction{kind: "takedown", category: "child_abuse", source: "hash_bank", content: "video", autoDetect: true, sinceSignal: 40 * time.Second},
		trAction{kind: "takedown", category: "terrorism", source: "user_report", content: "video", sinceSignal: 5 * time.Minute},
		trAction{kind: "takedown", category: "terrorism", source: "user_report", content: "text", sinceSignal: 5 * time.Minute},
		trAction{kind: "remove_message", category: "hate_speech", source: "text_rule", content: "text", autoDetect: true, sinceSignal: 2 * time.Hour},
		trAction{kind: "remove_message", category: "hate_speech", source: "text_rule", content: "text", autoDetect: true, sinceSignal: 2 * time.Hour},
		trAction{kind: "remove_message", category: "hate_speech", source: "text_rule", content: "text", autoDetect: true, sinceSignal: 2 * time.Hour},
		trAction{kind: "remove_message", category: "hate_speech", source: "text_rule", content: "text", autoDetect: true, sinceSignal: 3 * time.Hour},
		trAction{kind: "restrict", category: "illegal_drugs", source: "legal_order", content: "text", territory: "DE,FR", sinceSignal: 72 * time.Hour},
		trAction{kind: "restrict", category: "terrorism", source: "notice", content: "text", sinceSignal: 10 * time.Minute},
		trAction{kind: "ban", category: "scam", source: "user_report", content: "other", reversed: true, sinceSignal: time.Hour},
	)
	recordAppeal(t, db, ids[11], at.Add(time.Hour), "upheld")
	recordAppeal(t, db, ids[3], at.Add(time.Hour), "pending")
}

// seedLegal records 15 law-enforcement requests received at: 12 from the
// United States, 3 from Germany (a count published as a band).
func seedLegal(t testing.TB, db *sqldb.DB, at time.Time) {
	var reqs []trLegal
	for range 10 {
		reqs = append(reqs, trLegal{country: "US", kind: "preservation", state: "received"})
	}
	reqs = append(reqs,
		trLegal{country: "US", kind: "emergency", state: "received"},
		trLegal{country: "US", kind: "emergency", state: "rejected", closed: true},
		trLegal{country: "DE", kind: "disclosure", state: "fulfilled", users: []int64{5, 6}, closed: true},
		trLegal{country: "DE", kind: "disclosure", state: "fulfilled", users: []int64{9}, closed: true},
		trLegal{country: "DE", kind: "disclosure", state: "in_review"},
	)
	recordLegal(t, db, at, reqs...)
}

// transparencySchema is what the reports count.
var transparencySchema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations,
	moderation.Migrations, safety.Migrations, legal.Migrations, transparency.Migrations}

// trSite is the web app with the transparency pages, over a database
// seeded with a busy yesterday, two actions earlier in the month and
// law-enforcement requests in October, at a clock stopped at 15:00 UTC on
// 28 November 2026.
type trSite struct {
	URL     string
	svc     *transparency.Service
	today   time.Time
	handler http.Handler
}

func newTrSite(t *testing.T, db *sqldb.DB) *trSite {
	t.Helper()
	today := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	clock := stoppedClock{today.Add(15 * time.Hour)}
	seedDay(t, db, today.AddDate(0, 0, -1))
	seedLegal(t, db, time.Date(2026, 10, 15, 10, 0, 0, 0, time.UTC))
	recordActions(t, db, time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC),
		trAction{kind: "remove_message", category: "spam", source: "user_report", content: "text", sinceSignal: time.Minute},
		trAction{kind: "remove_message", category: "spam", source: "user_report", content: "text", sinceSignal: time.Minute})
	svc := transparency.NewService(db, clock, nil, transparency.Config{})
	// The records were written behind moderation's back, as an import
	// would be: count them as kurir transparency rebuild does.
	if _, err := svc.Rebuild(t.Context(), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), nil); err != nil {
		t.Fatal(err)
	}
	h := web.WithTransparency(web.Handler(), web.Transparency(svc, clock, nil))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &trSite{URL: srv.URL, svc: svc, today: today, handler: h}
}

// get fetches path with the Accept-Language given (if any).
func (s *trSite) get(t *testing.T, path, acceptLanguage string) (*http.Response, string) {
	t.Helper()
	return httpGet(t, s.URL+path, acceptLanguage)
}

func httpGet(t *testing.T, url, acceptLanguage string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestTransparencyDownloads checks the JSON and CSV of a day, a month and
// a year: the JSON is exactly the service's published report, with the
// counts the records give in every breakdown; law-enforcement figures only
// for a finished month, every country there, small counts in bands; the
// CSV says the same numbers; finished periods are cacheable and
// unfinished ones are not.
func TestTransparencyDownloads(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newTrSite(t, db)
		ctx := t.Context()
		yesterday := s.today.AddDate(0, 0, -1)
		for _, tc := range []struct {
			period  string
			report  func() (transparency.Report, error)
			partial bool
			total   int64
		}{
			{"2026-11-27", func() (transparency.Report, error) { return s.svc.Day(ctx, yesterday) }, false, 12},
			{"2026-11-28", func() (transparency.Report, error) { return s.svc.Day(ctx, s.today) }, true, 0},
			{"2026-11", func() (transparency.Report, error) { return s.svc.Month(ctx, 2026, time.November) }, true, 14},
			{"2026-10", func() (transparency.Report, error) { return s.svc.Month(ctx, 2026, time.October) }, false, 0},
			{"2026", func() (transparency.Report, error) { return s.svc.Year(ctx, 2026) }, true, 14},
			{"2025", func() (transparency.Report, error) { return s.svc.Year(ctx, 2025) }, false, 0},
		} {
			t.Run(tc.period, func(t *testing.T) {
				resp, body := s.get(t, "/transparency/"+tc.period+".json", "")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s.json: %d %s", tc.period, resp.StatusCode, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				wantCache := "public, max-age=3600"
				if tc.partial {
					wantCache = "no-cache"
				}
				if cc := resp.Header.Get("Cache-Control"); cc != wantCache {
					t.Errorf("Cache-Control = %q, want %q", cc, wantCache)
				}
				r, err := tc.report()
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(r.Public(s.svc.BandBelow()))
				if got := strings.TrimSpace(body); got != string(want) {
					t.Errorf("JSON differs from the service's report:\ngot  %s\nwant %s", got, want)
				}
				var pub map[string]any
				dec := json.NewDecoder(strings.NewReader(body))
				dec.UseNumber()
				if err := dec.Decode(&pub); err != nil {
					t.Fatal(err)
				}
				if got := lookup(pub, "actions", "total"); got != fmt.Sprint(tc.total) {
					t.Errorf("actions.total = %s, want %d", got, tc.total)
				}
				if got := lookup(pub, "partial"); (got == "true") != tc.partial {
					t.Errorf("partial = %q, want %v", got, tc.partial)
				}

				resp, csvBody := s.get(t, "/transparency/"+tc.period+".csv", "")
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
					t.Fatalf("GET %s.csv: %d %s", tc.period, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="kurir-transparency-`+tc.period+`.csv"` {
					t.Errorf("Content-Disposition = %q", cd)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != wantCache {
					t.Errorf("CSV Cache-Control = %q, want %q", cc, wantCache)
				}
				csvAgrees(t, csvBody, pub)
			})
		}

		// Yesterday's numbers, breakdown by breakdown.
		_, body := s.get(t, "/transparency/2026-11-27.json", "")
		var pub map[string]any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&pub); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path []string
			want string
		}{
			{[]string{"actions", "by_kind", "takedown"}, "5"},
			{[]string{"actions", "by_kind", "remove_message"}, "4"},
			{[]string{"actions", "by_kind", "restrict"}, "2"},
			{[]string{"actions", "by_category", "hate_speech"}, "4"},
			{[]string{"actions", "by_source", "hash_bank"}, "3"},
			{[]string{"actions", "by_content_type", "text"}, "7"},
			{[]string{"actions", "by_scope", "worldwide"}, "10"},
			{[]string{"actions", "by_scope", "DE"}, "1"},
			{[]string{"actions", "by_scope", "rules"}, "1"},
			{[]string{"actions", "chats_taken_down", "child_abuse"}, "3"},
			{[]string{"actions", "chats_taken_down", "terrorism"}, "2"},
			{[]string{"actions", "automated_detection"}, "7"},
			{[]string{"actions", "automated_decision"}, "1"},
			{[]string{"actions", "reversed"}, "1"},
			{[]string{"time_to_action", "median_seconds"}, "600"},
			{[]string{"time_to_action", "p90_seconds"}, "7200"},
			{[]string{"appeals", "received"}, "2"},
			{[]string{"appeals", "reversed"}, "1"},
			{[]string{"legal_requests"}, ""},
		} {
			if got := lookup(pub, c.path...); got != c.want {
				t.Errorf("%s = %q, want %q", strings.Join(c.path, "."), got, c.want)
			}
		}
		if !strings.Contains(body, `"legal_requests":null,"legal_requests_note":"Requests from authorities are published for whole months`) {
			t.Errorf("a day's JSON does not say why it has no law-enforcement figures: %s", body)
		}

		// October, over, has its law-enforcement requests: every country,
		// Germany's 3 and France's none alike in the band.
		_, body = s.get(t, "/transparency/2026-10.json", "")
		pub = nil
		dec = json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&pub); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path []string
			want string
		}{
			{[]string{"legal_requests", "received"}, "15"},
			{[]string{"legal_requests", "by_country", "US"}, "12"},
			{[]string{"legal_requests", "by_country", "DE"}, "0-9"},
			{[]string{"legal_requests", "by_country", "FR"}, "0-9"},
			{[]string{"legal_requests", "by_kind", "preservation"}, "10"},
			{[]string{"legal_requests", "by_kind", "removal"}, "0-9"},
			{[]string{"legal_requests", "by_outcome", "fulfilled"}, "0-9"},
			{[]string{"legal_requests", "by_outcome", "withdrawn"}, "0-9"},
			{[]string{"legal_requests", "accounts_affected"}, "0-9"},
			{[]string{"legal_requests", "bands_below"}, "10"},
		} {
			if got := lookup(pub, c.path...); got != c.want {
				t.Errorf("October: %s = %q, want %q", strings.Join(c.path, "."), got, c.want)
			}
		}
		if n := len(pub["legal_requests"].(map[string]any)["by_country"].(map[string]any)); n != len(kurir.Countries()) {
			t.Errorf("October's requests name %d countries, want all %d", n, len(kurir.Countries()))
		}
	}, transparencySchema...)
}

// lookup is the value at path in decoded JSON, as text ("" if absent).
func lookup(v any, path ...string) string {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[k]; !ok {
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// csvAgrees checks that every row of the CSV says what the JSON says, and
// that every count in the JSON's breakdowns has its row.
func csvAgrees(t *testing.T, body string, pub map[string]any) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "section,key,value" {
		t.Fatalf("CSV header: %q", rows)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		section, key, value := row[0], row[1], row[2]
		var want string
		switch section {
		case "report":
			want = lookup(pub, key)
			if key == "from" || key == "to" {
				want = want[:min(len(want), 10)]
			}
		default:
			path := append(strings.Split(section, "."), key)
			want = lookup(pub, path...)
			seen[strings.Join(path, ".")] = true
		}
		if value != want {
			t.Errorf("CSV %s,%s = %q, JSON says %q", section, key, value, want)
		}
	}
	for _, m := range [][]string{{"actions", "by_kind"}, {"actions", "by_category"}, {"actions", "by_source"}, {"actions", "by_scope"},
		{"actions", "by_content_type"}, {"actions", "chats_taken_down"}, {"legal_requests", "by_country"}, {"legal_requests", "by_kind"}, {"legal_requests", "by_outcome"}} {
		section, _ := pub[m[0]].(map[string]any) // nil: a period without law-enforcement figures
		counts, _ := section[m[1]].(map[string]any)
		for k := range counts {
			if !seen[m[0]+"."+m[1]+"."+k] {
				t.Errorf("JSON %s.%s.%s has no CSV row", m[0], m[1], k)
			}
		}
	}
}

// TestTransparencyPage reads yesterday's page as a person would: the
// headline numbers, Telegram's lines, every breakdown's table agreeing
// with the JSON, bands explained, charts that are well-formed SVG with a
// title, and links to the days around it.
func TestTransparencyPage(t *testing.T) {
	s := newTrSite(t, sqldbtest.SQLite(t, transparencySchema...))
	resp, page := s.get(t, "/transparency/2026-11-27", "en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, page)
	}
	for h, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "public, max-age=3600",
		"Content-Security-Policy": web.TransparencyCSP,
		"Content-Language":        "en",
		"Vary":                    "Accept-Language",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	for _, want := range []string{
		`<html lang="en" dir="ltr">`,
		`<span class="period">27 November 2026</span>`,
		"<li>3 groups and channels related to child abuse banned</li>",
		"<li>2 groups and channels related to terrorism banned</li>",
		"<div><dt>Actions taken</dt><dd>12</dd></div>",
		"<div><dt>Groups and channels taken down</dt><dd>5</dd></div>",
		"they are published only for whole months once they are over",
		"Half of the actions were taken within 10 min of the first report or detection, and 90% within 2 h (12 actions measured).",
		"58.3% of actions followed automated detection, and 8.3% were decided without a person.",
		"Decisions reversed in this period (taken on any date, reversed on appeal or review): 1.",
		`<a href="/transparency/2026-11-26" rel="prev">Previous day: 26 November 2026</a>`,
		`<a href="/transparency/2026-11-28" rel="next">Next day: 28 November 2026</a>`,
		`<a href="/transparency/2026-11">November 2026</a>`,
		`<a href="/transparency/2026-11-27.json" download>JSON</a>`,
		`<a href="/transparency/2026-11-27.csv" download>CSV</a>`,
		`<input type="date" id="day" name="day" value="2026-11-27" min="2000-01-01" max="2026-11-28" required>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for id, want := range map[string]map[string]string{
		"kind":       {"Group or channel taken down": "5", "Message removed": "4", "Withheld in some countries": "2", "Account banned": "1"},
		"category":   {"Child sexual abuse": "3", "Terrorism": "3", "Hate speech": "4", "Illegal drugs": "1", "Scam or fraud": "1"},
		"source":     {"Match with known illegal files": "3", "User report": "3", "Text rule": "4", "Legal order": "1", "Notice from someone without an account": "1"},
		"content":    {"Text": "7", "Images": "2", "Videos": "2", "Other files": "1"},
		"scope":      {"Worldwide": "10", "Germany": "1", "France": "1", "Where local law forbids it": "1"},
		"automation": {"Detected automatically": "7 (58.3%)", "Reported or found by people": "5 (41.7%)", "Decided automatically": "1 (8.3%)", "Decided by people": "11 (91.7%)"},
		"speed":      {"Under a minute": "3", "1 to 10 minutes": "2", "10 minutes to an hour": "1", "1 to 6 hours": "5", "6 to 24 hours": "0", "1 to 7 days": "1", "A week or more": "0"},
		"appeals":    {"Received": "2", "Decided": "1", "Decision reversed": "1"},
	} {
		got := sectionRows(t, page, id)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("section %s: table\n got %v\nwant %v", id, got, want)
		}
	}
	charts := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(charts) != 8 {
		t.Errorf("%d charts, want one per breakdown: 8", len(charts))
	}
	for _, c := range charts {
		title := xmlTitle(t, c)
		if title == "" {
			t.Errorf("chart without a title: %.200s", c)
		}
	}
	if strings.Contains(page, `id="legal-country"`) || strings.Contains(page, "<dt>Law-enforcement requests</dt>") {
		t.Error("a day's page has law-enforcement figures")
	}

	// A finished month has them: the countries given exactly, then every
	// other country in one banded row; every kind and outcome.
	_, page = s.get(t, "/transparency/2026-10", "en")
	for _, want := range []string{"<div><dt>Law-enforcement requests</dt><dd>15</dd></div>", "counts from 0 to 9 are shown as a range (0-9)"} {
		if !strings.Contains(page, want) {
			t.Errorf("October's page lacks %q", want)
		}
	}
	for id, want := range map[string]map[string]string{
		"legal-country": {"United States": "12", "Every other country": "0-9"},
		"legal-kind": {"Preservation": "10", "Emergency disclosure": "0-9", "Disclosure by legal process": "0-9",
			"Content removal order": "0-9", "Other": "0-9"},
		"legal-outcome": {"Fulfilled": "0-9", "Rejected": "0-9", "Withdrawn": "0-9"},
	} {
		if got := sectionRows(t, page, id); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("October, section %s: table\n got %v\nwant %v", id, got, want)
		}
	}
	if !strings.Contains(sectionHTML(t, page, "legal-country"), `stroke-dasharray`) {
		t.Error("the banded countries are not drawn as a band")
	}

	// Today's page is the live one, and a month has its days.
	resp, page = s.get(t, "/transparency", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-cache" ||
		!strings.Contains(page, `<span class="period">28 November 2026</span>`) || !strings.Contains(page, "these are the numbers so far") {
		t.Errorf("today's page: %d %q\n%.3000s", resp.StatusCode, resp.Header.Get("Cache-Control"), page)
	}
	if strings.Contains(page, `rel="next"`) {
		t.Error("today's page links to tomorrow")
	}
	_, page = s.get(t, "/transparency/2026-11", "")
	days := sectionRows(t, page, "days")
	if len(days) != 28 || days["27 November 2026"] != "12" || days["3 November 2026"] != "2" || days["28 November 2026"] != "0" || days["1 November 2026"] != "0" {
		t.Errorf("November's days: %v", days)
	}
	if !strings.Contains(page, `<a href="/transparency/2026-11-27">27 November 2026</a>`) {
		t.Error("a month's table does not link its days")
	}
	_, page = s.get(t, "/transparency/2026", "")
	if months := sectionRows(t, page, "months"); len(months) != 11 || months["November 2026"] != "14" || months["January 2026"] != "0" {
		t.Errorf("2026's months: %v", months)
	}
}

// sectionHTML is the HTML of the section with the id.
func sectionHTML(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `id="`+id+`" aria-labelledby="h-`+id+`"`)
	if start < 0 {
		t.Fatalf("no section %q", id)
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end]
}

var rowPattern = regexp.MustCompile(`<tr><th scope="row">(?:<a href="[^"]*">)?(.*?)(?:</a>)?</th><td class="num">(.*?)</td></tr>`)

// sectionRows is the table of a section: label to value.
func sectionRows(t *testing.T, page, id string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, m := range rowPattern.FindAllStringSubmatch(sectionHTML(t, page, id), -1) {
		rows[unescapeHTML(m[1])] = unescapeHTML(m[2])
	}
	return rows
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&#34;", `"`).Replace(s)
}

// xmlTitle parses an SVG as XML and returns its title.
func xmlTitle(t *testing.T, svg string) string {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		Title   string   `xml:"title"`
		Desc    string   `xml:"desc"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Errorf("chart is not well-formed XML: %v\n%.300s", err, svg)
	}
	return doc.Title
}

// TestTransparencyLanguages checks the page in each language, chosen by
// ?lang= or Accept-Language: Arabic right to left with its own digits, and
// links that keep a language chosen in the URL.
func TestTransparencyLanguages(t *testing.T) {
	s := newTrSite(t, sqldbtest.SQLite(t, transparencySchema...))
	for _, tc := range []struct {
		name, path, accept string
		want               []string
	}{
		{"arabic by query", "/transparency/2026-11-27?lang=ar", "en", []string{`<html lang="ar" dir="rtl">`, "تقرير الشفافية", "٢٧ نوفمبر ٢٠٢٦",
			"حُظرت ٣ من المجموعات والقنوات المرتبطة بـإساءة معاملة الأطفال", `direction="rtl"`, "ألمانيا",
			`<a href="/transparency/2026-11-26?lang=ar" rel="prev">`, `<input type="hidden" name="lang" value="ar">`}},
		{"russian by header", "/transparency/2026-11-27", "ru-RU,ru;q=0.9,en;q=0.5", []string{`<html lang="ru" dir="ltr">`, "Отчёт о прозрачности",
			"27 ноября 2026 г.", "Заблокировано групп и каналов, связанных с насилием над детьми: 3", "Германия", "10 мин",
			`<a href="/transparency/2026-11-26" rel="prev">`}},
		{"arabic month", "/transparency/2026-10?lang=ar", "", []string{`<html lang="ar" dir="rtl">`, "كل البلدان الأخرى", "٠-٩", "الولايات المتحدة"}},
		{"indonesian by header", "/transparency/2026-11", "id", []string{`<html lang="id" dir="ltr">`, "Laporan transparansi", "November 2026",
			"3 grup dan kanal terkait pelecehan anak diblokir", "Tindakan per hari"}},
		{"unknown language", "/transparency/2026-11-27?lang=xx", "de-DE", []string{`<html lang="en" dir="ltr">`, "Transparency report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := s.get(t, tc.path, tc.accept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, l := range []string{"English", "Bahasa Indonesia", "Русский", "العربية"} {
				if !strings.Contains(page, ">"+l+"</a>") {
					t.Errorf("no switch to %s", l)
				}
			}
		})
	}
}

// TestTransparencyBadRequests checks the refusals: a malformed period is a
// 400 saying what a period looks like, a period not yet begun or long
// before kurir a 404, each as a page or as problem+json, and nothing else
// is answered.
func TestTransparencyBadRequests(t *testing.T) {
	s := newTrSite(t, sqldbtest.SQLite(t, transparencySchema...))
	for _, tc := range []struct {
		path, accept string
		status       int
		ctype, want  string
	}{
		{"/transparency/2026-13-01", "", 400, "text/html; charset=utf-8", "“2026-13-01” is not a day, month or year. Write it like 2026-11-28, 2026-11 or 2026."},
		{"/transparency/yesterday", "", 400, "text/html; charset=utf-8", "“yesterday” is not a day, month or year."},
		{"/transparency/2026-02-30.json", "", 400, "application/problem+json", `"code":"invalid"`},
		{"/transparency/%3Cb%3E.csv", "", 400, "application/problem+json", `"detail":"“\u003cb\u003e” is not a day`},
		{"/transparency/%3Cscript%3E", "", 400, "text/html; charset=utf-8", "“&lt;script&gt;” is not a day"},
		{"/transparency/2026-11-29", "", 404, "text/html; charset=utf-8", "There is no report for 29 November 2026 yet."},
		{"/transparency/2026-11-29", "ar", 404, "text/html; charset=utf-8", "لا يوجد تقرير عن ٢٩ نوفمبر ٢٠٢٦ بعد."},
		{"/transparency/2026-12.json", "", 404, "application/problem+json", `"code":"not_found"`},
		{"/transparency/2027.csv", "", 404, "application/problem+json", `"status":404`},
		{"/transparency/1999", "", 404, "text/html; charset=utf-8", "There are no reports before 2000."},
		{"/transparency/1999-12.json", "", 404, "application/problem+json", `"detail":"There are no reports before 2000."`},
		{"/transparency/2026-11-27.xml", "", 404, "application/problem+json", "published as .json and .csv"},
		{"/transparency/2026/11", "", 404, "text/html; charset=utf-8", "There is no page at this address."},
		{"/transparency?day=27.11.2026", "", 400, "text/html; charset=utf-8", "“27.11.2026” is not a day"},
		{"/transparency?day=2026-11", "", 400, "text/html; charset=utf-8", "“2026-11” is not a day"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := s.get(t, tc.path, tc.accept)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.ctype)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("body lacks %q:\n%.2000s", tc.want, body)
			}
			if strings.Contains(body, "<script") {
				t.Error("the request's text reached the page unescaped")
			}
		})
	}

	// The day picker's form goes to the day's own address.
	resp, _ := s.get(t, "/transparency?day=2026-11-03", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/transparency/2026-11-03" {
		t.Errorf("day picker: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = s.get(t, "/transparency?day=2026-11-03&lang=ru", "")
	if resp.Header.Get("Location") != "/transparency/2026-11-03?lang=ru" {
		t.Errorf("day picker with a language: %q", resp.Header.Get("Location"))
	}

	// Only reading.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/transparency/2026-11-27", bytes.NewReader(nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// The pages' stylesheet is theirs, cached for good; the app is still
	// the app everywhere else.
	_, page := s.get(t, "/transparency/2026-11-27", "")
	css := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(page)
	if css == nil {
		t.Fatal("no stylesheet")
	}
	resp, body := s.get(t, css[1], "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "svg.chart") {
		t.Errorf("stylesheet %s: %d %q %q", css[1], resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if resp, body := s.get(t, "/settings", ""); resp.StatusCode != 200 || !strings.Contains(body, "<script") {
		t.Errorf("/settings is no longer the web app: %d", resp.StatusCode)
	}
}

// TestBrowserTransparency renders yesterday's report in headless Chromium,
// through the whole server as kurir serve runs it, on a desktop, a phone
// and in Arabic, checks that every chart is drawn, labelled and inside the
// page, and that the page goes to another day with its form. Screenshots
// are saved.
func TestBrowserTransparency(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, serverOptions{transparency: true})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	yesterday := today.AddDate(0, 0, -1)
	lastMonth := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -10)
	seedDay(t, s.db, yesterday)
	seedDay(t, s.db, lastMonth)
	seedLegal(t, s.db, lastMonth.Add(9*time.Hour))
	if _, err := s.reports.Rebuild(t.Context(), lastMonth, nil); err != nil {
		t.Fatal(err)
	}
	day := yesterday.Format(time.DateOnly)

	// A day has 8 charts; a month 9 with its days, 12 with the
	// law-enforcement requests once it is over.
	for _, tc := range []struct {
		name   string
		path   string
		width  int64
		charts int
	}{
		{"transparency-day-desktop", "/transparency/" + day + "?lang=en", 1100, 8},
		{"transparency-day-phone", "/transparency/" + day + "?lang=en", 390, 8},
		{"transparency-day-arabic", "/transparency/" + day + "?lang=ar", 1100, 8},
		{"transparency-month-phone", "/transparency/" + yesterday.Format("2006-01") + "?lang=ru", 390, 9},
		{"transparency-last-month-desktop", "/transparency/" + lastMonth.Format("2006-01") + "?lang=en", 1100, 12},
		{"transparency-year-arabic-phone", "/transparency/" + yesterday.Format("2006") + "?lang=ar", 390, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := b.page(t, tc.width, 800)
			do(t, ctx, "open "+tc.path,
				chromedp.Navigate(s.URL+tc.path),
				chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
			// Every chart is drawn with a size, has bars and labels, and
			// stays within the page: nothing to scroll sideways.
			problems := eval[[]string](t, ctx, `(() => {
				const out = [];
				const width = document.documentElement.clientWidth;
				if (document.documentElement.scrollWidth > width) out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
				for (const svg of document.querySelectorAll('svg.chart')) {
					const r = svg.getBoundingClientRect();
					const name = svg.querySelector('title')?.textContent || '';
					if (!name) out.push('a chart has no title');
					if (r.width < 200 || r.height < 40) out.push(name + ': drawn ' + r.width + 'x' + r.height);
					const bars = [...svg.querySelectorAll('rect')];
					if (!bars.length || !bars.some((b) => b.getBoundingClientRect().width > 3)) out.push(name + ': no visible bar');
					for (const t of svg.querySelectorAll('text')) {
						const tr = t.getBoundingClientRect();
						if (!t.textContent.trim()) out.push(name + ': an empty label');
						if (tr.left < r.left - 1 || tr.right > r.right + 1) out.push(name + ': "' + t.textContent + '" sticks out (' + Math.round(tr.left) + '..' + Math.round(tr.right) + ' of ' + Math.round(r.left) + '..' + Math.round(r.right) + ')');
					}
				}
				return out;
			})()`)
			for _, p := range problems {
				t.Error(p)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('svg.chart').length`); n < tc.charts {
				t.Errorf("%d charts drawn, want at least %d", n, tc.charts)
			}
			// Each chart's numbers are also a table, opened on demand.
			do(t, ctx, "open the first table",
				chromedp.Click(chromedp.CSS(`section.breakdown details summary`)),
				waitJS(`document.querySelector('section.breakdown details table tbody tr').getBoundingClientRect().height > 0`))
			pageShot(t, b, ctx, tc.name, tc.width)
		})
	}

	// The day picker goes to another day.
	ctx := b.page(t, 1100, 800)
	other := today.AddDate(0, 0, -3)
	do(t, ctx, "pick a day",
		chromedp.Navigate(s.URL+"/transparency?lang=en"),
		chromedp.WaitVisible(chromedp.CSS(`input[type="date"]`)),
		chromedp.SetValue(chromedp.CSS(`input[type="date"]`), other.Format(time.DateOnly)))
	do(t, ctx, "show the day", chromedp.Click(chromedp.CSS(`form.picker button`)))
	// The form loads a new page (two: it is redirected), which ends any
	// wait begun on the old one: ask again until the new one answers.
	want := "/transparency/" + other.Format(time.DateOnly) + "?lang=en " + fmt.Sprintf("%d %s %d", other.Day(), other.Month(), other.Year())
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && got != want; time.Sleep(50 * time.Millisecond) {
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search + ' ' + (document.querySelector('h1 .period')?.textContent || '')`))
	}
	if got != want {
		t.Errorf("the day picker went to %q, want %q", got, want)
	}
}

// pageShot saves a screenshot of the whole page, the window made as tall
// as it for the moment.
func pageShot(t *testing.T, b *browser, ctx context.Context, name string, width int64) {
	t.Helper()
	height := eval[int64](t, ctx, `Math.ceil(document.documentElement.scrollHeight)`)
	do(t, ctx, "make the window tall", chromedp.EmulateViewport(width, min(max(height, 600), 8000)))
	b.shot(t, ctx, name)
}
