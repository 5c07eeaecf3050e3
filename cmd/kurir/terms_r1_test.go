package main

import (
	"strings"
	"testing"
)

// TestTermsURLFlag refuses a terms address a statement could not link to,
// before the server starts.
func TestTermsURLFlag(t *testing.T) {
	for _, bad := range []string{"kurir.example/terms", "ftp://kurir.example/terms", "https:///terms"} {
		var out, errOut strings.Builder
		err := run(t.Context(), []string{"kurir", "serve", "--terms-url", bad, "--data-dir", t.TempDir()}, noEnv, nil, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--terms-url") {
			t.Errorf("--terms-url %q: err = %v, want a refusal naming --terms-url", bad, err)
		}
	}
}
