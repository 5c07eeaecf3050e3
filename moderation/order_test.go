package moderation_test

import (
	"testing"

	"kurir"
	"kurir/moderation"
)

// TestRemovalOrderTellsOwnerLive: content withheld on a removal order is a
// decision like any other to its owner: their connected device is nudged at
// once and the badge counts it; an order refused as malformed nudges no one.
func TestRemovalOrderTellsOwnerLive(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, mod, dev := e.liveDevice("owner")
		reader := e.user("reader")
		_, post := e.channel(owner, "news", reader)
		order := moderation.Order{Subject: msgSubject(post), Category: moderation.Terrorism, Authority: "Police nationale",
			Reference: "RO-2026-7", LegalRef: "Regulation (EU) 2021/784, Art. 3", Facts: "The post glorifies an attack."}

		bad := order
		bad.Countries = nil
		_, err := mod.EnforceOrder(e.ctx, bad)
		wantCode(t, "an order without a country", err, kurir.EInvalid, "no_scope")
		if got := frames(dev); len(got) != 0 {
			t.Errorf("frames after a refused order = %v, want none", got)
		}

		order.Countries = []string{"FR"}
		a, err := mod.EnforceOrder(e.ctx, order)
		must(t, "EnforceOrder", err)
		if a.Affected != owner {
			t.Fatalf("order affects user %d, want the owner %d", a.Affected, owner)
		}
		if got := frames(dev); len(got) != 1 || got[0] != `{"type":"decision"}` {
			t.Errorf("frames after the order = %v, want one decision nudge", got)
		}
		if n, _ := mod.UnseenStatements(e.ctx, owner); n != 1 {
			t.Errorf("unseen after the order = %d, want 1", n)
		}
	})
}
