package pdq

import (
	"errors"
	"image"
	"image/color"
)

// HashImage returns the PDQ hash of img and its quality, from 0 to 100 (see
// MinQuality). It does what the reference's file hasher does after decoding:
// an image wider or taller than 512 pixels is first reduced to exactly
// 512 × 512 by nearest-neighbour sampling (pixel x of a row comes from
// x × width / 512, rounded down; the aspect ratio is not kept), then hashed
// from its luminance, 0.299 R + 0.587 G + 0.114 B, or the grey level of a
// grey image. Transparency is ignored: a pixel's colour counts as if it were
// opaque. An EXIF orientation is not applied (the reference does not); a
// turned picture still matches through Dihedral.
//
// An image less than 5 pixels wide or high hashes to the zero Hash with
// quality 0. The only error is a nil img.
func HashImage(img image.Image) (Hash, int, error) {
	s, err := imageScratch(img)
	if err != nil || s == nil {
		return Hash{}, 0, err
	}
	defer scratchPool.Put(s)
	return s.bits(&s.dct), s.quality(), nil
}

// Dihedral returns the hashes of img and of the seven images made from it
// by turning and mirroring it (index the array with the Variant constants),
// and its quality. They come from the one DCT that HashImage computes, by
// changing the signs of some coefficients and transposing, so the eight
// cost little more than one. To find a picture whatever way up it was
// uploaded, match its hash against all eight variants of the known one's
// (or the other way round); hashes[Original] is HashImage's hash.
func Dihedral(img image.Image) (hashes [8]Hash, quality int, err error) {
	s, err := imageScratch(img)
	if err != nil || s == nil {
		return [8]Hash{}, 0, err
	}
	defer scratchPool.Put(s)
	return s.dihedral(), s.quality(), nil
}

// errNilImage is HashImage's error for a nil image.
var errNilImage = errors.New("pdq: nil image")

// imageScratch runs the hash of img up to the DCT, returning the scratch
// that holds it (to be put back in the pool), or nil for an image too small
// to hash.
func imageScratch(img image.Image) (*scratch, error) {
	if img == nil {
		return nil, errNilImage
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < minSide || h < minSide {
		return nil, nil
	}
	rows, cols := h, w
	if w > maxSide || h > maxSide {
		rows, cols = maxSide, maxSide
	}
	s := scratchPool.Get().(*scratch)
	// xs[x] is the column, from b.Min.X, that column x is read from.
	s.xs = grow(s.xs, cols)
	for x := range s.xs {
		s.xs[x] = int(int64(x) * int64(w) / int64(cols))
	}
	// srcRow returns the row, from b.Min.Y, that row r is read from.
	srcRow := func(r int) int { return int(int64(r) * int64(h) / int64(rows)) }
	s.transform(rows, cols, s.lumaRows(img, srcRow))
	return s, nil
}

// lumaRows returns a rowFunc that reads the luminance of img's rows
// srcRow(r), at the columns s.xs, with a fast path for each image type that
// Go's decoders return.
func (s *scratch) lumaRows(img image.Image, srcRow func(int) int) rowFunc {
	b := img.Bounds()
	xs := s.xs
	switch m := img.(type) {
	case *image.YCbCr:
		// Go's own offsets (YCbCr.YOffset, COffset), split into a part
		// for the row and one for the column.
		dx, dy := chromaStep(m.SubsampleRatio)
		s.cxs = grow(s.cxs, len(xs))
		for i, x := range xs {
			s.cxs[i] = (b.Min.X+x)/dx - b.Min.X/dx
		}
		cxs := s.cxs
		return func(r int, dst []float32) []float32 {
			y := srcRow(r)
			yRow := m.Y[y*m.YStride:]
			cOff := ((b.Min.Y+y)/dy - b.Min.Y/dy) * m.CStride
			cb, cr := m.Cb[cOff:], m.Cr[cOff:]
			for i, x := range xs {
				c := cxs[i]
				// color.YCbCrToRGB, inlined: see ycbcrTable.
				yy := int32(yRow[x]) * 0x10101
				cbi, cri := cb[c], cr[c]
				r := yy + ycbcrTable[0][cri]
				g := yy + ycbcrTable[1][cbi] + ycbcrTable[2][cri]
				b := yy + ycbcrTable[3][cbi]
				dst[i] = lumaTable[0][clamp16(r)] + lumaTable[1][clamp16(g)] + lumaTable[2][clamp16(b)]
			}
			return dst
		}
	case *image.Gray:
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				dst[i] = float32(p[x])
			}
			return dst
		}
	case *image.Gray16:
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				dst[i] = float32(to8(uint32(p[2*x])<<8 | uint32(p[2*x+1])))
			}
			return dst
		}
	case *image.NRGBA:
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				q := p[4*x : 4*x+3 : 4*x+3]
				dst[i] = luma(q[0], q[1], q[2])
			}
			return dst
		}
	case *image.RGBA:
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				q := p[4*x : 4*x+4 : 4*x+4]
				if q[3] == 0xff {
					dst[i] = luma(q[0], q[1], q[2])
				} else {
					dst[i] = colorLuma(color.RGBA{q[0], q[1], q[2], q[3]})
				}
			}
			return dst
		}
	case *image.CMYK:
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				q := p[4*x : 4*x+4 : 4*x+4]
				dst[i] = luma(color.CMYKToRGB(q[0], q[1], q[2], q[3]))
			}
			return dst
		}
	case *image.Paletted:
		// Pixels whose index is past the palette's end are black, as the
		// zero of this table.
		var table [256]float32
		for i, c := range m.Palette[:min(len(m.Palette), 256)] {
			table[i] = colorLuma(c)
		}
		return func(r int, dst []float32) []float32 {
			p := m.Pix[srcRow(r)*m.Stride:]
			for i, x := range xs {
				dst[i] = table[p[x]]
			}
			return dst
		}
	}
	grey := img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
	return func(r int, dst []float32) []float32 {
		y := b.Min.Y + srcRow(r)
		for i, x := range xs {
			c := img.At(b.Min.X+x, y)
			if grey {
				dst[i] = float32(to8(color.Gray16Model.Convert(c).(color.Gray16).Y))
			} else {
				dst[i] = colorLuma(c)
			}
		}
		return dst
	}
}

// ycbcrTable holds the chroma terms of Go's conversion from YCbCr to RGB
// (color.YCbCrToRGB), whose results this package must reproduce exactly:
// 91881 (Cr-128) for red, -22554 (Cb-128) and -46802 (Cr-128) for green,
// 116130 (Cb-128) for blue, all in 1/65536.
var ycbcrTable = func() (t [4][256]int32) {
	for v := range int32(256) {
		t[0][v] = 91881 * (v - 128)
		t[1][v] = -22554 * (v - 128)
		t[2][v] = -46802 * (v - 128)
		t[3][v] = 116130 * (v - 128)
	}
	return t
}()

// clamp16 returns v/65536 clamped to 0-255, as color.YCbCrToRGB does.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// chromaStep returns how many pixels across and down share a chroma sample.
func chromaStep(r image.YCbCrSubsampleRatio) (dx, dy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// colorLuma returns the luminance of c's colour without its alpha: for a
// premultiplied colour, the colour it is a part of.
func colorLuma(c color.Color) float32 {
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return luma(to8(n.R), to8(n.G), to8(n.B))
}

// to8 rounds a 16-bit sample to 8 bits, as image decoders that give 8-bit
// samples do.
func to8[T uint16 | uint32](v T) uint8 { return uint8((uint32(v)*255 + 32767) / 65535) }
