package moderation_test

import (
	"testing"
	"time"

	"kurir/account"
	"kurir/moderation"
)

// TestAMilderDecisionDoesNotLiftAStrongerOne: a short suspension decided
// after a longer one, or after a ban, leaves the account as the stronger
// decision holds it; reversing that one then falls back to the milder.
func TestAMilderDecisionDoesNotLiftAStrongerOne(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		bad := e.user("baddie")
		u := moderation.Subject{Kind: moderation.SubjectUser, User: bad}
		act := func(rep string, p moderation.ActParams) moderation.Action {
			t.Helper()
			c := e.report(e.user(rep), u, moderation.Harassment)
			a, err := e.mod.Act(e.ctx, e.mod1, c.CaseID, p)
			must(t, "Act "+string(p.Kind), err)
			return a
		}
		at := func(d time.Duration) time.Time { return e.clock.Now().Add(d).UTC().Truncate(time.Microsecond) }
		want := func(step string, state account.State, until time.Time) {
			t.Helper()
			if st, u := e.standing(bad); st != state || (!until.IsZero() && !u.Equal(until)) {
				t.Errorf("%s: account %q until %v, want %q until %v", step, st, u, state, until)
			}
		}

		long := act("rep1", moderation.ActParams{Kind: moderation.Suspend, Facts: "threats", Until: at(72 * time.Hour)})
		act("rep2", moderation.ActParams{Kind: moderation.Suspend, Facts: "spam", Until: at(time.Hour)})
		want("a short suspension after a long one", account.StateSuspended, long.Until)

		ban := act("rep3", moderation.ActParams{Kind: moderation.Ban, Facts: "threats again"})
		act("rep4", moderation.ActParams{Kind: moderation.Suspend, Facts: "more spam", Until: at(2 * time.Hour)})
		want("a suspension after a ban", account.StateBanned, time.Time{})

		must(t, "Reverse ban", e.mod.Reverse(e.ctx, e.mod2, ban.ID, "too harsh"))
		want("the ban reversed", account.StateSuspended, long.Until)
	})
}
