package client_test

import (
	"slices"
	"strings"
	"testing"

	"kurir"
	"kurir/client"
)

// wantField fails the test unless err is a kurir.EInvalid *client.Error
// about field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, "invalid")
	if e := apiError(t, what, err); e.Field != field {
		t.Fatalf("%s: got %v (field %q), want field %q", what, err, e.Field, field)
	}
}

// testJurisdictions drives jurisdictions through the SDK: an admin
// withdraws from Germany and reopens it, adds and removes a country rule;
// a moderator restricts a post by country rules and a channel in Austria,
// and staff see where each applies; an admin asks where an address is.
// Users cannot read the policy, and moderators cannot change it.
func testJurisdictions(t *testing.T, s *server) {
	ctx := t.Context()
	owner, _ := s.user(t, "jo_owner")
	reader, _ := s.user(t, "jo_reader")
	other, _ := s.user(t, "jo_other")
	mod, _ := s.staff(t, "jo_mod", kurir.RoleModerator)
	admin, adminU := s.staff(t, "jo_boss", kurir.RoleAdmin)

	_, err := reader.Jurisdictions(ctx)
	wantReason(t, "a user reads the policy", err, "forbidden", "staff_only")
	j := must(mod.Jurisdictions(ctx))(t, "jurisdictions")
	if len(j.Countries) != 0 || len(j.Rules) != 0 || !slices.Equal(j.Features, []string{"signup", "discovery", "public_chats", "uploads"}) ||
		!slices.Contains(j.Groups["EU"], "DE") || !slices.Contains(j.AllCountries, client.Country{Code: "DE", Name: "Germany"}) {
		t.Fatalf("jurisdictions of a new server: got countries %+v, rules %+v, features %v, EU %v, %d countries in all",
			j.Countries, j.Rules, j.Features, j.Groups["EU"], len(j.AllCountries))
	}

	withdraw := client.PolicyParams{Status: client.MarketWithdrawn, Note: "Pending a court ruling."}
	_, err = mod.SetCountryPolicy(ctx, "DE", withdraw)
	wantReason(t, "a moderator withdraws from Germany", err, "forbidden", "admin_only")
	_, err = admin.SetCountryPolicy(ctx, "ZZ", withdraw)
	wantField(t, "withdraw from ZZ", err, "country")
	p := must(admin.SetCountryPolicy(ctx, "de", withdraw))(t, "withdraw from Germany")
	if p.Code != "DE" || p.Name != "Germany" || p.Status != client.MarketWithdrawn || len(p.Off) != 0 || p.Note != withdraw.Note ||
		p.UpdatedBy != adminU.ID || !p.UpdatedAt.Equal(s.clock.Now()) {
		t.Fatalf("withdraw from Germany: got %+v", p)
	}
	at := must(admin.SetCountryPolicy(ctx, "AT", client.PolicyParams{Status: client.MarketRestricted, Off: []string{"uploads"}}))(t, "restrict Austria")
	if at.Status != client.MarketRestricted || !slices.Equal(at.Off, []string{"uploads"}) {
		t.Fatalf("restrict Austria: got %+v", at)
	}
	if j := must(mod.Jurisdictions(ctx))(t, "jurisdictions after"); len(j.Countries) != 2 || j.Countries[0].Code != "AT" || j.Countries[1].Code != "DE" ||
		j.Countries[1].Status != client.MarketWithdrawn || j.Countries[1].Note != withdraw.Note {
		t.Fatalf("jurisdictions after withdrawing from Germany and restricting Austria: countries %+v", j.Countries)
	}

	_, err = mod.AddCountryRule(ctx, client.RuleParams{Scope: "DE", Category: "hate_speech", LegalReference: "§ 130 StGB"})
	wantReason(t, "a moderator adds a rule", err, "forbidden", "admin_only")
	_, err = admin.AddCountryRule(ctx, client.RuleParams{Scope: "DE", Category: "blasphemy", LegalReference: "§ 166 StGB"})
	wantField(t, "a rule of an unknown category", err, "category")
	rule := must(admin.AddCountryRule(ctx, client.RuleParams{Scope: "DE", Category: "hate_speech", LegalReference: "§ 130 StGB"}))(t, "add a rule")
	if rule.ID <= 0 || rule.Scope != "DE" || rule.ScopeName != "Germany" || rule.Category != "hate_speech" || rule.LegalReference != "§ 130 StGB" ||
		rule.CreatedBy != adminU.ID {
		t.Fatalf("add a rule: got %+v", rule)
	}
	if j := must(mod.Jurisdictions(ctx))(t, "jurisdictions with a rule"); len(j.Rules) != 1 || j.Rules[0] != rule {
		t.Fatalf("rules %+v, want %+v", j.Rules, rule)
	}

	// A moderator restricts a post by country rules, and the channel in Austria.
	ch := must(owner.CreateChannel(ctx, client.NewChat{Title: "Stammtisch", Username: "jo_stammtisch"}))(t, "create channel")
	must(reader.Join(ctx, ch.ID))(t, "subscribe")
	must(other.Join(ctx, ch.ID))(t, "subscribe")
	post := must(owner.Send(ctx, ch.ID, client.SendParams{Text: "a post of hate"}))(t, "post")
	rep := must(reader.Report(ctx, client.ReportParams{Subject: client.MessageSubject(ch.ID, post.Seq), Reason: "hate_speech"}))(t, "report the post")
	byRules := must(mod.Act(ctx, rep.CaseID, client.ActParams{Kind: client.ActionRestrict, Ground: "illegal", Facts: "Incites hatred."}))(t, "restrict the post")
	if byRules.Kind != client.ActionRestrict || len(byRules.Territory) != 0 {
		t.Fatalf("restrict the post by country rules: got %+v", byRules)
	}
	rep = must(other.Report(ctx, client.ReportParams{Subject: client.ChatSubject(ch.ID), Reason: "hate_speech"}))(t, "report the channel")
	inAustria := must(mod.Act(ctx, rep.CaseID, client.ActParams{Kind: client.ActionRestrict, Facts: "A channel of hate.", Countries: []string{"at"}}))(t, "restrict the channel")
	if !slices.Equal(inAustria.Territory, []string{"AT"}) {
		t.Fatalf("restrict the channel in Austria: got %+v", inAustria)
	}
	_, err = reader.ChatRestrictions(ctx, ch.ID)
	wantReason(t, "a user lists restrictions", err, "forbidden", "staff_only")
	rs := must(mod.ChatRestrictions(ctx, ch.ID))(t, "restrictions")
	if len(rs) != 2 ||
		rs[0].ChatID != ch.ID || rs[0].Seq != post.Seq || len(rs[0].Scope) != 0 || rs[0].Category != "hate_speech" || rs[0].Where != "by country rules: DE" ||
		rs[0].Reason == "" || !rs[0].CreatedAt.Equal(s.clock.Now()) ||
		rs[1].Seq != 0 || !slices.Equal(rs[1].Scope, []string{"AT"}) || rs[1].Where != "AT" {
		t.Fatalf("restrictions: got %+v", rs)
	}

	// A reader who declares Austria finds the channel withheld there.
	me := must(reader.UpdateMe(ctx, client.ProfileUpdate{Country: new("at")}))(t, "declare Austria")
	if me.Country != "AT" {
		t.Fatalf("declared country %q, want AT", me.Country)
	}
	if c := must(reader.Chat(ctx, ch.ID))(t, "the channel from Austria"); c.Withheld == nil || c.Withheld.Country != "AT" ||
		!strings.Contains(c.Withheld.String(), "(AT)") {
		t.Fatalf("the channel from Austria: withheld %+v", c.Withheld)
	}
	_, err = reader.History(ctx, ch.ID, client.Before(0), 10)
	wantReason(t, "history from Austria", err, "unavailable_for_legal_reasons", "withheld_in_country")
	must(reader.UpdateMe(ctx, client.ProfileUpdate{Country: new("")}))(t, "declare no country")

	_, err = mod.GeoLookup(ctx, "192.0.2.9")
	wantReason(t, "a moderator looks up an address", err, "forbidden", "admin_only")
	if g := must(admin.GeoLookup(ctx, "192.0.2.9"))(t, "look up an address in Germany"); g != (client.GeoLookup{IP: "192.0.2.9", Country: "DE", CountryName: "Germany", Found: true}) {
		t.Fatalf("look up 192.0.2.9: got %+v", g)
	}
	if g := must(admin.GeoLookup(ctx, "2001:db8::1"))(t, "look up an address nowhere"); g != (client.GeoLookup{IP: "2001:db8::1"}) {
		t.Fatalf("look up 2001:db8::1: got %+v", g)
	}
	_, err = admin.GeoLookup(ctx, "not an address")
	wantField(t, "look up something that is not an address", err, "ip")

	// Undo it all: the rule, and both markets.
	wantReason(t, "a moderator removes the rule", mod.RemoveCountryRule(ctx, rule.ID), "forbidden", "admin_only")
	ok(t, "remove the rule", admin.RemoveCountryRule(ctx, rule.ID))
	wantCode(t, "remove the rule again", admin.RemoveCountryRule(ctx, rule.ID), "not_found")
	if rs := must(mod.ChatRestrictions(ctx, ch.ID))(t, "restrictions after removing the rule"); len(rs) != 2 || rs[0].Where == "by country rules: DE" {
		t.Fatalf("restrictions after removing the rule: got %+v", rs)
	}
	for _, code := range []string{"DE", "AT"} {
		if p := must(admin.SetCountryPolicy(ctx, code, client.PolicyParams{Status: client.MarketOpen}))(t, "reopen "+code); p.Code != code || p.Status != client.MarketOpen {
			t.Fatalf("reopen %s: got %+v", code, p)
		}
	}
	if j := must(mod.Jurisdictions(ctx))(t, "jurisdictions at the end"); len(j.Countries) != 0 || len(j.Rules) != 0 {
		t.Fatalf("after reopening both markets and removing the rule: countries %+v, rules %+v", j.Countries, j.Rules)
	}
}
