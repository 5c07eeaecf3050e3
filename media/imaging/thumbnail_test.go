package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"runtime"
	"strings"
	"testing"

	"kurir"
)

func thumbnail(t testing.TB, file []byte, maxSide int) (Thumb, image.Image) {
	t.Helper()
	th, err := Thumbnail(bytes.NewReader(file), int64(len(file)), Limits{}, maxSide)
	if err != nil {
		t.Fatalf("Thumbnail: %v", err)
	}
	m, err := jpeg.Decode(bytes.NewReader(th.JPEG))
	if err != nil {
		t.Fatalf("the thumbnail is not a JPEG: %v", err)
	}
	if b := m.Bounds(); b.Dx() != th.Width || b.Dy() != th.Height {
		t.Fatalf("thumbnail is %v, but Thumb says %d × %d", b, th.Width, th.Height)
	}
	return th, m
}

func TestThumbnailSize(t *testing.T) {
	tests := []struct {
		name          string
		file          []byte
		maxSide       int
		width, height int
	}{
		{"landscape jpeg", encodeJPEG(t, noiseImage(640, 480), 80), 320, 320, 240},
		{"portrait png", encodePNG(t, noiseImage(300, 1000)), 320, 96, 320},
		{"square", encodePNG(t, noiseImage(500, 500)), 100, 100, 100},
		{"small images are not enlarged", encodeJPEG(t, noiseImage(50, 40), 80), 320, 50, 40},
		{"a thin strip keeps a pixel", encodePNG(t, noiseImage(2000, 2)), 320, 320, 1},
		{"rounding", encodePNG(t, noiseImage(1001, 333)), 320, 320, 106},
		{"webp lossy", readTestdata(t, "quad.lossy.webp"), 32, 32, 24},
		{"webp lossless", readTestdata(t, "alpha.lossless.webp"), 16, 16, 16},
		{"gif: first frame", metadataGIF(t), 10, 10, 5},
		{"turned jpeg: width and height swap", afterSOI(encodeJPEG(t, noiseImage(640, 480), 80), exifSegment(6, false)), 320, 240, 320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, _ := thumbnail(t, tt.file, tt.maxSide)
			if th.Width != tt.width || th.Height != tt.height {
				t.Errorf("thumbnail is %d × %d, want %d × %d", th.Width, th.Height, tt.width, tt.height)
			}
		})
	}
}

// colourAt names the colour of m at (x, y): "red", "green", "blue", "white",
// "black", or "?" when it is none of them clearly.
func colourAt(m image.Image, x, y int) string {
	r, g, b, _ := m.At(x, y).RGBA()
	hi := func(v uint32) bool { return v > 0xC000 }
	lo := func(v uint32) bool { return v < 0x4000 }
	switch {
	case hi(r) && lo(g) && lo(b):
		return "red"
	case lo(r) && hi(g) && lo(b):
		return "green"
	case lo(r) && lo(g) && hi(b):
		return "blue"
	case hi(r) && hi(g) && hi(b):
		return "white"
	case lo(r) && lo(g) && lo(b):
		return "black"
	}
	return "?"
}

