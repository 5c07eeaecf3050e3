package transparency

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

// Document is the half-yearly transparency report the EU Digital Services
// Act asks of a hosting service and an online platform (Art. 15 and 24):
// its numbers, and as Markdown the report itself. Actions, time to action,
// appeals and law-enforcement requests are the sums of the period's daily
// reports, so the document cannot disagree with them; the rest is counted
// from the same records.
type Document struct {
	Period    string    `json:"period"` // 2026-H2
	From      time.Time `json:"from"`   // inclusive, UTC
	To        time.Time `json:"to"`     // exclusive
	Generated time.Time `json:"generated_at"`
	Partial   bool      `json:"partial,omitempty"` // the half-year is not over yet

	Orders  Orders  `json:"orders"`
	Notices Notices `json:"notices"`
	// Actions are every decision taken in the period, as the daily reports
	// count them; ByGround splits them into those taken as illegal content
	// and those taken under the terms of service.
	Actions  Actions          `json:"actions"`
	ByGround map[string]int64 `json:"actions_by_ground"`
	Speed    TimeToAction     `json:"time_to_action"`

	Automation Automation      `json:"automation"`
	Appeals    HalfYearAppeals `json:"appeals"`
	// AverageMonthlyActiveRecipients is always null: kurir does not count
	// active recipients in the Union (Art. 24(2)), and does not estimate
	// them from other numbers.
	AverageMonthlyActiveRecipients *int64 `json:"average_monthly_active_recipients"`
}

// Orders are the requests authorities filed through the law-enforcement
// portal (Art. 15(1)(a)): orders to act against illegal content (removal,
// Art. 9) and to provide information (disclosure and emergency, Art. 10),
// and preservations. Counts are banded as in the monthly reports; while
// the half-year is not over they are not given (nil), and Note says so.
type Orders struct {
	*PublicLegal
	Note string `json:"note,omitempty"`
	// ActionsByCategory are the moderation actions taken on orders, by
	// the kind of illegal content.
	ActionsByCategory map[string]int64 `json:"actions_by_category"`
	// RemovalMedianSeconds is the median time from receiving a removal
	// order to withholding its content, over those enforced in the period;
	// null if none was.
	RemovalMedianSeconds *int64 `json:"removal_median_seconds"`
	// InformationMedianSeconds is the median time from receiving a
	// disclosure or emergency request to fulfilling it, over those
	// fulfilled in the period; null if none was.
	InformationMedianSeconds *int64 `json:"information_median_seconds"`
}

// Notices count the notices of illegal content anyone may send (Art. 16)
// and the reports of trusted flaggers (Art. 22), and what was done about
// them (Art. 15(1)(b)).
type Notices struct {
	Received            int64            `json:"received"`
	ByCategory          map[string]int64 `json:"by_category"`
	FromTrustedFlaggers int64            `json:"from_trusted_flaggers"`
	// Actions are the actions whose case a notice led to, by ground.
	Actions           int64            `json:"actions"`
	ActionsByGround   map[string]int64 `json:"actions_by_ground"`
	AutomatedDecision int64            `json:"automated_decision"`
	// MedianSecondsToAction is from the case's first signal to the action;
	// null if no notice led to one.
	MedianSecondsToAction *int64 `json:"median_seconds_to_action"`
}

// Automation is the use of automated means (Art. 15(1)(c) and (e)): the
// signals each detector filed, and how many of the actions it led to, or
// that automated means decided, were reversed since, as a sign of its
// error rate.
type Automation struct {
	SignalsBySource  map[string]int64 `json:"signals_by_source"` // hash_bank, text_rule, classifier
	Detected         int64            `json:"detected"`
	DetectedReversed int64            `json:"detected_reversed"`
	Decided          int64            `json:"decided"`
	DecidedReversed  int64            `json:"decided_reversed"`
}

// HalfYearAppeals are the complaints through the internal complaint-
// handling system (Art. 15(1)(d)).
type HalfYearAppeals struct {
	Appeals
	// ByCategory counts the appeals received by the category of the
	// decision appealed.
	ByCategory map[string]int64 `json:"by_category"`
	// MedianDecisionSeconds is from filing to decision, over the appeals
	// decided in the period; null if none was.
	MedianDecisionSeconds *int64 `json:"median_decision_seconds"`
}

