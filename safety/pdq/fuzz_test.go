package pdq

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"kurir"
	"kurir/media/imaging"
)

// fuzzLimits keep every decode in the fuzz tests small: imaging.Inspect
// refuses anything larger before a pixel is decoded, which is what bounds
// the memory a hostile file can take.
var fuzzLimits = imaging.Limits{MaxPixels: 1 << 18, MaxSide: 2048}

// bombPNG returns the start of a PNG that claims w × h pixels.
func bombPNG(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(ihdr)))
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

// FuzzHashFile feeds arbitrary bytes to HashFile: it must never panic,
// must refuse what it cannot hash with an EInvalid error about the file,
// and must agree with Decode, HashImage and Dihedral on what it can.
func FuzzHashFile(f *testing.F) {
	small := testRGBA(image.Rect(0, 0, 24, 17))
	var jpg, pngFile, gifFile bytes.Buffer
	if err := jpeg.Encode(&jpg, small, &jpeg.Options{Quality: 75}); err != nil {
		f.Fatal(err)
	}
	if err := png.Encode(&pngFile, small); err != nil {
		f.Fatal(err)
	}
	g := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 9, 6), color.Palette{color.Black, color.White})}, Delay: []int{0}}
	if err := gif.EncodeAll(&gifFile, g); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{jpg.Bytes(), pngFile.Bytes(), gifFile.Bytes(), bombPNG(50_000, 50_000), []byte("not an image"), nil} {
		f.Add(seed)
	}
	for _, path := range []string{
		"testdata/misc-images/wee.jpg", "testdata/misc-images/small.jpg",
		// WebP files, still and animated, from the imaging package.
		"../../media/imaging/testdata/quad.lossy.webp", "../../media/imaging/testdata/alpha.lossless.webp",
		"../../media/imaging/testdata/anim.webp",
	} {
		data, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, q, err := HashFile(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			switch kurir.ErrorReason(err) {
			case imaging.ReasonEmpty, imaging.ReasonNotImage, imaging.ReasonUnsupported, imaging.ReasonTooLarge, imaging.ReasonCorrupt:
			default:
				t.Fatalf("error without a known reason: %v", err)
			}
			if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorMessage(err) == "" {
				t.Fatalf("error is not an EInvalid with a message: %v", err)
			}
			return
		}
		if q < 0 || q > 100 {
			t.Fatalf("quality %d", q)
		}
		m, err := Decode(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			t.Fatalf("HashFile succeeded, Decode failed: %v", err)
		}
		if b := m.Bounds(); int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels {
			t.Fatalf("decoded %v, over the limits", b)
		}
		d, dq, err := Dihedral(m)
		if err != nil || d[Original] != h || dq != q {
			t.Fatalf("Dihedral = %v, %d, %v; HashFile = %v, %d", d[Original], dq, err, h, q)
		}
	})
}

// FuzzParseHash checks that ParseHash accepts exactly what String can
// print, in either case, and never panics.
func FuzzParseHash(f *testing.F) {
	f.Add("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	f.Add("D8F8F0CEE0F4A84F0637022A078F67F0B36E2ED596621E1D33E6339C4E9C9B22")
	f.Add("xyz")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			return
		}
		if got := h.String(); !bytes.EqualFold([]byte(got), []byte(s)) {
			t.Fatalf("ParseHash(%q).String() = %q", s, got)
		}
	})
}
