// Package transparency turns the records moderation and the legal team
// write into public numbers: a report for every day, month and year, with
// actions by kind, category, source, automation, territorial scope and
// content type, the time from a first signal to the action, appeals, and
// law-enforcement requests by country, type and outcome.
//
// It reads those records (mod_actions, mod_cases, mod_appeals,
// legal_requests) directly rather than calling into the packages that write
// them, so the layers stay flat and the public numbers are derived from
// exactly what happened. A day's report is computed once the day is over,
// by whichever node gets there first, and stored; months and years are sums
// of days. Law-enforcement requests are published only for whole months and
// longer once they are over, for every country, small counts in bands.
package transparency

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"kurir"
	"kurir/moderation"
)

// Report is the numbers of one period. Maps are keyed by the stable codes
// the records use (kinds, categories, sources, country codes).
type Report struct {
	Period    string    `json:"period"` // 2026-11-28, 2026-11 or 2026
	From      time.Time `json:"from"`   // inclusive, UTC
	To        time.Time `json:"to"`     // exclusive
	Generated time.Time `json:"generated_at"`
	Partial   bool      `json:"partial,omitempty"` // the period is not over yet

	Actions Actions      `json:"actions"`
	Speed   TimeToAction `json:"time_to_action"`
	Appeals Appeals      `json:"appeals"`
	Legal   Legal        `json:"legal_requests"`
}

// Actions counts the decisions taken in the period, each once, those
// later reversed included; Reversed counts the reversals made in the
// period (of decisions of any date), so that a past period's numbers never
// change.
type Actions struct {
	Total              int64            `json:"total"`
	ByKind             map[string]int64 `json:"by_kind"`         // remove_message, remove_media, takedown, restrict, suspend, ban, label
	ByCategory         map[string]int64 `json:"by_category"`     // the moderation taxonomy
	BySource           map[string]int64 `json:"by_source"`       // user_report, trusted_flagger, notice, hash_bank, text_rule, classifier, legal_order, own
	ByScope            map[string]int64 `json:"by_scope"`        // worldwide, or the countries and groups a restriction names ("rules": by country rules)
	ByContentType      map[string]int64 `json:"by_content_type"` // text, image, video, audio, other
	AutomatedDetection int64            `json:"automated_detection"`
	AutomatedDecision  int64            `json:"automated_decision"`
	Reversed           int64            `json:"reversed"`
	// ChatsTakenDown counts groups and channels taken down, by category:
	// what Telegram publishes daily.
	ChatsTakenDown map[string]int64 `json:"chats_taken_down"`
}

// TimeToAction is how long actions took from the first signal about their
// subject. Histogram counts actions by bucket (moderation.TimeBucket), so that the
// percentiles of a month are exact sums of its days'.
type TimeToAction struct {
	Count         int64           `json:"count"`
	MedianSeconds int64           `json:"median_seconds"`
	P90Seconds    int64           `json:"p90_seconds"`
	Histogram     map[int64]int64 `json:"histogram"`
}

// Appeals counts internal complaints: filed in the period, decided in it,
// and of those decided, upheld (the decision reversed).
type Appeals struct {
	Received int64 `json:"received"`
	Decided  int64 `json:"decided"`
	Reversed int64 `json:"reversed"`
}

// Legal counts law-enforcement requests received in the period, and the
// outcomes of those closed in it, with the accounts whose data was
// disclosed. Raw here; Public bands small counts.
type Legal struct {
	Received         int64            `json:"received"`
	ByCountry        map[string]int64 `json:"by_country"`
	ByKind           map[string]int64 `json:"by_kind"`    // emergency, preservation, disclosure, removal, other
	ByOutcome        map[string]int64 `json:"by_outcome"` // fulfilled, rejected, withdrawn
	AccountsAffected int64            `json:"accounts_affected"`
}

