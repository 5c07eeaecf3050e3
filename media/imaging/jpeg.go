package imaging

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"io"
)

// JPEG marker codes (ITU T.81 table B.1) that this file treats specially.
const (
	markerSOI   = 0xD8
	markerEOI   = 0xD9
	markerSOS   = 0xDA
	markerRST0  = 0xD0
	markerRST7  = 0xD7
	markerAPP0  = 0xE0
	markerAPP1  = 0xE1
	markerAPP2  = 0xE2
	markerAPP14 = 0xEE // Adobe: says how the colour channels are coded
	markerAPP15 = 0xEF
	markerCOM   = 0xFE
)

// Prefixes that identify what an APP segment holds.
const (
	exifPrefix = "Exif\x00\x00"
	iccPrefix  = "ICC_PROFILE\x00"
)

// maxJPEGHeader bounds the bytes of the segments before the first scan that
// jpegConfig keeps to hand to image/jpeg: quantisation and Huffman tables,
// the frame header, JFIF and Adobe segments. Real files need a few kilobytes.
const maxJPEGHeader = 1 << 20

func isAPP(m byte) bool { return m >= markerAPP0 && m <= markerAPP15 }

// nextMarker reads up to and including the next marker and returns its code.
// Like image/jpeg and libjpeg it skips fill bytes (0xFF runs) and any
// extraneous bytes before the marker, including "\xff\x00".
func nextMarker(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != 0xFF {
			continue
		}
		m, err := br.ReadByte()
		for err == nil && m == 0xFF {
			m, err = br.ReadByte()
		}
		if err != nil {
			return 0, err
		}
		if m != 0 {
			return m, nil
		}
	}
}

// segmentLength reads a segment's two length bytes and returns the length of
// the payload that follows them.
func segmentLength(br *bufio.Reader, m byte) (int, error) {
	var b [2]byte
	if _, err := io.ReadFull(br, b[:]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint16(b[:])) - 2
	if n < 0 {
		return 0, corrupt(JPEG, nil, "has a segment (marker 0x%02X) with an impossible length", m)
	}
	return n, nil
}

// readSOI reads the start-of-image marker that every JPEG begins with.
func readSOI(br *bufio.Reader) error {
	var b [2]byte
	if _, err := io.ReadFull(br, b[:]); err != nil {
		return err
	}
	if b != [2]byte{0xFF, markerSOI} {
		return corrupt(JPEG, nil, "does not start with a start-of-image marker")
	}
	return nil
}

// jpegConfig reads a JPEG's segments up to its first scan and returns its
// size and EXIF orientation. The metadata segments are skipped, not kept, so
// memory stays small however many there are; the segments the decoder needs
// are collected and handed to image/jpeg, whose reading of the frame header
// is the one Thumbnail's decode will use.
func jpegConfig(br *bufio.Reader) (width, height, orientation int, err error) {
	if err := readSOI(br); err != nil {
		return 0, 0, 0, err
	}
	orientation = 1
	seenExif := false
	hdr := []byte{0xFF, markerSOI}
	for {
		m, err := nextMarker(br)
		if err != nil {
			return 0, 0, 0, err
		}
		switch {
		case m == markerEOI:
			return 0, 0, 0, corrupt(JPEG, nil, "ends before its image data")
		case m >= markerRST0 && m <= markerRST7:
			continue // stray restart markers carry nothing; image/jpeg skips them too
		}
		n, err := segmentLength(br, m)
		if err != nil {
			return 0, 0, 0, err
		}
		if m == markerAPP1 && !seenExif {
			p, err := peekPayload(br, n, len(exifPrefix))
			if err != nil {
				return 0, 0, 0, err
			}
			if string(p) == exifPrefix {
				seenExif = true
				exif := make([]byte, n)
				if _, err := io.ReadFull(br, exif); err != nil {
					return 0, 0, 0, err
				}
				orientation = exifOrientation(exif[len(exifPrefix):])
				continue
			}
		}
		if (isAPP(m) && m != markerAPP0 && m != markerAPP14) || m == markerCOM {
			if _, err := br.Discard(n); err != nil {
				return 0, 0, 0, err
			}
			continue
		}
		hdr = append(hdr, 0xFF, m, byte((n+2)>>8), byte(n+2))
		if m == markerSOS {
			break // image/jpeg's DecodeConfig stops here
		}
		if len(hdr)+n > maxJPEGHeader {
			return 0, 0, 0, corrupt(JPEG, nil, "has more than %d bytes of tables before its image data", maxJPEGHeader)
		}
		start := len(hdr)
		hdr = append(hdr, make([]byte, n)...)
		if _, err := io.ReadFull(br, hdr[start:]); err != nil {
			return 0, 0, 0, err
		}
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(hdr))
	if err != nil {
		return 0, 0, 0, err
	}
	return c.Width, c.Height, orientation, nil
}

// peekPayload returns the first k bytes of a segment payload of n bytes
// without consuming them; fewer if n < k.
func peekPayload(br *bufio.Reader, n, k int) ([]byte, error) {
	p, err := br.Peek(min(n, k))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return p, err
}

