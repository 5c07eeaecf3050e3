package moderation_test

import (
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/moderation"
)

// standing returns an account's state and suspension end.
func (e *env) standing(id kurir.UserID) (account.State, time.Time) {
	e.t.Helper()
	u, err := e.acc.UserByID(e.ctx, id)
	must(e.t, "UserByID", err)
	return u.State, u.SuspendedUntil
}

func TestReversingOneDecisionLeavesTheOthersAgainstTheAccountInForce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		bad, r1, r2, r3 := e.user("baddie"), e.user("rep1"), e.user("rep2"), e.user("rep3")
		u := moderation.Subject{Kind: moderation.SubjectUser, User: bad}
		long := e.clock.Now().Add(72 * time.Hour).UTC().Truncate(time.Microsecond)
		short := e.clock.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)
		act := func(rep kurir.UserID, p moderation.ActParams) moderation.Action {
			t.Helper()
			c := e.report(rep, u, moderation.Harassment)
			a, err := e.mod.Act(e.ctx, e.mod1, c.CaseID, p)
			must(t, "Act "+string(p.Kind), err)
			return a
		}
		sLong := act(r1, moderation.ActParams{Kind: moderation.Suspend, Facts: "threats", Until: long})
		sShort := act(r2, moderation.ActParams{Kind: moderation.Suspend, Facts: "more threats", Until: short})
		ban := act(r3, moderation.ActParams{Kind: moderation.Ban, Facts: "threats again"})

		// An upheld appeal against the first suspension leaves the ban.
		ap, err := e.mod.FileAppeal(e.ctx, bad, sShort.ID, "that one was wrong")
		must(t, "FileAppeal", err)
		_, err = e.mod.DecideAppeal(e.ctx, e.mod2, ap.ID, true, "the messages were quotes")
		must(t, "DecideAppeal", err)
		if st, _ := e.standing(bad); st != account.StateBanned {
			t.Fatalf("after upholding the appeal against a suspension the account is %q; the later ban stands", st)
		}
		// Reversing the ban leaves the longer suspension, to its own end.
		must(t, "Reverse ban", e.mod.Reverse(e.ctx, e.mod2, ban.ID, "ban was too harsh"))
		if st, until := e.standing(bad); st != account.StateSuspended || !until.Equal(long) {
			t.Fatalf("after reversing the ban the account is %q until %v; want suspended until %v", st, until, long)
		}
		// Reversing the last one in force reinstates it.
		must(t, "Reverse suspension", e.mod.Reverse(e.ctx, e.mod2, sLong.ID, "resolved with the user"))
		if st, _ := e.standing(bad); st != account.StateActive {
			t.Fatalf("with nothing in force the account is %q, want active", st)
		}
	})
}

func TestAnExpiredSuspensionDoesNotComeBackWhenABanIsReversed(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		bad, r1, r2 := e.user("baddie"), e.user("rep1"), e.user("rep2")
		u := moderation.Subject{Kind: moderation.SubjectUser, User: bad}
		c := e.report(r1, u, moderation.Spam)
		_, err := e.mod.Act(e.ctx, e.mod1, c.CaseID, moderation.ActParams{Kind: moderation.Suspend, Facts: "spam", Until: e.clock.Now().Add(time.Hour)})
		must(t, "suspend", err)
		e.clock.Advance(2 * time.Hour)
		c = e.report(r2, u, moderation.Spam)
		ban, err := e.mod.Act(e.ctx, e.mod1, c.CaseID, moderation.ActParams{Kind: moderation.Ban, Facts: "spam again"})
		must(t, "ban", err)
		must(t, "Reverse", e.mod.Reverse(e.ctx, e.mod2, ban.ID, "mistaken identity"))
		if st, _ := e.standing(bad); st != account.StateActive {
			t.Errorf("account %q after reversing the ban; the suspension had ended", st)
		}
	})
}

