package imaging

import (
	"bufio"
	"encoding/binary"
	"io"
)

// VP8X flag bits (first byte of the VP8X payload) that announce metadata.
const (
	vp8xXMP  = 1 << 2
	vp8xEXIF = 1 << 3
)

// webpKeep reports whether a top-level chunk of a WebP file is one that
// stripWebP keeps: the image data and what changes how it looks or moves.
// EXIF, XMP and unknown chunks are dropped.
func webpKeep(id string) bool {
	switch id {
	case "VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP":
		return true
	}
	return false
}

// stripWebP copies the WebP file in r, of size bytes, to w without its
// metadata chunks, clears the VP8X flags that announced them and writes the
// RIFF size of what remains. The size must be known before the first byte is
// written, so r is read twice: once to walk the chunk headers, once to copy.
// Bytes after the RIFF container are dropped.
func stripWebP(w *bufio.Writer, r io.ReaderAt, size int64) error {
	var h [12]byte
	if err := readFullAt(r, h[:], 0); err != nil {
		return err
	}
	end := 8 + int64(binary.LittleEndian.Uint32(h[4:8]))
	if end < 12 {
		return corrupt(WebP, nil, "has an impossible RIFF size")
	}
	if end > size {
		return io.ErrUnexpectedEOF
	}
	var kept int64
	err := walkRIFF(r, end, func(_ int64, id string, n int64) error {
		if webpKeep(id) {
			kept += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	copy(h[4:8], binary.LittleEndian.AppendUint32(nil, uint32(4+kept)))
	w.Write(h[:])
	return walkRIFF(r, end, func(off int64, id string, n int64) error {
		switch {
		case !webpKeep(id):
			return nil
		case id == "VP8X" && n > 8:
			var c [9]byte // chunk header and flags
			if err := readFullAt(r, c[:], off); err != nil {
				return err
			}
			c[8] &^= vp8xXMP | vp8xEXIF
			w.Write(c[:])
			off, n = off+9, n-9
		}
		_, err := w.ReadFrom(io.NewSectionReader(r, off, n))
		return err
	})
}

// walkRIFF calls fn for each chunk of the RIFF container in r that ends at
// end, with the chunk's offset, FourCC and length including its header and
// padding byte.
func walkRIFF(r io.ReaderAt, end int64, fn func(off int64, id string, n int64) error) error {
	for off := int64(12); off < end; {
		if end-off < 8 {
			return corrupt(WebP, nil, "ends in the middle of a chunk header")
		}
		var c [8]byte
		if err := readFullAt(r, c[:], off); err != nil {
			return err
		}
		n := int64(binary.LittleEndian.Uint32(c[4:]))
		if off+8+n > end {
			return corrupt(WebP, nil, "has a %q chunk that runs past the end of the file", c[:4])
		}
		total := min(8+n+n&1, end-off) // the last chunk may lack its padding byte
		if err := fn(off, string(c[:4]), total); err != nil {
			return err
		}
		off += total
	}
	return nil
}

// readFullAt fills p from r at off, or returns io.ErrUnexpectedEOF.
func readFullAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
