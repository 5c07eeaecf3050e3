package transparency

import (
	"bytes"
	"encoding/csv"
	"strconv"
)

// CSV writes the published numbers as rows of section, key and value: the
// same numbers as the JSON and the page, one per row, for spreadsheets.
//
//	section,key,value
//	actions,total,1234
//	actions.by_kind,takedown,56
//	legal_requests.by_country,DE,0-9
func (p Public) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	row := func(section, key, value string) { w.Write([]string{section, key, value}) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	row("section", "key", "value")
	row("report", "period", p.Period)
	row("report", "from", p.From.Format("2006-01-02"))
	row("report", "to", p.To.Format("2006-01-02"))
	if p.Partial {
		row("report", "partial", "true")
	}
	a := p.Actions
	row("actions", "total", n(a.Total))
	row("actions", "automated_detection", n(a.AutomatedDetection))
	row("actions", "automated_decision", n(a.AutomatedDecision))
	row("actions", "reversed", n(a.Reversed))
	for _, m := range []struct {
		section string
		counts  map[string]int64
	}{
		{"actions.by_kind", a.ByKind}, {"actions.by_category", a.ByCategory}, {"actions.by_source", a.BySource},
		{"actions.by_scope", a.ByScope}, {"actions.by_content_type", a.ByContentType}, {"actions.chats_taken_down", a.ChatsTakenDown},
	} {
		for _, k := range sortedKeys(m.counts) {
			row(m.section, k, n(m.counts[k]))
		}
	}
	row("time_to_action", "count", n(p.Speed.Count))
	row("time_to_action", "median_seconds", n(p.Speed.MedianSeconds))
	row("time_to_action", "p90_seconds", n(p.Speed.P90Seconds))
	row("appeals", "received", n(p.Appeals.Received))
	row("appeals", "decided", n(p.Appeals.Decided))
	row("appeals", "reversed", n(p.Appeals.Reversed))
	if p.Legal == nil {
		row("report", "legal_requests_note", p.LegalNote)
		w.Flush()
		return b.Bytes()
	}
	l := p.Legal
	row("legal_requests", "received", l.Received.String())
	row("legal_requests", "accounts_affected", l.AccountsAffected.String())
	for _, m := range []struct {
		section string
		counts  map[string]Count
	}{{"legal_requests.by_country", l.ByCountry}, {"legal_requests.by_kind", l.ByKind}, {"legal_requests.by_outcome", l.ByOutcome}} {
		raw := make(map[string]int64, len(m.counts))
		for k, c := range m.counts {
			raw[k] = c.N
		}
		for _, k := range sortedKeys(raw) {
			row(m.section, k, m.counts[k].String())
		}
	}
	w.Flush()
	return b.Bytes()
}
