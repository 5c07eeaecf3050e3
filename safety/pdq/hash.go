package pdq

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"kurir"
)

// The sizes of the algorithm's steps.
const (
	grid    = 64  // the filtered image is sampled on a grid × grid grid
	freqs   = 16  // the DCT keeps freqs × freqs frequencies
	minSide = 5   // an image narrower or shorter than this hashes to zero
	maxSide = 512 // HashImage first reduces larger images to maxSide × maxSide
	block   = 4   // rows that the filters along rows work on at once
)

// The reference's luminance weights, as float32 constants.
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// lumaTable holds lumaR × v, lumaG × v and lumaB × v for every byte v, each
// product rounded to float32 as the reference rounds it, so that luminance
// costs two additions.
var lumaTable = func() (t [3][256]float32) {
	for v := range 256 {
		t[0][v] = lumaR * float32(v)
		t[1][v] = lumaG * float32(v)
		t[2][v] = lumaB * float32(v)
	}
	return t
}()

// luma returns the reference's luminance of an sRGB colour:
// (0.299 R + 0.587 G) + 0.114 B in float32.
func luma(r, g, b uint8) float32 { return lumaTable[0][r] + lumaTable[1][g] + lumaTable[2][b] }

// dctMatrix holds, at i*grid+j, the DCT-II basis function of frequency i+1
// (frequency 0, the mean, is not used) at sample j, scaled to be
// orthonormal: sqrt(2/64) cos(π/128 (i+1)(2j+1)). The reference computes it
// from a float32 scale factor and a float64 cosine, rounding the product to
// float32; so does this. dctMatrixT is its transpose.
var dctMatrix, dctMatrixT = func() (d, dt [freqs * grid]float32) {
	scale := float64(float32(math.Sqrt(2.0 / grid)))
	for i := range freqs {
		for j := range grid {
			v := float32(scale * math.Cos(math.Pi/2/grid*float64(i+1)*float64(2*j+1)))
			d[i*grid+j] = v
			dt[j*freqs+i] = v
		}
	}
	return d, dt
}()

// windowSize returns the width of the box filter for a side of n pixels:
// n/128 rounded up. Two passes of a box of that width make a tent as wide as
// one cell of the 64 × 64 grid.
func windowSize(n int) int { return (n + 2*grid - 1) / (2 * grid) }

// scratch holds the buffers of one hashing. They are kept in scratchPool
// between uses, so hashing allocates nothing once the pool is warm.
type scratch struct {
	// ring holds the last rows of the first filter along rows: the
	// window+1 that the filter along columns reads at once, and the rows
	// filtered ahead of it.
	ring []float32
	// sums are the column filter's running sums, one per column.
	sums []float32
	// row holds rows of the column filter's output, lumaRow rows of
	// luminance made from an image; block of each.
	row, lumaRow []float32
	// mid is the second filter along rows, rows × grid, at the sampled
	// columns only.
	mid []float32
	// xs are the columns of an image that its luminance rows are read from.
	xs, cxs []int

	rowAt, colAt [grid]int // the sampled rows and columns
	sums64       [grid]float32
	a            [grid * grid]float32  // the filtered, sampled image
	t            [freqs * grid]float32 // dctMatrix × a
	dct          [freqs * freqs]float32
	median       [freqs * freqs]float32 // a copy of dct to sort
}

// scratchPool is a cache of *scratch; its contents carry nothing from one
// hashing to the next.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns buf resliced to n elements, reallocated if it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// rowFunc returns row r of an image's luminance, cols values; dst, of that
// length, is space it may fill and return. Rows are asked for in order,
// each once.
type rowFunc func(r int, dst []float32) []float32

