package main

import (
	"strings"
	"testing"

	"kurir"
	"kurir/moderation"
)

// TestAdminModQueueByLanguageAndCountry: "kurir admin mod queue" keeps only
// the cases first signalled from a language or country, and refuses one
// that is not a language or a country.
func TestAdminModQueueByLanguageAndCountry(t *testing.T) {
	w := newModWorld(t)
	at := kurir.WithLocation(w.ctx, kurir.Location{Network: "AT"})
	r, err := w.mod.Report(at, w.rita, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectMessage, Chat: w.news.ID, Seq: w.post.Seq},
		Category: moderation.Spam, Lang: "de-AT"})
	w.must("Report", err)
	other := w.report(w.ravi, moderation.Subject{Kind: moderation.SubjectUser, User: w.sam}, moderation.Spam)

	for _, args := range [][]string{{"--lang", "de"}, {"--country", "AT"}, {"--lang", "de", "--country", "at"}} {
		out, err := w.kurir(append([]string{"queue"}, args...)...)
		if err != nil || strings.Count(out, "\n") != 2 || !hasRow(out, id(r.CaseID)) || hasRow(out, id(other)) {
			t.Errorf("queue %v: %v\n%s; want only case %d", args, err, out, r.CaseID)
		}
	}
	if out, err := w.kurir("queue", "--lang", "fr"); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("queue --lang fr: %v\n%s; want no cases", err, out)
	}
	if _, err := w.kurir("queue", "--country", "Austria"); err == nil || !strings.Contains(err.Error(), "not a country") {
		t.Errorf("queue --country Austria: %v, want it refused", err)
	}
}
