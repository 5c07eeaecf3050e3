//go:build race

package pdq

// raceEnabled: under the race detector sync.Pool drops some of what it is
// given, on purpose, so allocation counts do not hold.
const raceEnabled = true
