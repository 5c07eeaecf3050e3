//go:build race

package franking_test

// raceEnabled: under the race detector sync.Pool drops a quarter of Puts on
// purpose, so allocation counts are not meaningful.
const raceEnabled = true