// Two moderators acting on one case at once: one decision takes effect and
// is recorded, the other is refused and leaves nothing behind.
func TestConcurrentActionsOnOneCaseDecideItOnce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		for round := range 4 {
			owner, rep := e.user("owner"+string(rune('a'+round))), e.user("rep"+string(rune('a'+round)))
			ch, _ := e.channel(owner, "chan"+string(rune('a'+round)), rep)
			c := e.report(rep, moderation.Subject{Kind: moderation.SubjectChat, Chat: ch.ID}, moderation.Scam)
			kinds := []moderation.ActionKind{moderation.TakeDown, moderation.Ban}
			staff := []moderation.Staff{e.mod1, e.mod2}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 2 {
				wg.Go(func() {
					<-start
					_, errs[i] = e.mod.Act(e.ctx, staff[i], c.CaseID, moderation.ActParams{Kind: kinds[i], Facts: "scam shop"})
				})
			}
			close(start)
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil && won >= 0:
					t.Fatalf("round %d: both %s and %s took effect on case %d", round, kinds[0], kinds[1], c.CaseID)
				case err == nil:
					won = i
				case kurir.ErrorCode(err) != kurir.EConflict:
					t.Fatalf("round %d: %s refused with %v, want a conflict", round, kinds[i], err)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: neither action took effect: %v", round, errs)
			}
			d := e.caseOf(c.CaseID)
			if len(d.Actions) != 1 || d.Actions[0].Kind != kinds[won] {
				t.Fatalf("round %d: case records %+v, want the one %s", round, d.Actions, kinds[won])
			}
			rv, err := e.msg.ReviewChat(e.ctx, ch.ID)
			must(t, "ReviewChat", err)
			st, _ := e.standing(owner)
			if down := !rv.TakenDown.IsZero(); down != (kinds[won] == moderation.TakeDown) {
				t.Errorf("round %d: %s won, yet the channel taken down = %v", round, kinds[won], down)
			}
			if banned := st == account.StateBanned; banned != (kinds[won] == moderation.Ban) {
				t.Errorf("round %d: %s won, yet the owner is %q", round, kinds[won], st)
			}
		}
	})
}

func TestAReporterCanReportASubjectAgainOnceItsCaseIsResolved(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		bad, r1 := e.user("baddie"), e.user("rep1")
		u := moderation.Subject{Kind: moderation.SubjectUser, User: bad}
		first := e.report(r1, u, moderation.Harassment)
		_, err := e.mod.Report(e.ctx, r1, moderation.ReportParams{Subject: u, Category: moderation.Harassment})
		wantCode(t, "second report while the case is open", err, kurir.EConflict, "already_reported")
		must(t, "Dismiss", e.mod.Dismiss(e.ctx, e.mod1, first.CaseID, "banter between friends"))

		e.clock.Advance(30 * 24 * time.Hour)
		again, err := e.mod.Report(e.ctx, r1, moderation.ReportParams{Subject: u, Category: moderation.Harassment, Comment: "new threats"})
		must(t, "report after the case was dismissed", err)
		if again.CaseID == first.CaseID {
			t.Fatalf("the new report joined resolved case %d", first.CaseID)
		}
		if d := e.caseOf(again.CaseID); d.SignalCount != 1 || d.State == moderation.StateResolved {
			t.Errorf("new case %+v, want open with the one new report", d.Case)
		}
		_, err = e.mod.Report(e.ctx, r1, moderation.ReportParams{Subject: u, Category: moderation.Violence})
		wantCode(t, "third report while the new case is open", err, kurir.EConflict, "already_reported")
		reps, err := e.mod.Reports(e.ctx, r1, 10)
		must(t, "Reports", err)
		if len(reps) != 2 || reps[0].CaseID != again.CaseID || reps[1].Outcome != "dismissed" {
			t.Errorf("reporter's reports %+v, want the new one and the dismissed one", reps)
		}
	})
}