// ParseHalfYear reads a half-year written as 2026-H1 or 2026-H2.
func ParseHalfYear(s string) (year, half int, err error) {
	y, h, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-H")
	year, yerr := strconv.Atoi(y)
	half, herr := strconv.Atoi(h)
	if !ok || len(y) != 4 || yerr != nil || herr != nil || year < 1 || half < 1 || half > 2 {
		return 0, 0, kurir.Invalid("period", "bad_half_year", "%q is not a half-year such as 2026-H1 (January to June) or 2026-H2 (July to December).", s)
	}
	return year, half, nil
}

// HalfYear returns the report of the first (1) or second (2) half of year:
// numbers up to today, marked partial, while it is not over, and ENotFound
// before it starts.
func (s *Service) HalfYear(ctx context.Context, year, half int) (Document, error) {
	if year < 1 || year > 9999 || half < 1 || half > 2 {
		return Document{}, kurir.Invalid("period", "bad_half_year", "There is no half %d of %d; a year has halves 1 and 2.", half, year)
	}
	from := time.Date(year, time.Month(1+6*(half-1)), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 6, 0)
	period := fmt.Sprintf("%d-H%d", year, half)
	sum, err := s.span(ctx, period, from, to)
	if err != nil {
		return Document{}, err
	}
	pub := sum.Public(s.cfg.BandBelow)
	d := Document{Period: period, From: from, To: to, Generated: sum.Generated, Partial: sum.Partial,
		Orders:  Orders{PublicLegal: pub.Legal, Note: pub.LegalNote, ActionsByCategory: map[string]int64{}},
		Notices: Notices{ByCategory: map[string]int64{}, ActionsByGround: map[string]int64{}},
		Actions: sum.Actions, ByGround: map[string]int64{}, Speed: sum.Speed,
		Automation: Automation{SignalsBySource: map[string]int64{}},
		Appeals:    HalfYearAppeals{Appeals: sum.Appeals, ByCategory: map[string]int64{}},
	}
	lo, hi := sqldb.Micros(from), sqldb.Micros(to)
	err = s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		if err := halfYearSignals(ctx, tx, &d, lo, hi); err != nil {
			return err
		}
		if err := halfYearActions(ctx, tx, &d, lo, hi); err != nil {
			return err
		}
		if err := halfYearAppeals(ctx, tx, &d, lo, hi); err != nil {
			return err
		}
		var err error
		if d.Notices.MedianSecondsToAction, err = median(ctx, tx, `SELECT CASE WHEN a.created_at > c.opened_at THEN a.created_at - c.opened_at ELSE 0 END AS d
			FROM mod_actions a JOIN mod_cases c ON c.id = a.case_id WHERE a.created_at >= $1 AND a.created_at < $2 AND a.source = 'notice'`, lo, hi); err != nil {
			return fmt.Errorf("time to act on notices: %w", err)
		}
		if d.Orders.RemovalMedianSeconds, err = median(ctx, tx, `SELECT CASE WHEN enforced_at > received_at THEN enforced_at - received_at ELSE 0 END AS d
			FROM legal_requests WHERE enforced_at >= $1 AND enforced_at < $2 AND kind = 'removal'`, lo, hi); err != nil {
			return fmt.Errorf("time to enforce removal orders: %w", err)
		}
		if d.Orders.InformationMedianSeconds, err = median(ctx, tx, `SELECT CASE WHEN closed_at > received_at THEN closed_at - received_at ELSE 0 END AS d
			FROM legal_requests WHERE closed_at >= $1 AND closed_at < $2 AND state = 'fulfilled' AND kind IN ('disclosure', 'emergency')`, lo, hi); err != nil {
			return fmt.Errorf("time to answer requests for information: %w", err)
		}
		if d.Appeals.MedianDecisionSeconds, err = median(ctx, tx, `SELECT CASE WHEN decided_at > created_at THEN decided_at - created_at ELSE 0 END AS d
			FROM mod_appeals WHERE decided_at >= $1 AND decided_at < $2`, lo, hi); err != nil {
			return fmt.Errorf("time to decide appeals: %w", err)
		}
		return nil
	})
	if err != nil {
		return Document{}, fmt.Errorf("half-year report %s: %w", period, err)
	}
	return d, nil
}

