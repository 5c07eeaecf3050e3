package textscan

// NormalizeSteps is the step-by-step normalisation that Normalize's
// per-rune tables are built from, for the fuzz test to compare against.
var NormalizeSteps = normalize
