//go:build !race

package franking_test

const raceEnabled = false
