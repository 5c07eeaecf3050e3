package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"kurir"
	"kurir/moderation"
	"kurir/transparency"
)

//go:embed transparency
var transparencyFiles embed.FS

// TransparencyCSP is the Content-Security-Policy of the transparency pages:
// they are plain HTML with their charts inline as SVG, one stylesheet from
// this origin, no script and no images, and a form that stays here.
const TransparencyCSP = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// firstReportYear is the earliest year the pages offer a report of; an
// earlier one would only be a year of zeros stored day by day.
const firstReportYear = 2000

// Transparency returns the public transparency pages, for everyone and
// without an account, served from svc's reports:
//
//	GET /transparency                 today's report so far (?day=YYYY-MM-DD goes to that day)
//	GET /transparency/2026-11-28      a day's report; 2026-11 a month's, 2026 a year's
//	GET /transparency/2026-11-28.json the same numbers as transparency.Public
//	GET /transparency/2026-11-28.csv  and as transparency.Public.CSV
//
// Pages are in English, Bahasa Indonesia, Russian or Arabic (?lang= or
// Accept-Language), with charts drawn as inline SVG and no script. A
// malformed period is a 400, a period not yet begun a 404 (problem+json
// for .json and .csv). Finished periods may be cached for an hour; one not
// over is revalidated on every visit. clock says what today is. It is safe
// for concurrent use.
func Transparency(svc *transparency.Service, clock kurir.Clock, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The words are compiled in: a language short of a key fails every
	// test run rather than showing a reader an English sentence.
	for lang, words := range texts {
		for key := range texts["en"] {
			if _, ok := words[key]; !ok {
				panic(fmt.Sprintf("web: transparency text %q missing in %s", key, lang))
			}
		}
		if len(words) != len(texts["en"]) {
			panic(fmt.Sprintf("web: transparency texts in %s have keys English has not", lang))
		}
	}
	page := template.Must(template.New("page.html").ParseFS(transparencyFiles, "transparency/page.html"))
	css, err := transparencyFiles.ReadFile("transparency/style.css")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err)) // compiled in: every test run sees it
	}
	sum := sha256.Sum256(css)
	return &transparencyPages{svc: svc, clock: clock, log: log, page: page, css: css,
		cssPath: "/transparency/assets/" + hex.EncodeToString(sum[:6]) + ".css"}
}

// WithTransparency returns app with pages (see Transparency) answering
// /transparency and every path below it.
func WithTransparency(app, pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/transparency" || strings.HasPrefix(r.URL.Path, "/transparency/") {
			pages.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})
}

type transparencyPages struct {
	svc     *transparency.Service
	clock   kurir.Clock
	log     *slog.Logger
	page    *template.Template
	css     []byte
	cssPath string // changes with the stylesheet, so it is cached for good
}

func (h *transparencyPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == h.cssPath {
		hd.Set("Content-Type", "text/css; charset=utf-8")
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(h.css)
		return
	}
	lang, explicit := pickTransparencyLanguage(r)
	v := h.newView(lang, explicit)
	rest, _ := strings.CutPrefix(r.URL.Path, "/transparency")
	rest = strings.TrimPrefix(rest, "/")
	today := dayStart(h.clock.Now())
	switch {
	case rest == "" && r.URL.Query().Has("day"):
		// The day picker: a plain GET form, sent on to the day's own URL.
		day := r.URL.Query().Get("day")
		p, err := parsePeriod(day)
		if err == nil && p.kind != periodDay {
			err = kurir.Invalid("day", "bad_day", "%q is not a day such as 2026-11-28.", day)
		}
		if err != nil {
			h.fail(w, r, v, "", day, err)
			return
		}
		http.Redirect(w, r, v.href(p.String()), http.StatusSeeOther)
	case rest == "":
		h.serveReport(w, r, v, period{kind: periodDay, start: today}, "", today)
	case strings.Contains(rest, "/"):
		h.fail(w, r, v, "", rest, &kurir.Error{Code: kurir.ENotFound, Reason: "no_page", Message: "There is no page at " + r.URL.Path + "."})
	default:
		name, ext := rest, ""
		if i := strings.LastIndexByte(rest, '.'); i >= 0 {
			name, ext = rest[:i], rest[i:]
		}
		p, err := parsePeriod(name)
		if err == nil && ext != "" && ext != ".json" && ext != ".csv" {
			err = &kurir.Error{Code: kurir.ENotFound, Reason: "no_page", Message: "The numbers are published as .json and .csv, not " + ext + "."}
		}
		if err != nil {
			h.fail(w, r, v, ext, name, err)
			return
		}
		h.serveReport(w, r, v, p, ext, today)
	}
}

