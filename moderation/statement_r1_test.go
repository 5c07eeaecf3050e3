package moderation_test

import (
	"fmt"
	"strings"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/realtime"
)

// liveEnv is env's moderation with a live hub and the terms' address, and
// a device of user's connected to the hub.
func (e *env) liveDevice(user string) (kurir.UserID, *moderation.Service, *realtime.Session) {
	e.t.Helper()
	id := e.user(user)
	_, sess, _, err := e.acc.Login(e.ctx, account.LoginParams{Username: user, Password: "wet-otter-lantern-9", DeviceName: "phone"})
	must(e.t, "Login", err)
	hub := realtime.NewHub(nil, func(messaging.Event) ([]byte, error) { return []byte("{}"), nil }, nil, realtime.Config{})
	mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{Live: hub, TermsURL: "https://kurir.example/terms"})
	return id, mod, hub.RegisterDevice(id, sess.ID, func() {})
}

// frames takes the frames waiting for a live session, as strings.
func frames(s *realtime.Session) []string {
	fs, _ := s.Take()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// TestAffectedUserIsToldOfDecisionsAndReversals: a decision against a
// user's content nudges their connected device at once and counts as news
// until they read their statements; a reversal is news again; reading
// clears it on every device (the count is the server's).
func TestAffectedUserIsToldOfDecisionsAndReversals(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, mod, dev := e.liveDevice("owner")
		reader := e.user("reader")
		_, post := e.channel(owner, "news", reader)
		rep := e.report(reader, msgSubject(post), moderation.Spam)
		if got := frames(dev); len(got) != 0 {
			t.Fatalf("frames before any decision: %v", got)
		}
		if n, err := mod.UnseenStatements(e.ctx, owner); err != nil || n != 0 {
			t.Fatalf("unseen before any decision = %d, %v; want 0", n, err)
		}
		a, err := mod.Act(e.ctx, e.mod1, rep.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Template: "spam"})
		must(t, "Act", err)
		if got := frames(dev); len(got) != 1 || got[0] != `{"type":"decision"}` {
			t.Errorf("frames after the decision = %v, want one decision nudge", got)
		}
		if n, _ := mod.UnseenStatements(e.ctx, owner); n != 1 {
			t.Errorf("unseen after the decision = %d, want 1", n)
		}
		if n, _ := mod.UnseenStatements(e.ctx, reader); n != 0 {
			t.Errorf("the reporter has %d unseen decisions; decisions about others are not theirs", n)
		}
		as, _, err := mod.ReadStatements(e.ctx, owner)
		must(t, "ReadStatements", err)
		if len(as) != 1 || as[0].ID != a.ID {
			t.Fatalf("statements read = %+v, want action %d", as, a.ID)
		}
		if n, _ := mod.UnseenStatements(e.ctx, owner); n != 0 {
			t.Errorf("unseen after reading = %d, want 0", n)
		}
		must(t, "Reverse", mod.Reverse(e.ctx, e.mod2, a.ID, "It was a news report after all."))
		if got := frames(dev); len(got) != 1 || got[0] != `{"type":"decision"}` {
			t.Errorf("frames after the reversal = %v, want one decision nudge", got)
		}
		if n, _ := mod.UnseenStatements(e.ctx, owner); n != 1 {
			t.Errorf("unseen after the reversal = %d, want 1", n)
		}
		// Reading without the news (Statements, as staff tools do) clears nothing.
		_, _, err = mod.Statements(e.ctx, owner)
		must(t, "Statements", err)
		if n, _ := mod.UnseenStatements(e.ctx, owner); n != 1 {
			t.Errorf("unseen after a read that is not the user's = %d, want 1", n)
		}
	})
}

