package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"slices"
	"strings"
	"testing"

	"kurir"
)

func strip(t testing.TB, file []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := StripMetadata(&out, bytes.NewReader(file), int64(len(file))); err != nil {
		t.Fatalf("StripMetadata: %v", err)
	}
	return out.Bytes()
}

// decodeAs decodes an image of a known format, so that a test cannot pass
// by the copy having turned into another format.
func decodeAs(t testing.TB, f Format, b []byte) image.Image {
	t.Helper()
	m, err := decode(f, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the %s: %v", f, err)
	}
	return m
}

// samePixels reports whether a and b have the same bounds and colours.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	// The decoders return the same type for the same coding, so most
	// comparisons are of planes.
	switch a := a.(type) {
	case *image.YCbCr:
		if b, ok := b.(*image.YCbCr); ok && a.SubsampleRatio == b.SubsampleRatio && a.YStride == b.YStride && a.CStride == b.CStride {
			return bytes.Equal(a.Y, b.Y) && bytes.Equal(a.Cb, b.Cb) && bytes.Equal(a.Cr, b.Cr)
		}
	case *image.NRGBA:
		if b, ok := b.(*image.NRGBA); ok && a.Stride == b.Stride {
			return bytes.Equal(a.Pix, b.Pix)
		}
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

// assertNoSecrets checks that out holds none of the planted strings, and
// that orig held the ones listed, so the check can fail.
func assertNoSecrets(t *testing.T, orig, out []byte, planted ...string) {
	t.Helper()
	for _, s := range planted {
		if !bytes.Contains(orig, []byte(s)) {
			t.Fatalf("the test file lacks %q", s)
		}
	}
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the stripped file still contains %q", s)
		}
	}
	if bytes.Contains(orig, gpsLatitude) && bytes.Contains(out, gpsLatitude) {
		t.Error("the stripped file still contains the GPS latitude")
	}
}

// jpegSegments returns the markers of a JPEG's segments up to its first
// scan, and the payloads of its APP1 segments.
func jpegSegments(t *testing.T, jpg []byte) (markers []byte, app1 [][]byte) {
	t.Helper()
	for off := 2; off+4 <= len(jpg); {
		if jpg[off] != 0xFF {
			t.Fatalf("no marker at offset %d", off)
		}
		m := jpg[off+1]
		n := int(binary.BigEndian.Uint16(jpg[off+2:]))
		markers = append(markers, m)
		if m == 0xE1 {
			app1 = append(app1, jpg[off+4:off+2+n])
		}
		if m == markerSOS {
			break
		}
		off += 2 + n
	}
	return markers, app1
}

