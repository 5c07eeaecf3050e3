package imaging

// Test images are made here, in code, so that each test shows what its input
// holds. The few files in testdata are WebP images (Go has no WebP encoder;
// see testdata/README.md) and one real photo.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"testing"
)

// Strings planted in metadata; none may survive StripMetadata.
const (
	secretMake    = "KURIR-CAMERA-MAKE"
	secretDatum   = "KURIR-GPS-DATUM"
	secretXMP     = "KURIR-XMP-LOCATION"
	secretIPTC    = "KURIR-IPTC-BYLINE"
	secretComment = "KURIR-COMMENT"
	secretMPF     = "KURIR-MPF"
	secretTrailer = "KURIR-MOTION-PHOTO-TRAILER"
	secretText    = "KURIR-PNG-TEXT"
	secretPrivate = "KURIR-PRIVATE-CHUNK"
	iccMarker     = "KURIR-ICC-PROFILE" // kept: colour profiles change how an image looks
)

// secrets are the planted strings that must not survive stripping.
var secrets = []string{secretMake, secretDatum, secretXMP, secretIPTC, secretComment,
	secretMPF, secretTrailer, secretText, secretPrivate}

// gpsLatitude is the GPS IFD's latitude, 52° 31' 12.34", as stored: three
// big-endian RATIONALs.
var gpsLatitude = []byte{0, 0, 0, 52, 0, 0, 0, 1, 0, 0, 0, 31, 0, 0, 0, 1, 0, 0, 0x04, 0xD2, 0, 0, 0, 100}

