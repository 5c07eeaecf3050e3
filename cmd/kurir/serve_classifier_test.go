package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"kurir"
	"kurir/safety"
	"kurir/sqldb/sqldbtest"
)

// TestClassifierSettings: the classifier needs its URL for a secret, a
// secret file that holds a secret of some length, and a known text scope;
// each mistake is a usage error naming the setting.
func TestClassifierSettings(t *testing.T) {
	db := sqldbtest.SQLite(t, safety.Migrations)
	dir := t.TempDir()
	short, long := filepath.Join(dir, "short"), filepath.Join(dir, "long")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	os.WriteFile(long, []byte("a secret long enough to sign with\n"), 0o600)
	if c, err := newClassifier("", "", "public", db, kurir.SystemClock{}, slog.New(slog.DiscardHandler)); c != nil || err != nil {
		t.Errorf("no URL: %v, %v; want no classifier", c, err)
	}
	if c, err := newClassifier("http://127.0.0.1:9/", long, "all", db, kurir.SystemClock{}, slog.New(slog.DiscardHandler)); c == nil || err != nil {
		t.Errorf("a good setting: %v, %v", c, err)
	}
	for _, tc := range []struct{ name, url, file, text string }{
		{"secret without URL", "", long, "public"},
		{"short secret", "http://127.0.0.1:9/", short, "public"},
		{"missing secret file", "http://127.0.0.1:9/", filepath.Join(dir, "none"), "public"},
		{"unknown scope", "http://127.0.0.1:9/", "", "everything"},
	} {
		var usage usageError
		if _, err := newClassifier(tc.url, tc.file, tc.text, db, kurir.SystemClock{}, slog.New(slog.DiscardHandler)); !errors.As(err, &usage) {
			t.Errorf("%s: %v, want a usage error", tc.name, err)
		}
	}
}
