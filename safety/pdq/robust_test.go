package pdq

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"

	"kurir/media/imaging"
)

// This file checks what the hash is for: a known picture still matches
// after the changes that sharing makes to it, turned or mirrored copies
// match through Dihedral, and other pictures do not match.

// photoPath is the reference's bridge photo, 1600 × 1004.
const photoPath = "testdata/bridge-mods/aaa-orig.jpg"

// decodeFile decodes the image file at path.
func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(bytes.NewReader(data), int64(len(data)), imaging.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func mustHash(t testing.TB, m image.Image) (Hash, int) {
	t.Helper()
	h, q, err := HashImage(m)
	if err != nil {
		t.Fatal(err)
	}
	return h, q
}

// toRGBA returns a copy of m as an *image.RGBA at the origin.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, m, b.Min, draw.Src)
	return dst
}

// transformed returns m turned or mirrored: f maps a pixel of the result,
// of size w × h, to the pixel of m it shows.
func transformed(m *image.RGBA, w, h int, f func(x, y int) (int, int)) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx, sy := f(x, y)
			dst.SetRGBA(x, y, m.RGBAAt(sx, sy))
		}
	}
	return dst
}

// TestEditedCopiesMatch checks that the photo recompressed, scaled down
// or touched up in a few pixels still matches its hash.
func TestEditedCopiesMatch(t *testing.T) {
	orig := decodeFile(t, photoPath)
	want, _ := mustHash(t, orig)
	rgba := toRGBA(orig)
	b := rgba.Rect

	recompressed := func() image.Image {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 70}); err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	scaled := func(s draw.Scaler) image.Image {
		dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
		s.Scale(dst, dst.Rect, rgba, b, draw.Src, nil)
		return dst
	}
	touched := func() image.Image {
		m := toRGBA(rgba)
		rng := rand.New(rand.NewPCG(1, 2))
		for range 50 {
			m.SetRGBA(rng.IntN(b.Dx()), rng.IntN(b.Dy()), color.RGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255})
		}
		return m
	}
	for _, tc := range []struct {
		name string
		m    image.Image
	}{
		{"as RGBA", rgba},
		{"recompressed at JPEG quality 70", recompressed()},
		{"scaled to 50% (bilinear)", scaled(draw.BiLinear)},
		{"scaled to 50% (nearest neighbour)", scaled(draw.NearestNeighbor)},
		{"50 random pixels changed", touched()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, q := mustHash(t, tc.m)
			d := Distance(got, want)
			t.Logf("distance %d, quality %d", d, q)
			if d > MatchDistance {
				t.Errorf("distance %d to the original, want at most %d", d, MatchDistance)
			}
		})
	}
}

// TestTurnedCopiesMatchDihedral turns and mirrors the photo and checks that
// each copy matches the variant of the original's hash that Dihedral names
// for it, and not the original's own hash.
func TestTurnedCopiesMatchDihedral(t *testing.T) {
	m := toRGBA(decodeFile(t, photoPath))
	w, h := m.Rect.Dx(), m.Rect.Dy()
	variants, q, err := Dihedral(m)
	if err != nil {
		t.Fatal(err)
	}
	if plain, pq := mustHash(t, m); variants[Original] != plain || q != pq {
		t.Fatalf("Dihedral's original %v quality %d, HashImage's %v quality %d", variants[Original], q, plain, pq)
	}
	for _, tc := range []struct {
		v    Variant
		w, h int
		src  func(x, y int) (int, int) // the original's pixel shown at x, y
	}{
		{Rotate90, h, w, func(x, y int) (int, int) { return w - 1 - y, x }},
		{Rotate180, w, h, func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }},
		{Rotate270, h, w, func(x, y int) (int, int) { return y, h - 1 - x }},
		{FlipX, w, h, func(x, y int) (int, int) { return x, h - 1 - y }},
		{FlipY, w, h, func(x, y int) (int, int) { return w - 1 - x, y }},
		{FlipPlus1, h, w, func(x, y int) (int, int) { return y, x }},
		{FlipMinus1, h, w, func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }},
	} {
		t.Run(tc.v.String(), func(t *testing.T) {
			got, _ := mustHash(t, transformed(m, tc.w, tc.h, tc.src))
			d := Distance(got, variants[tc.v])
			t.Logf("distance %d to the %v variant, %d to the original", d, tc.v, Distance(got, variants[Original]))
			if d > MatchDistance {
				t.Errorf("distance %d to the %v variant, want at most %d", d, tc.v, MatchDistance)
			}
			if d := Distance(got, variants[Original]); d <= MatchDistance {
				t.Errorf("distance %d to the original's own hash: the test image is not turned", d)
			}
		})
	}
}

