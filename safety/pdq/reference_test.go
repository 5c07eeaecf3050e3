package pdq

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kurir/media/imaging"
)

// This file holds the conformance tests: against the reference's hashes of
// real files, and against refHash, a plain transcription of the reference's
// published steps (full-size buffers, the filter run over every pixel,
// Torben's median) that the fast path in hash.go must equal bit for bit.

// refHash hashes luma as the reference's pdqHash256FromFloatLuma does, step
// by step, and also returns the DCT coefficients.
func refHash(luma []float32, w, h int) (Hash, int, [256]float32) {
	var dct [256]float32
	if w < minSide || h < minSide {
		return Hash{}, 0, dct
	}
	var a [64][64]float32
	if w == 64 && h == 64 {
		for i := range 64 {
			copy(a[i][:], luma[i*64:])
		}
	} else {
		buf1 := slices.Clone(luma[:w*h])
		buf2 := make([]float32, w*h)
		wr, wc := (w+127)/128, (h+127)/128
		for range 2 {
			for i := range h {
				refBox(buf1[i*w:], buf2[i*w:], w, 1, wr)
			}
			for j := range w {
				refBox(buf2[j:], buf1[j:], h, w, wc)
			}
		}
		for i := range 64 {
			ini := int((float64(i) + 0.5) * float64(h) / 64)
			for j := range 64 {
				inj := int((float64(j) + 0.5) * float64(w) / 64)
				a[i][j] = buf1[ini*w+inj]
			}
		}
	}

	sum := 0
	for i := range 63 {
		for j := range 64 {
			d := int((a[i][j] - a[i+1][j]) * 100 / 255)
			sum += max(d, -d)
		}
	}
	for i := range 64 {
		for j := range 63 {
			d := int((a[i][j] - a[i][j+1]) * 100 / 255)
			sum += max(d, -d)
		}
	}
	quality := min(sum/90, 100)

	var t [16][64]float32
	for i := range 16 {
		for j := range 64 {
			var s float32
			for k := range 64 {
				s += float32(dctMatrix[i*64+k] * a[k][j])
			}
			t[i][j] = s
		}
	}
	for i := range 16 {
		for j := range 16 {
			var s float32
			for k := range 64 {
				s += float32(t[i][k] * dctMatrix[j*64+k])
			}
			dct[i*16+j] = s
		}
	}
	median := torben(dct[:])
	var hash Hash
	for k, v := range dct {
		if v > median {
			hash.setBit(k)
		}
	}
	return hash, quality, dct
}

// refBox is the reference's one-dimensional box filter, box1DFloat: a
// window of full values, (full+2)/2 of them up to the current one, as a
// running sum, over n values stride apart.
func refBox(in, out []float32, n, stride, full int) {
	half := (full + 2) / 2
	ri, li, oi, size := 0, 0, 0, 0
	var sum float32
	for range half - 1 {
		sum += in[ri]
		size++
		ri += stride
	}
	for range full - half + 1 {
		sum += in[ri]
		size++
		out[oi] = sum / float32(size)
		ri += stride
		oi += stride
	}
	for range n - full {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(size)
		li += stride
		ri += stride
		oi += stride
	}
	for range half - 1 {
		sum -= in[li]
		size--
		out[oi] = sum / float32(size)
		li += stride
		oi += stride
	}
}

// torben is Torben Mogensen's median, as the reference uses it: the
// ((n+1)/2)th smallest of m, found by bisecting between the smallest and
// largest values without sorting.
func torben(m []float32) float32 {
	lo, hi := m[0], m[0]
	for _, v := range m[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	half := (len(m) + 1) / 2
	for {
		guess := (lo + hi) / 2
		less, greater, equal := 0, 0, 0
		maxLess, minGreater := lo, hi
		for _, v := range m {
			switch {
			case v < guess:
				less++
				maxLess = max(maxLess, v)
			case v > guess:
				greater++
				minGreater = min(minGreater, v)
			default:
				equal++
			}
		}
		if less <= half && greater <= half {
			switch {
			case less >= half:
				return maxLess
			case less+equal >= half:
				return guess
			}
			return minGreater
		}
		if less > greater {
			hi = maxLess
		} else {
			lo = minGreater
		}
	}
}

// testLuma returns a w × h luminance: smooth shapes, a texture and noise,
// so that the filters' sums are not trivial.
func testLuma(w, h int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	l := make([]float32, w*h)
	for y := range h {
		for x := range w {
			v := 128 + 100*float32((x*7+y*3)%97)/97 - 50*float32((x/9+y/13)%2)
			v += float32(rng.IntN(40)) - 20
			l[y*w+x] = min(max(v, 0), 255)
		}
	}
	return l
}

// TestHashLumaMatchesReferenceSteps checks the fast path against refHash,
// bit for bit, on sizes that take every branch: each filter window from 1
// up, even and odd windows, the 64 × 64 shortcut, the smallest hashable
// size, a side shorter than the grid (samples read twice), and the 512 ×
// 512 of a reduced photo.
func TestHashLumaMatchesReferenceSteps(t *testing.T) {
	sizes := [][2]int{
		{5, 5}, {5, 9}, {6, 100}, {63, 64}, {64, 64}, {65, 64}, {64, 65}, {100, 100},
		{127, 129}, {128, 128}, {129, 257}, {255, 256}, {300, 200}, {383, 385},
		{512, 512}, {512, 300}, {640, 480}, {700, 33},
		// Heights of every remainder by 4, the rows filtered at once.
		{7, 6}, {130, 7}, {99, 131}, {250, 515}, {333, 514},
	}
	for n, size := range sizes {
		w, h := size[0], size[1]
		luma := testLuma(w, h, uint64(n))
		want, wantQ, wantDCT := refHash(luma, w, h)
		got, gotQ, err := HashLuma(luma, w, h)
		if err != nil {
			t.Fatalf("%d × %d: %v", w, h, err)
		}
		if got != want || gotQ != wantQ {
			t.Errorf("%d × %d: got %v quality %d, want %v quality %d (distance %d)", w, h, got, gotQ, want, wantQ, Distance(got, want))
		}
		s, _ := lumaScratch(luma, w, h)
		if s.dct != wantDCT {
			t.Errorf("%d × %d: DCT coefficients differ from the reference steps'", w, h)
		}
		scratchPool.Put(s)
	}
}

// TestTorbenIsSortedMedian checks that bits' median, the 128th smallest
// value, is the one Torben's algorithm finds, on values with ties.
func TestTorbenIsSortedMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		var v [256]float32
		for i := range v {
			v[i] = float32(rng.IntN(50)) - 25
		}
		sorted := v
		slices.Sort(sorted[:])
		if got, want := torben(v[:]), sorted[127]; got != want {
			t.Fatalf("torben = %v, sorted[127] = %v", got, want)
		}
	}
}

