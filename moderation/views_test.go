package moderation_test

import (
	"fmt"
	"testing"

	"kurir"
	"kurir/moderation"
)

// TestReachCountsViews: a post in a small public channel that many people
// saw outranks one in a channel with more members but fewer readers, once
// a report arrives after the views; the chat as a subject reaches as many
// as its most viewed recent post.
func TestReachCountsViews(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, small, a, b := e.user("owner"), e.user("smallowner"), e.user("alice"), e.user("bobby")
		var subs []kurir.UserID
		for i := range 10 {
			subs = append(subs, e.user(fmt.Sprintf("sub%02d", i)))
		}
		_, steady := e.channel(owner, "steadynews", subs...)
		viralChat, viral := e.channel(small, "viralnews", a)
		steadyCase := e.report(a, msgSubject(steady), moderation.Spam)
		viralCase := e.report(a, msgSubject(viral), moderation.Spam)
		queue := func() []int64 {
			t.Helper()
			q, err := e.mod.Queue(e.ctx, e.triage, moderation.QueueFilter{})
			must(t, "Queue", err)
			var ids []int64
			for _, c := range q {
				ids = append(ids, c.ID)
			}
			return ids
		}
		if got := queue(); len(got) != 2 || got[0] != steadyCase.CaseID {
			t.Fatalf("before any views queue %v, want the channel with more members (case %d) first", got, steadyCase.CaseID)
		}

		// Forty people who never joined read the post.
		for i := range 40 {
			_, err := e.msg.RecordViews(e.ctx, e.user(fmt.Sprintf("reader%02d", i)), viral.ChatID, []int64{viral.Seq})
			must(t, "RecordViews", err)
		}
		// The next report re-reads the reach, and the case moves up.
		if r := e.report(b, msgSubject(viral), moderation.Spam); r.CaseID != viralCase.CaseID {
			t.Fatalf("second report opened case %d, want it to join %d", r.CaseID, viralCase.CaseID)
		}
		if got := queue(); len(got) != 2 || got[0] != viralCase.CaseID {
			t.Errorf("after 40 views queue %v, want the viral post (case %d) first", got, viralCase.CaseID)
		}
		if d := e.caseOf(viralCase.CaseID); d.Reach != 40 {
			t.Errorf("viral case reach %d, want its 40 views", d.Reach)
		}

		chatCase := e.report(b, moderation.Subject{Kind: moderation.SubjectChat, Chat: viralChat.ID}, moderation.Spam)
		if d := e.caseOf(chatCase.CaseID); d.Reach != 40 {
			t.Errorf("chat case reach %d, want the 40 views of its recent post", d.Reach)
		}
	})
}