// TestDihedralMatchesReference compares the photo's variants with the
// reference's hashes of its turned copies (pdq/data/reg-test-input/dih,
// turned by an image editor). A variant is not the hash of the turned
// file: the filter and the sampling grid are not quite symmetric, so the
// two differ by a few bits, here as in the reference (whose hashes of those
// files this package reproduces exactly, see TestConformanceShared). Each
// variant must match its file and be closer to it than to any other.
func TestDihedralMatchesReference(t *testing.T) {
	want := [8]string{
		Original:   "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22",
		Rotate90:   "30a10efdf1c83f429013d48d0ffffc52e34e0e35ada952a9d29605215aa9e5af",
		Rotate180:  "2dad5a64b1a142e7d362a09857da895ae63b8c7fc23794b766b319361fc93188",
		Rotate270:  "a5f0a457248995e8c9065c275aaa5498b61ba4bdf8fcf80387c32f8b5bfc4f05",
		FlipX:      "d8f80f33e0f417b20e37f5cd028f980fb36ed02a9662c1e233e64c634e9c64dd",
		FlipY:      "2da9259bb1a1bd1a5362576552da32a5e63b7380c2774b4866b346c91b89ce77",
		FlipPlus1:  "f0a1e10271ccc0bd90530b720fff038de34ef1e8ada9a956d6967ade5ea91a50",
		FlipMinus1: "2df05aa8a4896a17c14682da5aaaab07b61b5b42f8fc07fc87c3d0741bfcb0fa",
	}
	var files [8]Hash
	for v, w := range want {
		h, err := ParseHash(w)
		if err != nil {
			t.Fatal(err)
		}
		files[v] = h
	}
	got, _, err := Dihedral(decodeFile(t, photoPath))
	if err != nil {
		t.Fatal(err)
	}
	for v := range got {
		d := Distance(got[v], files[v])
		t.Logf("%-10v distance %d", Variant(v), d)
		if d > MatchDistance {
			t.Errorf("%v: distance %d to the reference's hash of the turned file, want at most %d", Variant(v), d, MatchDistance)
		}
		for other := range files {
			if other != v && Distance(got[v], files[other]) <= d {
				t.Errorf("%v: the %v file's hash is as close (%d) as its own (%d)", Variant(v), Variant(other), Distance(got[v], files[other]), d)
			}
		}
	}
}

// TestUnrelatedImagesDoNotMatch checks the photo against the other
// pictures in testdata, in all eight variants.
func TestUnrelatedImagesDoNotMatch(t *testing.T) {
	variants, _, err := Dihedral(decodeFile(t, photoPath))
	if err != nil {
		t.Fatal(err)
	}
	others, err := filepath.Glob("testdata/reg-test-input/labelme-subset/*.jpg")
	if err != nil || len(others) == 0 {
		t.Fatalf("no unrelated images in testdata: %v", err)
	}
	others = append(others, "testdata/misc-images/wee.jpg")
	for _, path := range others {
		h, q := hashPath(t, path)
		closest := 256
		for _, v := range variants {
			closest = min(closest, Distance(h, v))
		}
		t.Logf("%s: closest variant at distance %d (quality %d)", filepath.Base(path), closest, q)
		if closest <= MatchDistance {
			t.Errorf("%s matches the bridge photo at distance %d", path, closest)
		}
	}
}

