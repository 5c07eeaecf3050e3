package jurisdiction_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/jurisdiction"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

var (
	admin     = moderation.Staff{ID: 1, Role: kurir.RoleAdmin}
	moderator = moderation.Staff{ID: 2, Role: kurir.RoleModerator}
)

func newService(t *testing.T, db *sqldb.DB, geo jurisdiction.Locator) *jurisdiction.Service {
	return jurisdiction.NewService(db, geo, clocktest.New(time.Time{}), nil)
}

var schema = []sqldb.Migrations{audit.Migrations, jurisdiction.Migrations}

// TestPolicyAppliesWhereItSays: a withdrawn market refuses people by either
// of their countries; a restricted one refuses only the features it turned
// off; other countries are open.
func TestPolicyAppliesWhereItSays(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		j := newService(t, db, nil)
		ctx := t.Context()
		if _, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "ir", Status: jurisdiction.Withdrawn}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "RU", Status: jurisdiction.Restricted,
			Off: []jurisdiction.Feature{jurisdiction.Discovery}, Note: "By order of the operator."}); err != nil {
			t.Fatal(err)
		}
		for _, loc := range []kurir.Location{{Network: "IR"}, {Declared: "IR"}, {Network: "FR", Declared: "IR"}} {
			err := j.Admit(loc, "en")
			if kurir.ErrorCode(err) != kurir.ELegal || !strings.Contains(err.Error(), "(IR)") {
				t.Errorf("Admit(%+v) = %v, want the withdrawn refusal", loc, err)
			}
		}
		if err := j.Admit(kurir.Location{Network: "RU"}, "en"); err != nil {
			t.Errorf("a restricted market refuses entry: %v", err)
		}
		err := j.Allow(kurir.Location{Network: "RU"}, jurisdiction.Discovery, "id")
		if kurir.ErrorCode(err) != kurir.ELegal || !strings.Contains(err.Error(), "By order of the operator.") || !strings.Contains(err.Error(), "tidak tersedia") {
			t.Errorf("discovery in Russia, in Indonesian: %v", err)
		}
		if err := j.Allow(kurir.Location{Network: "RU"}, jurisdiction.Uploads, "en"); err != nil {
			t.Errorf("uploads in Russia, not turned off: %v", err)
		}
		if err := j.Allow(kurir.Location{Network: "FR"}, jurisdiction.Signup, "en"); err != nil {
			t.Errorf("signup in an open market: %v", err)
		}
		// Reopening removes the policy.
		if _, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "IR", Status: jurisdiction.Open}); err != nil {
			t.Fatal(err)
		}
		if err := j.Admit(kurir.Location{Network: "IR"}, "en"); err != nil {
			t.Errorf("after reopening: %v", err)
		}
		ps, err := j.Policies(ctx)
		if err != nil || len(ps) != 1 || ps[0].Country != "RU" || ps[0].UpdatedBy != admin.ID {
			t.Errorf("policies = %+v, %v; want RU's alone", ps, err)
		}
	}, schema...)
}

// TestRulesAndGroups: a rule for the EU makes its category illegal in every
// member and nowhere else; a restriction naming EU applies in members; the
// EEA is the EU and three more.
func TestRulesAndGroups(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		j := newService(t, db, nil)
		if _, err := j.AddRule(t.Context(), admin, jurisdiction.Rule{Scope: "EU", Category: moderation.Terrorism, LegalRef: "Regulation (EU) 2021/784"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range jurisdiction.Groups["EU"] {
			if ref, ok := j.Applies(c, nil, string(moderation.Terrorism)); !ok || ref != "Regulation (EU) 2021/784" {
				t.Errorf("terrorism by rules in %s: %q, %v", c, ref, ok)
			}
		}
		for _, c := range []string{"NO", "US", "CH"} {
			if _, ok := j.Applies(c, nil, string(moderation.Terrorism)); ok {
				t.Errorf("an EU rule applies in %s", c)
			}
		}
		if _, ok := j.Applies("DE", nil, string(moderation.Spam)); ok {
			t.Error("an EU rule about terrorism applies to spam")
		}
		if _, ok := j.Applies("NO", []string{"EEA"}, ""); !ok {
			t.Error("a restriction in the EEA does not apply in Norway")
		}
		if _, ok := j.Applies("NO", []string{"EU", "CH"}, ""); ok {
			t.Error("a restriction in the EU and Switzerland applies in Norway")
		}
		if got := len(j.IllegalIn(moderation.Terrorism)); got != 27 {
			t.Errorf("terrorism is illegal in %d countries, want the 27 of the EU", got)
		}
		if _, err := j.AddRule(t.Context(), admin, jurisdiction.Rule{Scope: "EU", Category: moderation.Terrorism, LegalRef: "again"}); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("a second rule for the same scope and category: %v", err)
		}
		rules, _ := j.Rules(t.Context())
		if err := j.RemoveRule(t.Context(), admin, rules[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, ok := j.Applies("DE", nil, string(moderation.Terrorism)); ok {
			t.Error("a removed rule still applies")
		}
	}, schema...)
}

// TestBadPolicyChangesNothing: each bad change is refused with the field at
// fault and leaves the policy and the audit log as they were; only admins
// change policy.
func TestBadPolicyChangesNothing(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		j := newService(t, db, nil)
		ctx := t.Context()
		for _, c := range []struct {
			name  string
			do    func() error
			field string
		}{
			{"unknown country", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "XX", Status: jurisdiction.Withdrawn})
				return err
			}, "country"},
			{"a group as a market", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "EU", Status: jurisdiction.Withdrawn})
				return err
			}, "country"},
			{"unknown status", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "DE", Status: "closed"})
				return err
			}, "status"},
			{"unknown feature", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "DE", Status: jurisdiction.Restricted, Off: []jurisdiction.Feature{"voice"}})
				return err
			}, "off"},
			{"restricted with nothing off", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "DE", Status: jurisdiction.Restricted})
				return err
			}, "off"},
			{"features off in an open market", func() error {
				_, err := j.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "DE", Status: jurisdiction.Open, Off: []jurisdiction.Feature{jurisdiction.Signup}})
				return err
			}, "off"},
			{"rule for an unknown scope", func() error {
				_, err := j.AddRule(ctx, admin, jurisdiction.Rule{Scope: "Germany", Category: moderation.Spam, LegalRef: "x"})
				return err
			}, "scope"},
			{"rule for an unknown category", func() error {
				_, err := j.AddRule(ctx, admin, jurisdiction.Rule{Scope: "DE", Category: "jaywalking", LegalRef: "x"})
				return err
			}, "category"},
			{"rule without a law", func() error {
				_, err := j.AddRule(ctx, admin, jurisdiction.Rule{Scope: "DE", Category: moderation.Spam})
				return err
			}, "legal_reference"},
		} {
			err := c.do()
			var e *kurir.Error
			if kurir.ErrorCode(err) != kurir.EInvalid || !asError(err, &e) || e.Field != c.field {
				t.Errorf("%s: %v, want an invalid %s", c.name, err, c.field)
			}
		}
		if _, err := j.SetPolicy(ctx, moderator, jurisdiction.Policy{Country: "DE", Status: jurisdiction.Withdrawn}); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("a moderator withdrew a market: %v", err)
		}
		ps, _ := j.Policies(ctx)
		rs, _ := j.Rules(ctx)
		entries, _ := audit.List(ctx, db.Read(), audit.Filter{})
		if len(ps) != 0 || len(rs) != 0 || len(entries) != 0 {
			t.Errorf("refused changes left policies %v, rules %v, audit entries %v", ps, rs, entries)
		}
	}, schema...)
}