// HashLuma returns the PDQ hash and quality of an image given as its
// luminance: luma holds w × h values, row by row, each the reference's
// 0.299 R + 0.587 G + 0.114 B of a pixel (or its grey level), from 0 to 255.
// Given the same luminance as the reference's pdqHash256FromFloatLuma, it
// returns the same hash and quality, bit for bit. Unlike HashImage it hashes
// luma at its size: it does not first reduce images larger than 512 pixels
// on a side (the reference's tools do that before computing the luminance).
//
// An image less than 5 pixels wide or high hashes to the zero Hash with
// quality 0, as in the reference. A luma shorter than w × h, or a negative
// size, is an error. luma is not modified.
func HashLuma(luma []float32, w, h int) (Hash, int, error) {
	s, err := lumaScratch(luma, w, h)
	if err != nil || s == nil {
		return Hash{}, 0, err
	}
	defer scratchPool.Put(s)
	return s.bits(&s.dct), s.quality(), nil
}

// DihedralLuma is HashLuma for the eight variants of the image: see
// Dihedral.
func DihedralLuma(luma []float32, w, h int) ([8]Hash, int, error) {
	s, err := lumaScratch(luma, w, h)
	if err != nil || s == nil {
		return [8]Hash{}, 0, err
	}
	defer scratchPool.Put(s)
	return s.dihedral(), s.quality(), nil
}

// lumaScratch checks HashLuma's arguments and runs the hash up to the DCT,
// returning the scratch that holds it (to be put back in the pool), or nil
// for an image too small to hash.
func lumaScratch(luma []float32, w, h int) (*scratch, error) {
	if w < 0 || h < 0 || (w > 0 && h > len(luma)/w) {
		return nil, &kurir.Error{Code: kurir.EInvalid, Message: fmt.Sprintf(
			"%d luminance values cannot make an image of %d × %d pixels.", len(luma), w, h)}
	}
	if w < minSide || h < minSide {
		return nil, nil
	}
	s := scratchPool.Get().(*scratch)
	s.transform(h, w, func(r int, _ []float32) []float32 { return luma[r*w : (r+1)*w] })
	return s, nil
}

// transform fills s.a with the image of rows × cols pixels, at least
// minSide on each side, filtered and sampled to 64 × 64, and s.dct with its
// DCT.
func (s *scratch) transform(rows, cols int, row rowFunc) {
	s.lumaRow = grow(s.lumaRow, block*cols)
	if rows == grid && cols == grid {
		// Already the size of the grid: the reference neither filters nor
		// samples.
		for r := range grid {
			copy(s.a[r*grid:(r+1)*grid], row(r, s.lumaRow[:cols]))
		}
	} else {
		s.downsample(rows, cols, row)
	}
	s.dct64To16()
}

