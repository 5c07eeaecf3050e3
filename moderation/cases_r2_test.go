package moderation_test

import (
	"testing"
	"time"

	"kurir/moderation"
)

// TestOverdueCasesAndEscalationsGoFirst: a low-priority case past its SLA
// goes ahead of a severe one still in time; an escalated case goes ahead of
// everything for admins (the senior queue) but not for moderators.
func TestOverdueCasesAndEscalationsGoFirst(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, spamPost := e.channel(e.user("spammer"), "spamchan")
		spam := e.report(e.user("rep1"), msgSubject(spamPost), moderation.Spam)
		e.clock.Advance(moderation.Spam.SLA() + time.Minute)
		_, terrorPost := e.channel(e.user("recruiter"), "terrorchan")
		terror := e.report(e.user("rep2"), msgSubject(terrorPost), moderation.Terrorism)
		_, otherPost := e.channel(e.user("scammer"), "scamchan")
		other := e.report(e.user("rep3"), msgSubject(otherPost), moderation.Scam)

		order := func(by moderation.Staff) []int64 {
			q, err := e.mod.Queue(e.ctx, by, moderation.QueueFilter{})
			must(t, "Queue", err)
			var out []int64
			for _, c := range q {
				out = append(out, c.ID)
			}
			return out
		}
		if c := e.caseOf(terror.CaseID).Case; c.Priority <= e.caseOf(spam.CaseID).Case.Priority {
			t.Fatalf("terrorism priority %d not above spam's: the test proves nothing", c.Priority)
		}
		if got := order(e.mod1); len(got) != 3 || got[0] != spam.CaseID || got[1] != terror.CaseID {
			t.Errorf("queue %v; want the overdue spam case %d first, then terrorism %d", got, spam.CaseID, terror.CaseID)
		}

		must(t, "Escalate", e.mod.Escalate(e.ctx, e.triage, other.CaseID, "needs a senior"))
		if got := order(e.admin); len(got) != 3 || got[0] != other.CaseID || got[1] != spam.CaseID {
			t.Errorf("admin's queue %v; want the escalated case %d first, then the overdue %d", got, other.CaseID, spam.CaseID)
		}
		if got := order(e.mod1); len(got) != 3 || got[0] != spam.CaseID || got[2] != other.CaseID {
			t.Errorf("moderator's queue %v; want the escalated case %d in its place by priority, last", got, other.CaseID)
		}
		esc, err := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{State: moderation.StateEscalated})
		must(t, "Queue escalated", err)
		if len(esc) != 1 || esc[0].ID != other.CaseID {
			t.Errorf("the escalated queue: %+v", esc)
		}
	})
}
