package imaging

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// sharedPhotos is the PDQ reference data set beside the repository
// (see DESIGN.md); CI has it, a bare clone may not.
var sharedPhotos = filepath.Join("..", "..", "..", "shared", "testdata", "pdq")

// TestRealPhotos runs Inspect, StripMetadata and Thumbnail over photos that
// came out of real cameras and editors: testdata/wee.jpg (a progressive JPEG
// with Exif, XMP and Photoshop segments) always, and every image of the
// shared PDQ data set when it is there.
func TestRealPhotos(t *testing.T) {
	t.Run("testdata", func(t *testing.T) {
		checkPhotos(t, []string{"testdata/wee.jpg"})
	})
	t.Run("shared", func(t *testing.T) {
		if _, err := os.Stat(sharedPhotos); err != nil {
			t.Skipf("the shared photos are not there (%v); testdata/wee.jpg was tested alone", err)
		}
		var files []string
		for _, pattern := range []string{"*/*.jpg", "*/*.png", "*/*/*.jpg"} {
			m, err := filepath.Glob(filepath.Join(sharedPhotos, pattern))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m...)
		}
		if len(files) == 0 {
			t.Fatalf("%s holds no photos", sharedPhotos)
		}
		checkPhotos(t, files)
	})
}

func checkPhotos(t *testing.T, files []string) {
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			orig, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Inspect(bytes.NewReader(orig), Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}

			out := strip(t, orig)
			if !samePixels(decodeAs(t, info.Format, orig), decodeAs(t, info.Format, out)) {
				t.Error("the stripped photo decodes to different pixels")
			}
			for _, s := range []string{"http://ns.adobe.com/xap/1.0/", "Photoshop 3.0", "8BIM"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("the stripped photo still contains %q", s)
				}
			}
			if info.Format == JPEG {
				_, app1 := jpegSegments(t, out)
				if info.Orientation == 1 && len(app1) > 0 || info.Orientation > 1 && len(app1) != 1 {
					t.Errorf("stripped photo has %d APP1 segments; its orientation is %d", len(app1), info.Orientation)
				}
			}
			if got, err := Inspect(bytes.NewReader(out), Limits{}); err != nil || got != info {
				t.Errorf("Inspect after stripping = %+v, %v; want %+v", got, err, info)
			}

			th, _ := thumbnail(t, orig, 128)
			w, h := info.DisplaySize()
			if th.Width > 128 || th.Height > 128 || (th.Width != 128 && th.Height != 128 && (th.Width != w || th.Height != h)) {
				t.Errorf("thumbnail of a %d × %d photo is %d × %d, want it to fit 128 × 128 exactly", w, h, th.Width, th.Height)
			}
		})
	}
}