// downsample fills s.a with the image of rows × cols pixels filtered by the
// Jarosz filter (box filters along rows, then columns, twice) and sampled
// at the centres of the 64 × 64 grid.
//
// It gives the reference's values to the last bit, each sum and quotient
// made in the same order, but does a fraction of its work. The reference
// filters the whole image four times over, into two full-size buffers,
// then keeps 4,096 values. Here the first two passes stream: rows are
// filtered along the row as the column filter reaches them, into a ring a
// few rows deep, and the rows the column filter finishes go straight into
// the second filter along rows. That one divides only at the 64 sampled
// columns, and the last filter runs only down those 64 columns, dividing
// only at the sampled rows. Running sums are still kept over every pixel,
// because each output of a running sum depends on the rounding of all the
// sums before it. The filters along rows work on four rows at a time (see
// boxRow4), and the one along columns on a whole row at a time, so that
// the processor always has independent sums to add.
func (s *scratch) downsample(rows, cols int, row rowFunc) {
	wr, wc := windowSize(cols), windowSize(rows)
	for i := range grid {
		// The centre of cell i, (i + 0.5) × n / 64, rounded down.
		s.rowAt[i] = (2*i + 1) * rows / (2 * grid)
		s.colAt[i] = (2*i + 1) * cols / (2 * grid)
	}
	ringRows := wc + block
	s.ring = grow(s.ring, ringRows*cols)
	s.sums = grow(s.sums, cols)
	s.row = grow(s.row, block*cols)
	s.mid = grow(s.mid, rows*grid)
	sums := s.sums
	clear(sums)
	ringRow := func(r int) []float32 {
		i := r % ringRows
		return s.ring[i*cols : (i+1)*cols]
	}
	lumaRow := func(k int) []float32 { return s.lumaRow[k*cols : (k+1)*cols] }

	// in returns row r of the first filter along rows. When r is the next
	// row not yet filtered, it filters it and the three after it, four
	// rows at once (see boxRow4), into the ring, which holds the window
	// the column filter reads, wc+1 rows, and the three rows ahead.
	next := 0
	in := func(r int) []float32 {
		if r == next {
			if n := rows - r; n >= block {
				boxRow4(row(r, lumaRow(0)), row(r+1, lumaRow(1)), row(r+2, lumaRow(2)), row(r+3, lumaRow(3)),
					ringRow(r), ringRow(r+1), ringRow(r+2), ringRow(r+3), wr)
				next += block
			} else {
				for k := range n {
					boxRow(row(r+k, lumaRow(k)), ringRow(r+k), wr)
				}
				next += n
			}
		}
		return ringRow(r)
	}
	// The column filter's output rows wait in s.row until there are four
	// of them (or the last), for the second filter along rows; out
	// returns the place of the next.
	staged := 0
	out := func() []float32 { return s.row[staged*cols : (staged+1)*cols] }
	// emit takes row o of the column filter's output, written to out().
	emit := func(o int) {
		staged++
		if staged < block && o < rows-1 {
			return
		}
		first := o - staged + 1
		mid := s.mid[first*grid : (o+1)*grid]
		if staged == block {
			boxRowSampled4(s.row[:cols], s.row[cols:2*cols], s.row[2*cols:3*cols], s.row[3*cols:4*cols],
				(*[block * grid]float32)(mid), wr, &s.colAt)
		} else {
			for k := range staged {
				boxRowSampled(s.row[k*cols:(k+1)*cols], (*[grid]float32)(mid[k*grid:(k+1)*grid]), wr, &s.colAt)
			}
		}
		staged = 0
	}

	// The column filter, run down every column at once: the reference's
	// box1DFloat with its four phases (see boxRow), sums[j] for column j.
	half := (wc + 2) / 2
	ri, li, o := 0, 0, 0
	for range half - 1 {
		addRow(sums, in(ri))
		ri++
	}
	for n := half; n <= wc; n++ {
		addRow(sums, in(ri))
		ri++
		divRow(out(), sums, n)
		emit(o)
		o++
	}
	for range rows - wc {
		addSubRow(sums, in(ri), in(li))
		ri++
		li++
		divRow(out(), sums, wc)
		emit(o)
		o++
	}
	for n := wc - 1; n > wc-half; n-- {
		subRow(sums, in(li))
		li++
		divRow(out(), sums, n)
		emit(o)
		o++
	}

	s.columnsSampled(rows, wc)
}

// columnsSampled runs the last filter, along columns, down s.mid (rows ×
// 64) and stores its outputs at the sampled rows in s.a.
func (s *scratch) columnsSampled(rows, wc int) {
	sums := &s.sums64
	clear(sums[:])
	midRow := func(r int) *[grid]float32 { return (*[grid]float32)(s.mid[r*grid : (r+1)*grid]) }
	k := 0 // the next sampled row
	emit := func(o int, n float32) {
		for ; k < grid && s.rowAt[k] == o; k++ {
			a := (*[grid]float32)(s.a[k*grid : (k+1)*grid])
			for j := range a {
				a[j] = sums[j] / n
			}
		}
	}
	half := (wc + 2) / 2
	ri, li, o := 0, 0, 0
	for range half - 1 {
		addRow(sums[:], midRow(ri)[:])
		ri++
	}
	for n := half; n <= wc && k < grid; n++ {
		addRow(sums[:], midRow(ri)[:])
		ri++
		emit(o, float32(n))
		o++
	}
	for range rows - wc {
		if k == grid {
			return
		}
		// Only the sums are needed between sampled rows; the
		// subtraction follows the addition, as in the reference.
		addSubRow(sums[:], midRow(ri)[:], midRow(li)[:])
		ri++
		li++
		emit(o, float32(wc))
		o++
	}
	for n := wc - 1; n > wc-half && k < grid; n-- {
		subRow(sums[:], midRow(li)[:])
		li++
		emit(o, float32(n))
		o++
	}
}

