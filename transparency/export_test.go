package transparency

import (
	"time"

	"kurir/moderation"
)

// PercentilesOf is the time to action of actions that took secs seconds.
func PercentilesOf(secs []int64) TimeToAction {
	t := TimeToAction{Histogram: map[int64]int64{}}
	for _, s := range secs {
		t.Histogram[moderation.TimeBucket(time.Duration(s)*time.Second)]++
	}
	t.settle()
	return t
}

// LegalKinds and LegalOutcomes are the cells of the published breakdowns.
var LegalKinds, LegalOutcomes = legalKinds, legalOutcomes