func TestStripJPEG(t *testing.T) {
	for _, o := range []int{0, 1, 6} {
		t.Run("orientation "+string(rune('0'+o)), func(t *testing.T) {
			orig := metadataJPEG(t, quadImage(64, 48), o)
			out := strip(t, orig)

			if !samePixels(decodeAs(t, JPEG, orig), decodeAs(t, JPEG, out)) {
				t.Error("the stripped JPEG decodes to different pixels")
			}
			assertNoSecrets(t, orig, out, secretMake, secretDatum, secretXMP, secretIPTC, secretComment, secretMPF, secretTrailer)
			if !bytes.Contains(out, []byte(iccMarker)) {
				t.Error("the ICC profile was dropped")
			}
			if !bytes.HasSuffix(out, []byte{0xFF, markerEOI}) {
				t.Error("the stripped JPEG does not end with its end-of-image marker")
			}
			markers, app1 := jpegSegments(t, out)
			if markers[0] != markerAPP0 {
				t.Errorf("first segment is 0x%02X, want the JFIF APP0 kept in place", markers[0])
			}
			wantOrientation := max(o, 1)
			if o > 1 {
				if len(app1) != 1 || !bytes.Equal(app1[0], orientationSegment(o)[4:]) {
					t.Errorf("APP1 segments = %q, want only the one-tag orientation segment", app1)
				}
			} else if len(app1) != 0 {
				t.Errorf("APP1 segments = %q, want none: the photo is upright", app1)
			}
			info, err := Inspect(bytes.NewReader(out), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != wantOrientation {
				t.Errorf("orientation after stripping = %d, want %d", info.Orientation, wantOrientation)
			}
		})
	}
}

func TestStripPNG(t *testing.T) {
	orig := metadataPNG(t, noiseImage(40, 30))
	out := strip(t, orig)
	if !samePixels(decodeAs(t, PNG, orig), decodeAs(t, PNG, out)) {
		t.Error("the stripped PNG decodes to different pixels")
	}
	assertNoSecrets(t, orig, out, secretText, secretXMP, secretMake, secretDatum, secretPrivate, secretTrailer)
	if got, want := pngChunkTypes(t, out), []string{"IHDR", "gAMA", "pHYs", "IDAT", "IEND"}; !slices.Equal(got, want) {
		t.Errorf("chunks = %q, want %q", got, want)
	}
}

func TestStripWebP(t *testing.T) {
	orig := metadataWebP(t)
	out := strip(t, orig)
	if !samePixels(decodeAs(t, WebP, orig), decodeAs(t, WebP, out)) {
		t.Error("the stripped WebP decodes to different pixels")
	}
	assertNoSecrets(t, orig, out, secretMake, secretDatum, secretXMP, secretPrivate)
	if !bytes.Contains(out, []byte(iccMarker)) {
		t.Error("the ICC profile was dropped")
	}
	if got, want := binary.LittleEndian.Uint32(out[4:]), uint32(len(out)-8); got != want {
		t.Errorf("RIFF size = %d, want %d", got, want)
	}
	var ids []string
	err := walkRIFF(bytes.NewReader(out), int64(len(out)), func(off int64, id string, _ int64) error {
		ids = append(ids, id)
		if id == "VP8X" {
			if flags := out[off+8]; flags != 1<<5 {
				t.Errorf("VP8X flags = %08b, want only the ICC bit %08b", flags, 1<<5)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"VP8X", "ICCP", "VP8 "}; !slices.Equal(ids, want) {
		t.Errorf("chunks = %q, want %q", ids, want)
	}
}

func TestStripGIF(t *testing.T) {
	orig := metadataGIF(t)
	out := strip(t, orig)
	assertNoSecrets(t, orig, out, secretComment, secretXMP, secretTrailer)
	a, err := gif.DecodeAll(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	b, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decoding the stripped GIF: %v", err)
	}
	if len(a.Image) != len(b.Image) || a.LoopCount != b.LoopCount || !slices.Equal(a.Delay, b.Delay) {
		t.Errorf("stripped GIF has %d frames, loop count %d and delays %v; want %d, %d, %v",
			len(b.Image), b.LoopCount, b.Delay, len(a.Image), a.LoopCount, a.Delay)
	}
	for i := range min(len(a.Image), len(b.Image)) {
		if !samePixels(a.Image[i], b.Image[i]) {
			t.Errorf("frame %d decodes to different pixels", i)
		}
	}
}

// TestStripKeepsCleanFiles checks that a file without metadata comes out
// byte for byte as it went in, and that other files pass through.
func TestStripKeepsCleanFiles(t *testing.T) {
	g := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 3, 2), []color.Color{color.Black, color.White})}, Delay: []int{0}}
	for name, file := range map[string][]byte{
		"jpeg":          encodeJPEG(t, noiseImage(50, 40), 75),
		"png":           encodePNG(t, noiseImage(50, 40)),
		"gif":           encodeGIF(t, g),
		"webp":          readTestdata(t, "quad.lossy.webp"),
		"webp vp8x":     readTestdata(t, "alpha.lossy.webp"),
		"webp animated": readTestdata(t, "anim.webp"),
		"pdf":           []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Author (Alice) >>\n"),
		"text":          []byte("hello"),
		"empty":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			if out := strip(t, file); !bytes.Equal(out, file) {
				t.Errorf("StripMetadata changed a file that has no metadata: %d bytes in, %d out", len(file), len(out))
			}
		})
	}
}

