package transparency_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/clocktest"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency"
)

// TestHalfYearCountsTheRecordsOfItsSixMonths writes records on both sides
// of the second half of 2026 and checks every number of its report, and
// what the document says of them.
func TestHalfYearCountsTheRecordsOfItsSixMonths(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		at := func(month time.Month, day, hour, min int) time.Time {
			return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
		}
		r := newTrRecords(t, db)

		r.signal("notice", "child_abuse", at(7, 10, 10, 0))
		r.signal("notice", "child_abuse", at(9, 1, 8, 0))
		r.signal("notice", "hate_speech", at(12, 31, 23, 59))
		r.signal("notice", "spam", at(6, 30, 23, 59)) // the first half
		r.signal("trusted_flagger", "terrorism", at(8, 1, 9, 0))
		r.signal("hash_bank", "child_abuse", at(8, 2, 11, 0))
		r.signal("hash_bank", "child_abuse", at(8, 2, 11, 30))
		r.signal("classifier", "pornography", at(10, 10, 10, 0))
		r.signal("user_report", "spam", at(8, 3, 10, 0))

		r.action(trAction{kind: "takedown", category: "child_abuse", source: "notice", ground: "illegal", opened: at(7, 10, 10, 0), at: at(7, 10, 10, 10)})
		r.action(trAction{kind: "remove_message", category: "hate_speech", source: "notice", opened: at(12, 31, 20, 0), at: at(12, 31, 22, 0)})
		r.action(trAction{kind: "restrict", category: "terrorism", source: "legal_order", ground: "illegal", territory: "DE", opened: at(8, 1, 10, 0), at: at(8, 1, 10, 5)})
		automated := r.action(trAction{kind: "remove_media", category: "child_abuse", source: "own_initiative", detect: true, decide: true,
			at: at(8, 2, 12, 0), reversed: at(8, 2, 16, 0)})
		suspension := r.action(trAction{kind: "suspend", category: "harassment", source: "user_report", detect: true, opened: at(9, 5, 9, 0), at: at(9, 5, 10, 0)})
		r.action(trAction{kind: "ban", category: "spam", source: "user_report", at: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}) // the next half
		r.action(trAction{kind: "takedown", category: "spam", source: "user_report", at: at(6, 30, 12, 0)})                       // the first half
		r.appeal(automated, at(8, 2, 13, 0), at(8, 2, 16, 0), "upheld")
		r.appeal(suspension, at(9, 6, 10, 0), time.Time{}, "pending")

		r.legalRequest("removal", "fulfilled", "DE", at(8, 1, 10, 0), at(8, 1, 11, 0), at(8, 1, 10, 5))
		r.legalRequest("disclosure", "fulfilled", "FR", at(9, 1, 9, 0), at(9, 3, 9, 0), time.Time{})
		r.legalRequest("emergency", "received", "US", at(10, 1, 9, 0), time.Time{}, time.Time{})
		r.legalRequest("disclosure", "rejected", "DE", at(5, 1, 9, 0), at(7, 2, 9, 0), time.Time{}) // received in the first half, closed in the second

		clock := clocktest.New(time.Date(2027, 1, 2, 10, 0, 0, 0, time.UTC))
		rep := transparency.NewService(db, clock, nil, transparency.Config{BandBelow: 1})
		// The records were written behind moderation's back: count them afresh.
		if _, err := rep.Rebuild(ctx, at(5, 1, 0, 0), nil); err != nil {
			t.Fatal(err)
		}
		doc, err := rep.HalfYear(ctx, 2026, 2)
		if err != nil {
			t.Fatal(err)
		}
		sec := func(n int64) *int64 { return &n }
		// Every cell is published, those with nothing counted too.
		exact := func(cells []string, m map[string]int64) map[string]transparency.Count {
			out := map[string]transparency.Count{}
			for _, k := range cells {
				out[k] = transparency.Count{}
			}
			for k, n := range m {
				out[k] = transparency.Count{N: n}
			}
			return out
		}
		checks := []struct {
			name      string
			got, want any
		}{
			{"period", []any{doc.Period, doc.From, doc.To, doc.Partial}, []any{"2026-H2", at(7, 1, 0, 0), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false}},
			{"orders received", doc.Orders.Received, transparency.Count{N: 3}},
			{"orders by kind", doc.Orders.ByKind, exact(transparency.LegalKinds, map[string]int64{"removal": 1, "disclosure": 1, "emergency": 1})},
			{"orders by country", doc.Orders.ByCountry, exact(kurir.Countries(), map[string]int64{"DE": 1, "FR": 1, "US": 1})},
			{"orders by outcome", doc.Orders.ByOutcome, exact(transparency.LegalOutcomes, map[string]int64{"fulfilled": 2, "rejected": 1})},
			{"actions on orders", doc.Orders.ActionsByCategory, map[string]int64{"terrorism": 1}},
			{"time to enforce a removal order", doc.Orders.RemovalMedianSeconds, sec(300)},
			{"time to answer for information", doc.Orders.InformationMedianSeconds, sec(48 * 3600)},
			{"notices", []int64{doc.Notices.Received, doc.Notices.FromTrustedFlaggers, doc.Notices.Actions, doc.Notices.AutomatedDecision}, []int64{3, 1, 2, 0}},
			{"notices by category", doc.Notices.ByCategory, map[string]int64{"child_abuse": 2, "hate_speech": 1}},
			{"actions on notices by ground", doc.Notices.ActionsByGround, map[string]int64{"illegal": 1, "terms": 1}},
			{"time to act on notices", doc.Notices.MedianSecondsToAction, sec(600)},
			{"actions", []int64{doc.Actions.Total, doc.Actions.AutomatedDetection, doc.Actions.AutomatedDecision, doc.Actions.Reversed}, []int64{5, 2, 1, 1}},
			{"actions by kind", doc.Actions.ByKind, map[string]int64{"takedown": 1, "remove_message": 1, "restrict": 1, "remove_media": 1, "suspend": 1}},
			{"actions by ground", doc.ByGround, map[string]int64{"illegal": 2, "terms": 3}},
			{"actions by source", doc.Actions.BySource, map[string]int64{"notice": 2, "legal_order": 1, "own_initiative": 1, "user_report": 1}},
			{"time to action", []int64{doc.Speed.Count, doc.Speed.MedianSeconds, doc.Speed.P90Seconds}, []int64{5, 600, 3600}},
			{"automation", doc.Automation, transparency.Automation{SignalsBySource: map[string]int64{"hash_bank": 2, "classifier": 1},
				Detected: 2, DetectedReversed: 1, Decided: 1, DecidedReversed: 1}},
			{"appeals", doc.Appeals.Appeals, transparency.Appeals{Received: 2, Decided: 1, Reversed: 1}},
			{"appeals by category", doc.Appeals.ByCategory, map[string]int64{"child_abuse": 1, "harassment": 1}},
			{"time to decide an appeal", doc.Appeals.MedianDecisionSeconds, sec(3 * 3600)},
			{"active recipients", doc.AverageMonthlyActiveRecipients, (*int64)(nil)},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: got %s, want %s", c.name, show(c.got), show(c.want))
			}
		}

		md := doc.Markdown()
		for _, want := range []string{
			"# Transparency report: second half of 2026\n",
			"Period: 1 July 2026 to 31 December 2026 (UTC).",
			"Requests received through the law-enforcement portal: 3.",
			"| removal | 1 |",
			"| Every other country | 0 |",
			"Median time from receipt to giving effect to a removal order (Art. 9): 5 minutes.",
			"Median time from receipt to fulfilling a request for information (Art. 10; disclosure and emergency requests): 48 hours.",
			"Notices of illegal content received (Art. 16): 3. Reports from trusted flaggers (Art. 22): 1.",
			"Actions taken on notices: 2 (as illegal content: 1; under the terms of service: 1); of them decided by automated means: 0. Median time from notice to action: 10 minutes.",
			"Detected by automated means: 2 (40.0%); decided by automated means: 1 (20.0%).",
			"median 10 minutes, 90th percentile 1 hour",
			"actions that automated detection led to: 2, of them reversed: 1 (50.0%); decisions taken by automated means: 1, of them reversed: 1 (100.0%)",
			"Appeals received through the internal complaint-handling system: 2; decided: 1; decisions reversed: 1. Median time to decide: 3 hours.",
			"## 7. Average monthly active recipients (Art. 24(2))\n\nNot available.",
			"except 1 taken by automated means",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("the document lacks %q:\n%s", want, md)
			}
		}
		raw, err := json.Marshal(doc)
		if err != nil || !strings.Contains(string(raw), `"average_monthly_active_recipients":null`) {
			t.Errorf("JSON %s (%v) does not say active recipients are unknown", raw, err)
		}

		// Published with the default bands, small counts of requests are bands.
		banded, err := transparency.NewService(db, clock, nil, transparency.Config{}).HalfYear(ctx, 2026, 2)
		if err != nil {
			t.Fatal(err)
		}
		bmd := banded.Markdown()
		if got := banded.Orders.Received.String(); got != "0-9" || !strings.Contains(bmd, "Requests received through the law-enforcement portal: 0-9.") ||
			!strings.Contains(bmd, "| Issuing country | Count |\n|---|---:|\n| Each | 0-9 |\n") {
			t.Errorf("banded orders received %q:\n%s", got, bmd)
		}

		// A half not over is partial, without law-enforcement figures; one
		// not begun has no report; there is no third half.
		if doc, err := rep.HalfYear(ctx, 2027, 1); err != nil || !doc.Partial || !strings.Contains(doc.Markdown(), "The period is not over") ||
			doc.Orders.PublicLegal != nil || !strings.Contains(doc.Markdown(), transparency.LegalNote) {
			t.Errorf("2027-H1 on 2 January 2027: partial %v, orders %+v, %v", doc.Partial, doc.Orders.PublicLegal, err)
		}
		if _, err := rep.HalfYear(ctx, 2027, 2); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("2027-H2 on 2 January 2027: %v, want ENotFound", err)
		}
		if _, err := rep.HalfYear(ctx, 2026, 3); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("2026-H3: %v, want EInvalid", err)
		}
	}, trSchema...)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestParseHalfYear(t *testing.T) {
	tests := []struct {
		in         string
		year, half int
		ok         bool
	}{
		{"2026-H1", 2026, 1, true},
		{"2026-h2", 2026, 2, true},
		{" 2026-H2 ", 2026, 2, true},
		{"2026-H3", 0, 0, false},
		{"2026-H0", 0, 0, false},
		{"2026", 0, 0, false},
		{"26-H1", 0, 0, false},
		{"2026-Q1", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		y, h, err := transparency.ParseHalfYear(tt.in)
		if (err == nil) != tt.ok || y != tt.year || h != tt.half {
			t.Errorf("ParseHalfYear(%q) = %d, %d, %v; want %d, %d (ok %v)", tt.in, y, h, err, tt.year, tt.half, tt.ok)
		}
	}
}
