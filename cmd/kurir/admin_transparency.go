package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kurir"
	"kurir/transparency"
)

const adminTransparencyHelp = `Usage: kurir admin transparency <command> [flags] [arguments]

The public transparency reports (/transparency). The servers compute each
day's report once the day is over and keep it; months and years are sums
of days. Law-enforcement requests are published only for whole months
once over, every country listed, counts under --transparency-band-below
(as for kurir serve) as a band.

  rebuild --from DAY             recompute and replace the report of every day
                                 from DAY to yesterday from the records, with
                                 a progress bar (after correcting records, or
                                 a change in what kurir counts)
  show DAY|MONTH|YEAR [--json|--csv]
                                 a report as published, for 2026-11-28,
                                 2026-11 or 2026: a summary, or the numbers as
                                 /transparency/PERIOD.json and .csv serve them
  halfyear 2026-H1|2026-H2 [--out FILE] [--json]
                                 the half-yearly transparency report of the EU
                                 Digital Services Act (Art. 15 and 24), as
                                 Markdown, or its numbers as JSON
`

func (a *adminCmd) transparency(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(a.stdout, adminTransparencyHelp)
		if len(args) == 0 {
			return usagef("admin transparency: name a command, e.g. kurir admin transparency show 2026-11-28")
		}
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "rebuild":
		return a.transparencyRebuild(ctx, rest)
	case "show":
		return a.transparencyShow(ctx, rest)
	case "halfyear":
		return a.transparencyHalfYear(ctx, rest)
	default:
		fmt.Fprint(a.stderr, adminTransparencyHelp)
		return usagef("admin transparency: unknown command %q", cmd)
	}
}

