package moderation_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"kurir"
	"kurir/messaging"
	"kurir/moderation"
)

// TestReportLimitHoldsForReportsSentAtOnce: reports one account sends at
// the same moment are counted one after another, so no more than the limit
// get through (on PostgreSQL each would otherwise count the others as not
// there yet).
func TestReportLimitHoldsForReportsSentAtOnce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{ReportsPerHour: 3})
		owner, eager := e.user("owner"), e.user("eager")
		var posts []messaging.Message
		for i := range 12 {
			_, p := e.channel(owner, fmt.Sprintf("burst%d", i))
			posts = append(posts, p)
		}
		var ok, limited atomic.Int32
		var wg sync.WaitGroup
		for _, p := range posts {
			wg.Go(func() {
				_, err := mod.Report(e.ctx, eager, moderation.ReportParams{Subject: msgSubject(p), Category: moderation.Spam})
				var ke *kurir.Error
				switch {
				case err == nil:
					ok.Add(1)
				case asError(err, &ke) && ke.Code == kurir.ERateLimited:
					limited.Add(1)
				default:
					t.Errorf("report: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 3 || limited.Load() != 9 {
			t.Errorf("12 reports at once with a limit of 3: %d filed, %d refused; want 3 and 9", ok.Load(), limited.Load())
		}
	})
}