// halfYearSignals counts the notices, trusted flaggers' reports and
// automated detectors' signals received in [lo, hi).
func halfYearSignals(ctx context.Context, tx *sqldb.Tx, d *Document, lo, hi int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT source, category, COUNT(*) FROM mod_signals
		WHERE created_at >= $1 AND created_at < $2 AND source IN ('notice', 'trusted_flagger', 'hash_bank', 'text_rule', 'classifier')
		GROUP BY source, category`, lo, hi)
	if err != nil {
		return fmt.Errorf("count signals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var source, cat string
		var n int64
		if err := rows.Scan(&source, &cat, &n); err != nil {
			return err
		}
		switch source {
		case "notice":
			d.Notices.Received += n
			d.Notices.ByCategory[cat] += n
		case "trusted_flagger":
			d.Notices.FromTrustedFlaggers += n
		default:
			d.Automation.SignalsBySource[source] += n
		}
	}
	return rows.Err()
}

// halfYearActions splits the actions taken in [lo, hi) by what the daily
// reports do not: ground, and source crossed with category, ground and
// reversal.
func halfYearActions(ctx context.Context, tx *sqldb.Tx, d *Document, lo, hi int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT source, ground, category, automated_detection, automated_decision,
		CASE WHEN reversed_at <> 0 THEN 1 ELSE 0 END, COUNT(*)
		FROM mod_actions WHERE created_at >= $1 AND created_at < $2
		GROUP BY source, ground, category, automated_detection, automated_decision, CASE WHEN reversed_at <> 0 THEN 1 ELSE 0 END`, lo, hi)
	if err != nil {
		return fmt.Errorf("count actions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var source, ground, cat string
		var detect, decide, reversed, n int64
		if err := rows.Scan(&source, &ground, &cat, &detect, &decide, &reversed, &n); err != nil {
			return err
		}
		d.ByGround[ground] += n
		switch source {
		case "notice":
			d.Notices.Actions += n
			d.Notices.ActionsByGround[ground] += n
			if decide != 0 {
				d.Notices.AutomatedDecision += n
			}
		case "legal_order":
			d.Orders.ActionsByCategory[cat] += n
		}
		if detect != 0 {
			d.Automation.Detected += n
			d.Automation.DetectedReversed += reversed * n
		}
		if decide != 0 {
			d.Automation.Decided += n
			d.Automation.DecidedReversed += reversed * n
		}
	}
	return rows.Err()
}

// halfYearAppeals counts the appeals filed in [lo, hi) by the category of
// the decision appealed.
func halfYearAppeals(ctx context.Context, tx *sqldb.Tx, d *Document, lo, hi int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.category, COUNT(*) FROM mod_appeals p JOIN mod_actions a ON a.id = p.action_id
		WHERE p.created_at >= $1 AND p.created_at < $2 GROUP BY a.category`, lo, hi)
	if err != nil {
		return fmt.Errorf("count appeals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cat string
		var n int64
		if err := rows.Scan(&cat, &n); err != nil {
			return err
		}
		d.Appeals.ByCategory[cat] += n
	}
	return rows.Err()
}

// median is the median of durations, a query whose column d is a duration
// in microseconds, by the daily reports' histogram buckets (so it is a
// bucket's lower bound); nil if there are none.
func median(ctx context.Context, tx *sqldb.Tx, durations string, args ...any) (*int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT b, COUNT(*) FROM (SELECT `+bucketSQL("d")+` AS b
		FROM (`+durations+`) AS durations) AS buckets GROUP BY b`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := TimeToAction{Histogram: map[int64]int64{}}
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, err
		}
		t.Histogram[b] += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	t.settle()
	if t.Count == 0 {
		return nil, nil
	}
	return &t.MedianSeconds, nil
}