// openReports opens the database and the reports over it, with the
// command's flags and --transparency-band-below.
func (a *adminCmd) openReports(ctx context.Context, command, help string, args []string, nargs int, extra func(envFlags)) (*transparency.Service, func(), []string, error) {
	var bandBelow int
	db, log, rest, err := a.open(ctx, command, help, args, nargs, func(e envFlags) {
		e.int(&bandBelow, "transparency-band-below", "KURIR_TRANSPARENCY_BAND_BELOW", 10, "publish law-enforcement request counts from 0 to this less one as a band (\"0-9\"); 1 publishes every count exactly")
		if extra != nil {
			extra(e)
		}
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if bandBelow < 1 {
		db.Close()
		return nil, nil, nil, usagef("--transparency-band-below: want 1 or more")
	}
	svc := transparency.NewService(db, kurir.SystemClock{}, log, transparency.Config{BandBelow: int64(bandBelow)})
	return svc, func() { db.Close() }, rest, nil
}

const transparencyRebuildHelp = `Usage: kurir admin transparency rebuild --from DAY

Recomputes the report of every day from DAY (2026-11-28) to yesterday from
the records moderation and the legal team wrote, and replaces the stored
ones: the public pages show the new numbers at once. Days are rebuilt in
order, each on its own, so a rebuild stopped halfway leaves every day
either as it was or rebuilt; run it again to finish. The rebuild is
recorded in the audit log.
`

func (a *adminCmd) transparencyRebuild(ctx context.Context, args []string) error {
	var from string
	svc, done, _, err := a.openReports(ctx, "admin transparency rebuild", transparencyRebuildHelp, args, 0, func(e envFlags) {
		e.fs.StringVar(&from, "from", "", "the first day to rebuild, e.g. 2026-11-28 (required)")
	})
	if err != nil {
		return err
	}
	defer done()
	if from == "" {
		return usagef("admin transparency rebuild: --from is required, e.g. --from 2026-11-01")
	}
	day, err := transparency.ParseDay(from)
	if err != nil {
		return usagef("--from: %v", clientError(err))
	}
	start := time.Now()
	bar := func(n, total int) {
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(n) / float64(total)
		}
		const width = 30
		filled := int(pct / 100 * width)
		fmt.Fprintf(a.stderr, "\r[%s%s] %5.1f%%  %d/%d days", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, n, total)
	}
	n, err := svc.Rebuild(ctx, day, bar)
	if n > 0 {
		fmt.Fprintln(a.stderr)
	}
	if err != nil {
		if n > 0 {
			return fmt.Errorf("%d days rebuilt from %s, then: %w", n, from, clientError(err))
		}
		return clientError(err)
	}
	last := day.AddDate(0, 0, n-1).Format(time.DateOnly)
	if err := a.audit(ctx, "admin.transparency_rebuild", "transparency:"+from, fmt.Sprintf("%d days, %s to %s", n, from, last)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d days rebuilt, %s to %s (%.1fs)\n", n, from, last, time.Since(start).Seconds())
	return nil
}

const transparencyShowHelp = `Usage: kurir admin transparency show DAY|MONTH|YEAR [--json|--csv]

Prints a transparency report as it is published: of a day (2026-11-28), a
month (2026-11) or a year (2026), the current one so far. By default a
summary for people; --json and --csv print the numbers exactly as
/transparency/PERIOD.json and /transparency/PERIOD.csv serve them.
`

func (a *adminCmd) transparencyShow(ctx context.Context, args []string) error {
	var asJSON, asCSV bool
	svc, done, pos, err := a.openReports(ctx, "admin transparency show", transparencyShowHelp, args, 1, func(e envFlags) {
		e.fs.BoolVar(&asJSON, "json", false, "print the numbers as JSON")
		e.fs.BoolVar(&asCSV, "csv", false, "print the numbers as CSV")
	})
	if err != nil {
		return err
	}
	defer done()
	if asJSON && asCSV {
		return usagef("admin transparency show: give at most one of --json and --csv")
	}
	r, err := reportOf(ctx, svc, pos[0])
	if err != nil {
		return err
	}
	pub := r.Public(svc.BandBelow())
	switch {
	case asJSON:
		body, err := json.Marshal(pub)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(append(body, '\n'))
		return err
	case asCSV:
		_, err := a.stdout.Write(pub.CSV())
		return err
	}
	return writeReportSummary(a, pub)
}

// reportOf reads the report of a period written as a day, month or year.
func reportOf(ctx context.Context, svc *transparency.Service, period string) (transparency.Report, error) {
	var r transparency.Report
	var err error
	if day, perr := time.Parse(time.DateOnly, period); perr == nil {
		r, err = svc.Day(ctx, day)
	} else if month, perr := time.Parse("2006-01", period); perr == nil {
		r, err = svc.Month(ctx, month.Year(), month.Month())
	} else if year, perr := strconv.Atoi(period); perr == nil && len(period) == 4 && year > 0 {
		r, err = svc.Year(ctx, year)
	} else {
		return r, usagef("%q is not a day, month or year such as 2026-11-28, 2026-11 or 2026", period)
	}
	return r, clientError(err)
}

// writeReportSummary prints a report for people: totals, then each
// breakdown on a line, largest first.
func writeReportSummary(a *adminCmd, p transparency.Public) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	period := p.Period
	if p.Partial {
		period += " (not over yet: the numbers so far)"
	}
	fmt.Fprintf(tw, "report\t%s\n", period)
	ac := p.Actions
	fmt.Fprintf(tw, "actions\t%d (automated detection %d, automated decision %d; reversals %d)\n", ac.Total, ac.AutomatedDetection, ac.AutomatedDecision, ac.Reversed)
	for _, b := range []struct {
		name   string
		counts map[string]int64
	}{
		{"  by kind", ac.ByKind}, {"  by category", ac.ByCategory}, {"  by source", ac.BySource}, {"  by scope", ac.ByScope},
		{"  by content type", ac.ByContentType}, {"  chats taken down", ac.ChatsTakenDown},
	} {
		if len(b.counts) > 0 {
			fmt.Fprintf(tw, "%s\t%s\n", b.name, breakdown(b.counts, func(k string) string { return strconv.FormatInt(b.counts[k], 10) }))
		}
	}
	if p.Speed.Count > 0 {
		fmt.Fprintf(tw, "time to action\tmedian %s, 90th percentile %s\n", time.Duration(p.Speed.MedianSeconds)*time.Second, time.Duration(p.Speed.P90Seconds)*time.Second)
	}
	fmt.Fprintf(tw, "appeals\treceived %d, decided %d, reversed %d\n", p.Appeals.Received, p.Appeals.Decided, p.Appeals.Reversed)
	l := p.Legal
	if l == nil {
		fmt.Fprintf(tw, "legal requests\tnot published for a day or a period not over: see the whole month once it is\n")
		return tw.Flush()
	}
	fmt.Fprintf(tw, "legal requests\t%s received, accounts affected %s", l.Received, l.AccountsAffected)
	if l.BandsBelow > 1 {
		fmt.Fprintf(tw, " (0 to %d shown as 0-%d)", l.BandsBelow-1, l.BandsBelow-1)
	}
	fmt.Fprintln(tw)
	for _, b := range []struct {
		name   string
		counts map[string]transparency.Count
	}{{"  by country", l.ByCountry}, {"  by kind", l.ByKind}, {"  by outcome", l.ByOutcome}} {
		keys, others := transparency.Listed(b.counts)
		raw := make(map[string]int64, len(keys))
		for _, k := range keys {
			raw[k] = b.counts[k].N
		}
		line := breakdown(raw, func(k string) string { return b.counts[k].String() })
		switch {
		case others != "" && line != "":
			line += ", every other " + others
		case others != "":
			line = "each " + others
		}
		fmt.Fprintf(tw, "%s\t%s\n", b.name, line)
	}
	return tw.Flush()
}

// breakdown writes counts as "a 3, b 2", largest first, each as show
// writes it.
func breakdown(m map[string]int64, show func(key string) string) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + show(k)
	}
	return strings.Join(parts, ", ")
}

