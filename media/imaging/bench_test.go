package imaging

import (
	"bytes"
	"io"
	"testing"
)

// photo returns a 4000 × 3000 (12-megapixel, the size most phone cameras
// write) JPEG of noisy gradients, 5.4 MB at quality 85, with a camera's
// Exif (orientation 6 and GPS), XMP and an ICC profile.
func photo(b *testing.B) []byte {
	b.Helper()
	return afterSOI(encodeJPEG(b, noiseImage(4000, 3000), 85),
		exifSegment(6, false),
		segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+secretXMP+"</x:xmpmeta>")),
		segment(0xE2, []byte(iccPrefix+"\x01\x01"+iccMarker)),
	)
}

// BenchmarkThumbnail makes a 320-pixel thumbnail of a 12-megapixel photo.
// Bytes per second are of the JPEG file.
//
//	go test -run '^$' -bench Thumbnail -benchmem ./media/imaging/
func BenchmarkThumbnail(b *testing.B) {
	jpg := photo(b)
	r := bytes.NewReader(jpg)
	b.SetBytes(int64(len(jpg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Thumbnail(r, int64(len(jpg)), Limits{}, 320); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStripMetadata strips the metadata of a 5.4 MB photo: a copy of
// the image data with a scan for markers.
//
//	go test -run '^$' -bench StripMetadata -benchmem ./media/imaging/
func BenchmarkStripMetadata(b *testing.B) {
	jpg := photo(b)
	r := bytes.NewReader(jpg)
	b.SetBytes(int64(len(jpg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := StripMetadata(io.Discard, r, int64(len(jpg))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspect reads the header of the same photo.
func BenchmarkInspect(b *testing.B) {
	jpg := photo(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect(bytes.NewReader(jpg), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
