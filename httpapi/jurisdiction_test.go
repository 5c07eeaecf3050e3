package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/audit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type policyJSON struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Off       []string  `json:"off"`
	Note      string    `json:"note"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy int64     `json:"updated_by"`
}

type ruleJSON struct {
	ID        int64     `json:"id"`
	Scope     string    `json:"scope"`
	ScopeName string    `json:"scope_name"`
	Category  string    `json:"category"`
	LegalRef  string    `json:"legal_reference"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy int64     `json:"created_by"`
}

type jurisdictionsJSON struct {
	Countries    []policyJSON        `json:"countries"`
	Rules        []ruleJSON          `json:"rules"`
	Groups       map[string][]string `json:"groups"`
	Features     []string            `json:"features"`
	AllCountries []struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"all_countries"`
}

type restrictionJSON struct {
	ID       int64    `json:"id"`
	ChatID   int64    `json:"chat_id"`
	Seq      int64    `json:"seq"`
	Scope    []string `json:"scope"`
	Category string   `json:"category"`
	Where    string   `json:"where"`
}

// jurRows counts the rows of the jurisdiction tables and the audit log: a
// refused change must leave them as they were.
func jurRows(t testing.TB, db *sqldb.DB) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"jur_policies", "jur_rules", "audit_log"} {
		var c int
		if err := db.Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n[table] = c
	}
	return n
}

func (h *harness) jurisdictions(t *testing.T, token string) jurisdictionsJSON {
	t.Helper()
	var v jurisdictionsJSON
	h.do(t, "GET", "/api/v1/jurisdictions", token, nil).want(t, "jurisdictions", http.StatusOK, &v)
	return v
}

// TestJurisdictionMarkets: an admin withdraws from Germany and people there
// are refused at once, while Austria is untouched; reopening lets them back
// in. Moderators read the policy but cannot change it, users cannot read it,
// and every change is in the audit log with the admin who made it.
func TestJurisdictionMarkets(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		admin := h.staff(t, "adelheid", kurir.RoleAdmin)
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		legal := h.staff(t, "leopold", kurir.RoleLegal)
		user := h.person(t, "ulrich")

		v := h.jurisdictions(t, mod.token)
		if len(v.Countries) != 0 || len(v.Rules) != 0 {
			t.Errorf("a new server has policies %+v and rules %+v, want none", v.Countries, v.Rules)
		}
		if !slices.Equal(v.Features, []string{"signup", "discovery", "public_chats", "uploads"}) {
			t.Errorf("features %v", v.Features)
		}
		if !slices.Contains(v.Groups["EU"], "DE") || slices.Contains(v.Groups["EU"], "NO") || !slices.Contains(v.Groups["EEA"], "NO") {
			t.Errorf("groups %v: want DE in the EU, NO in the EEA only", v.Groups)
		}
		if len(v.AllCountries) != len(kurir.Countries()) || !slices.ContainsFunc(v.AllCountries, func(c struct {
			Code string `json:"code"`
			Name string `json:"name"`
		}) bool {
			return c.Code == "DE" && c.Name == "Germany"
		}) {
			t.Errorf("all_countries has %d countries (want %d) or lacks DE, Germany", len(v.AllCountries), len(kurir.Countries()))
		}
		h.jurisdictions(t, legal.token)
		h.do(t, "GET", "/api/v1/jurisdictions", user.token, nil).
			wantProblem(t, "a user reads the policy", problemWant{http.StatusForbidden, "forbidden", "staff_only", ""})

		// Before: someone in Germany uses kurir.
		h.from(t, inGermany, "GET", "/api/v1/me", user.token, nil).want(t, "me from Germany before", http.StatusOK, nil)

		withdraw := map[string]any{"status": "withdrawn", "note": "Pending a court ruling."}
		before := jurRows(t, db)
		h.do(t, "PUT", "/api/v1/jurisdictions/countries/DE", mod.token, withdraw).
			wantProblem(t, "a moderator withdraws from DE", problemWant{http.StatusForbidden, "forbidden", "admin_only", ""})
		if after := jurRows(t, db); !maps.Equal(after, before) {
			t.Errorf("a refused change changed the tables: %v, before %v", after, before)
		}

		var p policyJSON
		h.do(t, "PUT", "/api/v1/jurisdictions/countries/de", admin.token, withdraw).want(t, "withdraw from DE", http.StatusOK, &p)
		if p.Code != "DE" || p.Name != "Germany" || p.Status != "withdrawn" || len(p.Off) != 0 || p.Note != "Pending a court ruling." ||
			p.UpdatedBy != admin.id || !p.UpdatedAt.Equal(h.clock.Now()) {
			t.Errorf("withdraw from DE: got %+v", p)
		}
		if v := h.jurisdictions(t, mod.token); len(v.Countries) != 1 || v.Countries[0].Code != "DE" || v.Countries[0].Status != "withdrawn" {
			t.Errorf("after withdrawing, countries %+v", v.Countries)
		}
		prob := h.from(t, inGermany, "GET", "/api/v1/me", user.token, nil).
			wantProblem(t, "me from Germany", problemWant{http.StatusUnavailableForLegalReasons, "unavailable_for_legal_reasons", "market_withdrawn", ""})
		if !strings.Contains(prob.Detail, "Germany") || !strings.Contains(prob.Detail, "Pending a court ruling.") {
			t.Errorf("the refusal in Germany says %q; want the country and the operator's note", prob.Detail)
		}
		h.from(t, inAustria, "GET", "/api/v1/me", user.token, nil).want(t, "me from Austria", http.StatusOK, nil)

		var r policyJSON
		h.do(t, "PUT", "/api/v1/jurisdictions/countries/AT", admin.token, map[string]any{"status": "restricted", "off": []string{"signup", "uploads"}}).
			want(t, "restrict AT", http.StatusOK, &r)
		if r.Status != "restricted" || !slices.Equal(r.Off, []string{"signup", "uploads"}) {
			t.Errorf("restrict AT: got %+v", r)
		}
		h.from(t, inAustria, "POST", "/api/v1/accounts", "", map[string]string{"username": "austrian", "password": password}).
			wantProblem(t, "sign up in Austria", problemWant{http.StatusUnavailableForLegalReasons, "unavailable_for_legal_reasons", "feature_unavailable", ""})

		var open policyJSON
		h.do(t, "PUT", "/api/v1/jurisdictions/countries/DE", admin.token, map[string]any{"status": "open"}).want(t, "reopen DE", http.StatusOK, &open)
		if open.Code != "DE" || open.Status != "open" || len(open.Off) != 0 || open.Note != "" {
			t.Errorf("reopen DE: got %+v", open)
		}
		if v := h.jurisdictions(t, mod.token); len(v.Countries) != 1 || v.Countries[0].Code != "AT" {
			t.Errorf("after reopening DE, countries %+v; want only AT", v.Countries)
		}
		h.from(t, inGermany, "GET", "/api/v1/me", user.token, nil).want(t, "me from Germany after reopening", http.StatusOK, nil)

		entries, err := audit.List(t.Context(), db.Read(), audit.Filter{Action: "jurisdiction.policy"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			if e.Actor != kurir.UserID(admin.id) || e.Role != kurir.RoleAdmin {
				t.Errorf("audit entry %+v: want the admin %d as actor", e, admin.id)
			}
			got = append(got, e.Subject+" "+e.Detail)
		}
		want := []string{`country:DE open off= note=""`, `country:AT restricted off=signup,uploads note=""`,
			`country:DE withdrawn off= note="Pending a court ruling."`}
		if !slices.Equal(got, want) {
			t.Errorf("audit log, newest first:\n got %q\nwant %q", got, want)
		}
	}, schema...)
}

// TestJurisdictionBadInput: every mistake in a change is a 400 problem
// naming the field, and changes nothing.
func TestJurisdictionBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		admin := h.staff(t, "adelheid", kurir.RoleAdmin)
		cases := []struct {
			name         string
			method, path string
			body         any
			mode         checkMode
			field        string
			reason       string
		}{
			{"an unknown country", "PUT", "/api/v1/jurisdictions/countries/ZZ", map[string]any{"status": "withdrawn"}, checkBoth, "country", "unknown_country"},
			{"a country name", "PUT", "/api/v1/jurisdictions/countries/Germany", map[string]any{"status": "withdrawn"}, checkBoth, "country", "unknown_country"},
			{"no status", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"note": "x"}, checkResponse, "status", "required"},
			{"an unknown status", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "closed"}, checkResponse, "status", "unknown_status"},
			{"restricted with nothing off", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "restricted"}, checkBoth, "off", "nothing_off"},
			{"an unknown feature", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "restricted", "off": []string{"voice"}}, checkBoth, "off", "unknown_feature"},
			{"features off in an open market", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "open", "off": []string{"uploads"}}, checkBoth, "off", "not_restricted"},
			{"a note too long", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "withdrawn", "note": strings.Repeat("x", 501)}, checkBoth, "note", "too_long"},
			{"an unknown field", "PUT", "/api/v1/jurisdictions/countries/DE", map[string]any{"status": "withdrawn", "countries": []string{"AT"}}, checkResponse, "countries", "unknown_field"},
			{"an unknown scope", "POST", "/api/v1/jurisdictions/rules", map[string]any{"scope": "XX", "category": "hate_speech", "legal_reference": "§ 130 StGB"}, checkBoth, "scope", "unknown_country"},
			{"no scope", "POST", "/api/v1/jurisdictions/rules", map[string]any{"scope": "", "category": "hate_speech", "legal_reference": "§ 130 StGB"}, checkBoth, "scope", "no_scope"},
			{"an unknown category", "POST", "/api/v1/jurisdictions/rules", map[string]any{"scope": "DE", "category": "blasphemy", "legal_reference": "§ 166 StGB"}, checkBoth, "category", "unknown_category"},
			{"no law", "POST", "/api/v1/jurisdictions/rules", map[string]any{"scope": "DE", "category": "hate_speech", "legal_reference": " "}, checkBoth, "legal_reference", "empty"},
			{"a rule ID that is not a number", "DELETE", "/api/v1/jurisdictions/rules/abc", nil, checkResponse, "id", "invalid_id"},
			{"an IP that is not one", "GET", "/api/v1/geo/lookup?ip=127.0.0", nil, checkBoth, "ip", "invalid_ip"},
			{"no IP", "GET", "/api/v1/geo/lookup", nil, checkResponse, "ip", "invalid_ip"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := jurRows(t, db)
				h.send(t, call{method: c.method, path: c.path, token: admin.token, body: c.body, mode: c.mode}).
					wantProblem(t, c.name, problemWant{http.StatusBadRequest, "invalid", c.reason, c.field})
				if after := jurRows(t, db); !maps.Equal(after, before) {
					t.Errorf("%s changed the tables: %v, before %v", c.name, after, before)
				}
			})
		}
		h.do(t, "DELETE", "/api/v1/jurisdictions/rules/999", admin.token, nil).
			wantProblem(t, "remove a rule that does not exist", problemWant{http.StatusNotFound, "not_found", "", ""})
	}, schema...)
}

// TestJurisdictionRulesAndRestrictions: an admin records that hate speech
// is illegal in Germany; a moderator restricts a post by country rules and
// a channel in named countries; staff see where each applies, and a
// restriction by country rules follows the rules as they change.
func TestJurisdictionRulesAndRestrictions(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		admin := h.staff(t, "adelheid", kurir.RoleAdmin)
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		triage := h.staff(t, "theodor", kurir.RoleTriage)
		owner, reader, other := h.person(t, "olivia"), h.person(t, "rudolf"), h.person(t, "rosa")

		rule := map[string]any{"scope": "DE", "category": "hate_speech", "legal_reference": "§ 130 StGB"}
		h.do(t, "POST", "/api/v1/jurisdictions/rules", mod.token, rule).
			wantProblem(t, "a moderator adds a rule", problemWant{http.StatusForbidden, "forbidden", "admin_only", ""})
		var de ruleJSON
		h.do(t, "POST", "/api/v1/jurisdictions/rules", admin.token, rule).want(t, "add the DE rule", http.StatusCreated, &de)
		if de.ID <= 0 || de.Scope != "DE" || de.ScopeName != "Germany" || de.Category != "hate_speech" || de.LegalRef != "§ 130 StGB" ||
			de.CreatedBy != admin.id || !de.CreatedAt.Equal(h.clock.Now()) {
			t.Errorf("add the DE rule: got %+v", de)
		}
		h.do(t, "POST", "/api/v1/jurisdictions/rules", admin.token, rule).
			wantProblem(t, "add the DE rule again", problemWant{http.StatusConflict, "conflict", "", ""})
		var eu ruleJSON
		h.do(t, "POST", "/api/v1/jurisdictions/rules", admin.token, map[string]any{"scope": "eu", "category": "terrorism", "legal_reference": "Directive (EU) 2017/541"}).
			want(t, "add the EU rule", http.StatusCreated, &eu)
		if eu.Scope != "EU" || eu.ScopeName != "European Union" {
			t.Errorf("add the EU rule: got %+v", eu)
		}
		if v := h.jurisdictions(t, triage.token); len(v.Rules) != 2 || v.Rules[0].ID != de.ID || v.Rules[1].ID != eu.ID {
			t.Errorf("rules %+v; want the DE rule, then the EU one", v.Rules)
		}

		ch, post := h.publicChannel(t, owner, "stammtisch", "a post of hate", reader, other)
		onPost := h.report(t, reader, subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}, "hate_speech")
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", onPost.CaseID), mod.token,
			map[string]any{"kind": "restrict", "ground": "illegal", "facts": "Incites hatred against a group."}).
			want(t, "restrict the post by country rules", http.StatusCreated, nil)
		onChat := h.report(t, other, subjectJSON{Kind: "chat", ChatID: ch.ID}, "hate_speech")
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", onChat.CaseID), mod.token,
			map[string]any{"kind": "restrict", "facts": "A channel of hate.", "countries": []string{"AT", "FR"}}).
			want(t, "restrict the channel in AT and FR", http.StatusCreated, nil)

		path := fmt.Sprintf("/api/v1/moderation/chats/%d/restrictions", ch.ID)
		h.do(t, "GET", path, reader.token, nil).
			wantProblem(t, "a user lists restrictions", problemWant{http.StatusForbidden, "forbidden", "staff_only", ""})
		restrictions := func(what string) []restrictionJSON {
			t.Helper()
			var v struct {
				Restrictions []restrictionJSON `json:"restrictions"`
			}
			h.do(t, "GET", path, triage.token, nil).want(t, what, http.StatusOK, &v)
			return v.Restrictions
		}
		rs := restrictions("restrictions")
		if len(rs) != 2 ||
			rs[0].ChatID != ch.ID || rs[0].Seq != post.Seq || len(rs[0].Scope) != 0 || rs[0].Category != "hate_speech" || rs[0].Where != "by country rules: DE" ||
			rs[1].Seq != 0 || !slices.Equal(rs[1].Scope, []string{"AT", "FR"}) || rs[1].Where != "AT, FR" {
			t.Errorf("restrictions: got %+v", rs)
		}
		// withheldInGermany returns the law the post is withheld under for a
		// reader in Germany, or "" if it is readable there.
		withheldInGermany := func(what string) string {
			t.Helper()
			var v struct {
				Messages []struct {
					Seq      int64  `json:"seq"`
					Text     string `json:"text"`
					Withheld *struct {
						Country  string `json:"country"`
						LegalRef string `json:"legal_reference"`
					} `json:"withheld"`
				} `json:"messages"`
			}
			h.from(t, inGermany, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), reader.token, nil).want(t, what, http.StatusOK, &v)
			for _, m := range v.Messages {
				if m.Seq == post.Seq {
					if m.Withheld == nil {
						return ""
					}
					return m.Withheld.Country + " " + m.Withheld.LegalRef
				}
			}
			t.Fatalf("%s: the post is not in %+v", what, v.Messages)
			return ""
		}
		if got := withheldInGermany("read the channel from Germany"); got != "DE § 130 StGB" {
			t.Errorf("the post read from Germany is withheld %q, want under DE § 130 StGB", got)
		}

		h.do(t, "DELETE", fmt.Sprintf("/api/v1/jurisdictions/rules/%d", de.ID), mod.token, nil).
			wantProblem(t, "a moderator removes a rule", problemWant{http.StatusForbidden, "forbidden", "admin_only", ""})
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/jurisdictions/rules/%d", de.ID), admin.token, nil).want(t, "remove the DE rule", http.StatusNoContent, nil)
		if v := h.jurisdictions(t, triage.token); len(v.Rules) != 1 || v.Rules[0].ID != eu.ID {
			t.Errorf("after removing the DE rule, rules %+v", v.Rules)
		}
		if rs := restrictions("restrictions after removing the rule"); len(rs) != 2 || !strings.HasPrefix(rs[0].Where, "by country rules: nowhere") {
			t.Errorf("after removing the DE rule the restrictions are %+v, want the post's to apply nowhere", rs)
		}
		if got := withheldInGermany("read the channel from Germany after removing the rule"); got != "" {
			t.Errorf("after removing the DE rule the post read from Germany is withheld %q, want readable", got)
		}

		entries, err := audit.List(t.Context(), db.Read(), audit.Filter{Actor: kurir.UserID(admin.id)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "jurisdiction.") {
				got = append(got, e.Action+" "+e.Subject)
			}
		}
		want := []string{"jurisdiction.rule.remove scope:DE", "jurisdiction.rule.add scope:EU", "jurisdiction.rule.add scope:DE"}
		if !slices.Equal(got, want) {
			t.Errorf("audit log, newest first:\n got %q\nwant %q", got, want)
		}
	}, schema...)
}

// TestJurisdictionGeoLookup: an admin asks where the IP table places an
// address; nobody else may.
func TestJurisdictionGeoLookup(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		admin := h.staff(t, "adelheid", kurir.RoleAdmin)
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		type lookup struct {
			IP          string `json:"ip"`
			Country     string `json:"country"`
			CountryName string `json:"country_name"`
			Found       bool   `json:"found"`
		}
		for _, c := range []struct {
			ip   string
			want lookup
		}{
			{inGermany, lookup{inGermany, "DE", "Germany", true}},
			{"::ffff:" + inAustria, lookup{inAustria, "AT", "Austria", true}},
			{"2001:db8::1", lookup{"2001:db8::1", "DE", "Germany", true}},
			{"203.0.113.5", lookup{"203.0.113.5", "", "", false}},
			{"2001:db8:1::1", lookup{"2001:db8:1::1", "", "", false}},
		} {
			var got lookup
			h.do(t, "GET", "/api/v1/geo/lookup?ip="+c.ip, admin.token, nil).want(t, "look up "+c.ip, http.StatusOK, &got)
			if got != c.want {
				t.Errorf("look up %s: got %+v, want %+v", c.ip, got, c.want)
			}
		}
		h.do(t, "GET", "/api/v1/geo/lookup?ip="+inGermany, mod.token, nil).
			wantProblem(t, "a moderator looks up an address", problemWant{http.StatusForbidden, "forbidden", "admin_only", ""})
	}, schema...)
}

// TestJurisdictionNotConfigured: a server without jurisdictions says so.
func TestJurisdictionNotConfigured(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		admin := h.staff(t, "adelheid", kurir.RoleAdmin)
		h.do(t, "GET", "/api/v1/jurisdictions", admin.token, nil).
			wantProblem(t, "jurisdictions without a service", problemWant{http.StatusServiceUnavailable, "unavailable", "no_jurisdictions", ""})
	}, schema...)
}
