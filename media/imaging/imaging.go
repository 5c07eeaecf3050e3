// Package imaging inspects uploaded files, makes thumbnails of images and
// strips the metadata that can reveal where and by whom a photo was taken.
//
// It reads what it is given and trusts nothing about it: the content type
// comes from the bytes (Sniff), an image's size comes from its header and is
// checked against Limits before a single pixel is decoded (Inspect,
// Thumbnail), and metadata is removed by copying the file's structure rather
// than by decoding and re-encoding it (StripMetadata), so the image served to
// others is bit for bit the one that was uploaded, less its metadata.
//
// JPEG, PNG, GIF and WebP are supported. Errors about the file itself are
// *kurir.Error values with code kurir.EInvalid, a message that can be shown to
// the uploader, and one of the Reason constants below; anything else (a read
// or write that failed) is an internal error.
//
// All functions are safe for concurrent use; the package has no state.
package imaging

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"golang.org/x/image/webp"

	"kurir"
)

// Format is an image format that this package can inspect and thumbnail.
type Format string

// The supported formats. Their values are the names image.DecodeConfig uses.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
)

// ContentType returns the format's media type, such as "image/jpeg", or
// "application/octet-stream" for a Format that is not one of the constants.
func (f Format) ContentType() string {
	switch f {
	case JPEG, PNG, GIF, WebP:
		return "image/" + string(f)
	}
	return "application/octet-stream"
}

// name is the format's name as people write it, for error messages.
func (f Format) name() string {
	switch f {
	case WebP:
		return "WebP"
	case "":
		return "image"
	}
	return strings.ToUpper(string(f))
}

// Reasons are the stable kurir.Error reasons of the errors this package
// returns about a file; read them with kurir.ErrorReason. All come with code
// kurir.EInvalid.
const (
	// ReasonEmpty: the file has no bytes.
	ReasonEmpty = "empty_file"
	// ReasonNotImage: the bytes are not an image, whatever the file is called.
	ReasonNotImage = "not_an_image"
	// ReasonUnsupported: an image, but in a format or with a feature this
	// package cannot decode (HEIC, TIFF, SVG, arithmetic-coded JPEG).
	ReasonUnsupported = "unsupported_image"
	// ReasonTooLarge: more pixels, or more pixels on one side, than Limits allow.
	ReasonTooLarge = "image_too_large"
	// ReasonCorrupt: the file starts like an image but its structure is broken
	// or it is truncated.
	ReasonCorrupt = "corrupt_image"
)

// Default limits. 50 megapixels admits the 48 and 50 MP photos of current
// phone cameras; the side limit admits their panoramas.
const (
	DefaultMaxPixels = 50_000_000
	DefaultMaxSide   = 30_000
)

// Limits bound the size of the images that Inspect accepts and Thumbnail
// decodes. A zero field means its default.
type Limits struct {
	// MaxPixels is the largest width × height accepted. Decoding needs up to
	// about 24 bytes of memory per pixel (see Thumbnail), so this bounds it.
	MaxPixels int64
	// MaxSide is the largest width, and the largest height, accepted.
	MaxSide int
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	return l
}

// check returns a ReasonTooLarge error if a w × h image of format f exceeds
// l. The size is taken as int64 because headers can claim more than an int
// holds on some platforms.
func (l Limits) check(f Format, w, h int64) error {
	l = l.withDefaults()
	if w < 1 || h < 1 {
		return corrupt(f, nil, "says it is %d × %d pixels", w, h)
	}
	if px := w * h; px > l.MaxPixels || w > int64(l.MaxSide) || h > int64(l.MaxSide) {
		return &kurir.Error{Code: kurir.EInvalid, Reason: ReasonTooLarge, Message: fmt.Sprintf(
			"The image is %d × %d pixels (%s); the limit is %s and %d pixels on a side.",
			w, h, megapixels(px), megapixels(l.MaxPixels), l.MaxSide)}
	}
	return nil
}

func megapixels(px int64) string {
	if px < 1_000_000 {
		return fmt.Sprintf("%d pixels", px)
	}
	return fmt.Sprintf("%.1f megapixels", float64(px)/1e6)
}

// Info describes an image, as read from its header.
type Info struct {
	Format Format
	// Width and Height are the stored size in pixels, before Orientation is
	// applied; for a GIF, the size of its canvas.
	Width, Height int
	// Orientation is the JPEG's EXIF orientation, 1 to 8: how the stored
	// pixels must be turned to be upright (6: a quarter turn clockwise).
	// It is 1 when the file has none, and for other formats.
	Orientation int
}

