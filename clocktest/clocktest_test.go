package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/clocktest"
)

var _ kurir.Clock = (*clocktest.Fake)(nil)

func TestFake(t *testing.T) {
	c := clocktest.New(time.Time{})
	if got := c.Now(); !got.Equal(clocktest.Start) {
		t.Fatalf("new clock at %v, want %v", got, clocktest.Start)
	}
	c.Advance(90 * time.Minute)
	if got, want := c.Now(), clocktest.Start.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(later)
	if !c.Now().Equal(later) {
		t.Errorf("after Set: %v, want %v", c.Now(), later)
	}
	// Safe for concurrent use (run with -race).
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { c.Advance(time.Second); c.Now() })
	}
	wg.Wait()
	if got, want := c.Now(), later.Add(8*time.Second); !got.Equal(want) {
		t.Errorf("after 8 concurrent seconds: %v, want %v", got, want)
	}
}
