package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"kurir"
)

func TestSniff(t *testing.T) {
	jpg := encodeJPEG(t, quadImage(8, 8), 80)
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"jpeg", jpg, "image/jpeg"},
		{"png", encodePNG(t, quadImage(8, 8)), "image/png"},
		{"gif", encodeGIF(t, &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black})}, Delay: []int{0}}), "image/gif"},
		{"webp", readTestdata(t, "quad.lossy.webp"), "image/webp"},
		{"text named .jpg", []byte("Dear Alice, this is not a photo."), "text/plain; charset=utf-8"},
		{"empty", nil, "application/octet-stream"},
		{"mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), "video/mp4"},
		{"quicktime", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "), "video/quicktime"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "image/heic"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml"},
		{"jpeg with junk after its start marker", []byte("\xff\xd8\x00\x00\xff\xe1"), "image/jpeg"},
		{"more than the head", append(append([]byte(nil), jpg...), make([]byte, 2*SniffLen)...), "image/jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.head); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	jpg := encodeJPEG(t, quadImage(64, 48), 80)
	tests := []struct {
		name string
		file []byte
		lim  Limits
		want Info
	}{
		{"jpeg", jpg, Limits{}, Info{JPEG, 64, 48, 1}},
		{"jpeg with all metadata, no orientation", metadataJPEG(t, quadImage(64, 48), 0), Limits{}, Info{JPEG, 64, 48, 1}},
		{"jpeg turned, big-endian exif", afterSOI(jpg, exifSegment(6, false)), Limits{}, Info{JPEG, 64, 48, 6}},
		{"jpeg turned, little-endian exif", afterSOI(jpg, exifSegment(8, true)), Limits{}, Info{JPEG, 64, 48, 8}},
		{"jpeg: only the first exif counts", afterSOI(jpg, exifSegment(3, false), exifSegment(6, false)), Limits{}, Info{JPEG, 64, 48, 3}},
		{"jpeg: out-of-range orientation is ignored", afterSOI(jpg, exifSegment(9, false)), Limits{}, Info{JPEG, 64, 48, 1}},
		{"jpeg: broken exif is ignored", afterSOI(jpg, segment(0xE1, []byte(exifPrefix+"MM\x00\x2a\xff\xff\xff\xff"))), Limits{}, Info{JPEG, 64, 48, 1}},
		{"png", encodePNG(t, quadImage(31, 17)), Limits{}, Info{PNG, 31, 17, 1}},
		{"png with metadata", metadataPNG(t, quadImage(31, 17)), Limits{}, Info{PNG, 31, 17, 1}},
		{"paletted png", encodePNG(t, image.NewPaletted(image.Rect(0, 0, 5, 7), color.Palette{color.Black, color.White})), Limits{}, Info{PNG, 5, 7, 1}},
		{"gif", metadataGIF(t), Limits{}, Info{GIF, 20, 10, 1}},
		{"webp lossy", readTestdata(t, "quad.lossy.webp"), Limits{}, Info{WebP, 64, 48, 1}},
		{"webp lossy with alpha", readTestdata(t, "alpha.lossy.webp"), Limits{}, Info{WebP, 32, 32, 1}},
		{"webp lossless", readTestdata(t, "alpha.lossless.webp"), Limits{}, Info{WebP, 32, 32, 1}},
		{"webp with metadata", metadataWebP(t), Limits{}, Info{WebP, 64, 48, 1}},
		{"exactly at the limits", bombPNG(100, 10), Limits{MaxPixels: 1000, MaxSide: 100}, Info{PNG, 100, 10, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(bytes.NewReader(tt.file), tt.lim)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if got != tt.want {
				t.Errorf("Inspect = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestInspectRefuses feeds Inspect the files an attacker or a confused
// client sends. Each must get a clear error with a stable reason.
func TestInspectRefuses(t *testing.T) {
	jpg := encodeJPEG(t, quadImage(64, 48), 80)
	tests := []struct {
		name    string
		file    []byte
		lim     Limits
		reason  string
		message string // a part of the message for people
	}{
		{"png bomb 50000 x 50000", bombPNG(50_000, 50_000), Limits{}, ReasonTooLarge, "50000 × 50000 pixels (2500.0 megapixels)"},
		{"png bomb at PNG's maximum", bombPNG(1<<31-1, 1<<31-1), Limits{}, ReasonTooLarge, "the limit is 50.0 megapixels"},
		{"jpeg bomb", withJPEGSize(t, jpg, 65_000, 65_000), Limits{}, ReasonTooLarge, "65000 × 65000"},
		{"gif bomb", append([]byte("GIF89a\xff\xff\xff\xff\x00\x00\x00"), 0x3B), Limits{}, ReasonTooLarge, "65535 × 65535"},
		{"webp bomb", riff(vp8x(0, 16384, 16384), riffChunk("VP8L", nil)), Limits{}, ReasonTooLarge, "16384 × 16384"},
		{"too long a side", bombPNG(40_000, 10), Limits{}, ReasonTooLarge, "30000 pixels on a side"},
		{"over a custom limit", jpg, Limits{MaxPixels: 64*48 - 1}, ReasonTooLarge, "the limit is 3071 pixels"},
		{"empty", nil, Limits{}, ReasonEmpty, "The file is empty."},
		{"text named photo.jpg", []byte("Dear Alice\nthis is a letter and not a photo.\n"), Limits{}, ReasonNotImage, "its content is of type text/plain"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), Limits{}, ReasonNotImage, "application/pdf"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), Limits{}, ReasonUnsupported, "image/heic are not supported"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), Limits{}, ReasonUnsupported, "image/svg+xml"},
		{"jpeg signature, then garbage", []byte("\xff\xd8\xff\xe0 this is not really a JPEG at all"), Limits{}, ReasonCorrupt, "The JPEG image"},
		{"jpeg cut inside its header", jpg[:40], Limits{}, ReasonCorrupt, "The JPEG image is truncated."},
		{"jpeg without a frame", afterSOI([]byte{0xFF, 0xD8, 0xFF, 0xD9}), Limits{}, ReasonCorrupt, "ends before its image data"},
		{"jpeg segment with impossible length", []byte("\xff\xd8\xff\xdb\x00\x01"), Limits{}, ReasonCorrupt, "impossible length"},
		{"arithmetic-coded jpeg", []byte("\xff\xd8\xff\xc9\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"), Limits{}, ReasonUnsupported, "save it again"},
		{"png signature, then garbage", []byte(pngSignature + "garbage garbage garbage"), Limits{}, ReasonCorrupt, "The PNG image"},
		{"png with zero width", bombPNG(0, 10), Limits{}, ReasonCorrupt, "The PNG image"},
		{"gif cut short", []byte("GIF89a\x10\x00"), Limits{}, ReasonCorrupt, "The GIF image is damaged or incomplete."},
		{"webp without image", riff(riffChunk("EXIF", []byte("x"))), Limits{}, ReasonCorrupt, "The WebP image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Inspect(bytes.NewReader(tt.file), tt.lim)
			if err == nil {
				t.Fatalf("Inspect = %+v, want an error with reason %s", info, tt.reason)
			}
			if got := kurir.ErrorCode(err); got != kurir.EInvalid {
				t.Errorf("code = %s, want %s (error: %v)", got, kurir.EInvalid, err)
			}
			if got := kurir.ErrorReason(err); got != tt.reason {
				t.Errorf("reason = %q, want %q (error: %v)", got, tt.reason, err)
			}
			if msg := kurir.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
}

// TestInspectReadsOnlyTheHeader checks that Inspect stops early: on a large
// file it reads the header and no further.
func TestInspectReadsOnlyTheHeader(t *testing.T) {
	jpg := encodeJPEG(t, noiseImage(1000, 800), 90)
	r := &countingReader{r: bytes.NewReader(jpg)}
	if _, err := Inspect(r, Limits{}); err != nil {
		t.Fatal(err)
	}
	if r.n > 8<<10 || r.n >= len(jpg) {
		t.Errorf("Inspect read %d bytes of a %d-byte JPEG, want at most 8 KiB", r.n, len(jpg))
	}
}

// TestInspectReadError checks that a failing disk is an internal error, not
// the uploader's fault.
func TestInspectReadError(t *testing.T) {
	disk := errors.New("disk on fire")
	jpg := encodeJPEG(t, quadImage(64, 48), 80)
	for _, r := range []io.Reader{
		iotest.ErrReader(disk),
		io.MultiReader(bytes.NewReader(jpg[:30]), iotest.ErrReader(disk)),
	} {
		_, err := Inspect(r, Limits{})
		if !errors.Is(err, disk) {
			t.Errorf("Inspect error = %v, want it to wrap %v", err, disk)
		}
		if code := kurir.ErrorCode(err); code != kurir.EInternal {
			t.Errorf("code = %s, want %s", code, kurir.EInternal)
		}
	}
}

func TestDisplaySize(t *testing.T) {
	for o := 1; o <= 8; o++ {
		w, h := Info{Width: 4, Height: 3, Orientation: o}.DisplaySize()
		want := [2]int{4, 3}
		if o >= 5 {
			want = [2]int{3, 4}
		}
		if [2]int{w, h} != want {
			t.Errorf("orientation %d: DisplaySize = %d × %d, want %d × %d", o, w, h, want[0], want[1])
		}
	}
}

func TestFormatContentType(t *testing.T) {
	for f, want := range map[Format]string{JPEG: "image/jpeg", PNG: "image/png", GIF: "image/gif", WebP: "image/webp", "tiff": "application/octet-stream"} {
		if got := f.ContentType(); got != want {
			t.Errorf("%q.ContentType() = %q, want %q", f, got, want)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
