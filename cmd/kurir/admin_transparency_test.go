package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/clocktest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/transparency"
)

// trCLIWorld is a data directory whose records are three days old, and
// whose daily reports the job has stored, for "kurir admin transparency".
type trCLIWorld struct {
	t   *testing.T
	dir string
	db  *sqldb.DB
	rep *transparency.Service
	day time.Time // the day of the records
}

func newTrCLIWorld(t *testing.T) *trCLIWorld {
	t.Helper()
	ctx := t.Context()
	w := &trCLIWorld{t: t, dir: t.TempDir()}
	c := common{dataDir: w.dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	now := time.Now().UTC()
	w.day = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -3)
	clock := clocktest.New(w.day.Add(9 * time.Hour))
	acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
	mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
	user := func(name string, role kurir.Role) kurir.UserID {
		u, err := acc.Register(ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	owner, reporter := user("olga", kurir.RoleUser), user("rita", kurir.RoleUser)
	mona := moderation.Staff{ID: user("mona", kurir.RoleModerator), Role: kurir.RoleModerator}
	for i, cat := range []moderation.Category{moderation.ChildAbuse, moderation.ChildAbuse, moderation.Terrorism} {
		ch, err := msg.CreateChannel(ctx, owner, messaging.NewChat{Title: "Channel", Username: fmt.Sprintf("chan%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := mod.Report(ctx, reporter, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectChat, Chat: ch.ID}, Category: cat})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Minute)
		if _, err := mod.Act(ctx, mona, r.CaseID, moderation.ActParams{Kind: moderation.TakeDown, Facts: "Seen."}); err != nil {
			t.Fatal(err)
		}
	}
	w.rep = transparency.NewService(db, kurir.SystemClock{}, nil, transparency.Config{})
	if n, err := w.rep.CatchUp(ctx); err != nil || n != 3 {
		t.Fatalf("CatchUp = %d, %v; want the three days to yesterday", n, err)
	}
	return w
}

// kurir runs "kurir admin transparency ARGS --data-dir DIR".
func (w *trCLIWorld) kurir(args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	args = append(append([]string{"kurir", "admin", "transparency"}, args...), "--data-dir", w.dir)
	err = run(w.t.Context(), args, noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// stored is a stored day's report as the job or a rebuild wrote it.
func (w *trCLIWorld) stored(day time.Time) transparency.Report {
	w.t.Helper()
	r, err := w.rep.Day(w.t.Context(), day)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestAdminTransparencyRebuildGivesTheStoredNumbers(t *testing.T) {
	w := newTrCLIWorld(t)
	before := w.stored(w.day)
	if got := before.Actions.ChatsTakenDown; got["child_abuse"] != 2 || got["terrorism"] != 1 {
		t.Fatalf("the stored report counts takedowns %v, want child_abuse 2 and terrorism 1", got)
	}

	from := w.day.Format(time.DateOnly)
	yesterday := w.day.AddDate(0, 0, 2).Format(time.DateOnly)
	out, progress, err := w.kurir("rebuild", "--from", from)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "3 days rebuilt, "+from+" to "+yesterday+" (") || !strings.Contains(progress, "100.0%  3/3 days") {
		t.Errorf("rebuild printed %q, progress %q", out, progress)
	}
	after := w.stored(w.day)
	before.Generated, after.Generated = time.Time{}, time.Time{} // when each was computed
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the rebuilt report differs from the stored one:\nstored  %+v\nrebuilt %+v", before, after)
	}
	var audited int
	if err := w.db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action = 'admin.transparency_rebuild' AND subject = $1`,
		"transparency:"+from).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("the rebuild is in the audit log %d times (%v), want once", audited, err)
	}

	var usage usageError
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no day", []string{"rebuild"}, "--from is required"},
		{"not a day", []string{"rebuild", "--from", "2026-02-30"}, `"2026-02-30" is not a day such as 2026-11-28`},
		{"not a day either", []string{"rebuild", "--from", "yesterday"}, `"yesterday" is not a day`},
	} {
		if _, _, err := w.kurir(tt.args...); !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a usage error saying %q", tt.name, err, tt.want)
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if _, _, err := w.kurir("rebuild", "--from", today); err == nil || !strings.Contains(err.Error(), "Only finished days are rebuilt") {
		t.Errorf("rebuilding today: %v", err)
	}
}

func TestAdminTransparencyShow(t *testing.T) {
	w := newTrCLIWorld(t)
	day := w.day.Format(time.DateOnly)
	pub := w.stored(w.day).Public(w.rep.BandBelow())

	out, _, err := w.kurir("show", day, "--json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(pub)
	if err != nil || out != string(want)+"\n" {
		t.Errorf("show --json:\n got %s\nwant %s", out, want)
	}
	if out, _, err = w.kurir("show", day, "--csv"); err != nil || out != string(pub.CSV()) {
		t.Errorf("show --csv (%v):\n got %s\nwant %s", err, out, pub.CSV())
	}
	out, _, err = w.kurir("show", day)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{
		{"report", day},
		{"actions", "3", "(automated", "detection", "0,"},
		{"by", "kind", "takedown", "3"},
		{"chats", "taken", "down", "child_abuse", "2,", "terrorism", "1"},
		{"time", "to", "action", "median", "5m0s,"},
		{"legal", "requests", "not", "published", "for", "a", "day"},
	} {
		if !hasRow(out, row...) {
			t.Errorf("show lacks the row %q:\n%s", row, out)
		}
	}
	month := w.day.Format("2006-01")
	if out, _, err := w.kurir("show", month, "--json"); err != nil || !strings.Contains(out, `"period":"`+month+`"`) {
		t.Errorf("show %s: %v\n%s", month, err, out)
	}

	var usage usageError
	for _, bad := range []string{"2026-13-01", "2026-13", "20x6", "yesterday", "2026-11-28T00:00"} {
		if _, _, err := w.kurir("show", bad); !errors.As(err, &usage) || !strings.Contains(err.Error(), "is not a day, month or year") {
			t.Errorf("show %s: %v, want a usage error", bad, err)
		}
	}
	if _, _, err := w.kurir("show", day, "--json", "--csv"); !errors.As(err, &usage) {
		t.Errorf("show --json --csv: %v, want a usage error", err)
	}
	future := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	if _, _, err := w.kurir("show", future); err == nil || !strings.Contains(err.Error(), "There is no report for "+future+" yet") {
		t.Errorf("show %s: %v", future, err)
	}
}

func TestAdminTransparencyHalfYear(t *testing.T) {
	w := newTrCLIWorld(t)
	period := fmt.Sprintf("%d-H%d", w.day.Year(), 1+(int(w.day.Month())-1)/6)
	path := filepath.Join(w.dir, "report.md")
	out, _, err := w.kurir("halfyear", period, "--out", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, path+": the transparency report of "+period) {
		t.Errorf("halfyear printed %q", out)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Transparency report: ", "notices and authorities: 3 (as illegal content: 0; under the terms of service: 3)",
		"Groups and channels taken down: 3.", "## 7. Average monthly active recipients (Art. 24(2))\n\nNot available."} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if out, _, err := w.kurir("halfyear", period, "--json"); err != nil || !strings.Contains(out, `"average_monthly_active_recipients": null`) {
		t.Errorf("halfyear --json: %v\n%s", err, out)
	}
	var usage usageError
	if _, _, err := w.kurir("halfyear", "2026-H3"); !errors.As(err, &usage) || !strings.Contains(err.Error(), "is not a half-year such as 2026-H1") {
		t.Errorf("halfyear 2026-H3: %v, want a usage error", err)
	}
}

// TestReportSummaryOfAFinishedMonth: a month's law-enforcement figures
// list the exact counts and give the band the rest share.
func TestReportSummaryOfAFinishedMonth(t *testing.T) {
	band := transparency.Count{N: -1, Band: "0-9"}
	p := transparency.Public{Period: "2026-10", Actions: transparency.Actions{ByKind: map[string]int64{}},
		Legal: &transparency.PublicLegal{Received: transparency.Count{N: 15}, AccountsAffected: band, BandsBelow: 10,
			ByCountry: map[string]transparency.Count{"US": {N: 12}, "DE": band, "FR": band},
			ByKind:    map[string]transparency.Count{"preservation": {N: 10}, "disclosure": band},
			ByOutcome: map[string]transparency.Count{"fulfilled": band, "rejected": band}}}
	var out strings.Builder
	if err := writeReportSummary(&adminCmd{stdout: &out}, p); err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{
		{"legal", "requests", "15", "received,", "accounts", "affected", "0-9", "(0", "to", "9", "shown", "as", "0-9)"},
		{"by", "country", "US", "12,", "every", "other", "0-9"},
		{"by", "kind", "preservation", "10,", "every", "other", "0-9"},
		{"by", "outcome", "each", "0-9"},
	} {
		if !hasRow(out.String(), row...) {
			t.Errorf("the summary lacks the row %q:\n%s", row, out.String())
		}
	}
}