// DisplaySize returns the image's width and height once Orientation is
// applied: Width and Height swapped for orientations 5 to 8.
func (i Info) DisplaySize() (width, height int) {
	if i.Orientation >= 5 && i.Orientation <= 8 {
		return i.Height, i.Width
	}
	return i.Width, i.Height
}

// SniffLen is the number of leading bytes of a file that Sniff looks at.
const SniffLen = 4096

// Sniff returns the media type of a file judged only from its first bytes,
// head, never from its name or what the uploader claimed: "image/jpeg",
// "video/mp4", "application/pdf", "text/plain; charset=utf-8", and
// "application/octet-stream" when nothing matches. head should hold the first
// SniffLen bytes, or the whole file if it is shorter; more are ignored.
//
// Sniff names far more types than this package can process (HEIC, TIFF,
// SVG...): a type starting with "image/" does not mean Inspect accepts the
// file. Note that image/svg+xml is a document that can carry scripts.
func Sniff(head []byte) string {
	if f := formatOf(head); f != "" {
		// Agree with Inspect and StripMetadata, which go by these
		// signatures, on every file that starts with one.
		return f.ContentType()
	}
	if len(head) == 0 {
		return "application/octet-stream"
	}
	return mimetype.Detect(head).String()
}

// formatOf returns the supported format whose signature head starts with,
// or "".
func formatOf(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, markerSOI}):
		// Not "\xff\xd8\xff": decoders skip junk after the start-of-image
		// marker, so such a file shows as a photo and must be stripped as one.
		return JPEG
	case bytes.HasPrefix(head, []byte(pngSignature)):
		return PNG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP
	}
	return ""
}

// Inspect reads the header of the image in r — only as far as it must to
// learn the format and size — and checks the size against lim. It decodes no
// pixels, so it is cheap and safe on any input, including decompression
// bombs: a PNG that claims 50,000 × 50,000 pixels costs a few kilobytes.
//
// The format comes from the bytes, so a PNG named photo.jpg is a PNG and a
// text file named photo.jpg is ReasonNotImage. An empty r is ReasonEmpty.
func Inspect(r io.Reader, lim Limits) (Info, error) {
	in := &errReader{r: r}
	br := bufio.NewReaderSize(in, SniffLen)
	head, _ := br.Peek(SniffLen)
	if in.err != nil {
		return Info{}, fmt.Errorf("imaging: reading the file: %w", in.err)
	}
	f := formatOf(head)
	info := Info{Format: f, Orientation: 1}
	var (
		w, h int
		err  error
	)
	switch f {
	case JPEG:
		w, h, info.Orientation, err = jpegConfig(br)
	case PNG:
		// Check the size in IHDR before image/png does: it refuses sizes
		// whose pixel count overflows an int as "unsupported", and a bomb
		// should be called a bomb.
		if len(head) >= 24 && string(head[12:16]) == "IHDR" {
			w, h := int64(binary.BigEndian.Uint32(head[16:])), int64(binary.BigEndian.Uint32(head[20:]))
			if w > 0 && h > 0 {
				if err := lim.check(PNG, w, h); err != nil {
					return Info{}, err
				}
			}
		}
		w, h, err = config(png.DecodeConfig(br))
	case GIF:
		w, h, err = config(gif.DecodeConfig(br))
	case WebP:
		w, h, err = config(webp.DecodeConfig(br))
	default:
		return Info{}, notImage(head)
	}
	if err != nil {
		return Info{}, decodeError(f, in.err, err)
	}
	if err := lim.check(f, int64(w), int64(h)); err != nil {
		return Info{}, err
	}
	info.Width, info.Height = w, h
	return info, nil
}

func notImage(head []byte) error {
	if len(head) == 0 {
		return &kurir.Error{Code: kurir.EInvalid, Reason: ReasonEmpty, Message: "The file is empty."}
	}
	ct := Sniff(head)
	mediaType, _, _ := strings.Cut(ct, ";")
	if strings.HasPrefix(ct, "image/") {
		return &kurir.Error{Code: kurir.EInvalid, Reason: ReasonUnsupported, Message: fmt.Sprintf(
			"Images of type %s are not supported; send a JPEG, PNG, GIF or WebP image.", mediaType)}
	}
	return &kurir.Error{Code: kurir.EInvalid, Reason: ReasonNotImage, Message: fmt.Sprintf(
		"The file is not an image: its content is of type %s.", mediaType)}
}

// config adapts a DecodeConfig result to Inspect's switch.
func config(c image.Config, err error) (width, height int, _ error) {
	return c.Width, c.Height, err
}