// Markdown is the report as a document to publish, in English.
func (d Document) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	last := d.To.AddDate(0, 0, -1)
	half := "first"
	if d.From.Month() == time.July {
		half = "second"
	}
	p("# Transparency report: %s half of %d\n\n", half, d.From.Year())
	p("Period: %s to %s (UTC). Report under Articles 15 and 24 of the EU Digital Services Act (Regulation (EU) 2022/2065).\n\n",
		d.From.Format("2 January 2006"), last.Format("2 January 2006"))
	if d.Partial {
		p("**The period is not over: these are the numbers so far, up to %s.**\n\n", d.Generated.Format("2 January 2006 15:04 MST"))
	}
	p("Every number is counted by kurir from the records its moderators, its automated detection and its legal team write as they work; ")
	p("the actions, times, appeals and law-enforcement requests are the sums of the period's published daily reports (/transparency). ")
	p("Categories, kinds of action and sources are kurir's stable codes, as in the daily reports' JSON and CSV.")
	if d.Orders.PublicLegal != nil && d.Orders.BandsBelow > 1 {
		p(" Counts of requests from authorities from 0 to %d are given as the band \"0-%d\", so that no single request can be picked out.", d.Orders.BandsBelow-1, d.Orders.BandsBelow-1)
	}
	p("\n\n")

	o := d.Orders
	p("## 1. Orders from authorities (Art. 15(1)(a))\n\n")
	if o.PublicLegal == nil {
		p("%s\n\n", o.Note)
	} else {
		p("Requests received through the law-enforcement portal: %s. Each is acknowledged at once: the portal gives it its case number when it is filed.\n\n", o.Received)
		countTable(&b, "Kind of request", o.ByKind, "Any other kind")
		countTable(&b, "Issuing country", o.ByCountry, "Every other country")
		countTable(&b, "Outcome (requests closed in the period)", o.ByOutcome, "Any other outcome")
		p("Accounts whose data was disclosed: %s.\n\n", o.AccountsAffected)
	}
	p("- Median time from receipt to giving effect to a removal order (Art. 9): %s.\n", optDuration(o.RemovalMedianSeconds, "no removal order was enforced"))
	p("- Median time from receipt to fulfilling a request for information (Art. 10; disclosure and emergency requests): %s.\n\n",
		optDuration(o.InformationMedianSeconds, "none was fulfilled"))
	table(&b, "Actions taken on orders, by category", o.ActionsByCategory)

	n := d.Notices
	p("## 2. Notices (Art. 15(1)(b))\n\n")
	p("Notices of illegal content received (Art. 16): %d. Reports from trusted flaggers (Art. 22): %d.\n\n", n.Received, n.FromTrustedFlaggers)
	table(&b, "Notices by category", n.ByCategory)
	p("Actions taken on notices: %d (as illegal content: %d; under the terms of service: %d); of them decided by automated means: %d. ",
		n.Actions, n.ActionsByGround["illegal"], n.ActionsByGround["terms"], n.AutomatedDecision)
	p("Median time from notice to action: %s.\n\n", optDuration(n.MedianSecondsToAction, "no notice led to an action"))

	a := d.Actions
	p("## 3. Content moderation (Art. 15(1)(c))\n\n")
	p("Actions taken, on kurir's own initiative and on signals from users, notices and authorities: %d (as illegal content: %d; under the terms of service: %d). ",
		a.Total, d.ByGround["illegal"], d.ByGround["terms"])
	p("Detected by automated means: %d (%s); decided by automated means: %d (%s). Decisions reversed in the period, on appeal or review: %d.\n\n",
		a.AutomatedDetection, percent(a.AutomatedDetection, a.Total), a.AutomatedDecision, percent(a.AutomatedDecision, a.Total), a.Reversed)
	if d.Speed.Count > 0 {
		p("Time from the first signal about a subject to the action: median %s, 90th percentile %s.\n\n",
			formatSeconds(d.Speed.MedianSeconds), formatSeconds(d.Speed.P90Seconds))
	}
	table(&b, "Actions by kind of restriction", a.ByKind)
	table(&b, "Actions by category", a.ByCategory)
	table(&b, "Actions by source (how the content was detected or notified)", a.BySource)
	table(&b, "Actions by territorial scope", a.ByScope)
	table(&b, "Actions by type of content", a.ByContentType)
	p("Groups and channels taken down: %d.\n\n", sum(a.ChatsTakenDown))

	au := d.Automation
	p("## 4. Automated means (Art. 15(1)(e))\n\n")
	p("kurir's automated detection compares uploaded files with hash banks of known illegal content (hash_bank), checks text against the operator's rules (text_rule) ")
	p("and, where the operator connects one, sends uploaded files to a classification service (classifier). Their signals go to the moderators' queue, where a person decides, ")
	p("except that a file a classifier judges prohibited is taken down at once; its owner is told so and can appeal to a person.\n\n")
	table(&b, "Signals filed by automated detection", au.SignalsBySource)
	p("As indicators of accuracy: actions that automated detection led to: %d, of them reversed: %d (%s); decisions taken by automated means: %d, of them reversed: %d (%s).\n\n",
		au.Detected, au.DetectedReversed, percent(au.DetectedReversed, au.Detected), au.Decided, au.DecidedReversed, percent(au.DecidedReversed, au.Decided))

	ap := d.Appeals
	p("## 5. Complaints (Art. 15(1)(d))\n\n")
	p("Appeals received through the internal complaint-handling system: %d; decided: %d; decisions reversed: %d. Median time to decide: %s.\n\n",
		ap.Received, ap.Decided, ap.Reversed, optDuration(ap.MedianDecisionSeconds, "no appeal was decided"))
	table(&b, "Appeals by category of the decision appealed", ap.ByCategory)

	p("## 6. Disputes and suspensions (Art. 24(1))\n\n")
	p("Disputes submitted to out-of-court dispute settlement bodies: kurir does not record them; the operator adds them here.\n\n")
	p("Accounts suspended: %d; banned: %d. kurir does not record which of these suspensions were for misuse under Art. 23 ", a.ByKind["suspend"], a.ByKind["ban"])
	p("(manifestly illegal content, or manifestly unfounded notices or complaints); the numbers are every suspension and ban.\n\n")

	p("## 7. Average monthly active recipients (Art. 24(2))\n\n")
	p("Not available. kurir does not count active recipients of the service in the Union, so this report gives no number, and none is estimated from other figures.\n\n")

	p("## 8. Human review\n\n")
	if a.AutomatedDecision == 0 {
		p("Every decision in this period was taken by a person: a member of the moderation staff or, for an order, the legal team. ")
	} else {
		p("Every decision in this period was taken by a person, a member of the moderation staff or, for an order, the legal team, except %d taken by automated means (section 4). ", a.AutomatedDecision)
	}
	p("Automated detection only brings content to a person's attention. Every decision is recorded with a statement of reasons for the person affected, ")
	p("and can be appealed; an appeal is decided by a person other than the one who took the decision, never by automated means.\n")
	return b.String()
}

