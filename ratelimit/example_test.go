package ratelimit_test

import (
	"fmt"
	"time"

	"kurir/ratelimit"
)

// stoppedClock is a clock that moves only when the example says so, to keep
// the output stable.
type stoppedClock struct{ t time.Time }

func (c *stoppedClock) Now() time.Time { return c.t }

// Failed logins are charged per account only when the password is wrong, so
// the account is checked with Peek first and charged with Allow after a
// failure; a successful login clears the failures with Reset.
func Example_failedLogins() {
	clock := &stoppedClock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	failures := ratelimit.New(ratelimit.Per(5, 15*time.Minute), clock, 100_000)

	login := func(user, password string) string {
		key := "login-user:" + user
		if ok, retryAfter := failures.Peek(key); !ok {
			return fmt.Sprintf("locked, retry after %v", retryAfter)
		}
		if password != "correct horse" {
			failures.Allow(key)
			return "wrong password"
		}
		failures.Reset(key)
		return "welcome"
	}

	for range 5 {
		login("pavel", "guess")
	}
	fmt.Println(login("pavel", "guess"))
	fmt.Println(login("pavel", "correct horse"))
	clock.t = clock.t.Add(time.Minute)
	fmt.Println(login("pavel", "correct horse"))
	clock.t = clock.t.Add(2 * time.Minute)
	fmt.Println(login("pavel", "correct horse"))
	fmt.Println(login("jana", "guess"))
	// Output:
	// locked, retry after 3m0s
	// locked, retry after 3m0s
	// locked, retry after 2m0s
	// welcome
	// wrong password
}