// TestQuality checks the quality score at its ends: flat and nearly flat
// images score low, a detailed photo 100.
func TestQuality(t *testing.T) {
	flat := image.NewGray(image.Rect(0, 0, 300, 200))
	for i := range flat.Pix {
		flat.Pix[i] = 130
	}
	gradient := image.NewGray(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			gradient.Pix[y*300+x] = uint8(x * 255 / 299)
		}
	}
	for _, tc := range []struct {
		name     string
		m        image.Image
		min, max int
	}{
		{"flat grey", flat, 0, 0},
		{"smooth gradient", gradient, 0, MinQuality - 1},
		{"photo", decodeFile(t, photoPath), 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, q := mustHash(t, tc.m)
			if q < tc.min || q > tc.max {
				t.Errorf("quality %d, want %d to %d", q, tc.min, tc.max)
			}
		})
	}
}

// TestSmallImages checks the reference's rule for images under 5 pixels on
// a side, and that a 5 × 5 image is hashed.
func TestSmallImages(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		zero bool
	}{{0, 0, true}, {4, 100, true}, {100, 4, true}, {5, 5, false}} {
		m := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
		for i := range m.Pix {
			m.Pix[i] = uint8(i * 37)
		}
		h, q := mustHash(t, m)
		if got := (h == Hash{}) && q == 0; got != tc.zero {
			t.Errorf("%d × %d: hash %v quality %d; want zero: %v", tc.w, tc.h, h, q, tc.zero)
		}
	}
}