// reference is one row of reference-hashes.tsv.
type reference struct {
	path    string
	hash    Hash
	quality int
}

// readReferences reads a reference-hashes.tsv: relative_path, hash_hex,
// quality, with a header line.
func readReferences(t *testing.T, path string) []reference {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []reference
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[0] == "relative_path" {
			continue
		}
		h, err := ParseHash(fields[1])
		if err != nil {
			t.Fatalf("%s: %v", fields[0], err)
		}
		q, err := strconv.Atoi(fields[2])
		if err != nil {
			t.Fatalf("%s: %v", fields[0], err)
		}
		refs = append(refs, reference{fields[0], h, q})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(refs) == 0 {
		t.Fatalf("%s has no hashes", path)
	}
	return refs
}

// hashPath hashes the image file at path.
func hashPath(t testing.TB, path string) (Hash, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h, q, err := HashFile(f, st.Size(), imaging.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h, q
}

// checkConformance hashes every file of the reference table in dir and
// holds it to the reference's rule: within distance 10 of the reference's
// hash for images of quality 80 or more. Lossless files (PNG), which every
// decoder turns into the same pixels, must hash identically.
func checkConformance(t *testing.T, dir string) {
	refs := readReferences(t, filepath.Join(dir, "reference-hashes.tsv"))
	var distances []int
	for _, ref := range refs {
		got, q := hashPath(t, filepath.Join(dir, filepath.FromSlash(ref.path)))
		d := Distance(got, ref.hash)
		t.Logf("%-45s distance %3d  quality %3d (reference %3d)", ref.path, d, q, ref.quality)
		switch {
		case strings.HasSuffix(ref.path, ".png") && (d != 0 || q != ref.quality):
			t.Errorf("%s: got %v quality %d, want the reference's %v quality %d exactly (same pixels)", ref.path, got, q, ref.hash, ref.quality)
		case ref.quality >= 80 && d > 10:
			t.Errorf("%s: distance %d from the reference's hash, want at most 10\n got %v\nwant %v", ref.path, d, got, ref.hash)
		}
		if ref.quality >= 80 {
			distances = append(distances, d)
		}
		if ref.quality >= 80 && q < 50 || ref.quality < 50 && q >= 80 {
			t.Errorf("%s: quality %d, the reference's is %d", ref.path, q, ref.quality)
		}
	}
	slices.Sort(distances)
	if len(distances) > 0 {
		t.Logf("%d images of quality >= 80: median distance %d, max %d", len(distances), distances[len(distances)/2], distances[len(distances)-1])
	}
}

// TestConformanceSubset runs on the reference's images kept in testdata,
// which include a PNG, so that the same-pixels rule is checked without the
// shared folder.
func TestConformanceSubset(t *testing.T) {
	if !slices.ContainsFunc(readReferences(t, filepath.Join("testdata", "reference-hashes.tsv")), func(r reference) bool {
		return strings.HasSuffix(r.path, ".png")
	}) {
		t.Error("testdata has no PNG: the identical-hash check would not run")
	}
	checkConformance(t, "testdata")
}

// sharedPDQ returns the shared folder of the reference's images, beside the
// repository, skipping the test when it is absent.
func sharedPDQ(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "testdata", "pdq"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reference-hashes.tsv")); err != nil {
		t.Skipf("the reference's images are not at %s (the shared/ folder beside the repository); testdata holds a subset, checked by TestConformanceSubset", dir)
	}
	return dir
}

// TestConformanceShared runs on all of the reference's images.
func TestConformanceShared(t *testing.T) {
	checkConformance(t, sharedPDQ(t))
}
