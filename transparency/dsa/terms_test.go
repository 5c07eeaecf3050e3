package dsa_test

import (
	"testing"

	"kurir/moderation"
	"kurir/transparency/dsa"
	"kurir/transparency/dsa/dsatest"
)

// TestTermsDecisionsLinkTheirClause: with the terms' address, a decision on
// the terms reaches the database with decision_ground_reference_url set to
// its clause, the very link the user's statement of reasons gives; a
// decision on the law has none, and neither has anything without the
// address.
func TestTermsDecisionsLinkTheirClause(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		const terms = "https://kurir.example/terms"
		spam := w.act(w.post("buy followers"), moderation.Spam, moderation.ActParams{Kind: moderation.RemoveMessage})
		threat := w.act(w.post("a threat"), moderation.Violence,
			moderation.ActParams{Kind: moderation.RemoveMessage, Ground: moderation.GroundIllegal, LegalReference: "§ 241 StGB"})
		userLink := moderation.NewService(w.db, w.msg, w.acc, w.clock, nil, moderation.Config{TermsURL: terms}).TermsLink(moderation.Spam)
		if userLink != terms+"#clause-4.18" {
			t.Fatalf("the user's statement links %q; the test expects spam under clause 4.18", userLink)
		}

		srv := dsatest.New(t, token)
		e := w.exporter(srv)
		e.TermsURL = terms
		_, err := e.SubmitPending(w.ctx)
		must(t, err)
		got := map[string]string{}
		for _, s := range srv.Statements() {
			got[s.PUID] = s.DecisionGroundReferenceURL
		}
		if len(got) != 2 {
			t.Fatalf("the database holds %d statements, want 2", len(got))
		}
		if u := got[dsa.PUID(spam.ID)]; u != userLink {
			t.Errorf("submitted terms decision links %q, want %q", u, userLink)
		}
		if u := got[dsa.PUID(threat.ID)]; u != "" {
			t.Errorf("submitted decision on the law links %q, want nothing", u)
		}

		exported := w.exported(dsa.ExportOptions{TermsURL: terms})
		if u := exported[dsa.PUID(spam.ID)].DecisionGroundReferenceURL; u != userLink {
			t.Errorf("exported terms decision links %q, want %q", u, userLink)
		}
		if u := w.exported(dsa.ExportOptions{})[dsa.PUID(spam.ID)].DecisionGroundReferenceURL; u != "" {
			t.Errorf("exported without the terms' address, it links %q, want nothing", u)
		}
	})
}