func asError(err error, e **kurir.Error) bool {
	var k *kurir.Error
	ok := false
	if err != nil {
		k, ok = err.(*kurir.Error)
	}
	*e = k
	return ok
}

// TestChangesAreAuditedAndReachOtherNodes: every change is in the audit log
// with who made it, and another node sees it once it syncs.
func TestChangesAreAuditedAndReachOtherNodes(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		one, two := newService(t, db, nil), newService(t, db, nil)
		ctx := t.Context()
		if err := two.Admit(kurir.Location{Network: "KP"}, "en"); err != nil { // loads the empty policy
			t.Fatal(err)
		}
		if _, err := one.SetPolicy(ctx, admin, jurisdiction.Policy{Country: "KP", Status: jurisdiction.Withdrawn}); err != nil {
			t.Fatal(err)
		}
		if _, err := one.AddRule(ctx, admin, jurisdiction.Rule{Scope: "DE", Category: moderation.HateSpeech, LegalRef: "§ 130 StGB"}); err != nil {
			t.Fatal(err)
		}
		if err := two.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := two.Admit(kurir.Location{Network: "KP"}, "en"); kurir.ErrorCode(err) != kurir.ELegal {
			t.Errorf("the other node admits KP after syncing: %v", err)
		}
		if _, ok := two.Applies("DE", nil, string(moderation.HateSpeech)); !ok {
			t.Error("the other node does not know the new rule")
		}
		entries, err := audit.List(ctx, db.Read(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			if e.Actor != admin.ID || e.Role != kurir.RoleAdmin {
				t.Errorf("entry %+v does not name the admin", e)
			}
			actions = append(actions, e.Action+" "+e.Subject)
		}
		if !slices.Equal(actions, []string{"jurisdiction.rule.add scope:DE", "jurisdiction.policy country:KP"}) {
			t.Errorf("audit log, newest first = %v", actions)
		}
	}, schema...)
}

type table map[netip.Addr]string

func (t table) Lookup(a netip.Addr) (string, bool) { c, ok := t[a]; return c, ok }

// TestLocate: the network's country comes from the IP table, the declared
// one from the account; an address the table lacks gives none.
func TestLocate(t *testing.T) {
	j := jurisdiction.NewService(nil, table{netip.MustParseAddr("192.0.2.1"): "FR"}, clocktest.New(time.Time{}), nil)
	if got := j.Locate(netip.MustParseAddr("192.0.2.1"), "DE"); got != (kurir.Location{Network: "FR", Declared: "DE"}) {
		t.Errorf("Locate = %+v", got)
	}
	if got := j.Locate(netip.MustParseAddr("192.0.2.2"), ""); got != (kurir.Location{}) {
		t.Errorf("Locate outside the table = %+v", got)
	}
}

// TestScope: scopes are upper-cased, de-duplicated, and only countries and
// groups.
func TestScope(t *testing.T) {
	got, err := jurisdiction.ParseScope([]string{" de", "EU", "DE", ""})
	if err != nil || !slices.Equal(got, []string{"DE", "EU"}) {
		t.Errorf("ParseScope = %v, %v", got, err)
	}
	for _, bad := range []string{"D", "DEU", "UK", "XX", "eu-27"} {
		if _, err := jurisdiction.ParseScope([]string{bad}); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("ParseScope(%q) = %v, want invalid", bad, err)
		}
	}
}
