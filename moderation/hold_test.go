package moderation_test

import (
	"slices"
	"strings"
	"testing"

	"kurir"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/textscan"
)

// TestHeldMessagesWaitForReview: a message matching a hold rule is stored
// but nobody else sees it; its case is about that message and shows it to
// the moderator; dismissing the case releases it to everyone, and removing
// it keeps it unseen with a statement of reasons for its author.
func TestHeldMessagesWaitForReview(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		screen := safety.NewTextScreen(e.db, e.clock, nil, safety.Limits{}, nil)
		rules, err := textscan.ParseRules("t.rules", strings.NewReader("TERRORISM\thold\tquasarbomb\n"))
		must(t, "ParseRules", err)
		must(t, "SetRules", screen.SetRules(rules))
		msg := messaging.NewService(e.db, nil, e.clock, nil, messaging.Config{Screen: screen})
		mod := moderation.NewService(e.db, msg, e.acc, e.clock, nil, moderation.Config{})
		a, b := e.user("anna"), e.user("boris")
		g, err := msg.CreateGroup(e.ctx, a, messaging.NewChat{Title: "Chemistry", Members: []kurir.UserID{b}})
		must(t, "CreateGroup", err)
		history := func(u kurir.UserID) []string {
			t.Helper()
			h, err := msg.History(e.ctx, u, g.ID, 0, messaging.Newer, 100)
			must(t, "History", err)
			var out []string
			for _, m := range h {
				out = append(out, m.Text)
			}
			return out
		}
		send := func(text, key string) messaging.Message {
			t.Helper()
			m, err := msg.Send(e.ctx, a, g.ID, messaging.SendParams{Text: text, IdempotencyKey: key})
			must(t, "Send", err)
			return m
		}

		held := send("how to build a quasarbomb", "k1")
		if !held.Held || held.Text != "how to build a quasarbomb" {
			t.Fatalf("Send answered %+v; want the message, marked held", held)
		}
		if again := send("how to build a quasarbomb", "k1"); !again.Held || again.Seq != held.Seq {
			t.Errorf("a retry answered %+v; want the same held message", again)
		}
		fine := send("fine text", "k2")
		if got := history(b); !slices.Equal(got, []string{"fine text"}) {
			t.Fatalf("the other member sees %q; the held message must not show", got)
		}
		_, err = msg.Edit(e.ctx, a, g.ID, fine.Seq, "quasarbomb")
		wantCode(t, "an edit that would be held", err, kurir.EForbidden, "content_held")

		n, err := mod.IntakeDetection(e.ctx, 100)
		must(t, "IntakeDetection", err)
		q, _ := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		if n != 1 || len(q) != 1 || q[0].Subject.Kind != moderation.SubjectMessage || q[0].Subject.Seq != held.Seq || q[0].Category != moderation.Terrorism {
			t.Fatalf("intake filed %d; queue %+v; want one terrorism case about message %d", n, q, held.Seq)
		}
		d, err := mod.Case(e.ctx, e.mod1, q[0].ID)
		must(t, "Case", err)
		var shown bool
		for _, m := range d.Messages {
			if m.Seq == held.Seq && m.Held && m.Text == "how to build a quasarbomb" {
				shown = true
			}
		}
		if !shown {
			t.Errorf("the case shows %+v; want the held message with its text", d.Messages)
		}
		must(t, "Dismiss", mod.Dismiss(e.ctx, e.mod1, q[0].ID, "a chemistry joke"))
		if got := history(b); !slices.Equal(got, []string{"how to build a quasarbomb", "fine text"}) {
			t.Errorf("after release the other member sees %q", got)
		}

		second := send("a real quasarbomb manual", "k3")
		mod.IntakeDetection(e.ctx, 100)
		q, _ = mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		if len(q) != 1 || q[0].Subject.Seq != second.Seq {
			t.Fatalf("queue %+v, want the second held message", q)
		}
		act, err := mod.Act(e.ctx, e.mod1, q[0].ID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "bomb-making instructions"})
		must(t, "Act", err)
		if act.Excerpt != "a real quasarbomb manual" || act.Affected != a || !act.AutomatedDetection {
			t.Errorf("action %+v; want the held text, the author, automated detection", act)
		}
		if got := history(b); slices.Contains(got, "a real quasarbomb manual") {
			t.Errorf("removing a held message showed it: %q", got)
		}
		acts, _, _ := mod.Statements(e.ctx, a)
		if len(acts) != 1 {
			t.Errorf("the author has %d statements, want 1", len(acts))
		}
	})
}