// boxRow writes to out the reference's box filter of in (box1DFloat): out[i]
// is the mean of in over a window of w values, from i-(w+2)/2+1 to
// i+w-(w+2)/2, cut at the ends (where the mean is over fewer values). Its
// running sum adds the value entering the window, then subtracts the one
// leaving, rounding each time; the rounding is part of the result.
func boxRow(in, out []float32, w int) {
	n := len(in)
	half := (w + 2) / 2
	var sum float32
	// Phase 1: the first half-1 values, no output.
	for _, v := range in[:half-1] {
		sum += v
	}
	// Phase 2: the window grows to w.
	o := 0
	for i := half - 1; i < w; i++ {
		sum += in[i]
		out[o] = sum / float32(i+1)
		o++
	}
	// Phase 3: a full window slides.
	fw := float32(w)
	add, sub, dst := in[w:n], in[:n-w], out[o:o+n-w]
	for i := range add {
		sum += add[i]
		sum -= sub[i]
		dst[i] = sum / fw
	}
	o += n - w
	// Phase 4: the window shrinks at the end.
	for i, c := n-w, w-1; o < n; i, c = i+1, c-1 {
		sum -= in[i]
		out[o] = sum / float32(c)
		o++
	}
}

// boxRowSampled runs boxRow's filter over in but keeps only its outputs at
// the positions at[k], in out[k]; at is sorted. Between them only the
// running sum moves, and it stops after the last.
func boxRowSampled(in []float32, out *[grid]float32, w int, at *[grid]int) {
	n := len(in)
	half := (w + 2) / 2
	var sum float32
	for _, v := range in[:half-1] {
		sum += v
	}
	k := 0
	for i := half - 1; i < w; i++ {
		sum += in[i]
		o := i - half + 1
		for ; k < grid && at[k] == o; k++ {
			out[k] = sum / float32(i+1)
		}
	}
	// Phase 3: step m adds in[w+m], subtracts in[m] and gives output
	// first+m.
	first := w - half + 1
	fw := float32(w)
	m := 0
	for k < grid && at[k]-first < n-w {
		end := at[k] - first + 1
		add, sub := in[w+m:w+end], in[m:end]
		for i := range add {
			sum += add[i]
			sum -= sub[i]
		}
		m = end
		v := sum / fw
		for o := at[k]; k < grid && at[k] == o; k++ {
			out[k] = v
		}
	}
	if k == grid {
		return
	}
	add, sub := in[w+m:n], in[m:n-w]
	for i := range add {
		sum += add[i]
		sum -= sub[i]
	}
	// Phase 4.
	for m, c := 0, w-1; k < grid && m < half-1; m, c = m+1, c-1 {
		sum -= in[n-w+m]
		for o := n - half + 1 + m; k < grid && at[k] == o; k++ {
			out[k] = sum / float32(c)
		}
	}
}