// settle works out the percentiles from the histogram.
func (t *TimeToAction) settle() {
	t.Count = 0
	for _, n := range t.Histogram {
		t.Count += n
	}
	t.MedianSeconds, t.P90Seconds = t.percentile(0.5), t.percentile(0.9)
}

// percentile is the lower bound of the bucket holding the q-th action.
func (t *TimeToAction) percentile(q float64) int64 {
	if t.Count == 0 {
		return 0
	}
	keys := slices.Sorted(maps.Keys(t.Histogram))
	rank := int64(q*float64(t.Count-1)) + 1
	var seen int64
	for _, b := range keys {
		seen += t.Histogram[b]
		if seen >= rank {
			return moderation.TimeBucketSeconds(b)
		}
	}
	return moderation.TimeBucketSeconds(keys[len(keys)-1])
}

// newReport is an empty report of a period, maps ready.
func newReport(period string, from, to time.Time) Report {
	return Report{Period: period, From: from, To: to,
		Actions: Actions{ByKind: map[string]int64{}, ByCategory: map[string]int64{}, BySource: map[string]int64{}, ByScope: map[string]int64{},
			ByContentType: map[string]int64{}, ChatsTakenDown: map[string]int64{}},
		Speed: TimeToAction{Histogram: map[int64]int64{}},
		Legal: Legal{ByCountry: map[string]int64{}, ByKind: map[string]int64{}, ByOutcome: map[string]int64{}},
	}
}

// add adds the numbers of o to r.
func (r *Report) add(o Report) {
	a, b := &r.Actions, o.Actions
	a.Total += b.Total
	a.AutomatedDetection += b.AutomatedDetection
	a.AutomatedDecision += b.AutomatedDecision
	a.Reversed += b.Reversed
	for _, m := range []struct{ to, from map[string]int64 }{
		{a.ByKind, b.ByKind}, {a.ByCategory, b.ByCategory}, {a.BySource, b.BySource}, {a.ByScope, b.ByScope},
		{a.ByContentType, b.ByContentType}, {a.ChatsTakenDown, b.ChatsTakenDown},
		{r.Legal.ByCountry, o.Legal.ByCountry}, {r.Legal.ByKind, o.Legal.ByKind}, {r.Legal.ByOutcome, o.Legal.ByOutcome},
	} {
		for k, n := range m.from {
			m.to[k] += n
		}
	}
	for k, n := range o.Speed.Histogram {
		r.Speed.Histogram[k] += n
	}
	r.Speed.settle()
	r.Appeals.Received += o.Appeals.Received
	r.Appeals.Decided += o.Appeals.Decided
	r.Appeals.Reversed += o.Appeals.Reversed
	r.Legal.Received += o.Legal.Received
	r.Legal.AccountsAffected += o.Legal.AccountsAffected
}

// Count is a published number: exact, or a band such as "0-9" where a
// small exact count could identify someone.
type Count struct {
	N    int64
	Band string
}

// MarshalJSON writes an exact count as a number and a band as a string.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Band != "" {
		return []byte(`"` + c.Band + `"`), nil
	}
	return []byte(formatInt(c.N)), nil
}