// exifOrientation returns the Orientation tag (0x0112) of IFD0 in the TIFF
// structure of an Exif segment, or 1 if it is absent, out of range or the
// structure is broken: a bad tag must not make a good photo unusable.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := uint64(bo.Uint32(tiff[4:]))
	if ifd+2 > uint64(len(tiff)) {
		return 1
	}
	count := uint64(bo.Uint16(tiff[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > uint64(len(tiff)) {
			break
		}
		if bo.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ := bo.Uint16(tiff[e+2:]); {
		case bo.Uint32(tiff[e+4:]) < 1:
		case typ == 3: // SHORT
			v = uint32(bo.Uint16(tiff[e+8:]))
		case typ == 4: // LONG
			v = bo.Uint32(tiff[e+8:])
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}

// orientationSegment returns a complete APP1 segment holding an Exif TIFF
// structure with one tag, Orientation = o: what StripMetadata puts back so
// that a stripped photo still shows upright.
func orientationSegment(o int) []byte {
	return []byte{
		0xFF, markerAPP1, 0, 34, // marker, length
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at offset 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, count 1, value
		0, 0, 0, 0, // no next IFD
	}
}

// stripJPEG copies the JPEG in br to w without its metadata. It keeps the
// segments that change how the image looks — JFIF (APP0), ICC profile (APP2),
// Adobe (APP14), and all tables, frame and scan headers — and the
// entropy-coded data byte for byte, so the copy decodes to the same pixels.
// It drops every other APP segment (Exif and XMP in APP1, MPF and FlashPix in
// APP2, IPTC in APP13, maker blocks) and comments; an Exif orientation other
// than 1 is put back as a one-tag Exif segment. It stops at the end-of-image
// marker, dropping whatever follows: a second image or a motion-photo video
// with its own metadata.
func stripJPEG(w *bufio.Writer, br *bufio.Reader) error {
	if err := readSOI(br); err != nil {
		return err
	}
	w.Write([]byte{0xFF, markerSOI})
	seenExif, seenSOS := false, false
	var m byte
	for {
		if m == 0 {
			var err error
			if m, err = nextMarker(br); err != nil {
				return err
			}
		}
		switch {
		case m == markerEOI:
			w.Write([]byte{0xFF, markerEOI})
			return nil
		case m >= markerRST0 && m <= markerRST7:
			m = 0
			continue
		case m == markerSOI:
			return corrupt(JPEG, nil, "has a second start-of-image marker inside it")
		}
		n, err := segmentLength(br, m)
		if err != nil {
			return err
		}
		keep := true
		switch {
		case m == markerAPP1:
			keep = false
			if seenExif || seenSOS {
				break
			}
			p, err := peekPayload(br, n, len(exifPrefix))
			if err != nil {
				return err
			}
			if string(p) != exifPrefix {
				break
			}
			seenExif = true
			exif := make([]byte, n)
			if _, err := io.ReadFull(br, exif); err != nil {
				return err
			}
			n = 0
			if o := exifOrientation(exif[len(exifPrefix):]); o != 1 {
				w.Write(orientationSegment(o))
			}
		case m == markerAPP2:
			p, err := peekPayload(br, n, len(iccPrefix))
			if err != nil {
				return err
			}
			keep = string(p) == iccPrefix
		case m == markerAPP0, m == markerAPP14:
		case isAPP(m), m == markerCOM:
			keep = false
		}
		if !keep {
			if _, err := br.Discard(n); err != nil {
				return err
			}
			m = 0
			continue
		}
		w.Write([]byte{0xFF, m, byte((n + 2) >> 8), byte(n + 2)})
		if err := copyN(w, br, n); err != nil {
			return err
		}
		if m != markerSOS {
			m = 0
			continue
		}
		seenSOS = true
		if m, err = copyScan(w, br); err != nil {
			return err
		}
	}
}

// copyScan copies entropy-coded data from br to w up to the marker that ends
// it, and returns that marker's code. Stuffed bytes ("\xff\x00") and restart
// markers are data and are copied as they are.
func copyScan(w *bufio.Writer, br *bufio.Reader) (byte, error) {
	for {
		chunk, err := br.ReadSlice(0xFF)
		if err == bufio.ErrBufferFull {
			if _, err := w.Write(chunk); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		w.Write(chunk[:len(chunk)-1])
		ffs := 1
		b, err := br.ReadByte()
		for err == nil && b == 0xFF {
			ffs++
			b, err = br.ReadByte()
		}
		if err != nil {
			return 0, err
		}
		if b != 0 && (b < markerRST0 || b > markerRST7) {
			return b, nil // a marker; the fill bytes before it are dropped
		}
		for range ffs {
			w.WriteByte(0xFF)
		}
		w.WriteByte(b)
	}
}

// copyN copies n bytes from br to w without allocating. The callers ignore
// errors of their small writes to w: a bufio.Writer keeps the first error and
// returns it from every later Write, here, and from Flush.
func copyN(w *bufio.Writer, br *bufio.Reader, n int) error {
	for n > 0 {
		p, err := br.Peek(min(n, br.Size()))
		if _, werr := w.Write(p); werr != nil {
			return werr
		}
		br.Discard(len(p))
		n -= len(p)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