const transparencyHalfYearHelp = `Usage: kurir admin transparency halfyear 2026-H1|2026-H2 [--out FILE] [--json]

Writes the half-yearly transparency report the EU Digital Services Act asks
for (Art. 15 and 24) for January to June (H1) or July to December (H2), as
Markdown: orders from authorities, notices, moderation actions by kind,
category, source and ground, the use of automated means, appeals, and what
kurir does not record (out-of-court disputes, average monthly active
recipients), which it says rather than estimates. Its actions, times,
appeals and requests are the sums of the daily reports. --json writes its
numbers instead.
`

func (a *adminCmd) transparencyHalfYear(ctx context.Context, args []string) error {
	var out string
	var asJSON bool
	svc, done, pos, err := a.openReports(ctx, "admin transparency halfyear", transparencyHalfYearHelp, args, 1, func(e envFlags) {
		e.fs.StringVar(&out, "out", "", "write the report to this file rather than standard output")
		e.fs.BoolVar(&asJSON, "json", false, "write the report's numbers as JSON")
	})
	if err != nil {
		return err
	}
	defer done()
	year, half, err := transparency.ParseHalfYear(pos[0])
	if err != nil {
		return usagef("admin transparency halfyear: %v", clientError(err))
	}
	doc, err := svc.HalfYear(ctx, year, half)
	if err != nil {
		return clientError(err)
	}
	body := []byte(doc.Markdown())
	if asJSON {
		if body, err = json.MarshalIndent(doc, "", "  "); err != nil {
			return err
		}
		body = append(body, '\n')
	}
	if out == "" {
		_, err := a.stdout.Write(body)
		return err
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return err
	}
	note := ""
	if doc.Partial {
		note = " (the half-year is not over: the numbers so far)"
	}
	fmt.Fprintf(a.stdout, "%s: the transparency report of %s%s\n", out, doc.Period, note)
	return nil
}
