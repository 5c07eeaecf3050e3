// Package mediatest makes media services for tests of the packages that
// serve media (the HTTP API, the SDK, safety checks).
package mediatest

import (
	"log/slog"
	"path/filepath"
	"testing"

	"kurir"
	"kurir/blob"
	"kurir/media"
	"kurir/ratelimit"
	"kurir/sqldb"
)

// New returns a media service on db with its blobs and staging in a
// temporary directory of t. With no upload limit in cfg it has none, so
// that only the tests about limits meet one.
func New(t testing.TB, db *sqldb.DB, visible media.Visibility, clock kurir.Clock, log *slog.Logger, cfg media.Config, scanners ...media.Scanner) *media.Service {
	t.Helper()
	dir := t.TempDir()
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UploadsPerUser == nil {
		cfg.UploadsPerUser = &ratelimit.Limit{}
	}
	files, err := media.NewService(db, blobs, visible, filepath.Join(dir, "uploads"), clock, log, cfg, scanners...)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
