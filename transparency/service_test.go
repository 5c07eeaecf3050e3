package transparency_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/jurisdiction"
	"kurir/legal"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency"
)

var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations, moderation.Migrations,
	jurisdiction.Migrations, legal.Migrations, transparency.Migrations}

// day is the test's day of records; the report is read the day after.
var day = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// TestDailyReportCountsWhatHappened: moderation actions, appeals and legal
// requests of a day appear in its report with the right numbers in every
// breakdown; the report is stored once the day is over, and a rebuild gives
// the same numbers.
func TestDailyReportCountsWhatHappened(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(day.Add(9 * time.Hour))
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		laws := jurisdiction.NewService(db, nil, clock, nil)
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Territory: laws})
		mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
		user := func(name string) kurir.UserID {
			u, err := acc.Register(ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		owner, reporter, mover := user("owner"), user("reporter"), user("mover")
		staff := moderation.Staff{ID: mover, Role: kurir.RoleModerator}
		act := func(subj moderation.Subject, cat moderation.Category, p moderation.ActParams) moderation.Action {
			t.Helper()
			r, err := mod.Report(ctx, reporter, moderation.ReportParams{Subject: subj, Category: cat, Comment: "see"})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(7 * time.Minute) // the time to action
			if p.Facts == "" {
				p.Facts = "facts"
			}
			a, err := mod.Act(ctx, staff, r.CaseID, p)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		channel := func(name string) messaging.Chat {
			ch, err := msg.CreateChannel(ctx, owner, messaging.NewChat{Title: name, Username: name})
			if err != nil {
				t.Fatal(err)
			}
			return ch
		}
		for i := range 3 {
			act(moderation.Subject{Kind: moderation.SubjectChat, Chat: channel(fmt.Sprintf("darkchan%d", i)).ID}, moderation.ChildAbuse,
				moderation.ActParams{Kind: moderation.TakeDown})
		}
		act(moderation.Subject{Kind: moderation.SubjectChat, Chat: channel("terrorchan").ID}, moderation.Terrorism, moderation.ActParams{Kind: moderation.TakeDown})
		news := channel("newsroom")
		post, err := msg.Send(ctx, owner, news.ID, messaging.SendParams{Text: "a slogan", IdempotencyKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		restricted := act(moderation.Subject{Kind: moderation.SubjectMessage, Chat: news.ID, Seq: post.Seq}, moderation.HateSpeech,
			moderation.ActParams{Kind: moderation.Restrict, Countries: []string{"DE", "AT"}})
		act(moderation.Subject{Kind: moderation.SubjectUser, User: user("spammer")}, moderation.Spam,
			moderation.ActParams{Kind: moderation.Suspend, Until: day.Add(72 * time.Hour)})
		// The owner appeals the restriction, and it is reversed.
		if _, err := mod.FileAppeal(ctx, owner, restricted.ID, "It is satire."); err != nil {
			t.Fatal(err)
		}
		appeals, err := mod.Appeals(ctx, moderation.Staff{ID: mover, Role: kurir.RoleModerator}, moderation.AppealPending, 10)
		if err != nil || len(appeals) != 1 {
			t.Fatalf("appeals %v, %v", appeals, err)
		}
		other := moderation.Staff{ID: user("second"), Role: kurir.RoleModerator}
		if _, err := mod.DecideAppeal(ctx, other, appeals[0].ID, true, "Satire, on a second look."); err != nil {
			t.Fatal(err)
		}
		// Two legal requests from Germany received that day.
		for i, kind := range []string{"disclosure", "preservation"} {
			if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO legal_agencies (id, name, country, domains, created_at) VALUES ($1, 'BKA', 'DE', $2, 1)
					ON CONFLICT (id) DO NOTHING`, 1, "bka.example")
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO legal_officers (id, agency_id, email, name, password_hash, created_at)
					VALUES (1, 1, 'o@bka.example', 'O', 'x', 1) ON CONFLICT (id) DO NOTHING`); err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO legal_requests (number, agency_id, officer_id, kind, state, case_reference, legal_basis, process,
					issuing_authority, jurisdiction, targets, due_at, received_at, updated_at, closed_at, approved)
					VALUES ($1, 1, 1, $2, 'fulfilled', 'r', 'b', 'subpoena', 'a', 'DE', $3, 1, $4, $4, $4, 'subscriber')`,
					fmt.Sprintf("LE-2026-%06d", i+1), kind, fmt.Sprintf(`[{"kind":"user","value":"%d","user_id":%d}]`, owner, owner), sqldb.Micros(clock.Now()))
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}

		svc := transparency.NewService(db, clock, nil, transparency.Config{BandBelow: 5})
		today, err := svc.Day(ctx, day)
		if err != nil || !today.Partial {
			t.Fatalf("today's report: partial %v, %v", today.Partial, err)
		}
		clock.Set(day.Add(26 * time.Hour))
		if n, err := svc.CatchUp(ctx); err != nil || n != 1 {
			t.Fatalf("CatchUp = %d, %v; want the one day", n, err)
		}
		r, err := svc.Day(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		a := r.Actions
		want := map[string]int64{
			"total": 6, "takedown": 4, "restrict": 1, "suspend": 1, "child_abuse": 3, "terrorism": 1, "hate_speech": 1, "spam": 1,
			"user_report": 6, "worldwide": 5, "DE": 1, "AT": 1, "chats child_abuse": 3, "chats terrorism": 1, "reversed": 1,
		}
		got := map[string]int64{
			"total": a.Total, "takedown": a.ByKind["takedown"], "restrict": a.ByKind["restrict"], "suspend": a.ByKind["suspend"],
			"child_abuse": a.ByCategory["child_abuse"], "terrorism": a.ByCategory["terrorism"], "hate_speech": a.ByCategory["hate_speech"],
			"spam": a.ByCategory["spam"], "user_report": a.BySource["user_report"], "worldwide": a.ByScope["worldwide"],
			"DE": a.ByScope["DE"], "AT": a.ByScope["AT"], "chats child_abuse": a.ChatsTakenDown["child_abuse"],
			"chats terrorism": a.ChatsTakenDown["terrorism"], "reversed": a.Reversed,
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %d, want %d", k, got[k], w)
			}
		}
		if r.Speed.Count != 6 || r.Speed.MedianSeconds != 7*60 || r.Speed.P90Seconds != 7*60 {
			t.Errorf("time to action %+v, want 6 actions at 7 min", r.Speed)
		}
		if r.Appeals != (transparency.Appeals{Received: 1, Decided: 1, Reversed: 1}) {
			t.Errorf("appeals %+v", r.Appeals)
		}
		l := r.Legal
		if l.Received != 2 || l.ByCountry["DE"] != 2 || l.ByKind["disclosure"] != 1 || l.ByOutcome["fulfilled"] != 2 || l.AccountsAffected != 1 {
			t.Errorf("legal %+v", l)
		}
		// Published, a day carries no law-enforcement figures, and says why.
		dayPub := r.Public(svc.BandBelow())
		pub, _ := json.Marshal(dayPub)
		if dayPub.Legal != nil || !strings.Contains(string(pub), `"legal_requests":null,"legal_requests_note":"Requests from authorities are published for whole months`) ||
			!strings.Contains(string(pub), `"total":6`) {
			t.Errorf("published %s", pub)
		}
		csv := string(dayPub.CSV())
		for _, line := range []string{"actions,total,6", "actions.chats_taken_down,child_abuse,3", "time_to_action,median_seconds,420", `report,legal_requests_note,"Requests from authorities`} {
			if !strings.Contains(csv, line) {
				t.Errorf("CSV has no line %q:\n%s", line, csv)
			}
		}
		if strings.Contains(csv, "legal_requests.") {
			t.Errorf("a day's CSV has law-enforcement figures:\n%s", csv)
		}
		// Rebuilding the day gives identical numbers.
		before, _ := json.Marshal(r)
		if n, err := svc.Rebuild(ctx, day, nil); err != nil || n != 1 {
			t.Fatalf("Rebuild = %d, %v", n, err)
		}
		again, err := svc.Day(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		again.Generated = r.Generated
		after, _ := json.Marshal(again)
		if string(after) != string(before) {
			t.Errorf("rebuilt report differs:\n%s\n%s", before, after)
		}
		// The month is the sum of its days.
		m, err := svc.Month(ctx, 2026, time.November)
		if err != nil || m.Actions.Total != 6 || m.Legal.Received != 2 || m.Speed.MedianSeconds != 420 {
			t.Errorf("month %+v, %v", m.Actions, err)
		}
		if _, err := svc.Day(ctx, day.AddDate(0, 0, 5)); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("a future day: %v", err)
		}
		if p := m.Public(svc.BandBelow()); !m.Partial || p.Legal != nil {
			t.Errorf("the running month publishes law-enforcement figures: partial %v, %+v", m.Partial, p.Legal)
		}

		// Once November is over, its figures are published: every country,
		// kind and outcome, small counts (zero too) in the same band.
		clock.Set(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
		if _, err := svc.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if m, err = svc.Month(ctx, 2026, time.November); err != nil || m.Partial {
			t.Fatalf("November on 1 December: partial %v, %v", m.Partial, err)
		}
		ml := m.Public(svc.BandBelow()).Legal
		if ml == nil {
			t.Fatal("November, over, publishes no law-enforcement figures")
		}
		band := transparency.Count{N: -1, Band: "0-4"}
		if ml.Received != band || ml.AccountsAffected != band || ml.BandsBelow != 5 {
			t.Errorf("November's requests %+v, accounts %+v; want both %v", ml.Received, ml.AccountsAffected, band)
		}
		if len(ml.ByCountry) != len(kurir.Countries()) || ml.ByCountry["DE"] != band || ml.ByCountry["FR"] != band {
			t.Errorf("by country: %d cells (want %d), DE %v, FR %v; want every country, DE and FR alike", len(ml.ByCountry), len(kurir.Countries()), ml.ByCountry["DE"], ml.ByCountry["FR"])
		}
		if fmt.Sprint(ml.ByKind) != fmt.Sprint(map[string]transparency.Count{"disclosure": band, "emergency": band, "other": band, "preservation": band, "removal": band}) ||
			fmt.Sprint(ml.ByOutcome) != fmt.Sprint(map[string]transparency.Count{"fulfilled": band, "rejected": band, "withdrawn": band}) {
			t.Errorf("by kind %v, by outcome %v; want every kind and outcome banded", ml.ByKind, ml.ByOutcome)
		}
		if csv := string(m.Public(svc.BandBelow()).CSV()); !strings.Contains(csv, "legal_requests.by_country,DE,0-4\n") || !strings.Contains(csv, "legal_requests.by_country,FR,0-4\n") {
			t.Errorf("November's CSV lacks the banded countries:\n%.2000s", csv)
		}
		// With no threshold every count is exact, zeros included.
		exact := m.Public(1).Legal
		if exact.Received.N != 2 || exact.ByCountry["DE"].N != 2 || exact.ByCountry["FR"] != (transparency.Count{}) || exact.ByKind["disclosure"].N != 1 ||
			exact.ByOutcome["fulfilled"].N != 2 || exact.AccountsAffected.N != 1 {
			t.Errorf("exact figures %+v", exact)
		}
	}, schema...)
}

// TestLegalCellsAreTheLegalPackages: the published breakdowns have a cell
// for every kind of request and every outcome the portal records.
func TestLegalCellsAreTheLegalPackages(t *testing.T) {
	var kinds []string
	for _, k := range legal.Kinds {
		kinds = append(kinds, string(k))
	}
	if fmt.Sprint(kinds) != fmt.Sprint(transparency.LegalKinds) {
		t.Errorf("published kinds %v, the portal's %v", transparency.LegalKinds, kinds)
	}
	outcomes := []string{string(legal.Fulfilled), string(legal.Rejected), string(legal.Withdrawn)}
	if fmt.Sprint(outcomes) != fmt.Sprint(transparency.LegalOutcomes) {
		t.Errorf("published outcomes %v, the portal's closing states %v", transparency.LegalOutcomes, outcomes)
	}
}

// TestTimeToActionPercentiles: the median and 90th percentile come from
// the histogram, at its resolution.
func TestTimeToActionPercentiles(t *testing.T) {
	for _, c := range []struct {
		secs   []int64
		median int64
		p90    int64
	}{
		{[]int64{5}, 5, 5},
		{[]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 100}, 5, 9},
		{[]int64{30, 90, 4000, 4000, 4000}, 3600, 3600},
		{[]int64{10 * 24 * 3600}, 7 * 24 * 3600, 7 * 24 * 3600},
	} {
		got := transparency.PercentilesOf(c.secs)
		if got.MedianSeconds != c.median || got.P90Seconds != c.p90 {
			t.Errorf("%v: median %d, p90 %d; want %d, %d", c.secs, got.MedianSeconds, got.P90Seconds, c.median, c.p90)
		}
	}
}
