package pdq

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"

	"kurir/media/imaging"
)

// bridgeMods returns the reference's bridge-mods JPEGs: the twelve in the
// shared folder beside the repository when it is there, else the four kept
// in testdata (the numbers then differ: see docs/BENCHMARKS.md).
func bridgeMods(b *testing.B) [][]byte {
	b.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "pdq", "bridge-mods")
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join("testdata", "bridge-mods")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no images in %s: %v", dir, err)
	}
	b.Logf("%d images from %s", len(paths), dir)
	files := make([][]byte, len(paths))
	for i, p := range paths {
		if files[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	return files
}

// reportPhotos reports photos hashed per second, n photos an operation.
func reportPhotos(b *testing.B, n int) {
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "photos/s")
}

// BenchmarkHashFile hashes the bridge-mods JPEGs from their bytes, as the
// reference's end-to-end figure does: decode, reduce, hash. An operation
// is the whole set; photos/s is per photo.
//
//	go test -run '^$' -bench 'HashFile|HashPixels' -benchmem -count 3 ./safety/pdq/
func BenchmarkHashFile(b *testing.B) {
	files := bridgeMods(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			if _, _, err := HashFile(bytes.NewReader(f), int64(len(f)), imaging.Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPhotos(b, len(files))
}

// BenchmarkHashFileParallel is BenchmarkHashFile on every core, as
// "kurir pdq" hashes files (one per core, --jobs): photos/s is for the
// whole machine.
func BenchmarkHashFileParallel(b *testing.B) {
	files := bridgeMods(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, f := range files {
				if _, _, err := HashFile(bytes.NewReader(f), int64(len(f)), imaging.Limits{}); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	reportPhotos(b, len(files))
}

// BenchmarkHashPixels hashes the same photos already decoded: the hashing
// step alone, from the decoder's pixels (luminance, the reduction of
// photos over 512 pixels, filter, DCT, bits), as the reference's
// hashing-only figure does.
func BenchmarkHashPixels(b *testing.B) {
	files := bridgeMods(b)
	images := make([]image.Image, len(files))
	for i, f := range files {
		m, err := Decode(bytes.NewReader(f), int64(len(f)), imaging.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		images[i] = m
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range images {
			if _, _, err := HashImage(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPhotos(b, len(images))
}

// BenchmarkDihedral is BenchmarkHashPixels for all eight variants.
func BenchmarkDihedral(b *testing.B) {
	files := bridgeMods(b)
	images := make([]image.Image, len(files))
	for i, f := range files {
		m, err := Decode(bytes.NewReader(f), int64(len(f)), imaging.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		images[i] = m
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range images {
			if _, _, err := Dihedral(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPhotos(b, len(images))
}

// BenchmarkHashLuma hashes a 512 × 512 luminance, the size every photo is
// reduced to: filter, DCT and bits alone.
func BenchmarkHashLuma(b *testing.B) {
	luma := testLuma(512, 512, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := HashLuma(luma, 512, 512); err != nil {
			b.Fatal(err)
		}
	}
	reportPhotos(b, 1)
}

// TestHashLumaAllocs pins the hot path's allocations: none, once the
// buffers are pooled.
func TestHashLumaAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	luma := testLuma(300, 200, 1)
	HashLuma(luma, 300, 200)
	if n := testing.AllocsPerRun(20, func() { HashLuma(luma, 300, 200) }); n > 0 {
		t.Errorf("HashLuma allocates %v times a call, want 0", n)
	}
}