// serveReport answers with the report of p: as a page, or as JSON or CSV.
func (h *transparencyPages) serveReport(w http.ResponseWriter, r *http.Request, v *trView, p period, ext string, today time.Time) {
	ctx := r.Context()
	rep, err := h.load(ctx, p)
	if err != nil {
		h.fail(w, r, v, ext, p.String(), err)
		return
	}
	hd := w.Header()
	if rep.Partial {
		hd.Set("Cache-Control", "no-cache")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	pub := rep.Public(h.svc.BandBelow())
	switch ext {
	case ".json":
		body, err := json.Marshal(pub)
		if err != nil {
			h.fail(w, r, v, ext, p.String(), err)
			return
		}
		hd.Set("Content-Type", "application/json")
		hd.Set("Access-Control-Allow-Origin", "*") // public numbers, for anyone's charts
		w.Write(append(body, '\n'))
		return
	case ".csv":
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", `attachment; filename="kurir-transparency-`+p.String()+`.csv"`)
		hd.Set("Access-Control-Allow-Origin", "*")
		w.Write(pub.CSV())
		return
	}
	var series []trRow
	if p.kind != periodDay {
		if series, err = h.series(ctx, v, p, today); err != nil {
			h.fail(w, r, v, ext, p.String(), err)
			return
		}
	}
	v.report(p, pub, today, series)
	h.render(w, r, v, http.StatusOK)
}

// load returns the report of p.
func (h *transparencyPages) load(ctx context.Context, p period) (transparency.Report, error) {
	switch p.kind {
	case periodDay:
		return h.svc.Day(ctx, p.start)
	case periodMonth:
		return h.svc.Month(ctx, p.start.Year(), p.start.Month())
	}
	return h.svc.Year(ctx, p.start.Year())
}

// series is the actions of each day of a month, or of each month of a
// year, up to today: a row for each, linking to its page, its Short label
// the day of the month or the month alone.
func (h *transparencyPages) series(ctx context.Context, v *trView, p period, today time.Time) ([]trRow, error) {
	var rows []trRow
	for d := p.start; d.Before(p.end()) && !d.After(today); d = d.AddDate(0, 0, 1) {
		day, err := h.svc.Day(ctx, d)
		if err != nil {
			return nil, err
		}
		switch {
		case p.kind == periodMonth:
			rows = append(rows, trRow{Label: v.num.date(d), Short: v.num.p.Sprint(number.Decimal(d.Day())),
				Href: v.href(period{periodDay, d}.String())})
		case d.Day() == 1:
			rows = append(rows, trRow{Label: v.num.month(d), Short: monthNames[v.Lang][0][d.Month()-1],
				Href: v.href(period{periodMonth, d}.String())})
		}
		rows[len(rows)-1].n += day.Actions.Total
	}
	for i := range rows {
		rows[i].Value = v.num.n(rows[i].n)
	}
	return rows, nil
}

// fail answers err about the period asked for: a page, or problem+json
// for the .json and .csv URLs. Internal errors are logged, never shown.
func (h *transparencyPages) fail(w http.ResponseWriter, r *http.Request, v *trView, ext, asked string, err error) {
	code := kurir.ErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case kurir.EInvalid:
		status = http.StatusBadRequest
	case kurir.ENotFound:
		status = http.StatusNotFound
	default:
		code = kurir.EInternal
		h.log.ErrorContext(r.Context(), "transparency report", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	if ext == "" {
		v.errorPage(v.problem(err, asked))
		h.render(w, r, v, status)
		return
	}
	detail := kurir.ErrorMessage(err)
	if code == kurir.EInvalid {
		detail = h.newView("en", false).problem(err, asked)
	}
	body, _ := json.Marshal(map[string]any{"type": "urn:kurir:problem:" + string(code), "title": http.StatusText(status),
		"status": status, "detail": detail, "instance": r.URL.Path, "code": code})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// problem is what a page says of err about the period asked for.
func (v *trView) problem(err error, asked string) string {
	switch kurir.ErrorReason(err) {
	case "too_early":
		return fmt.Sprintf(v.t("err_early"), v.num.year(firstReportYear))
	case "no_page":
		return v.t("err_nopage")
	}
	switch kurir.ErrorCode(err) {
	case kurir.EInvalid:
		return fmt.Sprintf(v.t("err_bad"), asked)
	case kurir.ENotFound:
		// The service has no report of a period not yet begun.
		if p, perr := parsePeriod(asked); perr == nil {
			return fmt.Sprintf(v.t("err_future"), v.periodName(p))
		}
		return v.t("err_nopage")
	}
	return v.t("err_internal")
}

// render writes the page.
func (h *transparencyPages) render(w http.ResponseWriter, r *http.Request, v *trView, status int) {
	v.CSS = h.cssPath
	var b bytes.Buffer
	if err := h.page.Execute(&b, v); err != nil {
		h.log.ErrorContext(r.Context(), "transparency page", "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", TransparencyCSP)
	hd.Set("Content-Language", v.Lang)
	hd.Add("Vary", "Accept-Language")
	hd.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// periodKind is what a period spans.
type periodKind int

const (
	periodDay periodKind = iota
	periodMonth
	periodYear
)

// period is a day, month or year, starting at midnight UTC.
type period struct {
	kind  periodKind
	start time.Time
}

// parsePeriod reads 2026-11-28, 2026-11 or 2026.
func parsePeriod(s string) (period, error) {
	var p period
	var err error
	switch len(s) {
	case 10:
		p.kind = periodDay
		p.start, err = transparency.ParseDay(s)
	case 7:
		p.kind = periodMonth
		p.start, err = time.Parse("2006-01", s)
	case 4:
		p.kind = periodYear
		p.start, err = time.Parse("2006", s)
	default:
		err = fmt.Errorf("no period")
	}
	if err != nil {
		return period{}, kurir.Invalid("period", "bad_period", "%q is not a day, month or year such as 2026-11-28, 2026-11 or 2026.", s)
	}
	if p.start.Year() < firstReportYear {
		return period{}, &kurir.Error{Code: kurir.ENotFound, Reason: "too_early",
			Message: fmt.Sprintf("There are no reports before %d.", firstReportYear)}
	}
	return p, nil
}

// String is the period as its URL names it.
func (p period) String() string {
	switch p.kind {
	case periodDay:
		return p.start.Format(time.DateOnly)
	case periodMonth:
		return p.start.Format("2006-01")
	}
	return p.start.Format("2006")
}

// end is the first day after the period.
func (p period) end() time.Time { return p.step(1).start }

// step is the period n periods later (earlier, for n < 0).
func (p period) step(n int) period {
	switch p.kind {
	case periodDay:
		return period{p.kind, p.start.AddDate(0, 0, n)}
	case periodMonth:
		return period{p.kind, p.start.AddDate(0, n, 0)}
	}
	return period{p.kind, p.start.AddDate(n, 0, 0)}
}

// dayStart is midnight UTC of t's day.
func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// transparencyLanguages are the pages' languages, in the switcher's order,
// each named in itself.
var transparencyLanguages = []struct{ code, name string }{
	{"en", "English"}, {"id", "Bahasa Indonesia"}, {"ru", "Русский"}, {"ar", "العربية"},
}

// pickTransparencyLanguage is ?lang= if it names one of the pages'
// languages (explicit), or the best the Accept-Language header allows.
func pickTransparencyLanguage(r *http.Request) (lang string, explicit bool) {
	if l := r.URL.Query().Get("lang"); l != "" {
		if _, ok := texts[l]; ok {
			return l, true
		}
	}
	if l := moderation.PickLanguage(r.Header.Get("Accept-Language")); texts[l] != nil {
		return l, false
	}
	return "en", false
}

// numbers writes numbers, durations and dates as a language does.
type numbers struct {
	lang string
	p    *message.Printer
}

func newNumbers(lang string) numbers {
	return numbers{lang: lang, p: message.NewPrinter(language.Make(lang))}
}

// n is a count, grouped as the language groups digits.
func (f numbers) n(v int64) string { return f.p.Sprint(number.Decimal(v)) }

// year is a year, in the language's digits and without grouping.
func (f numbers) year(y int) string { return f.p.Sprint(number.Decimal(y, number.NoSeparator())) }

// pct is part of whole as a percentage, or a dash if whole is zero.
func (f numbers) pct(part, whole int64) string {
	if whole <= 0 {
		return "—"
	}
	return f.p.Sprint(number.Percent(float64(part)/float64(whole), number.MaxFractionDigits(1)))
}

// count is a published count: exact, or its band such as 1-9.
func (f numbers) count(c transparency.Count) string {
	if c.Band == "" {
		return f.n(c.N)
	}
	lo, hi, ok := strings.Cut(c.Band, "-")
	a, err1 := strconv.ParseInt(lo, 10, 64)
	b, err2 := strconv.ParseInt(hi, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return c.Band
	}
	return f.n(a) + "-" + f.n(b)
}

// duration is a whole number of its largest unit: 42 s, 7 min, 3 h, 9 d.
func (f numbers) duration(seconds int64) string {
	t := texts[f.lang]
	switch {
	case seconds < 60:
		return fmt.Sprintf(t["unit_s"], f.n(seconds))
	case seconds < 3600:
		return fmt.Sprintf(t["unit_min"], f.n(seconds/60))
	case seconds < 48*3600:
		return fmt.Sprintf(t["unit_h"], f.n(seconds/3600))
	}
	return fmt.Sprintf(t["unit_d"], f.n(seconds/86400))
}

// date is a day such as 28 November 2026.
func (f numbers) date(t time.Time) string {
	return fmt.Sprintf(texts[f.lang]["date"], f.p.Sprint(number.Decimal(t.Day())), monthNames[f.lang][1][t.Month()-1], f.year(t.Year()))
}

// month is a month such as November 2026.
func (f numbers) month(t time.Time) string {
	return fmt.Sprintf(texts[f.lang]["month"], monthNames[f.lang][0][t.Month()-1], f.year(t.Year()))
}

// clock is a time of day such as 14:03, in the language's digits.
func (f numbers) clock(t time.Time) string {
	two := func(n int) string { return f.p.Sprint(number.Decimal(n, number.MinIntegerDigits(2))) }
	return two(t.Hour()) + ":" + two(t.Minute())
}

// regionDictionaries name countries in the pages' languages.
var regionDictionaries = map[string]*display.Dictionary{
	"en": display.English, "id": display.Indonesian, "ru": display.Russian, "ar": display.Arabic,
}

// trView is what the page template shows.
type trView struct {
	Lang, Dir string
	T         map[string]string
	CSS       string
	Title     string // of the window
	Kicker    string // above the heading
	Heading   string
	Notice    string // partial period, or the error
	Generated string
	Error     bool

	Langs     []trLink
	Nav       []trLink // previous, up, next
	Shortcuts []trLink // today, yesterday, month, year
	Downloads []trLink
	Picker    struct{ Value, Max, Min string }
	Explicit  bool // the language came from ?lang=, so links keep it

	Stats    []trStat
	Bans     []string // Telegram's daily lines
	Sections []trSection

	num numbers
}

type trLink struct {
	Label, Href, Rel, Lang string
	Current                bool
}

type trStat struct{ Label, Value, Note string }

// trSection is one breakdown: a chart and the same numbers as a table.
type trSection struct {
	ID, Heading string
	Sub         bool // a part of the section before it
	Intro       []string
	Column      string // the table's first column
	Chart       template.HTML
	Rows        []trRow
	Empty       string
	Note        string
}

// trRow is a row of a section's table.
type trRow struct {
	Label, Href, Value string
	Short              string // the label in the chart, if shorter
	n                  int64
}

func (h *transparencyPages) newView(lang string, explicit bool) *trView {
	v := &trView{Lang: lang, Dir: "ltr", T: texts[lang], Explicit: explicit, num: newNumbers(lang)}
	if lang == "ar" {
		v.Dir = "rtl"
	}
	v.Picker.Min = fmt.Sprintf("%d-01-01", firstReportYear)
	return v
}

// t is the page text called key.
func (v *trView) t(key string) string {
	if s, ok := v.T[key]; ok {
		return s
	}
	return texts["en"][key]
}

// href is the URL of a period's page (or of the path after
// /transparency/), keeping an explicitly chosen language.
func (v *trView) href(rest string) string {
	u := "/transparency"
	if rest != "" {
		u += "/" + rest
	}
	if v.Explicit {
		u += "?lang=" + url.QueryEscape(v.Lang)
	}
	return u
}

// periodName is p as the heading names it.
func (v *trView) periodName(p period) string {
	switch p.kind {
	case periodDay:
		return v.num.date(p.start)
	case periodMonth:
		return v.num.month(p.start)
	}
	return v.num.year(p.start.Year())
}

// label is the localised name of a code in a breakdown: a category, a
// country, or one of the codes in texts under prefix.
func (v *trView) label(prefix, code string) string {
	if prefix == "category" {
		return moderation.Category(code).Label(v.Lang)
	}
	if s, ok := v.T[prefix+"."+code]; ok {
		return s
	}
	if prefix == "scope" || prefix == "country" {
		if r, err := language.ParseRegion(code); err == nil && len(code) == 2 {
			if name := regionDictionaries[v.Lang].Regions().Name(r); name != "" {
				return name
			}
		}
	}
	return code
}

// header fills in what every page has: the language switcher.
func (v *trView) header(path string) {
	for _, l := range transparencyLanguages {
		v.Langs = append(v.Langs, trLink{Label: l.name, Lang: l.code, Href: path + "?lang=" + l.code, Current: l.code == v.Lang})
	}
}

// errorPage turns v into a page saying msg.
func (v *trView) errorPage(msg string) {
	v.Error = true
	v.Title = v.t("err_title") + " · kurir"
	v.Kicker = v.t("title")
	v.Heading = v.t("err_title")
	v.Notice = msg
	v.header("/transparency")
	v.Shortcuts = []trLink{{Label: v.t("back"), Href: v.href("")}}
}

// report turns v into the page of p's report. series is the actions per
// day of a month or per month of a year.
func (v *trView) report(p period, pub transparency.Public, today time.Time, series []trRow) {
	f := v.num
	name := v.periodName(p)
	v.Title = v.t("title") + ": " + name + " · kurir"
	v.Kicker = v.t("title")
	v.Heading = name
	if pub.Partial {
		v.Notice = v.t("partial")
	}
	v.Generated = fmt.Sprintf(v.t("generated"), f.date(pub.Generated)+" "+f.clock(pub.Generated.UTC()))
	v.header("/transparency/" + p.String())

	// Navigation: the period before, the one it is part of, the one after.
	prevLabel, nextLabel := "prev_"+[]string{"day", "month", "year"}[p.kind], "next_"+[]string{"day", "month", "year"}[p.kind]
	if prev := p.step(-1); prev.start.Year() >= firstReportYear {
		v.Nav = append(v.Nav, trLink{Label: v.t(prevLabel) + ": " + v.periodName(prev), Href: v.href(prev.String()), Rel: "prev"})
	}
	if next := p.step(1); !next.start.After(today) {
		v.Nav = append(v.Nav, trLink{Label: v.t(nextLabel) + ": " + v.periodName(next), Href: v.href(next.String()), Rel: "next"})
	}
	yesterday := today.AddDate(0, 0, -1)
	v.Shortcuts = []trLink{
		{Label: v.t("today"), Href: v.href(""), Current: p.kind == periodDay && p.start.Equal(today)},
		{Label: v.t("yesterday"), Href: v.href(yesterday.Format(time.DateOnly)), Current: p.kind == periodDay && p.start.Equal(yesterday)},
	}
	month, year := period{periodMonth, time.Date(p.start.Year(), p.start.Month(), 1, 0, 0, 0, 0, time.UTC)}, period{periodYear, time.Date(p.start.Year(), 1, 1, 0, 0, 0, 0, time.UTC)}
	if p.kind == periodYear {
		month.start = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	v.Shortcuts = append(v.Shortcuts,
		trLink{Label: v.periodName(month), Href: v.href(month.String()), Current: p == month},
		trLink{Label: v.periodName(year), Href: v.href(year.String()), Current: p == year})
	v.Picker.Max = today.Format(time.DateOnly)
	v.Picker.Value = today.Format(time.DateOnly)
	if p.kind == periodDay {
		v.Picker.Value = p.String()
	}
	v.Downloads = []trLink{{Label: "JSON", Href: "/transparency/" + p.String() + ".json"}, {Label: "CSV", Href: "/transparency/" + p.String() + ".csv"}}

	a := pub.Actions
	var takenDown int64
	for _, n := range a.ChatsTakenDown {
		takenDown += n
	}
	v.Stats = []trStat{
		{Label: v.t("actions_total"), Value: f.n(a.Total)},
		{Label: v.t("chats_down"), Value: f.n(takenDown)},
		{Label: v.t("appeals_received"), Value: f.n(pub.Appeals.Received)},
	}
	if pub.Legal != nil {
		v.Stats = append(v.Stats, trStat{Label: v.t("legal_received"), Value: f.count(pub.Legal.Received)})
	}
	v.Bans = []string{
		fmt.Sprintf(v.t("ban_line"), f.n(a.ChatsTakenDown[string(moderation.ChildAbuse)]), v.t("ban.child_abuse")),
		fmt.Sprintf(v.t("ban_line"), f.n(a.ChatsTakenDown[string(moderation.Terrorism)]), v.t("ban.terrorism")),
	}

	if p.kind != periodDay {
		id, heading, column := "days", v.t("sec_days"), v.t("col_day")
		if p.kind == periodYear {
			id, heading, column = "months", v.t("sec_months"), v.t("col_month")
		}
		bars := make([]bar, len(series))
		for i, r := range series {
			bars[i] = bar{Label: r.Short, Value: r.n, Text: r.Value}
		}
		v.section(trSection{ID: id, Heading: heading, Column: column, Rows: series}, bars, true)
	}
	v.breakdown("kind", v.t("sec_kind"), v.t("col_kind"), a.ByKind)
	v.breakdown("category", v.t("sec_category"), v.t("col_category"), a.ByCategory)
	v.breakdown("source", v.t("sec_source"), v.t("col_source"), a.BySource)
	v.breakdown("content", v.t("sec_content"), v.t("col_content"), a.ByContentType)
	v.breakdown("scope", v.t("sec_scope"), v.t("col_scope"), a.ByScope)

	// Automation: how much was found, and how much decided, by machines.
	var auto []bar
	var intro []string
	if a.Total > 0 {
		share := func(n int64) string { return f.n(n) + " (" + f.pct(n, a.Total) + ")" }
		auto = []bar{
			{Label: v.t("auto_detect"), Value: a.AutomatedDetection, Text: share(a.AutomatedDetection)},
			{Label: v.t("human_detect"), Value: a.Total - a.AutomatedDetection, Text: share(a.Total - a.AutomatedDetection)},
			{Label: v.t("auto_decide"), Value: a.AutomatedDecision, Text: share(a.AutomatedDecision)},
			{Label: v.t("human_decide"), Value: a.Total - a.AutomatedDecision, Text: share(a.Total - a.AutomatedDecision)},
		}
		intro = []string{fmt.Sprintf(v.t("auto_summary"), f.pct(a.AutomatedDetection, a.Total), f.pct(a.AutomatedDecision, a.Total))}
	}
	v.section(trSection{ID: "automation", Heading: v.t("sec_automation"), Column: v.t("col_automation"), Intro: intro}, auto, false)

	// Time to action: the percentiles, and the histogram in wider ranges.
	var speed []bar
	intro = nil
	if pub.Speed.Count > 0 {
		intro = []string{fmt.Sprintf(v.t("speed_summary"), f.duration(pub.Speed.MedianSeconds), f.duration(pub.Speed.P90Seconds), f.n(pub.Speed.Count))}
		for _, rg := range speedRanges {
			var n int64
			for b, c := range pub.Speed.Histogram {
				if s := moderation.TimeBucketSeconds(b); s >= rg.from && s < rg.to {
					n += c
				}
			}
			speed = append(speed, bar{Label: v.t(rg.key), Value: n, Text: f.n(n)})
		}
	}
	v.section(trSection{ID: "speed", Heading: v.t("sec_speed"), Column: v.t("col_speed"), Intro: intro}, speed, false)

	ap := pub.Appeals
	v.section(trSection{ID: "appeals", Heading: v.t("sec_appeals"), Column: v.t("col_appeals"),
		Intro: []string{fmt.Sprintf(v.t("reversed_actions"), f.n(a.Reversed))}}, []bar{
		{Label: v.t("appeals_in"), Value: ap.Received, Text: f.n(ap.Received)},
		{Label: v.t("appeals_decided"), Value: ap.Decided, Text: f.n(ap.Decided)},
		{Label: v.t("appeals_reversed"), Value: ap.Reversed, Text: f.n(ap.Reversed)},
	}, false)

	// Law enforcement: only for a finished month or longer (see
	// transparency.Report.PublishesLegal), banded where small, and said so.
	l := pub.Legal
	if l == nil {
		v.Sections = append(v.Sections, trSection{ID: "legal", Heading: v.t("sec_legal"), Intro: []string{v.t("legal_intro"), v.t("legal_monthly")}})
		return
	}
	legal := trSection{ID: "legal", Heading: v.t("sec_legal"), Intro: []string{v.t("legal_intro"),
		v.t("legal_received") + ": " + f.count(l.Received) + ". " + v.t("legal_accounts") + ": " + f.count(l.AccountsAffected) + "."}}
	if l.BandsBelow > 1 {
		top := strconv.FormatInt(l.BandsBelow-1, 10)
		legal.Note = fmt.Sprintf(v.t("band_note"), f.n(0), f.n(l.BandsBelow-1), f.count(transparency.Count{Band: "0-" + top}))
	}
	v.Sections = append(v.Sections, legal)
	v.bandedBreakdown("legal-country", v.t("sec_legal_country"), v.t("col_country"), "country", l.ByCountry, l.BandsBelow, v.t("other_countries"))
	v.bandedBreakdown("legal-kind", v.t("sec_legal_kind"), v.t("col_legal_kind"), "lkind", l.ByKind, l.BandsBelow, "")
	v.bandedBreakdown("legal-outcome", v.t("sec_legal_outcome"), v.t("col_outcome"), "outcome", l.ByOutcome, l.BandsBelow, "")
}

// speedRanges group the time-to-action histogram for the chart.
var speedRanges = []struct {
	key      string
	from, to int64 // seconds
}{
	{"speed_1m", 0, 60}, {"speed_10m", 60, 600}, {"speed_1h", 600, 3600}, {"speed_6h", 3600, 6 * 3600},
	{"speed_1d", 6 * 3600, 24 * 3600}, {"speed_7d", 24 * 3600, 168 * 3600}, {"speed_more", 168 * 3600, 1 << 62},
}

// breakdown adds a section of counts by code, largest first.
func (v *trView) breakdown(prefix, heading, column string, counts map[string]int64) {
	var bars []bar
	for _, k := range byCount(counts) {
		bars = append(bars, bar{Label: v.label(prefix, k), Value: counts[k], Text: v.num.n(counts[k])})
	}
	v.section(trSection{ID: prefix, Heading: heading, Column: column}, bars, false)
}

// bandedBreakdown adds a part of the legal section: published counts,
// bands drawn as the range they stand for. With an others label, only the
// counts given exactly are listed, and one row stands for all the rest
// (every other country: 0-9); without, every cell is listed.
func (v *trView) bandedBreakdown(id, heading, column, prefix string, counts map[string]transparency.Count, bandsBelow int64, others string) {
	value := func(c transparency.Count) int64 {
		if c.Band != "" {
			return max(bandsBelow-1, 1)
		}
		return c.N
	}
	keys, rest := slices.Collect(maps.Keys(counts)), ""
	if others != "" {
		keys, rest = transparency.Listed(counts)
	}
	raw := make(map[string]int64, len(keys))
	for _, k := range keys {
		raw[k] = value(counts[k])
	}
	var bars []bar
	for _, k := range byCount(raw) {
		bars = append(bars, bar{Label: v.label(prefix, k), Value: raw[k], Text: v.num.count(counts[k]), Band: counts[k].Band != ""})
	}
	if rest != "" {
		c := transparency.Count{Band: rest}
		if rest == "0" {
			c = transparency.Count{}
		}
		bars = append(bars, bar{Label: others, Value: value(c), Text: v.num.count(c), Band: c.Band != ""})
	}
	v.section(trSection{ID: id, Heading: heading, Column: column, Sub: true}, bars, false)
}

// section adds s with a chart of bars, and the bars as its table unless
// it has rows already; or says there is nothing to show.
func (v *trView) section(s trSection, bars []bar, compact bool) {
	if len(bars) == 0 {
		s.Empty = v.t("none")
		v.Sections = append(v.Sections, s)
		return
	}
	s.Chart = barChart{Title: s.Heading, Bars: bars, RTL: v.Dir == "rtl", Compact: compact}.svg()
	if s.Rows == nil {
		for _, b := range bars {
			s.Rows = append(s.Rows, trRow{Label: b.Label, Value: b.Text})
		}
	}
	v.Sections = append(v.Sections, s)
}

// byCount returns m's keys, the largest count first, then by key.
func byCount(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// monthNames are the months in each language: as a month is named on its
// own (November 2026) and within a date (28 November 2026).
var monthNames = map[string][2][12]string{
	"en": {
		{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	},
	"id": {
		{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"},
		{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"},
	},
	"ru": {
		{"Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь"},
		{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"},
	},
	"ar": {
		{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
		{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	},
}

// texts are the pages' words, by language and key. Codes in the reports
// (kinds, sources, content types, scopes, legal request types and
// outcomes) are keys with a prefix: "kind.takedown". Every language has
// every key; a test holds them to it.
var texts = map[string]map[string]string{
	"en": {
		"title":     "Transparency report",
		"skip":      "Skip to the report",
		"language":  "Language",
		"intro":     "What kurir did about illegal and harmful content, and what law enforcement asked of it, counted from the records its moderators, automated systems and legal team write as they work.",
		"partial":   "This period is not over: these are the numbers so far, and they will grow until it ends.",
		"generated": "Counted %s UTC.",
		"date":      "%[1]s %[2]s %[3]s",
		"month":     "%[1]s %[2]s",
		"prev_day":  "Previous day", "next_day": "Next day",
		"prev_month": "Previous month", "next_month": "Next month",
		"prev_year": "Previous year", "next_year": "Next year",
		"periods": "Other periods",
		"today":   "Today", "yesterday": "Yesterday",
		"pick_day":         "Go to a day",
		"show":             "Show",
		"download":         "The same numbers to download:",
		"summary":          "Summary",
		"actions_total":    "Actions taken",
		"chats_down":       "Groups and channels taken down",
		"appeals_received": "Appeals received",
		"legal_received":   "Law-enforcement requests",
		"ban_line":         "%s groups and channels related to %s banned",
		"ban.child_abuse":  "child abuse",
		"ban.terrorism":    "terrorism",
		"table":            "The numbers as a table",
		"col_count":        "Count",
		"none":             "None in this period.",
		"sec_days":         "Actions per day", "col_day": "Day",
		"sec_months": "Actions per month", "col_month": "Month",
		"sec_kind": "Actions by kind", "col_kind": "Action",
		"sec_category": "Actions by category", "col_category": "Category",
		"sec_source": "What led to the action", "col_source": "Source",
		"sec_content": "Actions by content type", "col_content": "Content type",
		"sec_scope": "Where the actions apply", "col_scope": "Scope",
		"sec_automation": "Automation", "col_automation": "Actions",
		"auto_detect":  "Detected automatically",
		"human_detect": "Reported or found by people",
		"auto_decide":  "Decided automatically",
		"human_decide": "Decided by people",
		"auto_summary": "%s of actions followed automated detection, and %s were decided without a person.",
		"sec_speed":    "Time to action", "col_speed": "Time from the first report or detection",
		"speed_summary": "Half of the actions were taken within %s of the first report or detection, and 90%% within %s (%s actions measured).",
		"speed_1m":      "Under a minute", "speed_10m": "1 to 10 minutes", "speed_1h": "10 minutes to an hour",
		"speed_6h": "1 to 6 hours", "speed_1d": "6 to 24 hours", "speed_7d": "1 to 7 days", "speed_more": "A week or more",
		"unit_s": "%s s", "unit_min": "%s min", "unit_h": "%s h", "unit_d": "%s d",
		"sec_appeals": "Appeals", "col_appeals": "Appeals",
		"appeals_in": "Received", "appeals_decided": "Decided", "appeals_reversed": "Decision reversed",
		"reversed_actions":  "Decisions reversed in this period (taken on any date, reversed on appeal or review): %s.",
		"sec_legal":         "Law-enforcement requests",
		"legal_intro":       "Requests from authorities for users’ data or for content to be removed, counted when received; outcomes are counted when a request is closed.",
		"legal_accounts":    "Accounts whose data was disclosed",
		"sec_legal_country": "Requests by country", "col_country": "Country",
		"sec_legal_kind": "Requests by type", "col_legal_kind": "Type",
		"sec_legal_outcome": "Requests by outcome", "col_outcome": "Outcome",
		"legal_monthly":       "So that no request can be told apart by its date, they are published only for whole months once they are over (and for whole years): see the month's report.",
		"other_countries":     "Every other country",
		"band_note":           "So that no single request can be picked out, counts from %s to %s are shown as a range (%s), drawn as a dashed bar.",
		"about":               "Every action is counted once, on the day (UTC) it was taken, including those reversed later; a reversal is counted on the day it is made. A month or a year is the sum of its days.",
		"err_title":           "No report here",
		"err_bad":             "“%s” is not a day, month or year. Write it like 2026-11-28, 2026-11 or 2026.",
		"err_future":          "There is no report for %s yet.",
		"err_early":           "There are no reports before %s.",
		"err_nopage":          "There is no page at this address.",
		"err_internal":        "The report could not be counted just now. Please try again in a moment.",
		"back":                "Today’s report",
		"kind.remove_message": "Message removed", "kind.remove_media": "File removed everywhere", "kind.takedown": "Group or channel taken down",
		"kind.restrict": "Withheld in some countries", "kind.suspend": "Account suspended", "kind.ban": "Account banned", "kind.label": "Warning label added",
		"source.user_report": "User report", "source.trusted_flagger": "Trusted flagger", "source.notice": "Notice from someone without an account",
		"source.hash_bank": "Match with known illegal files", "source.text_rule": "Text rule", "source.classifier": "Automated classifier",
		"source.legal_order": "Legal order", "source.own_initiative": "kurir’s own initiative",
		"content.text": "Text", "content.image": "Images", "content.video": "Videos", "content.audio": "Audio", "content.other": "Other files",
		"scope.worldwide": "Worldwide", "scope.rules": "Where local law forbids it", "scope.EU": "European Union", "scope.EEA": "European Economic Area",
		"lkind.emergency": "Emergency disclosure", "lkind.preservation": "Preservation", "lkind.disclosure": "Disclosure by legal process",
		"lkind.removal": "Content removal order", "lkind.other": "Other",
		"outcome.fulfilled": "Fulfilled", "outcome.rejected": "Rejected", "outcome.withdrawn": "Withdrawn",
	},
	"id": {
		"title":     "Laporan transparansi",
		"skip":      "Langsung ke laporan",
		"language":  "Bahasa",
		"intro":     "Apa yang dilakukan kurir terhadap konten ilegal dan berbahaya, dan apa yang diminta penegak hukum, dihitung dari catatan yang ditulis moderator, sistem otomatis, dan tim hukumnya saat bekerja.",
		"partial":   "Periode ini belum berakhir: ini angka sejauh ini, dan akan bertambah sampai periode selesai.",
		"generated": "Dihitung %s UTC.",
		"date":      "%[1]s %[2]s %[3]s",
		"month":     "%[1]s %[2]s",
		"prev_day":  "Hari sebelumnya", "next_day": "Hari berikutnya",
		"prev_month": "Bulan sebelumnya", "next_month": "Bulan berikutnya",
		"prev_year": "Tahun sebelumnya", "next_year": "Tahun berikutnya",
		"periods": "Periode lain",
		"today":   "Hari ini", "yesterday": "Kemarin",
		"pick_day":         "Buka hari tertentu",
		"show":             "Tampilkan",
		"download":         "Angka yang sama untuk diunduh:",
		"summary":          "Ringkasan",
		"actions_total":    "Tindakan diambil",
		"chats_down":       "Grup dan kanal diturunkan",
		"appeals_received": "Banding diterima",
		"legal_received":   "Permintaan penegak hukum",
		"ban_line":         "%s grup dan kanal terkait %s diblokir",
		"ban.child_abuse":  "pelecehan anak",
		"ban.terrorism":    "terorisme",
		"table":            "Angka dalam bentuk tabel",
		"col_count":        "Jumlah",
		"none":             "Tidak ada pada periode ini.",
		"sec_days":         "Tindakan per hari", "col_day": "Hari",
		"sec_months": "Tindakan per bulan", "col_month": "Bulan",
		"sec_kind": "Tindakan menurut jenis", "col_kind": "Tindakan",
		"sec_category": "Tindakan menurut kategori", "col_category": "Kategori",
		"sec_source": "Apa yang memicu tindakan", "col_source": "Sumber",
		"sec_content": "Tindakan menurut jenis konten", "col_content": "Jenis konten",
		"sec_scope": "Wilayah berlakunya tindakan", "col_scope": "Wilayah",
		"sec_automation": "Otomatisasi", "col_automation": "Tindakan",
		"auto_detect":  "Terdeteksi otomatis",
		"human_detect": "Dilaporkan atau ditemukan orang",
		"auto_decide":  "Diputuskan otomatis",
		"human_decide": "Diputuskan oleh orang",
		"auto_summary": "%s tindakan berawal dari deteksi otomatis, dan %s diputuskan tanpa campur tangan orang.",
		"sec_speed":    "Waktu hingga tindakan", "col_speed": "Waktu sejak laporan atau deteksi pertama",
		"speed_summary": "Separuh tindakan diambil dalam %s sejak laporan atau deteksi pertama, dan 90%% dalam %s (%s tindakan diukur).",
		"speed_1m":      "Kurang dari semenit", "speed_10m": "1 sampai 10 menit", "speed_1h": "10 menit sampai sejam",
		"speed_6h": "1 sampai 6 jam", "speed_1d": "6 sampai 24 jam", "speed_7d": "1 sampai 7 hari", "speed_more": "Seminggu atau lebih",
		"unit_s": "%s dtk", "unit_min": "%s mnt", "unit_h": "%s jam", "unit_d": "%s hari",
		"sec_appeals": "Banding", "col_appeals": "Banding",
		"appeals_in": "Diterima", "appeals_decided": "Diputuskan", "appeals_reversed": "Keputusan dibatalkan",
		"reversed_actions":  "%s keputusan dibatalkan pada periode ini (keputusan dari tanggal berapa pun, karena banding atau peninjauan).",
		"sec_legal":         "Permintaan penegak hukum",
		"legal_intro":       "Permintaan pihak berwenang atas data pengguna atau penghapusan konten, dihitung saat diterima; hasilnya dihitung saat permintaan ditutup.",
		"legal_accounts":    "Akun yang datanya diungkapkan",
		"sec_legal_country": "Permintaan menurut negara", "col_country": "Negara",
		"sec_legal_kind": "Permintaan menurut jenis", "col_legal_kind": "Jenis",
		"sec_legal_outcome": "Permintaan menurut hasil", "col_outcome": "Hasil",
		"legal_monthly":       "Agar tidak ada permintaan yang dapat dikenali dari tanggalnya, angka ini hanya diterbitkan per bulan penuh setelah bulan itu berakhir (dan per tahun penuh): lihat laporan bulanannya.",
		"other_countries":     "Setiap negara lain",
		"band_note":           "Agar tidak ada permintaan yang dapat dikenali, jumlah %s sampai %s ditampilkan sebagai rentang (%s), digambar sebagai batang putus-putus.",
		"about":               "Setiap tindakan dihitung sekali, pada hari (UTC) tindakan itu diambil, termasuk yang kemudian dibatalkan; pembatalan dihitung pada hari dilakukannya. Sebulan atau setahun adalah jumlah hari-harinya.",
		"err_title":           "Tidak ada laporan di sini",
		"err_bad":             "“%s” bukan hari, bulan, atau tahun. Tulis seperti 2026-11-28, 2026-11, atau 2026.",
		"err_future":          "Belum ada laporan untuk %s.",
		"err_early":           "Tidak ada laporan sebelum %s.",
		"err_nopage":          "Tidak ada halaman di alamat ini.",
		"err_internal":        "Laporan tidak dapat dihitung saat ini. Silakan coba lagi sebentar lagi.",
		"back":                "Laporan hari ini",
		"kind.remove_message": "Pesan dihapus", "kind.remove_media": "Berkas dihapus di mana pun", "kind.takedown": "Grup atau kanal diturunkan",
		"kind.restrict": "Ditahan di beberapa negara", "kind.suspend": "Akun ditangguhkan", "kind.ban": "Akun diblokir", "kind.label": "Label peringatan ditambahkan",
		"source.user_report": "Laporan pengguna", "source.trusted_flagger": "Pelapor tepercaya", "source.notice": "Pemberitahuan dari orang tanpa akun",
		"source.hash_bank": "Cocok dengan berkas ilegal yang dikenal", "source.text_rule": "Aturan teks", "source.classifier": "Pengklasifikasi otomatis",
		"source.legal_order": "Perintah hukum", "source.own_initiative": "Inisiatif kurir sendiri",
		"content.text": "Teks", "content.image": "Gambar", "content.video": "Video", "content.audio": "Audio", "content.other": "Berkas lain",
		"scope.worldwide": "Seluruh dunia", "scope.rules": "Di tempat hukum setempat melarangnya", "scope.EU": "Uni Eropa", "scope.EEA": "Kawasan Ekonomi Eropa",
		"lkind.emergency": "Pengungkapan darurat", "lkind.preservation": "Pengawetan data", "lkind.disclosure": "Pengungkapan berdasarkan proses hukum",
		"lkind.removal": "Perintah penghapusan konten", "lkind.other": "Lainnya",
		"outcome.fulfilled": "Dipenuhi", "outcome.rejected": "Ditolak", "outcome.withdrawn": "Ditarik",
	},
	"ru": {
		"title":     "Отчёт о прозрачности",
		"skip":      "Перейти к отчёту",
		"language":  "Язык",
		"intro":     "Что kurir сделал с незаконным и вредным контентом и что у него запрашивали правоохранительные органы — по записям, которые модераторы, автоматические системы и юридическая команда делают в ходе работы.",
		"partial":   "Период ещё не закончился: это данные на текущий момент, до его конца они будут расти.",
		"generated": "Подсчитано %s UTC.",
		"date":      "%[1]s %[2]s %[3]s г.",
		"month":     "%[1]s %[2]s г.",
		"prev_day":  "Предыдущий день", "next_day": "Следующий день",
		"prev_month": "Предыдущий месяц", "next_month": "Следующий месяц",
		"prev_year": "Предыдущий год", "next_year": "Следующий год",
		"periods": "Другие периоды",
		"today":   "Сегодня", "yesterday": "Вчера",
		"pick_day":         "Перейти к дню",
		"show":             "Показать",
		"download":         "Те же данные для скачивания:",
		"summary":          "Итоги",
		"actions_total":    "Принято мер",
		"chats_down":       "Заблокировано групп и каналов",
		"appeals_received": "Получено обжалований",
		"legal_received":   "Запросы правоохранительных органов",
		"ban_line":         "Заблокировано групп и каналов, связанных с %[2]s: %[1]s",
		"ban.child_abuse":  "насилием над детьми",
		"ban.terrorism":    "терроризмом",
		"table":            "Данные в виде таблицы",
		"col_count":        "Число",
		"none":             "За этот период — нет.",
		"sec_days":         "Меры по дням", "col_day": "День",
		"sec_months": "Меры по месяцам", "col_month": "Месяц",
		"sec_kind": "Меры по видам", "col_kind": "Мера",
		"sec_category": "Меры по категориям", "col_category": "Категория",
		"sec_source": "Что привело к мере", "col_source": "Источник",
		"sec_content": "Меры по типу контента", "col_content": "Тип контента",
		"sec_scope": "Где действуют меры", "col_scope": "Территория",
		"sec_automation": "Автоматизация", "col_automation": "Меры",
		"auto_detect":  "Обнаружено автоматически",
		"human_detect": "Сообщили или нашли люди",
		"auto_decide":  "Решено автоматически",
		"human_decide": "Решено людьми",
		"auto_summary": "%s мер последовали за автоматическим обнаружением, %s приняты без участия человека.",
		"sec_speed":    "Время до принятия мер", "col_speed": "Время с первой жалобы или обнаружения",
		"speed_summary": "Половина мер принята в течение %s после первой жалобы или обнаружения, 90%% — в течение %s (учтено мер: %s).",
		"speed_1m":      "Меньше минуты", "speed_10m": "От 1 до 10 минут", "speed_1h": "От 10 минут до часа",
		"speed_6h": "От 1 до 6 часов", "speed_1d": "От 6 до 24 часов", "speed_7d": "От 1 до 7 дней", "speed_more": "Неделя и больше",
		"unit_s": "%s с", "unit_min": "%s мин", "unit_h": "%s ч", "unit_d": "%s дн.",
		"sec_appeals": "Обжалования", "col_appeals": "Обжалования",
		"appeals_in": "Получено", "appeals_decided": "Рассмотрено", "appeals_reversed": "Решение отменено",
		"reversed_actions":  "Решений, отменённых в этом периоде (принятых в любой день, по апелляции или при пересмотре): %s.",
		"sec_legal":         "Запросы правоохранительных органов",
		"legal_intro":       "Запросы органов власти о данных пользователей или об удалении контента учитываются в день получения, результаты — в день закрытия запроса.",
		"legal_accounts":    "Аккаунты, данные которых раскрыты",
		"sec_legal_country": "Запросы по странам", "col_country": "Страна",
		"sec_legal_kind": "Запросы по типам", "col_legal_kind": "Тип",
		"sec_legal_outcome": "Запросы по результатам", "col_outcome": "Результат",
		"legal_monthly":       "Чтобы ни один запрос нельзя было вычислить по дате, эти данные публикуются только за полные месяцы после их окончания (и за полные годы): см. отчёт за месяц.",
		"other_countries":     "Все остальные страны",
		"band_note":           "Чтобы ни один запрос нельзя было вычислить, числа от %s до %s показаны диапазоном (%s) и пунктирной полосой.",
		"about":               "Каждая мера учитывается один раз, в день (UTC), когда она принята, включая отменённые позже; отмена учитывается в день, когда она сделана. Месяц и год — сумма их дней.",
		"err_title":           "Отчёта нет",
		"err_bad":             "«%s» — не день, не месяц и не год. Пишите так: 2026-11-28, 2026-11 или 2026.",
		"err_future":          "Отчёта за %s ещё нет.",
		"err_early":           "Отчётов до %s года нет.",
		"err_nopage":          "По этому адресу страницы нет.",
		"err_internal":        "Сейчас не удалось подсчитать отчёт. Попробуйте чуть позже.",
		"back":                "Отчёт за сегодня",
		"kind.remove_message": "Сообщение удалено", "kind.remove_media": "Файл удалён везде", "kind.takedown": "Группа или канал заблокированы",
		"kind.restrict": "Скрыто в некоторых странах", "kind.suspend": "Аккаунт приостановлен", "kind.ban": "Аккаунт заблокирован", "kind.label": "Добавлена предупреждающая метка",
		"source.user_report": "Жалоба пользователя", "source.trusted_flagger": "Доверенный информатор", "source.notice": "Уведомление от человека без аккаунта",
		"source.hash_bank": "Совпадение с известными незаконными файлами", "source.text_rule": "Текстовое правило", "source.classifier": "Автоматический классификатор",
		"source.legal_order": "Предписание органа власти", "source.own_initiative": "Собственная инициатива kurir",
		"content.text": "Текст", "content.image": "Изображения", "content.video": "Видео", "content.audio": "Аудио", "content.other": "Другие файлы",
		"scope.worldwide": "По всему миру", "scope.rules": "Там, где это запрещает местный закон", "scope.EU": "Европейский союз", "scope.EEA": "Европейская экономическая зона",
		"lkind.emergency": "Экстренное раскрытие", "lkind.preservation": "Сохранение данных", "lkind.disclosure": "Раскрытие по судебному или иному процессу",
		"lkind.removal": "Предписание об удалении", "lkind.other": "Другое",
		"outcome.fulfilled": "Выполнен", "outcome.rejected": "Отклонён", "outcome.withdrawn": "Отозван",
	},
	"ar": {
		"title":     "تقرير الشفافية",
		"skip":      "انتقل إلى التقرير",
		"language":  "اللغة",
		"intro":     "ما فعله kurir بشأن المحتوى غير القانوني والضار، وما طلبته منه جهات إنفاذ القانون، محسوبًا من السجلات التي يكتبها المشرفون والأنظمة الآلية والفريق القانوني أثناء عملهم.",
		"partial":   "لم تنتهِ هذه الفترة بعد: هذه الأرقام حتى الآن، وستزداد حتى نهايتها.",
		"generated": "حُسبت في %s بتوقيت UTC.",
		"date":      "%[1]s %[2]s %[3]s",
		"month":     "%[1]s %[2]s",
		"prev_day":  "اليوم السابق", "next_day": "اليوم التالي",
		"prev_month": "الشهر السابق", "next_month": "الشهر التالي",
		"prev_year": "السنة السابقة", "next_year": "السنة التالية",
		"periods": "فترات أخرى",
		"today":   "اليوم", "yesterday": "أمس",
		"pick_day":         "انتقل إلى يوم",
		"show":             "عرض",
		"download":         "الأرقام نفسها للتنزيل:",
		"summary":          "الملخص",
		"actions_total":    "الإجراءات المتخذة",
		"chats_down":       "المجموعات والقنوات المحذوفة",
		"appeals_received": "الطعون المستلمة",
		"legal_received":   "طلبات جهات إنفاذ القانون",
		"ban_line":         "حُظرت %s من المجموعات والقنوات المرتبطة بـ%s",
		"ban.child_abuse":  "إساءة معاملة الأطفال",
		"ban.terrorism":    "الإرهاب",
		"table":            "الأرقام في جدول",
		"col_count":        "العدد",
		"none":             "لا شيء في هذه الفترة.",
		"sec_days":         "الإجراءات حسب اليوم", "col_day": "اليوم",
		"sec_months": "الإجراءات حسب الشهر", "col_month": "الشهر",
		"sec_kind": "الإجراءات حسب النوع", "col_kind": "الإجراء",
		"sec_category": "الإجراءات حسب الفئة", "col_category": "الفئة",
		"sec_source": "ما أدى إلى الإجراء", "col_source": "المصدر",
		"sec_content": "الإجراءات حسب نوع المحتوى", "col_content": "نوع المحتوى",
		"sec_scope": "أين تسري الإجراءات", "col_scope": "النطاق",
		"sec_automation": "الأتمتة", "col_automation": "الإجراءات",
		"auto_detect":  "اكتُشف آليًا",
		"human_detect": "أبلغ عنه أو وجده أشخاص",
		"auto_decide":  "قُرر آليًا",
		"human_decide": "قرره أشخاص",
		"auto_summary": "%s من الإجراءات جاءت بعد اكتشاف آلي، و%s اتُّخذت دون تدخل بشري.",
		"sec_speed":    "الوقت حتى اتخاذ الإجراء", "col_speed": "الوقت منذ أول بلاغ أو اكتشاف",
		"speed_summary": "اتُّخذ نصف الإجراءات خلال %s من أول بلاغ أو اكتشاف، و90%% خلال %s (عدد الإجراءات المقيسة: %s).",
		"speed_1m":      "أقل من دقيقة", "speed_10m": "من 1 إلى 10 دقائق", "speed_1h": "من 10 دقائق إلى ساعة",
		"speed_6h": "من 1 إلى 6 ساعات", "speed_1d": "من 6 إلى 24 ساعة", "speed_7d": "من 1 إلى 7 أيام", "speed_more": "أسبوع أو أكثر",
		"unit_s": "%s ث", "unit_min": "%s د", "unit_h": "%s س", "unit_d": "%s يوم",
		"sec_appeals": "الطعون", "col_appeals": "الطعون",
		"appeals_in": "المستلمة", "appeals_decided": "المبتّ فيها", "appeals_reversed": "أُلغي القرار",
		"reversed_actions":  "القرارات التي أُلغيت في هذه الفترة (أيًّا كان تاريخها، بعد طعن أو مراجعة): %s.",
		"sec_legal":         "طلبات جهات إنفاذ القانون",
		"legal_intro":       "طلبات السلطات للحصول على بيانات المستخدمين أو لإزالة محتوى، تُحسب عند استلامها؛ وتُحسب النتائج عند إغلاق الطلب.",
		"legal_accounts":    "الحسابات التي كُشفت بياناتها",
		"sec_legal_country": "الطلبات حسب البلد", "col_country": "البلد",
		"sec_legal_kind": "الطلبات حسب النوع", "col_legal_kind": "النوع",
		"sec_legal_outcome": "الطلبات حسب النتيجة", "col_outcome": "النتيجة",
		"legal_monthly":       "حتى لا يمكن تمييز أي طلب من تاريخه، تُنشر هذه الأعداد لأشهر كاملة فقط بعد انتهائها (ولسنوات كاملة): انظر تقرير الشهر.",
		"other_countries":     "كل البلدان الأخرى",
		"band_note":           "حتى لا يمكن تمييز أي طلب بعينه، تظهر الأعداد من %s إلى %s كنطاق (%s) بشريط متقطع.",
		"about":               "يُحسب كل إجراء مرة واحدة، في اليوم (UTC) الذي اتُّخذ فيه، بما في ذلك ما أُلغي لاحقًا. الشهر أو السنة مجموع أيامهما.",
		"err_title":           "لا يوجد تقرير هنا",
		"err_bad":             "«%s» ليس يومًا ولا شهرًا ولا سنة. اكتبه هكذا: 2026-11-28 أو 2026-11 أو 2026.",
		"err_future":          "لا يوجد تقرير عن %s بعد.",
		"err_early":           "لا توجد تقارير قبل %s.",
		"err_nopage":          "لا توجد صفحة على هذا العنوان.",
		"err_internal":        "تعذّر حساب التقرير الآن. يُرجى المحاولة بعد قليل.",
		"back":                "تقرير اليوم",
		"kind.remove_message": "حذف رسالة", "kind.remove_media": "حذف ملف من كل مكان", "kind.takedown": "حذف مجموعة أو قناة",
		"kind.restrict": "حجب في بعض البلدان", "kind.suspend": "تعليق حساب", "kind.ban": "حظر حساب", "kind.label": "إضافة تسمية تحذيرية",
		"source.user_report": "بلاغ من مستخدم", "source.trusted_flagger": "مُبلّغ موثوق", "source.notice": "إشعار من شخص بلا حساب",
		"source.hash_bank": "تطابق مع ملفات غير قانونية معروفة", "source.text_rule": "قاعدة نصية", "source.classifier": "مصنّف آلي",
		"source.legal_order": "أمر قانوني", "source.own_initiative": "بمبادرة من kurir",
		"content.text": "نص", "content.image": "صور", "content.video": "فيديو", "content.audio": "صوت", "content.other": "ملفات أخرى",
		"scope.worldwide": "في كل العالم", "scope.rules": "حيث يحظره القانون المحلي", "scope.EU": "الاتحاد الأوروبي", "scope.EEA": "المنطقة الاقتصادية الأوروبية",
		"lkind.emergency": "كشف طارئ", "lkind.preservation": "حفظ البيانات", "lkind.disclosure": "كشف بموجب إجراء قانوني",
		"lkind.removal": "أمر إزالة محتوى", "lkind.other": "أخرى",
		"outcome.fulfilled": "نُفّذ", "outcome.rejected": "رُفض", "outcome.withdrawn": "سُحب",
	},
}