// boxRow4 is boxRow on four rows at once. Each running sum waits on its
// last addition, so one row at a time leaves the processor idle most of
// the time; four independent sums in one loop keep it busy. Each row's
// arithmetic is boxRow's, in the same order.
func boxRow4(in0, in1, in2, in3, out0, out1, out2, out3 []float32, w int) {
	n := len(in0)
	in1, in2, in3 = in1[:n], in2[:n], in3[:n]
	out0, out1, out2, out3 = out0[:n], out1[:n], out2[:n], out3[:n]
	half := (w + 2) / 2
	var s0, s1, s2, s3 float32
	for i := range half - 1 {
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
	}
	for i := half - 1; i < w; i++ {
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
		c, o := float32(i+1), i-half+1
		out0[o], out1[o], out2[o], out3[o] = s0/c, s1/c, s2/c, s3/c
	}
	fw := float32(w)
	for i := w; i < n; i++ {
		j, o := i-w, i-half+1
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
		s0 -= in0[j]
		s1 -= in1[j]
		s2 -= in2[j]
		s3 -= in3[j]
		out0[o], out1[o], out2[o], out3[o] = s0/fw, s1/fw, s2/fw, s3/fw
	}
	for j, c := n-w, w-1; c > w-half; j, c = j+1, c-1 {
		s0 -= in0[j]
		s1 -= in1[j]
		s2 -= in2[j]
		s3 -= in3[j]
		fc, o := float32(c), j+w-half+1
		out0[o], out1[o], out2[o], out3[o] = s0/fc, s1/fc, s2/fc, s3/fc
	}
}

// boxRowSampled4 is boxRowSampled on four rows at once, for the reason
// given at boxRow4; row r's samples go to out[r*grid:].
func boxRowSampled4(in0, in1, in2, in3 []float32, out *[block * grid]float32, w int, at *[grid]int) {
	n := len(in0)
	in1, in2, in3 = in1[:n], in2[:n], in3[:n]
	half := (w + 2) / 2
	var s0, s1, s2, s3 float32
	put := func(k int, c float32) {
		out[k], out[grid+k], out[2*grid+k], out[3*grid+k] = s0/c, s1/c, s2/c, s3/c
	}
	for i := range half - 1 {
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
	}
	k := 0
	for i := half - 1; i < w; i++ {
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
		for o := i - half + 1; k < grid && at[k] == o; k++ {
			put(k, float32(i+1))
		}
	}
	// Phase 3, step i (from w to n-1) gives output i-half+1; it runs
	// only as far as the last sample needs.
	i := w
	last := min(n, at[grid-1]+half)
	for ; i < last; i++ {
		j := i - w
		s0 += in0[i]
		s1 += in1[i]
		s2 += in2[i]
		s3 += in3[i]
		s0 -= in0[j]
		s1 -= in1[j]
		s2 -= in2[j]
		s3 -= in3[j]
		if o := i - half + 1; at[k] == o {
			for ; k < grid && at[k] == o; k++ {
				put(k, float32(w))
			}
		}
	}
	for j, c := n-w, w-1; k < grid && c > w-half; j, c = j+1, c-1 {
		s0 -= in0[j]
		s1 -= in1[j]
		s2 -= in2[j]
		s3 -= in3[j]
		for o := j + w - half + 1; k < grid && at[k] == o; k++ {
			put(k, float32(c))
		}
	}
}

// addRow adds src to sums, element by element.
func addRow(sums, src []float32) {
	src = src[:len(sums)]
	for j := range sums {
		sums[j] += src[j]
	}
}

// subRow subtracts src from sums, element by element.
func subRow(sums, src []float32) {
	src = src[:len(sums)]
	for j := range sums {
		sums[j] -= src[j]
	}
}

// addSubRow adds add to sums, then subtracts sub, rounding after each.
func addSubRow(sums, add, sub []float32) {
	add, sub = add[:len(sums)], sub[:len(sums)]
	for j := range sums {
		v := sums[j] + add[j]
		sums[j] = v - sub[j]
	}
}

// divRow sets out to sums divided by n.
func divRow(out, sums []float32, n int) {
	d := float32(n)
	out = out[:len(sums)]
	for j := range sums {
		out[j] = sums[j] / d
	}
}