// TestStatementFactsFromTemplateInReadersLanguage: facts from a reason
// template read in the affected user's language, with what the moderator
// added as typed; staff see them in English; free text stays as written.
func TestStatementFactsFromTemplateInReadersLanguage(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, reader := e.user("owner"), e.user("reader")
		_, post := e.channel(owner, "news", reader)
		_, post2 := e.channel(owner, "more", reader)
		c1 := e.report(reader, msgSubject(post), moderation.Spam).CaseID
		c2 := e.report(reader, msgSubject(post2), moderation.Spam).CaseID
		added := "Posted 40 times in an hour."
		a, err := e.mod.Act(e.ctx, e.mod1, c1, moderation.ActParams{Kind: moderation.RemoveMessage, Template: "spam", Facts: added})
		must(t, "Act with a template", err)
		wantEN := "The chat sends large numbers of unsolicited, repetitive advertising messages.\n\n" + added
		if a.Facts != wantEN {
			t.Errorf("facts staff read = %q, want %q", a.Facts, wantEN)
		}
		st := e.mod.Statement(a, nil, "id-ID,id;q=0.9")
		wantID := "Obrolan ini mengirim banyak pesan iklan berulang yang tidak diminta.\n\n" + added
		if st.Lang != "id" || st.Facts != wantID {
			t.Errorf("Indonesian statement facts = %q (%s), want %q", st.Facts, st.Lang, wantID)
		}
		// As stored and read back, the same.
		as, _, err := e.mod.Statements(e.ctx, owner)
		must(t, "Statements", err)
		if st := e.mod.Statement(as[0], nil, "id"); st.Facts != wantID {
			t.Errorf("Indonesian statement facts read back = %q, want %q", st.Facts, wantID)
		}
		if st := e.mod.Statement(as[0], nil, "ru"); !strings.HasPrefix(st.Facts, "Чат рассылает") {
			t.Errorf("Russian statement facts = %q", st.Facts)
		}
		free := "Typed by hand: the post sells fake tickets."
		b, err := e.mod.Act(e.ctx, e.mod1, c2, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: free})
		must(t, "Act with free text", err)
		if st := e.mod.Statement(b, nil, "id"); st.Facts != free {
			t.Errorf("free-text facts in Indonesian = %q, want them as typed", st.Facts)
		}
	})
}

// TestActRefusesBadTemplates: an unknown template, or neither a template
// nor facts, is refused and nothing is done.
func TestActRefusesBadTemplates(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, reader := e.user("owner"), e.user("reader")
		_, post := e.channel(owner, "news", reader)
		c := e.report(reader, msgSubject(post), moderation.Spam).CaseID
		_, err := e.mod.Act(e.ctx, e.mod1, c, moderation.ActParams{Kind: moderation.RemoveMessage, Template: "nonsense"})
		wantCode(t, "unknown template", err, kurir.EInvalid, "unknown_template")
		// That one says no person decided: only automated means write it.
		_, err = e.mod.Act(e.ctx, e.mod1, c, moderation.ActParams{Kind: moderation.RemoveMessage, Template: moderation.TemplateAutomatedClassifierMessage})
		wantCode(t, "a moderator using the automated template", err, kurir.EInvalid, "unknown_template")
		_, err = e.mod.Act(e.ctx, e.mod1, c, moderation.ActParams{Kind: moderation.RemoveMessage, Template: "spam",
			TemplateArgs: map[string]string{"rules": "x"}})
		wantCode(t, "a parameter the template does not take", err, kurir.EInvalid, "unknown_parameter")
		_, err = e.mod.Act(e.ctx, e.mod1, c, moderation.ActParams{Kind: moderation.RemoveMessage})
		wantCode(t, "no template and no facts", err, kurir.EInvalid, "required")
		if d := e.caseOf(c); d.Case.State == moderation.StateResolved || len(d.Actions) != 0 {
			t.Errorf("after refused decisions the case is %s with %d actions", d.Case.State, len(d.Actions))
		}
		ms, err := e.msg.History(e.ctx, reader, post.ChatID, 0, messaging.Older, 10)
		must(t, "History", err)
		if len(ms) == 0 || ms[0].Seq != post.Seq || ms[0].Text != post.Text {
			t.Errorf("the post changed after refused decisions: %+v", ms)
		}
	})
}

