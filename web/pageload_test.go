package web_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// BenchmarkPageLoad loads the app in headless Chromium on loopback with the
// browser cache off, as a first visit would: "login" is the page a new
// visitor gets, "chats" the chat list of a logged-in user with 20 chats.
// It reports the medians of load (the load event, from the start of the
// navigation) and ready (the first screen drawn: the login form or the chat
// list, which needs three API calls more). Run it with
//
//	go test ./web/ -run '^$' -bench PageLoad -benchtime 30x
func BenchmarkPageLoad(b *testing.B) {
	br := newBrowser(b)
	s := newServer(b, serverOptions{})
	owner, _ := register(b, s.URL, "gina")
	for i := range 20 {
		var c struct {
			ID int64 `json:"id"`
		}
		owner.call("POST", "/chats/groups", map[string]string{"title": fmt.Sprintf("Group %d", i+1)}, &c)
		owner.call("POST", fmt.Sprintf("/chats/%d/messages", c.ID), map[string]string{"text": "Hello", "idempotency_key": fmt.Sprint(i)}, nil)
	}
	for _, bc := range []struct {
		name, token string
	}{{"login", ""}, {"chats", owner.token}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := br.page(b, 1100, 720)
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				b.Fatal(err)
			}
			if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
				b.Fatal(err)
			}
			do(b, ctx, "open the site", chromedp.Navigate(s.URL+"/404"))
			if bc.token != "" {
				do(b, ctx, "log in", chromedp.Evaluate[chromedp.Void](`localStorage.setItem('kurir.token', `+jsString(bc.token)+`)`))
			}
			var load, ready []float64
			for b.Loop() {
				do(b, ctx, "load the page",
					chromedp.Navigate(s.URL+"/"),
					waitJS(`performance.getEntriesByName('kurir-ready').length > 0 && performance.getEntriesByType('navigation')[0].loadEventEnd > 0`))
				b.StopTimer()
				load = append(load, eval[float64](b, ctx, `performance.getEntriesByType('navigation')[0].loadEventEnd`))
				ready = append(ready, eval[float64](b, ctx, `performance.getEntriesByName('kurir-ready')[0].startTime`))
				b.StartTimer()
			}
			b.ReportMetric(median(load), "load-ms")
			b.ReportMetric(median(ready), "ready-ms")
			b.ReportMetric(slices.Max(ready), "max-ready-ms")
		})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