// TestThumbnailOrientation turns a photo stored with each EXIF orientation
// upright. The stored image has a red top-left quarter and a green top-right
// quarter; where those end up follows from the tag's definition in the Exif
// standard ("the 0th row is the visual right-hand side", and so on).
func TestThumbnailOrientation(t *testing.T) {
	stored := encodeJPEG(t, quadImage(80, 40), 95)
	tests := []struct {
		o          int
		red, green string // the corner each ends up in: TL, TR, BL, BR
	}{
		{1, "TL", "TR"},
		{2, "TR", "TL"},
		{3, "BR", "BL"},
		{4, "BL", "BR"},
		{5, "TL", "BL"},
		{6, "TR", "BR"},
		{7, "BR", "TR"},
		{8, "BL", "TL"},
	}
	for _, tt := range tests {
		t.Run(string(rune('0'+tt.o)), func(t *testing.T) {
			th, m := thumbnail(t, afterSOI(stored, exifSegment(tt.o, false)), 40)
			wantW, wantH := 40, 20
			if tt.o >= 5 {
				wantW, wantH = 20, 40
			}
			if th.Width != wantW || th.Height != wantH {
				t.Fatalf("thumbnail is %d × %d, want %d × %d", th.Width, th.Height, wantW, wantH)
			}
			corner := map[string]image.Point{
				"TL": {2, 2}, "TR": {wantW - 3, 2}, "BL": {2, wantH - 3}, "BR": {wantW - 3, wantH - 3},
			}
			for name, want := range map[string]string{tt.red: "red", tt.green: "green"} {
				p := corner[name]
				if got := colourAt(m, p.X, p.Y); got != want {
					t.Errorf("corner %s is %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestThumbnailTransparencyIsWhite(t *testing.T) {
	half := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := 16; x < 32; x++ {
			half.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	for name, file := range map[string][]byte{
		"png":           encodePNG(t, half),
		"webp lossless": readTestdata(t, "alpha.lossless.webp"), // the same picture
		"webp lossy":    readTestdata(t, "alpha.lossy.webp"),
	} {
		t.Run(name, func(t *testing.T) {
			_, m := thumbnail(t, file, 16)
			if got := colourAt(m, 3, 8); got != "white" {
				t.Errorf("transparent half is %s, want white", got)
			}
			if got := colourAt(m, 12, 8); got != "black" {
				t.Errorf("opaque half is %s, want black", got)
			}
		})
	}
}

// TestThumbnailGIFFrameInCanvas: a GIF's first frame may cover only part of
// its canvas; the thumbnail is of the canvas, the rest white.
func TestThumbnailGIFFrameInCanvas(t *testing.T) {
	frame := image.NewPaletted(image.Rect(50, 0, 100, 50), color.Palette{color.RGBA{255, 0, 0, 255}})
	file := encodeGIF(t, &gif.GIF{
		Image:  []*image.Paletted{frame},
		Delay:  []int{0},
		Config: image.Config{Width: 100, Height: 50},
	})
	th, m := thumbnail(t, file, 50)
	if th.Width != 50 || th.Height != 25 {
		t.Fatalf("thumbnail is %d × %d, want 50 × 25", th.Width, th.Height)
	}
	if got := colourAt(m, 10, 12); got != "white" {
		t.Errorf("outside the frame: %s, want white", got)
	}
	if got := colourAt(m, 40, 12); got != "red" {
		t.Errorf("inside the frame: %s, want red", got)
	}
}

func TestThumbnailRefuses(t *testing.T) {
	jpg := encodeJPEG(t, noiseImage(64, 48), 80)
	sos := bytes.Index(jpg, []byte{0xFF, markerSOS})
	tests := []struct {
		name, reason, message string
		file                  []byte
	}{
		{"png bomb", ReasonTooLarge, "50000 × 50000", bombPNG(50_000, 50_000)},
		{"jpeg bomb", ReasonTooLarge, "65000 × 65000", withJPEGSize(t, jpg, 65_000, 65_000)},
		{"empty", ReasonEmpty, "empty", nil},
		{"text", ReasonNotImage, "not an image", []byte("just some words, nothing more\n")},
		{"jpeg cut in its image data", ReasonCorrupt, "The JPEG image is damaged or incomplete.", jpg[:sos+100]},
		{"png cut in its image data", ReasonCorrupt, "The PNG image is damaged or incomplete.", encodePNG(t, noiseImage(64, 48))[:200]},
		{"animated webp, frame off the canvas", ReasonCorrupt, "does not fit its canvas", animatedWebPFile(t, 64, 48, 2, 0)},
		{"animated webp without frames", ReasonCorrupt, "damaged or incomplete", riff(vp8x(1<<1, 64, 48), riffChunk("ANIM", make([]byte, 6)))},
		{"animated webp with an empty frame", ReasonCorrupt, "empty animation frame", riff(vp8x(1<<1, 64, 48), riffChunk("ANIM", make([]byte, 6)), riffChunk("ANMF", make([]byte, 16)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Thumbnail(bytes.NewReader(tt.file), int64(len(tt.file)), Limits{}, 320)
			if kurir.ErrorReason(err) != tt.reason {
				t.Fatalf("Thumbnail error = %v, want reason %s", err, tt.reason)
			}
			if msg := kurir.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
	if _, err := Thumbnail(bytes.NewReader(jpg), int64(len(jpg)), Limits{}, 0); err == nil {
		t.Error("Thumbnail with maxSide 0 succeeded")
	}
}

// TestThumbnailBombMemory checks that refusing a decompression bomb costs
// next to nothing: decoding the 50,000 × 50,000 PNG would allocate 2.5 GB.
func TestThumbnailBombMemory(t *testing.T) {
	bomb := bombPNG(50_000, 50_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Thumbnail(bytes.NewReader(bomb), int64(len(bomb)), Limits{}, 320)
	runtime.ReadMemStats(&after)
	if kurir.ErrorReason(err) != ReasonTooLarge {
		t.Fatalf("Thumbnail error = %v, want reason %s", err, ReasonTooLarge)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
		t.Errorf("refusing the bomb allocated %d bytes, want under 256 KiB", n)
	}
}

// TestThumbnailHasNoMetadata: thumbnails are served to everyone, so they
// must not carry the original's metadata either.
func TestThumbnailHasNoMetadata(t *testing.T) {
	th, _ := thumbnail(t, metadataJPEG(t, quadImage(64, 48), 6), 32)
	for _, s := range append(secrets, "Exif", iccMarker) {
		if bytes.Contains(th.JPEG, []byte(s)) {
			t.Errorf("the thumbnail contains %q", s)
		}
	}
}

// TestThumbnailAnimatedWebP: of an animated WebP, as of a GIF, the first
// frame is shown, where it lies on the canvas.
func TestThumbnailAnimatedWebP(t *testing.T) {
	t.Run("made by gif2webp", func(t *testing.T) {
		th, _ := thumbnail(t, readTestdata(t, "anim.webp"), 320)
		if th.Width != 16 || th.Height != 16 {
			t.Errorf("thumbnail is %d × %d, want 16 × 16", th.Width, th.Height)
		}
	})
	t.Run("first frame in a corner", func(t *testing.T) {
		th, m := thumbnail(t, animatedWebPFile(t, 128, 96, 64, 48), 128)
		if th.Width != 128 || th.Height != 96 {
			t.Fatalf("thumbnail is %d × %d, want 128 × 96", th.Width, th.Height)
		}
		for _, c := range []struct {
			x, y int
			want string
		}{{10, 10, "white"}, {110, 10, "white"}, {10, 80, "white"}, {70, 54, "red"}, {120, 54, "green"}, {90, 90, "blue"}} {
			if got := colourAt(m, c.x, c.y); got != c.want {
				t.Errorf("at (%d, %d): %s, want %s", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("animation flag on a still image", func(t *testing.T) {
		file := riff(vp8x(1<<1, 64, 48), readTestdata(t, "quad.lossy.webp")[12:])
		if th, _ := thumbnail(t, file, 320); th.Width != 64 || th.Height != 48 {
			t.Errorf("thumbnail is %d × %d, want 64 × 48", th.Width, th.Height)
		}
	})
	t.Run("frame with alpha", func(t *testing.T) {
		still := readTestdata(t, "alpha.lossy.webp")
		frame := still[12+18:] // its ALPH and VP8 chunks, after the VP8X chunk
		file := riff(vp8x(1<<1|1<<4, 32, 32), riffChunk("ANIM", make([]byte, 6)), anmf(0, 0, 32, 32, frame))
		_, m := thumbnail(t, file, 32)
		if got := colourAt(m, 4, 16); got != "white" {
			t.Errorf("transparent half is %s, want white", got)
		}
		if got := colourAt(m, 28, 16); got != "black" {
			t.Errorf("opaque half is %s, want black", got)
		}
	})
}