// TestHashImageLuminance checks that each image type's fast path reads the
// luminance the reference would: every type holding the same colours gives
// the hash of the luminance computed by hand, for a photo-sized image (read
// at 512 × 512 nearest-neighbour samples) and a small one, at an origin
// other than 0, 0.
func TestHashImageLuminance(t *testing.T) {
	for _, size := range []image.Rectangle{image.Rect(3, -2, 203, 148), image.Rect(-1, 7, 1201, 807)} {
		src := testRGBA(size)
		w, h := size.Dx(), size.Dy()
		rows, cols := h, w
		if w > 512 || h > 512 {
			rows, cols = 512, 512
		}
		// The luminance by hand, from the colours as RGBA stores them.
		lumas := make([]float32, rows*cols)
		grey := make([]float32, rows*cols)
		for r := range rows {
			for c := range cols {
				p := src.RGBAAt(size.Min.X+c*w/cols, size.Min.Y+r*h/rows)
				lumas[r*cols+c] = float32(lumaR*float32(p.R)) + float32(lumaG*float32(p.G)) + float32(lumaB*float32(p.B))
				grey[r*cols+c] = float32(p.G)
			}
		}
		want, wantQ, err := HashLuma(lumas, cols, rows)
		if err != nil {
			t.Fatal(err)
		}
		wantGrey, wantGreyQ, err := HashLuma(grey, cols, rows)
		if err != nil {
			t.Fatal(err)
		}

		ycc := image.NewYCbCr(size, image.YCbCrSubsampleRatio444)
		for y := size.Min.Y; y < size.Max.Y; y++ {
			for x := size.Min.X; x < size.Max.X; x++ {
				p := src.RGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(p.R, p.G, p.B)
				ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
			}
		}
		// The RGB that Go's own conversion gives the YCbCr image.
		yccLuma := make([]float32, rows*cols)
		for r := range rows {
			for c := range cols {
				p := color.RGBAModel.Convert(ycc.At(size.Min.X+c*w/cols, size.Min.Y+r*h/rows)).(color.RGBA)
				yccLuma[r*cols+c] = luma(p.R, p.G, p.B)
			}
		}
		wantYCC, wantYCCQ, err := HashLuma(yccLuma, cols, rows)
		if err != nil {
			t.Fatal(err)
		}

		nrgba := image.NewNRGBA(size)
		draw.Draw(nrgba, size, src, size.Min, draw.Src)
		translucent := image.NewNRGBA(size)
		draw.Draw(translucent, size, src, size.Min, draw.Src)
		for i := 3; i < len(translucent.Pix); i += 4 {
			translucent.Pix[i] = 200 // colours kept, alpha ignored
		}
		paletted := image.NewPaletted(size, testPalette)
		draw.Draw(paletted, size, src, size.Min, draw.Src)
		cmyk := image.NewCMYK(size)
		for y := size.Min.Y; y < size.Max.Y; y++ {
			for x := size.Min.X; x < size.Max.X; x++ {
				p := src.RGBAAt(x, y)
				c, m, yy, k := color.RGBToCMYK(p.R, p.G, p.B)
				cmyk.SetCMYK(x, y, color.CMYK{c, m, yy, k})
			}
		}
		gray, gray16 := image.NewGray(size), image.NewGray16(size)
		for y := size.Min.Y; y < size.Max.Y; y++ {
			for x := size.Min.X; x < size.Max.X; x++ {
				g := src.RGBAAt(x, y).G
				gray.SetGray(x, y, color.Gray{g})
				gray16.SetGray16(x, y, color.Gray16{uint16(g) * 257})
			}
		}
		rgba64 := image.NewRGBA64(size)
		draw.Draw(rgba64, size, src, size.Min, draw.Src)

		for _, tc := range []struct {
			name  string
			m     image.Image
			want  Hash
			wantQ int
		}{
			{"RGBA", src, want, wantQ},
			{"NRGBA", nrgba, want, wantQ},
			{"NRGBA, translucent", translucent, want, wantQ},
			{"Paletted", paletted, want, wantQ},
			{"CMYK", cmyk, want, wantQ},
			{"RGBA64 (generic path)", rgba64, want, wantQ},
			{"any other image type (generic path)", struct{ image.Image }{src}, want, wantQ},
			{"YCbCr", ycc, wantYCC, wantYCCQ},
			{"Gray", gray, wantGrey, wantGreyQ},
			{"Gray16", gray16, wantGrey, wantGreyQ},
			{"grey, generic path", struct{ image.Image }{gray}, wantGrey, wantGreyQ},
		} {
			t.Run(size.String()+" "+tc.name, func(t *testing.T) {
				got, q := mustHash(t, tc.m)
				if got != tc.want || q != tc.wantQ {
					t.Errorf("got %v quality %d, want %v quality %d", got, q, tc.want, tc.wantQ)
				}
			})
		}
	}
}

// testPalette has every colour testRGBA uses.
var testPalette = func() color.Palette {
	var p color.Palette
	for _, v := range [...]uint8{0, 60, 130, 200, 255} {
		for _, c := range [...]color.RGBA{{v, 0, 0, 255}, {0, v, 40, 255}, {v, v, 255 - v, 255}} {
			p = append(p, c)
		}
	}
	return p
}()

// testRGBA returns an opaque image of shapes in testPalette's colours.
func testRGBA(r image.Rectangle) *image.RGBA {
	m := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := ((x*x/50+y)/23 + (x+2*y)/41) % len(testPalette)
			m.Set(x, y, testPalette[i])
		}
	}
	return m
}

// TestYCbCrConversion checks the inlined conversion in lumaRows against
// color.YCbCrToRGB, which Go's image types use, on every input.
func TestYCbCrConversion(t *testing.T) {
	for y := range 256 {
		yy := int32(y) * 0x10101
		for cb := range 256 {
			for cr := range 256 {
				r, g, b := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				gr, gg, gb := clamp16(yy+ycbcrTable[0][cr]), clamp16(yy+ycbcrTable[1][cb]+ycbcrTable[2][cr]), clamp16(yy+ycbcrTable[3][cb])
				if gr != r || gg != g || gb != b {
					t.Fatalf("Y %d Cb %d Cr %d: got %d %d %d, want %d %d %d", y, cb, cr, gr, gg, gb, r, g, b)
				}
			}
		}
	}
}
