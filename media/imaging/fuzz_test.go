package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"testing"

	"kurir"
)

// fuzzLimits keep every decode in the fuzz tests small and fast: the
// property under test is that nothing larger is ever decoded.
var fuzzLimits = Limits{MaxPixels: 1 << 18, MaxSide: 2048}

// addSeeds adds small files of every supported kind, clean and with
// metadata, and some that are not images.
func addSeeds(f *testing.F) {
	small := quadImage(16, 12)
	jpg := encodeJPEG(f, small, 75)
	g := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White})}, Delay: []int{0}}
	for _, seed := range [][]byte{
		jpg,
		afterSOI(jpg, exifSegment(6, false)),
		afterSOI(jpg, exifSegment(8, true)),
		metadataJPEG(f, small, 3),
		encodePNG(f, small),
		encodePNG(f, image.NewPaletted(image.Rect(0, 0, 5, 7), color.Palette{color.Black, color.Transparent})),
		metadataPNG(f, small),
		bombPNG(50_000, 50_000),
		encodeGIF(f, g),
		metadataGIF(f),
		readTestdata(f, "quad.lossy.webp"),
		readTestdata(f, "alpha.lossy.webp"),
		readTestdata(f, "alpha.lossless.webp"),
		readTestdata(f, "anim.webp"),
		metadataWebP(f),
		readTestdata(f, "wee.jpg"),
		[]byte("not an image at all"),
		{},
	} {
		f.Add(seed)
	}
}

// checkError fails unless err is an error about the file: for input from
// memory there is no other kind.
func checkError(t *testing.T, err error) {
	t.Helper()
	switch kurir.ErrorReason(err) {
	case ReasonEmpty, ReasonNotImage, ReasonUnsupported, ReasonTooLarge, ReasonCorrupt:
	default:
		t.Fatalf("error without a known reason: %v", err)
	}
	if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorMessage(err) == "" {
		t.Fatalf("error is not an EInvalid with a message: %v", err)
	}
}

// FuzzInspect checks that Inspect and Thumbnail never panic, agree with
// each other, keep within the limits, and make thumbnails of the promised
// size.
func FuzzInspect(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			checkError(t, err)
		} else {
			if info.Width < 1 || info.Height < 1 || int64(info.Width)*int64(info.Height) > fuzzLimits.MaxPixels ||
				info.Width > fuzzLimits.MaxSide || info.Height > fuzzLimits.MaxSide {
				t.Fatalf("Inspect accepted %+v, outside %+v", info, fuzzLimits)
			}
			if info.Orientation < 1 || info.Orientation > 8 || info.Format.ContentType() == "application/octet-stream" {
				t.Fatalf("Inspect returned %+v", info)
			}
		}

		const side = 32
		th, terr := Thumbnail(bytes.NewReader(data), int64(len(data)), fuzzLimits, side)
		if err != nil {
			if kurir.ErrorReason(terr) != kurir.ErrorReason(err) {
				t.Fatalf("Inspect failed with %v but Thumbnail with %v", err, terr)
			}
			return
		}
		if terr != nil {
			checkError(t, terr) // the header was fine, the image data need not be
			return
		}
		dw, dh := info.DisplaySize()
		if th.Width < 1 || th.Height < 1 || th.Width > min(side, dw) || th.Height > min(side, dh) {
			t.Fatalf("thumbnail of a %d × %d image is %d × %d", dw, dh, th.Width, th.Height)
		}
		c, err := jpeg.DecodeConfig(bytes.NewReader(th.JPEG))
		if err != nil || c.Width != th.Width || c.Height != th.Height {
			t.Fatalf("the thumbnail does not decode as a %d × %d JPEG: %v, %+v", th.Width, th.Height, err, c)
		}
	})
}

// FuzzStripMetadata checks that StripMetadata never panics, never grows a
// file by more than the orientation segment it may add, is idempotent, and,
// for an image that decodes, yields a copy that decodes to the same pixels.
func FuzzStripMetadata(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := StripMetadata(&out, bytes.NewReader(data), int64(len(data)))
		format := formatOf(data)
		if err != nil {
			if kurir.ErrorReason(err) != ReasonCorrupt || format == "" {
				t.Fatalf("StripMetadata of a %q file: %v", format, err)
			}
		} else {
			if out.Len() > len(data)+len(orientationSegment(1)) {
				t.Fatalf("StripMetadata grew %d bytes to %d", len(data), out.Len())
			}
			if format == "" && !bytes.Equal(out.Bytes(), data) {
				t.Fatal("StripMetadata changed a file of no supported format")
			}
			var again bytes.Buffer
			if err := StripMetadata(&again, bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
				t.Fatalf("stripping the stripped file again: %v, changed: %t", err, !bytes.Equal(again.Bytes(), out.Bytes()))
			}
		}

		// Decode only what Inspect allows, as the server does.
		info, ierr := Inspect(bytes.NewReader(data), fuzzLimits)
		if ierr != nil {
			return
		}
		orig, derr := decodeAll(info.Format, data)
		if derr != nil {
			return
		}
		if err != nil {
			if info.Format == WebP {
				return // x/image/webp ignores what follows the image; the RIFF structure must still hold
			}
			t.Fatalf("the %s decodes, but StripMetadata says: %v", info.Format, err)
		}
		stripped, derr := decodeAll(info.Format, out.Bytes())
		if derr != nil {
			t.Fatalf("the %s decodes, but its stripped copy does not: %v", info.Format, derr)
		}
		if len(orig) != len(stripped) {
			t.Fatalf("%d frames before stripping, %d after", len(orig), len(stripped))
		}
		for i := range orig {
			if !samePixels(orig[i], stripped[i]) {
				t.Fatalf("frame %d decodes to different pixels after stripping", i)
			}
		}
		if got, err := Inspect(bytes.NewReader(out.Bytes()), fuzzLimits); err != nil || got != info {
			t.Fatalf("Inspect after stripping = %+v, %v; before: %+v", got, err, info)
		}
	})
}

// decodeAll decodes every frame of a GIF and the image of other formats.
func decodeAll(f Format, b []byte) ([]image.Image, error) {
	if f == GIF {
		g, err := gif.DecodeAll(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		frames := make([]image.Image, len(g.Image))
		for i, m := range g.Image {
			frames[i] = m
		}
		return frames, nil
	}
	m, err := decode(f, bytes.NewReader(b))
	return []image.Image{m}, err
}