// table writes counts as a Markdown table, highest first; nothing if empty.
func table(b *strings.Builder, heading string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "| %s | Count |\n|---|---:|\n", heading)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(b, "| %s | %d |\n", k, m[k])
	}
	b.WriteString("\n")
}

// countTable writes published counts as a Markdown table: those given
// exactly, then one row, labelled others, for all the banded ones.
func countTable(b *strings.Builder, heading string, m map[string]Count, others string) {
	keys, band := Listed(m)
	if len(keys) == 0 && band == "" {
		return
	}
	fmt.Fprintf(b, "| %s | Count |\n|---|---:|\n", heading)
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %s |\n", k, m[k])
	}
	if band != "" {
		label := others
		if len(keys) == 0 {
			label = "Each"
		}
		fmt.Fprintf(b, "| %s | %s |\n", label, band)
	}
	b.WriteString("\n")
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func percent(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

func optDuration(seconds *int64, none string) string {
	if seconds == nil {
		return none
	}
	return formatSeconds(*seconds)
}

// formatSeconds writes a histogram bucket's lower bound in its unit.
func formatSeconds(s int64) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case s < 60:
		return unit(s, "second")
	case s < 3600:
		return unit(s/60, "minute")
	case s < 168*3600:
		return unit(s/3600, "hour")
	}
	return "more than a week"
}