// TestStatementNamesTermsClause: a decision on the terms names the clause
// of its category, in the reader's language, and links to it; one on the
// law names the law and no clause.
func TestStatementNamesTermsClause(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, mod, _ := e.liveDevice("owner")
		reader := e.user("reader")
		_, post := e.channel(owner, "news", reader)
		ch2, _ := e.channel(owner, "more", reader)
		c := e.report(reader, msgSubject(post), moderation.HateSpeech).CaseID
		a, err := mod.Act(e.ctx, e.mod1, c, moderation.ActParams{Kind: moderation.RemoveMessage, Template: "hate"})
		must(t, "Act", err)
		st := mod.Statement(a, nil, "en")
		if want := "Incompatible with our terms of service. Terms of service § 4.7: Hate speech."; st.Ground != want {
			t.Errorf("ground = %q, want %q", st.Ground, want)
		}
		if st.GroundURL != "https://kurir.example/terms#clause-4.7" {
			t.Errorf("ground URL = %q", st.GroundURL)
		}
		if st := mod.Statement(a, nil, "id"); st.Ground != "Tidak sesuai dengan ketentuan layanan kami. Ketentuan layanan § 4.7: Ujaran kebencian." {
			t.Errorf("Indonesian ground = %q", st.Ground)
		}
		if st := e.mod.Statement(a, nil, "en"); st.GroundURL != "" || !strings.Contains(st.Ground, "§ 4.7") {
			t.Errorf("without the terms' address: ground %q, URL %q; want the clause named, no link", st.Ground, st.GroundURL)
		}
		c2 := e.report(reader, moderation.Subject{Kind: moderation.SubjectChat, Chat: ch2.ID}, moderation.Terrorism).CaseID
		b, err := mod.Act(e.ctx, e.mod1, c2, moderation.ActParams{Kind: moderation.TakeDown, Ground: moderation.GroundIllegal,
			LegalReference: "Regulation (EU) 2021/784, Art. 2(7)", Template: "terror"})
		must(t, "Act on the law", err)
		if st := mod.Statement(b, nil, "en"); st.GroundURL != "" || strings.Contains(st.Ground, "§") || !strings.Contains(st.Ground, "2021/784") {
			t.Errorf("ground on the law = %q, URL %q", st.Ground, st.GroundURL)
		}
		// Section 4 of the terms, one clause a category, in the order the
		// report reasons list them (the operator guide says so).
		for i, cat := range moderation.Categories {
			if want := fmt.Sprintf("4.%d", i+1); cat.TermsClause() != want {
				t.Errorf("category %s has clause %q of the terms, want %q", cat, cat.TermsClause(), want)
			}
		}
	})
}

// TestAutomatedFactsInReadersLanguage: the facts of a removal automated
// means decided read in the owner's language, with what matched.
func TestAutomatedFactsInReadersLanguage(t *testing.T) {
	args := map[string]string{"rules": "nsfw-v2"}
	if got := moderation.TemplateText(moderation.TemplateAutomatedClassifier, "id", args); !strings.HasPrefix(got,
		"Pengklasifikasi otomatis menilai berkas ini terlarang (nsfw-v2).") {
		t.Errorf("Indonesian automated facts = %q", got)
	}
	if got := moderation.TemplateText(moderation.TemplateAutomatedClassifierMessage, "en", nil); !strings.HasPrefix(got,
		"An automated classifier judged the message to be prohibited. No person") {
		t.Errorf("English automated facts without rules = %q", got)
	}
	for _, lang := range moderation.Languages {
		for _, key := range append(moderation.Templates(), moderation.TemplateAutomatedClassifier, moderation.TemplateAutomatedClassifierMessage) {
			if got := moderation.TemplateText(key, lang, args); got == "" || strings.ContainsAny(got, "{}") {
				t.Errorf("template %s in %s = %q", key, lang, got)
			}
		}
	}
}