func TestStripRefusesBrokenFiles(t *testing.T) {
	jpg := metadataJPEG(t, quadImage(64, 48), 6)
	eoi := bytes.LastIndex(jpg, []byte{0xFF, markerEOI})
	png := metadataPNG(t, quadImage(8, 8))
	webpFile := metadataWebP(t)
	tests := []struct {
		name    string
		file    []byte
		message string
	}{
		{"jpeg cut in its header", jpg[:300], "The JPEG image is truncated."},
		{"jpeg cut in its image data", jpg[:eoi-10], "The JPEG image is truncated."},
		{"jpeg with a segment length under 2", []byte("\xff\xd8\xff\xe1\x00\x01"), "impossible length"},
		{"jpeg with a second SOI", []byte("\xff\xd8\xff\xd8"), "second start-of-image"},
		{"png cut in a chunk", png[:60], "The PNG image is truncated."},
		{"png without IEND", png[:bytes.Index(png, []byte("IEND"))-4], "The PNG image is truncated."},
		{"png not starting with IHDR", []byte(pngSignature + "\x00\x00\x00\x00IDAT\x00\x00\x00\x00"), "IHDR"},
		{"png with a huge chunk length", []byte(pngSignature + "\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xffIDAT"), "longer than PNG allows"},
		{"webp shorter than its RIFF size", webpFile[:len(webpFile)-1], "The WebP image is truncated."},
		{"webp chunk past the end", riff(append(riffChunk("VP8 ", []byte("abcd")), 'V', 'P', '8', 'L', 0xff, 0xff, 0, 0)), "runs past the end"},
		{"webp cut in a chunk header", riff(riffChunk("VP8 ", []byte("abcd")), []byte("VP")), "middle of a chunk header"},
		{"gif with an unknown block", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x99"), "unknown type 0x99"},
		{"gif cut in a frame", metadataGIF(t)[:120], "The GIF image is truncated."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := StripMetadata(&out, bytes.NewReader(tt.file), int64(len(tt.file)))
			if kurir.ErrorReason(err) != ReasonCorrupt {
				t.Fatalf("StripMetadata error = %v, want reason %s", err, ReasonCorrupt)
			}
			if msg := kurir.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
}

// TestStripGIFWithoutTrailer accepts a GIF that ends after a whole frame but
// lacks its trailer byte, as browsers do, and completes it.
func TestStripGIFWithoutTrailer(t *testing.T) {
	orig := encodeGIF(t, &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 3, 2), []color.Color{color.Black, color.White})}, Delay: []int{0}})
	out := strip(t, orig[:len(orig)-1])
	if !bytes.Equal(out, orig) {
		t.Errorf("got %x, want %x", out, orig)
	}
}

func TestStripIOErrors(t *testing.T) {
	jpg := metadataJPEG(t, quadImage(64, 48), 6)
	disk := errors.New("disk on fire")

	err := StripMetadata(io.Discard, failingReaderAt{bytes.NewReader(jpg), 500, disk}, int64(len(jpg)))
	if !errors.Is(err, disk) || kurir.ErrorCode(err) != kurir.EInternal {
		t.Errorf("read failure: error = %v, want an internal error wrapping %v", err, disk)
	}
	err = StripMetadata(failingWriter{disk}, bytes.NewReader(jpg), int64(len(jpg)))
	if !errors.Is(err, disk) || kurir.ErrorCode(err) != kurir.EInternal {
		t.Errorf("write failure: error = %v, want an internal error wrapping %v", err, disk)
	}
}

type failingReaderAt struct {
	r     io.ReaderAt
	after int64
	err   error
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.after {
		return 0, f.err
	}
	return f.r.ReadAt(p, off)
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestStripJPEGScanData checks the copy of entropy-coded data byte by byte:
// stuffed bytes and restart markers are data and stay, fill bytes before a
// marker and segments between scans that carry metadata go, and the copy
// ends at the end-of-image marker.
func TestStripJPEGScanData(t *testing.T) {
	sos := segment(markerSOS, []byte{1, 1, 0, 0, 63, 0})
	dht := segment(0xC4, []byte{0x10, 1, 2, 3})
	in := slices.Concat(
		[]byte{0xFF, markerSOI}, sos,
		[]byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD1, 0x78}, // stuffing, restarts (one after a fill byte)
		[]byte{0xFF, 0xFF}, segment(markerCOM, []byte(secretComment)), // fill bytes, then a comment between scans
		dht, sos, []byte{0x9A, 0xFF, 0x00},
		[]byte{0xFF, 0xFF, 0xFF, markerEOI}, []byte(secretTrailer),
	)
	want := slices.Concat(
		[]byte{0xFF, markerSOI}, sos,
		[]byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD1, 0x78},
		dht, sos, []byte{0x9A, 0xFF, 0x00},
		[]byte{0xFF, markerEOI},
	)
	if got := strip(t, in); !bytes.Equal(got, want) {
		t.Errorf("stripped scan data:\n got % X\nwant % X", got, want)
	}
}
