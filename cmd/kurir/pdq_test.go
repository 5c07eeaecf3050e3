package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kurir/safety/pdq"
)

// pdqCmd runs "kurir pdq" with args and returns its output.
func pdqCmd(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runPDQ(ctx, args, noEnv, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestPDQ hashes good and bad files in one run: the good ones are printed in
// order in the reference's format, each bad one is named on stderr with
// its reason, and the run fails at the end.
func TestPDQ(t *testing.T) {
	dir := t.TempDir()
	photo, err := os.ReadFile(filepath.Join("..", "..", "safety", "pdq", "testdata", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flat := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range flat.Pix {
		flat.Pix[i] = 200
	}
	// A flat image has quality 0; its hash is rounding noise, but the
	// same noise every time.
	flatHash, _, err := pdq.HashImage(flat)
	if err != nil {
		t.Fatal(err)
	}
	var flatPNG bytes.Buffer
	if err := png.Encode(&flatPNG, flat); err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 8, 8))
	rgba.Set(1, 1, color.White)
	var bomb bytes.Buffer
	png.Encode(&bomb, rgba)

	bridge := write("bridge.jpg", photo)
	flatFile := write("flat.png", flatPNG.Bytes())
	notes := write("notes.jpg", []byte("Dear Alice, this is not a photo."))
	truncated := write("truncated.jpg", photo[:len(photo)/3])
	missing := filepath.Join(dir, "missing.jpg")
	big := write("big.png", bomb.Bytes())

	for _, jobs := range []string{"1", "3"} {
		t.Run("jobs "+jobs, func(t *testing.T) {
			stdout, stderr, err := pdqCmd(t, context.Background(), "--jobs", jobs, "--max-pixels", "2000000",
				bridge, notes, flatFile, missing, truncated, dir, bridge)
			wantOut := "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22 100 " + bridge + "\n" +
				flatHash.String() + " 0 " + flatFile + "\n" +
				"d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22 100 " + bridge + "\n"
			if stdout != wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, wantOut)
			}
			wantErr := "kurir pdq: " + notes + ": The file is not an image: its content is of type text/plain.\n" +
				"kurir pdq: " + missing + ": no such file or directory\n" +
				"kurir pdq: " + truncated + ": The JPEG image is damaged or incomplete.\n" +
				"kurir pdq: " + dir + ": is a directory, not a file\n"
			if stderr != wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, wantErr)
			}
			if err == nil || err.Error() != "pdq: 4 of 7 files could not be hashed" {
				t.Errorf("error %v, want one that counts the 4 failures", err)
			}
		})
	}

	t.Run("over --max-pixels", func(t *testing.T) {
		_, stderr, err := pdqCmd(t, context.Background(), "--max-pixels", "63", big)
		if err == nil || !strings.Contains(stderr, big+": The image is 8 × 8 pixels (64 pixels); the limit is 63 pixels") {
			t.Errorf("stderr %q, error %v", stderr, err)
		}
	})

	t.Run("all good", func(t *testing.T) {
		stdout, stderr, err := pdqCmd(t, context.Background(), bridge)
		if err != nil || stderr != "" || !strings.HasPrefix(stdout, "d8f8f0ce") {
			t.Errorf("stdout %q, stderr %q, error %v", stdout, stderr, err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := pdqCmd(t, ctx, "--jobs", "1", bridge, bridge, bridge, bridge)
		// A file handed out before the cancellation may still be
		// hashed, but the run must stop with the context's error.
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

func TestPDQUsage(t *testing.T) {
	stdout, _, err := pdqCmd(t, context.Background(), "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(stdout, "HASH QUALITY FILE") || !strings.Contains(stdout, "KURIR_PDQ_JOBS") {
		t.Errorf("--help: error %v, stdout %q", err, stdout)
	}
	for _, args := range [][]string{nil, {"--jobs", "0", "x.jpg"}, {"--max-pixels", "0", "x.jpg"}, {"--no-such-flag", "x.jpg"}} {
		_, _, err := pdqCmd(t, context.Background(), args...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}
