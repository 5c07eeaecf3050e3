package textscan

// NormalizeSteps and LightSteps are the step-by-step normalisations that
// Normalize's and Light's per-rune tables are built from, for the fuzz
// test to compare against.
var (
	NormalizeSteps = normalize
	LightSteps     = normalizeLight
)