// dct64To16 fills s.dct with the 16 × 16 DCT coefficients of s.a, those of
// frequencies 1 to 16 along each axis: D A Dᵀ with D = dctMatrix. Each
// coefficient is summed over k from 0 to 63 in order, each product rounded
// to float32 before it is added (the explicit conversions stop the compiler
// from fusing them into one rounding), as the reference does; the loops run
// in another order, so that the innermost one walks along rows.
func (s *scratch) dct64To16() {
	for i := range freqs {
		t := (*[grid]float32)(s.t[i*grid : (i+1)*grid])
		clear(t[:])
		for k, d := range dctMatrix[i*grid : (i+1)*grid] {
			a := (*[grid]float32)(s.a[k*grid : (k+1)*grid])
			for j := range t {
				t[j] += float32(d * a[j])
			}
		}
	}
	for i := range freqs {
		b := (*[freqs]float32)(s.dct[i*freqs : (i+1)*freqs])
		clear(b[:])
		for k, t := range s.t[i*grid : (i+1)*grid] {
			d := (*[freqs]float32)(dctMatrixT[k*freqs : (k+1)*freqs])
			for j := range b {
				b[j] += float32(t * d[j])
			}
		}
	}
}

// quality returns the reference's quality score of s.a, from 0 to 100: the
// sum over neighbouring samples, across and down, of their difference in
// hundredths of the range 0-255 rounded toward zero, divided by 90.
func (s *scratch) quality() int {
	sum := 0
	for i := range grid - 1 {
		for j := range grid {
			sum += gradient(s.a[i*grid+j], s.a[(i+1)*grid+j])
		}
	}
	for i := range grid {
		for j := range grid - 1 {
			sum += gradient(s.a[i*grid+j], s.a[i*grid+j+1])
		}
	}
	return min(max(sum/90, 0), 100)
}

func gradient(u, v float32) int {
	d := int((u - v) * 100 / 255)
	if d < 0 {
		return -d
	}
	return d
}

// bits returns the hash of the 16 × 16 coefficients c: bit k set when c[k]
// is above their median, the 128th smallest, as the reference's Torben
// median gives.
func (s *scratch) bits(c *[freqs * freqs]float32) Hash {
	s.median = *c
	slices.Sort(s.median[:])
	m := s.median[len(s.median)/2-1]
	var h Hash
	for k, v := range c {
		if v > m {
			h.setBit(k)
		}
	}
	return h
}

// dihedral returns the hashes of the eight variants of the image whose DCT
// is in s.dct. A coefficient of frequency f along an axis changes sign,
// and only that, when the image is reflected along that axis and f is odd;
// a transposed image has the transposed coefficients. Index i of s.dct is
// frequency i+1, so the odd frequencies are at even indexes.
func (s *scratch) dihedral() [8]Hash {
	var hs [8]Hash
	var v [freqs * freqs]float32
	c := &s.dct
	for _, d := range [...]struct {
		variant Variant
		// negate reports whether the coefficient at i, j changes sign.
		negate    func(i, j int) bool
		transpose bool
	}{
		{Original, func(i, j int) bool { return false }, false},
		{Rotate90, func(i, j int) bool { return j&1 == 0 }, true},
		{Rotate180, func(i, j int) bool { return (i+j)&1 == 1 }, false},
		{Rotate270, func(i, j int) bool { return i&1 == 0 }, true},
		{FlipX, func(i, j int) bool { return i&1 == 0 }, false},
		{FlipY, func(i, j int) bool { return j&1 == 0 }, false},
		{FlipPlus1, func(i, j int) bool { return false }, true},
		{FlipMinus1, func(i, j int) bool { return (i+j)&1 == 1 }, true},
	} {
		for i := range freqs {
			for j := range freqs {
				x := c[i*freqs+j]
				if d.negate(i, j) {
					x = -x
				}
				if d.transpose {
					v[j*freqs+i] = x
				} else {
					v[i*freqs+j] = x
				}
			}
		}
		hs[d.variant] = s.bits(&v)
	}
	return hs
}
