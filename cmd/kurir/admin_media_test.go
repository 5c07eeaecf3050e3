package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/media"
	"kurir/messaging"
	"kurir/ratelimit"
)

func TestAdminMediaRemove(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	u, err := acc.Register(ctx, account.RegisterParams{Username: "uploader", Password: "a long and unusual passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	store, _ := blob.OpenFS(filepath.Join(dir, "blobs"))
	files, err := media.NewService(db, store, messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{}),
		filepath.Join(dir, "uploads"), kurir.SystemClock{}, nil, media.Config{UploadsPerUser: &ratelimit.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := files.Upload(ctx, u.ID, media.UploadParams{Name: "leak.txt", Size: 11}, strings.NewReader("leaked data"))
	if err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"kurir", "admin", "media"}, append(args, "--data-dir", dir)...), noEnv, strings.NewReader(""), &out, &errb)
		return out.String(), err
	}
	if _, err := admin("remove", m.SHA256.String()); err == nil || !strings.Contains(err.Error(), "Say why") {
		t.Errorf("remove without a reason: %v, want it refused", err)
	}
	out, err := admin("remove", m.SHA256.String(), "--reason", "doxxing")
	if err != nil || !strings.Contains(out, "1 file(s) unavailable") {
		t.Fatalf("remove: %q, %v", out, err)
	}
	if _, err := files.Get(ctx, u.ID, m.ID); kurir.ErrorReason(err) != "media_removed" || !strings.Contains(kurir.ErrorMessage(err), "doxxing") {
		t.Errorf("after removal: %v, want media_removed with the reason", err)
	}
	if _, err := admin("restore", m.SHA256.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Get(ctx, u.ID, m.ID); err != nil {
		t.Errorf("after restore: %v", err)
	}
	if _, err := admin("remove", "not-a-hash", "--reason", "x"); err == nil {
		t.Error("a malformed hash was accepted")
	}
}