// quadImage returns a w × h image whose top-left quarter is red, top-right
// quarter green and bottom half blue, so that every turn and mirror of it
// looks different.
func quadImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 255, 255}
			switch {
			case y < h/2 && x < w/2:
				c = color.RGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// noiseImage returns a w × h image of smooth gradients with noise, which
// compresses about as well as a photo.
func noiseImage(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			n := uint8(rng.IntN(48))
			m.Pix[i+0] = uint8(x*255/w) + n
			m.Pix[i+1] = uint8(y*255/h) + n
			m.Pix[i+2] = uint8((x+y)*127/(w+h)) + n
			m.Pix[i+3] = 255
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// segment returns a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// afterSOI returns jpg with segs inserted after its start-of-image marker.
func afterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// ifdEntry is one 12-byte TIFF IFD entry; value is the 4-byte value field
// (the value itself or an offset).
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    [4]byte
}

// exifTIFF returns the TIFF structure of an Exif segment as a camera writes
// it: IFD0 with Make, Orientation (if o > 0) and a pointer to a GPS IFD with
// latitude, longitude and a map datum. Little-endian if le is set.
func exifTIFF(o int, le bool) []byte {
	var bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.BigEndian
	hdr := []byte{'M', 'M', 0, 42, 0, 0, 0, 8}
	if le {
		bo = binary.LittleEndian
		hdr = []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	}
	u16 := func(v uint16) []byte { return bo.AppendUint16(nil, v) }
	u32 := func(v uint32) [4]byte { var b [4]byte; bo.PutUint32(b[:], v); return b }
	short := func(v uint16) [4]byte { var b [4]byte; bo.PutUint16(b[:], v); return b }
	ifd := func(entries []ifdEntry) []byte {
		b := u16(uint16(len(entries)))
		for _, e := range entries {
			b = append(b, u16(e.tag)...)
			b = append(b, u16(e.typ)...)
			c := u32(e.count)
			b = append(append(b, c[:]...), e.value[:]...)
		}
		return append(b, 0, 0, 0, 0) // no next IFD
	}
	const (
		ascii    = 2
		typShort = 3
		typLong  = 4
		rational = 5
	)
	rationals := func(v ...uint32) []byte {
		var b []byte
		for _, x := range v {
			b = bo.AppendUint32(b, x)
		}
		return b
	}
	make0 := append([]byte(secretMake), 0)
	datum := append([]byte(secretDatum), 0)
	lat := rationals(52, 1, 31, 1, 1234, 100)
	lon := rationals(13, 1, 24, 1, 5678, 100)

	ifd0 := []ifdEntry{{tag: 0x010F, typ: ascii, count: uint32(len(make0))}}
	if o > 0 {
		ifd0 = append(ifd0, ifdEntry{tag: 0x0112, typ: typShort, count: 1, value: short(uint16(o))})
	}
	ifd0 = append(ifd0, ifdEntry{tag: 0x8825, typ: typLong, count: 1})
	gps := []ifdEntry{
		{tag: 0x0001, typ: ascii, count: 2, value: [4]byte{'N'}},
		{tag: 0x0002, typ: rational, count: 3},
		{tag: 0x0003, typ: ascii, count: 2, value: [4]byte{'E'}},
		{tag: 0x0004, typ: rational, count: 3},
		{tag: 0x0012, typ: ascii, count: uint32(len(datum))},
	}
	// Layout: header, IFD0, GPS IFD, then the out-of-line values.
	ifd0Len := 2 + 12*len(ifd0) + 4
	gpsOff := 8 + ifd0Len
	dataOff := gpsOff + 2 + 12*len(gps) + 4
	ifd0[0].value = u32(uint32(dataOff))
	ifd0[len(ifd0)-1].value = u32(uint32(gpsOff))
	gps[1].value = u32(uint32(dataOff + len(make0)))
	gps[3].value = u32(uint32(dataOff + len(make0) + len(lat)))
	gps[4].value = u32(uint32(dataOff + len(make0) + len(lat) + len(lon)))

	b := append(hdr, ifd(ifd0)...)
	b = append(b, ifd(gps)...)
	for _, v := range [][]byte{make0, lat, lon, datum} {
		b = append(b, v...)
	}
	return b
}

// exifSegment returns an APP1 Exif segment; see exifTIFF.
func exifSegment(o int, le bool) []byte {
	return segment(0xE1, append([]byte(exifPrefix), exifTIFF(o, le)...))
}

// metadataJPEG returns a JPEG of m carrying every kind of metadata a phone
// or an editor writes, each with a planted string, orientation o in its
// Exif (none if 0), an ICC profile, and a motion-photo trailer after EOI.
func metadataJPEG(t testing.TB, m image.Image, o int) []byte {
	jpg := afterSOI(encodeJPEG(t, m, 90),
		segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")),
		exifSegment(o, false),
		segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>"+secretXMP+"</exif:GPSLatitude></x:xmpmeta>")),
		segment(0xE2, []byte(iccPrefix+"\x01\x01"+iccMarker)),
		segment(0xE2, []byte("MPF\x00"+secretMPF)),
		segment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10"+secretIPTC)),
		segment(0xEC, []byte("Ducky\x00"+secretMake)),
		segment(0xFE, []byte(secretComment)),
	)
	return append(jpg, secretTrailer...)
}

// pngChunk returns a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, typ...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// afterIHDR returns p, a PNG, with chunks inserted after its IHDR chunk.
func afterIHDR(p []byte, chunks ...[]byte) []byte {
	const end = 8 + 8 + 13 + 4 // signature, IHDR
	out := append([]byte(nil), p[:end]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[end:]...)
}

// metadataPNG returns a PNG of m with text, XMP, Exif, time and private
// chunks, each with a planted string, a gAMA and pHYs chunk that must be
// kept, and trailing bytes after IEND.
func metadataPNG(t testing.TB, m image.Image) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(secretText))
	zw.Close()
	p := afterIHDR(encodePNG(t, m),
		pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}),
		pngChunk("tEXt", []byte("Author\x00"+secretText)),
		pngChunk("zTXt", append([]byte("Comment\x00\x00"), z.Bytes()...)),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>"+secretXMP+"</x:xmpmeta>")),
		pngChunk("eXIf", exifTIFF(6, false)),
		pngChunk("tIME", []byte{0x07, 0xE9, 1, 2, 3, 4, 5}),
		pngChunk("prVt", []byte(secretPrivate)),
		pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}),
	)
	return append(p, secretTrailer...)
}

// pngChunkTypes returns the types of the chunks of a PNG, in order.
func pngChunkTypes(t testing.TB, p []byte) []string {
	t.Helper()
	var types []string
	for off := 8; off+8 <= len(p); {
		n := int(binary.BigEndian.Uint32(p[off:]))
		types = append(types, string(p[off+4:off+8]))
		off += 12 + n
	}
	return types
}

