package client_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"slices"
	"strconv"
	"testing"

	"kurir"
	"kurir/client"
)

// staff registers username with a moderation role, as the operator gives
// one, and returns a client acting as them.
func (s *server) staff(t *testing.T, username string, role kurir.Role) (*client.Client, client.User) {
	t.Helper()
	c, u := s.user(t, username)
	ok(t, "give "+username+" the role "+string(role), s.accounts.SetRole(t.Context(), kurir.UserID(u.ID), role))
	return c, u
}

// wantReason fails the test unless err is an *client.Error with the code
// and reason.
func wantReason(t *testing.T, what string, err error, code, reason string) {
	t.Helper()
	wantCode(t, what, err, code)
	if e := apiError(t, what, err); e.Reason != reason {
		t.Fatalf("%s: got %v, want reason %q", what, err, reason)
	}
}

// testModeration is the moderation issue's end-to-end check through the
// SDK: a subscriber reports a channel post with a photo; triage sorts the
// case and looks at the photo but cannot act; a moderator takes the channel
// down and it goes dark for its subscribers; its owner reads the statement
// of reasons and appeals, and a second moderator upholds the appeal, which
// brings the channel back. Beside it: a removal reversed, a dismissal, a
// notice from someone without an account followed to its decision, and
// trusted flaggers.
func testModeration(t *testing.T, s *server) {
	ctx := t.Context()
	olga, olgaU := s.user(t, "olga_owner")
	pia, piaU := s.user(t, "pia_reader")
	tara, taraU := s.staff(t, "tara_triage", kurir.RoleTriage)
	mona, monaU := s.staff(t, "mona_mod", kurir.RoleModerator)
	nico, nicoU := s.staff(t, "nico_mod", kurir.RoleModerator)
	ada, _ := s.staff(t, "ada_boss", kurir.RoleAdmin)
	anon := s.client(t)

	en := must(anon.ReportReasons(ctx, ""))(t, "report reasons")
	id := must(pia.ReportReasons(ctx, "id"))(t, "report reasons in Indonesian")
	if len(en) == 0 || len(id) != len(en) || en[0].ID != "child_abuse" || id[0].ID != en[0].ID || id[0].Label == en[0].Label ||
		!slices.ContainsFunc(en, func(r client.ReportReason) bool { return r.ID == "scam" }) {
		t.Fatalf("report reasons: English %+v, Indonesian %+v; want the same IDs, most severe first, labelled in each language", en, id)
	}

	// A public channel posts a photo; pia subscribes.
	ch := must(olga.CreateChannel(ctx, client.NewChat{Title: "Bargains", Username: "olga_bargains"}))(t, "create channel")
	must(pia.Join(ctx, ch.ID))(t, "subscribe")
	pic := testPNG(t, 640, 480)
	photo := must(olga.UploadMedia(ctx, bytes.NewReader(pic), int64(len(pic)), client.UploadParams{Name: "card.png", Kind: "photo"}))(t, "upload photo")
	post := must(olga.Send(ctx, ch.ID, client.SendParams{Text: "Send me your card number and PIN", MediaID: photo.ID}))(t, "post")

	// pia reports the post, once.
	subject := client.MessageSubject(ch.ID, post.Seq)
	rep := must(pia.Report(ctx, client.ReportParams{Subject: subject, Reason: "scam", Comment: "Phishing for card details"}))(t, "report")
	if rep.ID <= 0 || rep.CaseID <= 0 || rep.Subject != subject || rep.Reason != "scam" || rep.Comment != "Phishing for card details" ||
		rep.State != "open" || rep.Outcome != "" || !rep.CreatedAt.Equal(s.clock.Now()) {
		t.Fatalf("report: got %+v", rep)
	}
	_, err := pia.Report(ctx, client.ReportParams{Subject: subject, Reason: "spam"})
	wantReason(t, "report the post again", err, "conflict", "already_reported")
	_, err = pia.Report(ctx, client.ReportParams{Subject: client.MessageSubject(ch.ID, post.Seq+1000), Reason: "scam"})
	wantCode(t, "report a message that does not exist", err, "not_found")
	_, err = pia.Report(ctx, client.ReportParams{Subject: subject, Reason: "ugly"})
	wantCode(t, "report with an unknown reason", err, "invalid")
	if e := apiError(t, "report with an unknown reason", err); e.Field != "reason" {
		t.Errorf("report with an unknown reason: field %q, want reason", e.Field)
	}
	_, err = anon.Report(ctx, client.ReportParams{Subject: subject, Reason: "scam"})
	wantCode(t, "report without a token", err, "unauthenticated")
	if reps := must(pia.Reports(ctx, 0))(t, "my reports"); len(reps) != 1 || reps[0] != rep {
		t.Fatalf("my reports: got %+v, want %+v", reps, rep)
	}

	// The console is for staff only.
	_, err = pia.Queue(ctx, client.QueueFilter{})
	wantCode(t, "queue as a user", err, "forbidden")
	_, err = pia.Case(ctx, rep.CaseID)
	wantCode(t, "case as a user", err, "forbidden")
	_, err = pia.Flaggers(ctx)
	wantCode(t, "flaggers as a user", err, "forbidden")

	// Triage finds the case, sorts it, looks at the photo, and escalates.
	queue := must(tara.Queue(ctx, client.QueueFilter{Source: "user_report", Category: "scam"}))(t, "queue")
	i := slices.IndexFunc(queue, func(c client.Case) bool { return c.ID == rep.CaseID })
	if i < 0 || queue[i].Subject != subject || queue[i].State != "open" || queue[i].SignalCount != 1 ||
		!slices.Equal(queue[i].Sources, []string{"user_report"}) || queue[i].Reach != 2 || queue[i].Priority <= 0 {
		t.Fatalf("queue: got %+v, want case %d about the post", queue, rep.CaseID)
	}
	d := must(tara.Case(ctx, rep.CaseID))(t, "case")
	if len(d.Signals) != 1 || d.Signals[0].ReporterID != piaU.ID || d.Signals[0].Comment != rep.Comment || d.Signals[0].Source != "user_report" ||
		d.Chat == nil || d.Chat.ID != ch.ID || d.Chat.OwnerID != olgaU.ID || !d.Chat.TakenDownAt.IsZero() {
		t.Fatalf("case: got %+v (chat %+v)", d, d.Chat)
	}
	j := slices.IndexFunc(d.Messages, func(m client.ReviewedMessage) bool { return m.Seq == post.Seq })
	if j < 0 || d.Messages[j].Text != post.Text || d.Messages[j].Media == nil || d.Messages[j].Media.MediaID != photo.ID {
		t.Fatalf("case messages: got %+v, want the post with its photo", d.Messages)
	}
	ok(t, "assign", tara.AssignCase(ctx, rep.CaseID, taraU.ID))
	_, err = tara.Act(ctx, rep.CaseID, client.ActParams{Kind: client.ActionTakedown, Facts: "Phishing."})
	wantCode(t, "triage acts", err, "forbidden")
	wantCode(t, "triage dismisses", tara.DismissCase(ctx, rep.CaseID, "Fine."), "forbidden")
	wantCode(t, "assign to a user", tara.AssignCase(ctx, rep.CaseID, piaU.ID), "invalid")

	content, ct, err := tara.ReviewMedia(ctx, rep.CaseID, photo.ID)
	ok(t, "review media", err)
	got, err := io.ReadAll(content)
	content.Close()
	if err != nil || ct != "image/png" || !bytes.Equal(got, pic) {
		t.Fatalf("review media: %d bytes of %s, %v; want the %d bytes of the PNG posted", len(got), ct, err, len(pic))
	}
	thumb, ct, err := tara.ReviewThumbnail(ctx, rep.CaseID, photo.ID)
	ok(t, "review thumbnail", err)
	cfg, format, err := image.DecodeConfig(thumb)
	thumb.Close()
	if err != nil || ct != "image/jpeg" || format != "jpeg" || cfg.Width == 0 {
		t.Fatalf("review thumbnail: %s, %s %dx%d, %v; want a JPEG", ct, format, cfg.Width, cfg.Height, err)
	}
	other := must(pia.UploadMedia(ctx, bytes.NewReader(pic), int64(len(pic)), client.UploadParams{Name: "mine.png"}))(t, "upload another photo")
	_, _, err = tara.ReviewMedia(ctx, rep.CaseID, other.ID)
	wantCode(t, "review media the case does not show", err, "not_found")
	_, _, err = pia.ReviewMedia(ctx, rep.CaseID, photo.ID)
	wantCode(t, "review media as a user", err, "forbidden")

	ok(t, "comment", tara.CommentCase(ctx, rep.CaseID, "The whole channel looks like a phishing operation."))
	ok(t, "escalate", tara.EscalateCase(ctx, rep.CaseID, "Channel-wide; needs a moderator."))
	mine := must(tara.Queue(ctx, client.QueueFilter{State: "escalated", Assignee: taraU.ID}))(t, "my escalated cases")
	if len(mine) != 1 || mine[0].ID != rep.CaseID || mine[0].AssigneeID != taraU.ID {
		t.Fatalf("escalated cases assigned to tara: got %+v", mine)
	}
	if reps := must(pia.Reports(ctx, 0))(t, "my reports"); reps[0].State != "escalated" {
		t.Fatalf("report after escalation: %+v, want state escalated", reps[0])
	}
	// A later report of the same post joins the case as it stands.
	quin, _ := s.user(t, "quin_reader")
	must(quin.Join(ctx, ch.ID))(t, "subscribe")
	if late := must(quin.Report(ctx, client.ReportParams{Subject: subject, Reason: "scam"}))(t, "report after escalation"); late.CaseID != rep.CaseID || late.State != "escalated" {
		t.Fatalf("report of an escalated case: got %+v, want case %d, escalated", late, rep.CaseID)
	}

	// A moderator takes the channel down: it goes dark for its subscribers.
	facts := "The channel asks its subscribers for card numbers and PINs."
	act := must(mona.Act(ctx, rep.CaseID, client.ActParams{Kind: client.ActionTakedown, Facts: facts}))(t, "take down")
	if act.ID <= 0 || act.CaseID != rep.CaseID || act.Kind != client.ActionTakedown || act.Subject != client.ChatSubject(ch.ID) ||
		act.AffectedID != olgaU.ID || act.ModeratorID != monaU.ID || act.Ground != "terms" || act.Category != "scam" ||
		act.Source != "user_report" || act.AutomatedDecision || act.Facts != facts || !act.ReversedAt.IsZero() {
		t.Fatalf("take down: got %+v", act)
	}
	_, err = pia.History(ctx, ch.ID, client.Anchor{}, 0)
	wantReason(t, "read the channel after the takedown", err, "forbidden", "chat_unavailable")
	_, err = mona.Act(ctx, rep.CaseID, client.ActParams{Kind: client.ActionTakedown, Facts: facts})
	wantCode(t, "act on a resolved case", err, "conflict")
	if reps := must(pia.Reports(ctx, 0))(t, "my reports"); reps[0].State != "resolved" || reps[0].Outcome != "actioned" {
		t.Fatalf("report after the takedown: %+v, want resolved, actioned", reps[0])
	}
	if d := must(mona.Case(ctx, rep.CaseID))(t, "case after the takedown"); len(d.Actions) != 1 || d.Actions[0].ID != act.ID ||
		d.State != "resolved" || d.Outcome != "actioned" || d.ResolvedAt.IsZero() || d.Chat == nil || d.Chat.TakenDownAt.IsZero() {
		t.Fatalf("case after the takedown: %+v", d)
	}

	// The owner reads why, and appeals; the decision is news until then.
	if n := must(olga.UnseenStatements(ctx))(t, "unseen statements"); n != 1 {
		t.Fatalf("unseen statements after the takedown: %d, want 1", n)
	}
	sts := must(olga.Statements(ctx, "en"))(t, "statements")
	if n := must(olga.UnseenStatements(ctx))(t, "unseen statements after reading"); n != 0 {
		t.Fatalf("unseen statements after reading them: %d, want 0", n)
	}
	if len(sts) != 1 || sts[0].ID != act.ID || sts[0].Action != client.ActionTakedown || sts[0].Subject != act.Subject || sts[0].Lang != "en" ||
		sts[0].Facts != facts || sts[0].Restriction == "" || sts[0].Redress == "" || !sts[0].CanAppeal || sts[0].Appeal != nil ||
		!sts[0].AppealUntil.After(s.clock.Now()) || sts[0].Reversed != "" {
		t.Fatalf("statements: got %+v", sts)
	}
	if ru := must(olga.Statements(ctx, "ru"))(t, "statements in Russian"); len(ru) != 1 || ru[0].Lang != "ru" || ru[0].Restriction == sts[0].Restriction {
		t.Fatalf("statements in Russian: got %+v", ru)
	}
	if none := must(pia.Statements(ctx, ""))(t, "statements of someone else"); len(none) != 0 {
		t.Fatalf("pia's statements: got %+v, want none", none)
	}
	_, err = pia.Appeal(ctx, act.ID, "Please bring it back.")
	wantCode(t, "appeal someone else's decision", err, "not_found")
	ap := must(olga.Appeal(ctx, act.ID, "The posts were satire about phishing, not phishing."))(t, "appeal")
	if ap.ID <= 0 || ap.ActionID != act.ID || ap.UserID != olgaU.ID || ap.State != "pending" || !ap.DecidedAt.IsZero() {
		t.Fatalf("appeal: got %+v", ap)
	}
	_, err = olga.Appeal(ctx, act.ID, "And again.")
	wantReason(t, "appeal twice", err, "conflict", "already_appealed")
	if sts := must(olga.Statements(ctx, "en"))(t, "statements after appealing"); sts[0].CanAppeal || sts[0].Appeal == nil ||
		sts[0].Appeal.ID != ap.ID || sts[0].Appeal.State != "pending" || sts[0].Appeal.Status == "" {
		t.Fatalf("statement after appealing: %+v (appeal %+v)", sts[0], sts[0].Appeal)
	}

	// The moderator who decided may not judge the appeal; another does.
	pending := must(mona.Appeals(ctx, ""))(t, "pending appeals")
	if len(pending) != 1 || pending[0].ID != ap.ID || pending[0].Decision == nil || pending[0].Decision.ID != act.ID {
		t.Fatalf("pending appeals: got %+v", pending)
	}
	_, err = mona.DecideAppeal(ctx, ap.ID, true, "I was wrong.")
	wantReason(t, "decide an appeal of one's own decision", err, "forbidden", "own_decision")
	_, err = tara.DecideAppeal(ctx, ap.ID, true, "Looks fine.")
	wantCode(t, "triage decides an appeal", err, "forbidden")
	decided := must(nico.DecideAppeal(ctx, ap.ID, true, "On review the posts are satire."))(t, "uphold the appeal")
	if decided.ID != ap.ID || decided.State != "upheld" || decided.DecidedBy != nicoU.ID || decided.Reason != "On review the posts are satire." ||
		decided.DecidedAt.IsZero() {
		t.Fatalf("upheld appeal: got %+v", decided)
	}
	hist := must(pia.History(ctx, ch.ID, client.Anchor{}, 0))(t, "read the channel after the appeal")
	if !slices.ContainsFunc(hist, func(m client.Message) bool { return m.Seq == post.Seq && m.Text == post.Text }) {
		t.Fatalf("channel after the upheld appeal: %+v, want the post back", hist)
	}
	if up := must(nico.Appeals(ctx, "upheld"))(t, "upheld appeals"); len(up) != 1 || up[0].ID != ap.ID || up[0].Decision.ReversedAt.IsZero() {
		t.Fatalf("upheld appeals: got %+v", up)
	}
	if left := must(nico.Appeals(ctx, "pending"))(t, "pending appeals after"); len(left) != 0 {
		t.Fatalf("pending appeals after deciding: %+v", left)
	}
	if sts := must(olga.Statements(ctx, "en"))(t, "statements after the appeal"); sts[0].Reversed == "" || sts[0].Appeal.State != "upheld" {
		t.Fatalf("statement after the upheld appeal: %+v (appeal %+v)", sts[0], sts[0].Appeal)
	}

	// A message removed, then put back by reversing the decision.
	post2 := must(olga.Send(ctx, ch.ID, client.SendParams{Text: "Free phones, today only"}))(t, "second post")
	rep2 := must(pia.Report(ctx, client.ReportParams{Subject: client.MessageSubject(ch.ID, post2.Seq), Reason: "spam"}))(t, "report the second post")
	act2 := must(mona.Act(ctx, rep2.CaseID, client.ActParams{Kind: client.ActionRemoveMessage, Facts: "Unsolicited advertising."}))(t, "remove")
	// second returns the second post as a subscriber reads it, if they do.
	second := func(what string) (client.Message, bool) {
		t.Helper()
		for _, m := range must(pia.History(ctx, ch.ID, client.After(post2.Seq-1), 1))(t, what) {
			if m.Seq == post2.Seq && !m.Deleted {
				return m, true
			}
		}
		return client.Message{}, false
	}
	if m, found := second("history after the removal"); found {
		t.Fatalf("removed post as a subscriber sees it: %+v, want it gone", m)
	}
	ok(t, "reverse", nico.ReverseAction(ctx, act2.ID, "Removed in error: it is a real giveaway."))
	if m, found := second("history after the reversal"); !found || m.Text != post2.Text {
		t.Fatalf("post after the reversal: %+v (found %v), want it back", m, found)
	}
	wantCode(t, "reverse twice", nico.ReverseAction(ctx, act2.ID, "Again."), "conflict")
	wantCode(t, "triage reverses", tara.ReverseAction(ctx, act.ID, "No."), "forbidden")

	// A report dismissed.
	rep3 := must(pia.Report(ctx, client.ReportParams{Subject: client.UserSubject(olgaU.ID), Reason: "harassment"}))(t, "report the owner")
	wantCode(t, "dismiss without a reason", mona.DismissCase(ctx, rep3.CaseID, " "), "invalid")
	ok(t, "dismiss", mona.DismissCase(ctx, rep3.CaseID, "Nothing abusive found."))
	if reps := must(pia.Reports(ctx, 1))(t, "my newest report"); len(reps) != 1 || reps[0].ID != rep3.ID || reps[0].Outcome != "dismissed" {
		t.Fatalf("newest report after the dismissal: %+v", reps)
	}

	// A notice from someone without an account, followed to its decision.
	notice := client.NoticeParams{Explanation: "The channel sells counterfeit medicine.", Category: "unsafe_products",
		Location: "https://kurir.example/@olga_bargains/" + strconv.FormatInt(post2.Seq, 10), GoodFaith: true}
	_, err = anon.SubmitNotice(ctx, notice)
	wantCode(t, "notice without a name", err, "invalid")
	if e := apiError(t, "notice", err); e.Field != "name" {
		t.Errorf("notice without a name: field %q, want name", e.Field)
	}
	notice.Name, notice.Email = "Rita Meyer", "rita@example.org"
	rec := must(anon.SubmitNotice(ctx, notice))(t, "notice")
	if rec.ID <= 0 || rec.Token == "" || rec.StatusURL == "" {
		t.Fatalf("notice receipt: got %+v", rec)
	}
	st := must(anon.NoticeStatus(ctx, rec.ID, rec.Token))(t, "notice status")
	if st.ID != rec.ID || st.State != "received" || st.Location != notice.Location || st.Category != notice.Category || st.Action != "" {
		t.Fatalf("notice status: got %+v", st)
	}
	_, err = anon.NoticeStatus(ctx, rec.ID, "not-the-token")
	wantCode(t, "notice status with a wrong token", err, "not_found")
	fromNotices := must(mona.Queue(ctx, client.QueueFilter{Source: "notice"}))(t, "cases from notices")
	if len(fromNotices) != 1 || fromNotices[0].Subject != client.MessageSubject(ch.ID, post2.Seq) || fromNotices[0].Category != "unsafe_products" {
		t.Fatalf("cases from notices: got %+v, want the one about the second post", fromNotices)
	}
	must(mona.Act(ctx, fromNotices[0].ID, client.ActParams{Kind: client.ActionRemoveMessage, Ground: "illegal",
		LegalReference: "Medicines Act s. 8", Facts: "Offers prescription medicine without a licence."}))(t, "act on the notice")
	st = must(anon.NoticeStatus(ctx, rec.ID, rec.Token))(t, "notice status after the decision")
	if st.State != "decided" || st.Outcome != "actioned" || st.Action != client.ActionRemoveMessage || st.AutomatedDecision || st.DecidedAt.IsZero() {
		t.Fatalf("notice status after the decision: got %+v", st)
	}

	// Trusted flaggers: admins name them, and their reports stand out.
	ulla, ullaU := s.user(t, "ulla_flagger")
	wantCode(t, "a moderator adds a flagger", mona.AddFlagger(ctx, ullaU.ID, "Safer Net"), "forbidden")
	ok(t, "add flagger", ada.AddFlagger(ctx, ullaU.ID, "Safer Net e.V."))
	fl := must(tara.Flaggers(ctx))(t, "flaggers")
	if len(fl) != 1 || fl[0].UserID != ullaU.ID || fl[0].Organisation != "Safer Net e.V." || !fl[0].AddedAt.Equal(s.clock.Now()) {
		t.Fatalf("flaggers: got %+v", fl)
	}
	flagged := must(ulla.Report(ctx, client.ReportParams{Subject: client.ChatSubject(ch.ID), Reason: "scam"}))(t, "flagger reports")
	byFlaggers := must(tara.Queue(ctx, client.QueueFilter{Source: "trusted_flagger"}))(t, "cases from flaggers")
	if len(byFlaggers) != 1 || byFlaggers[0].ID != flagged.CaseID {
		t.Fatalf("cases from trusted flaggers: got %+v, want case %d", byFlaggers, flagged.CaseID)
	}
	label := must(mona.Act(ctx, flagged.CaseID, client.ActParams{Kind: client.ActionLabel, Label: "scam_risk",
		Facts: "Several subscribers lost money to offers posted here."}))(t, "label the channel")
	if label.Kind != client.ActionLabel || label.Label != "scam_risk" || label.Subject != client.ChatSubject(ch.ID) {
		t.Fatalf("label: got %+v", label)
	}
	if c := must(pia.Chat(ctx, ch.ID))(t, "the labelled channel"); !slices.Contains(c.Labels, "scam_risk") || c.Unavailable != "" {
		t.Fatalf("labelled channel as a subscriber sees it: %+v, want the scam_risk label and still readable", c)
	}
	ok(t, "remove flagger", ada.RemoveFlagger(ctx, ullaU.ID))
	if fl := must(ada.Flaggers(ctx))(t, "flaggers after"); len(fl) != 0 {
		t.Fatalf("flaggers after removing the only one: %+v", fl)
	}
	wantCode(t, "remove a flagger twice", ada.RemoveFlagger(ctx, ullaU.ID), "not_found")

	// The channel's owner as a reviewer sees her: the decisions against her
	// (a label, and the takedown reversed on appeal) and no reports of her own.
	acct := must(tara.ReviewAccount(ctx, olgaU.ID))(t, "review the owner's account")
	if acct.Username != "olga_owner" || acct.State != "active" || len(acct.Actions) < 2 || acct.Actions[0].Kind != client.ActionLabel || acct.Reports != 0 {
		t.Fatalf("account review: got %+v", acct)
	}
	if rev := must(tara.ReviewAccount(ctx, piaU.ID))(t, "review the reporter"); rev.Reports == 0 || rev.ReportsActioned == 0 {
		t.Fatalf("the reporter's record: got %+v, want reports that led to action", rev)
	}
	_, err = pia.ReviewAccount(ctx, olgaU.ID)
	wantCode(t, "a user reviews an account", err, "forbidden")
}

// testPNG returns a w by h PNG with some detail in it.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
