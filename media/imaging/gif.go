package imaging

import (
	"bufio"
	"io"
)

// GIF block introducers and extension labels.
const (
	gifImage       = 0x2C
	gifExtension   = 0x21
	gifTrailer     = 0x3B
	gifComment     = 0xFE
	gifApplication = 0xFF
)

// stripGIF copies the GIF in br to w without its comment extensions and XMP
// application extension, block by block; everything else, frames and
// animation control included, is copied as it is. It stops after the
// trailer, dropping what follows. A file that ends after a complete frame
// but lacks the trailer, which browsers show, gets one.
func stripGIF(w *bufio.Writer, br *bufio.Reader) error {
	var h [13]byte // header and logical screen descriptor
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return err
	}
	if s := string(h[:6]); s != "GIF87a" && s != "GIF89a" {
		return corrupt(GIF, nil, "does not start with a GIF header")
	}
	w.Write(h[:])
	if h[10]&0x80 != 0 { // global colour table
		if err := copyN(w, br, 3<<(h[10]&7+1)); err != nil {
			return err
		}
	}
	frames := 0
	for {
		b, err := br.ReadByte()
		if err == io.EOF && frames > 0 {
			b, err = gifTrailer, nil
		}
		if err != nil {
			return err
		}
		switch b {
		case gifTrailer:
			return w.WriteByte(gifTrailer)
		case gifImage:
			var d [9]byte // position, size, flags
			if _, err := io.ReadFull(br, d[:]); err != nil {
				return err
			}
			w.WriteByte(gifImage)
			w.Write(d[:])
			n := 1 // the LZW minimum code size
			if d[8]&0x80 != 0 {
				n += 3 << (d[8]&7 + 1) // local colour table
			}
			if err := copyN(w, br, n); err != nil {
				return err
			}
			if err := subBlocks(w, br, true); err != nil {
				return err
			}
			frames++
		case gifExtension:
			label, err := br.ReadByte()
			if err != nil {
				return err
			}
			keep := label != gifComment
			if label == gifApplication {
				// The first sub-block is the 11-byte application identifier.
				p, err := br.Peek(12)
				keep = err != nil || string(p) != "\x0bXMP DataXMP"
			}
			if keep {
				w.Write([]byte{gifExtension, label})
			}
			if err := subBlocks(w, br, keep); err != nil {
				return err
			}
		default:
			return corrupt(GIF, nil, "has a block of unknown type 0x%02X", b)
		}
	}
}

// subBlocks reads a sequence of data sub-blocks up to its terminator,
// copying it to w if keep is set.
func subBlocks(w *bufio.Writer, br *bufio.Reader, keep bool) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return err
		}
		if !keep {
			if _, err := br.Discard(int(n)); err != nil {
				return err
			}
		} else {
			w.WriteByte(n)
			if err := copyN(w, br, int(n)); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
	}
}