// bombPNG returns a tiny grey PNG whose header claims w × h pixels; its
// IDAT holds only the first row. Decoding it would allocate w × h bytes.
func bombPNG(w, h uint32) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1+min(w, 64)))
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit greyscale
	b := []byte(pngSignature)
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", z.Bytes())...)
	return append(b, pngChunk("IEND", nil)...)
}

// withJPEGSize returns jpg with the size in its frame header replaced.
func withJPEGSize(t testing.TB, jpg []byte, w, h uint16) []byte {
	t.Helper()
	out := append([]byte(nil), jpg...)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// riffChunk returns a RIFF chunk with its padding byte.
func riffChunk(id string, data []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// riff returns a WebP file made of chunks.
func riff(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// vp8x returns a VP8X chunk with the given flags and canvas size.
func vp8x(flags byte, w, h int) []byte {
	d := make([]byte, 10)
	d[0] = flags
	d[4], d[5], d[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	d[7], d[8], d[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	return riffChunk("VP8X", d)
}

// metadataWebP returns the extended-format WebP that cameras and editors
// write: testdata/quad.lossy.webp's image with an ICC profile, Exif (with
// GPS), XMP and an unknown chunk, and the VP8X flags announcing them.
func metadataWebP(t testing.TB) []byte {
	simple := readTestdata(t, "quad.lossy.webp")
	vp8 := simple[12:] // the one VP8 chunk of a simple-format file
	const iccFlag, exifFlag, xmpFlag = 1 << 5, 1 << 3, 1 << 2
	return riff(
		vp8x(iccFlag|exifFlag|xmpFlag, 64, 48),
		riffChunk("ICCP", []byte(iccMarker)),
		vp8,
		riffChunk("EXIF", exifTIFF(6, true)),
		riffChunk("XMP ", []byte("<x:xmpmeta>"+secretXMP+"</x:xmpmeta>")),
		riffChunk("KURI", []byte(secretPrivate)),
	)
}

// metadataGIF returns an animated GIF with a comment and an XMP application
// extension before its first frame.
func metadataGIF(t testing.TB) []byte {
	pal := color.Palette{color.Black, color.White, color.Transparent}
	g := &gif.GIF{LoopCount: 0}
	for i := range 2 {
		p := image.NewPaletted(image.Rect(0, 0, 20, 10), pal)
		for j := range p.Pix {
			p.Pix[j] = uint8((j + i) % 3)
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 10)
	}
	b := encodeGIF(t, g)
	comment := append([]byte{0x21, 0xFE, byte(len(secretComment))}, secretComment...)
	comment = append(comment, 0)
	xmp := append([]byte{0x21, 0xFF, 11}, "XMP DataXMP"...)
	xmp = append(xmp, byte(len(secretXMP)))
	xmp = append(xmp, secretXMP...)
	xmp = append(xmp, 0)
	at := 13 // after the header and the global colour table, if any
	if b[10]&0x80 != 0 {
		at += 3 << (b[10]&7 + 1)
	}
	out := append([]byte(nil), b[:at]...)
	out = append(append(out, comment...), xmp...)
	return append(append(out, b[at:]...), secretTrailer...)
}

// anmf returns an ANMF chunk: a frame of an animated WebP at (x, y), which
// must be even, made of the given chunks.
func anmf(x, y, w, h int, chunks ...[]byte) []byte {
	u24 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }
	d := append(u24(x/2), u24(y/2)...)
	d = append(append(d, u24(w-1)...), u24(h-1)...)
	d = append(d, 100, 0, 0, 0) // 100 ms, no blending options
	for _, c := range chunks {
		d = append(d, c...)
	}
	return riffChunk("ANMF", d)
}

// animatedWebPFile returns an animated WebP with a w × h canvas whose first
// frame, at (x, y), is testdata/quad.lossy.webp (64 × 48) and whose second
// frame is blank.
func animatedWebPFile(t testing.TB, w, h, x, y int) []byte {
	vp8 := readTestdata(t, "quad.lossy.webp")[12:]
	const animationFlag = 1 << 1
	return riff(
		vp8x(animationFlag, w, h),
		riffChunk("ANIM", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0}),
		anmf(x, y, 64, 48, vp8),
		anmf(0, 0, 64, 48, vp8),
	)
}