// String is the count as published.
func (c Count) String() string {
	if c.Band != "" {
		return c.Band
	}
	return formatInt(c.N)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// band publishes n exactly, or as the band "0-(below-1)" when it is under
// below (below 0 or 1 bands nothing). Zero is banded with the small counts:
// were it published exactly, a band would say "at least one".
func band(n int64, below int64) Count {
	if below > 1 && n < below {
		return Count{N: -1, Band: "0-" + formatInt(below-1)}
	}
	return Count{N: n}
}

// The cells every published legal breakdown has, whatever was counted:
// were only the non-zero ones listed, a banded cell would still say "at
// least one request". Countries are every ISO 3166-1 country; kinds and
// outcomes are the legal package's (a test holds them equal).
var (
	legalKinds    = []string{"emergency", "preservation", "disclosure", "removal", "other"}
	legalOutcomes = []string{"fulfilled", "rejected", "withdrawn"}
)

// PublicLegal is Legal as published: every country, kind and outcome,
// small counts (zero included) in bands.
type PublicLegal struct {
	Received         Count            `json:"received"`
	ByCountry        map[string]Count `json:"by_country"`
	ByKind           map[string]Count `json:"by_kind"`
	ByOutcome        map[string]Count `json:"by_outcome"`
	AccountsAffected Count            `json:"accounts_affected"`
	// BandsBelow says counts from 0 to BandsBelow-1 are published as a band.
	BandsBelow int64 `json:"bands_below,omitempty"`
}

// Listed returns the keys of the counts a page lists, those published
// exactly and not zero, largest first, and what all the others are: their
// band, "0", or "" if there are none. A page lists these and says "every
// other: 0-9" rather than print a long run of the same value.
func Listed(counts map[string]Count) (keys []string, others string) {
	raw := make(map[string]int64, len(counts))
	for k, c := range counts {
		switch {
		case c.Band != "":
			others = c.Band
		case c.N == 0:
			if others == "" {
				others = "0"
			}
		default:
			raw[k] = c.N
		}
	}
	return sortedKeys(raw), others
}

// LegalNote is what a report says in place of law-enforcement figures it
// does not carry.
const LegalNote = "Requests from authorities are published for whole months once they are over, and for whole years and half-years, never for a day or a period still running, so that no request can be told apart by its date."

// Public is a report as published. Legal is nil for a period that does not
// carry law-enforcement figures (see Report.PublishesLegal), with LegalNote
// saying why.
type Public struct {
	Period    string       `json:"period"`
	From      time.Time    `json:"from"`
	To        time.Time    `json:"to"`
	Generated time.Time    `json:"generated_at"`
	Partial   bool         `json:"partial,omitempty"`
	Actions   Actions      `json:"actions"`
	Speed     TimeToAction `json:"time_to_action"`
	Appeals   Appeals      `json:"appeals"`
	Legal     *PublicLegal `json:"legal_requests"`
	LegalNote string       `json:"legal_requests_note,omitempty"`
}

// PublishesLegal reports whether the report's law-enforcement figures are
// published: only for a finished period of at least a whole month. A day's
// figures, or those of a month still running, would let anyone watching
// the numbers tell when a request came in, and so often which one it was.
func (r Report) PublishesLegal() bool {
	return !r.Partial && !r.From.AddDate(0, 1, 0).After(r.To)
}

// Public returns the report as published: legal-request figures only for
// a finished month or longer, every cell present, counts under bandBelow
// in bands.
func (r Report) Public(bandBelow int64) Public {
	p := Public{Period: r.Period, From: r.From, To: r.To, Generated: r.Generated, Partial: r.Partial,
		Actions: r.Actions, Speed: r.Speed, Appeals: r.Appeals}
	if !r.PublishesLegal() {
		p.LegalNote = LegalNote
		return p
	}
	l := r.Legal
	p.Legal = &PublicLegal{Received: band(l.Received, bandBelow), AccountsAffected: band(l.AccountsAffected, bandBelow),
		ByCountry: bandAll(l.ByCountry, kurir.Countries(), bandBelow), ByKind: bandAll(l.ByKind, legalKinds, bandBelow),
		ByOutcome: bandAll(l.ByOutcome, legalOutcomes, bandBelow), BandsBelow: max(bandBelow, 0)}
	return p
}

// bandAll publishes a count for every key of cells and of m.
func bandAll(m map[string]int64, cells []string, bandBelow int64) map[string]Count {
	out := make(map[string]Count, len(cells)+len(m))
	for _, k := range cells {
		out[k] = band(m[k], bandBelow)
	}
	for k, n := range m {
		out[k] = band(n, bandBelow)
	}
	return out
}

// sortedKeys returns m's keys by descending count, then name.
func sortedKeys(m map[string]int64) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
