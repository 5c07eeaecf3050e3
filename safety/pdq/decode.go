package pdq

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"kurir"
	"kurir/media/imaging"
)

// HashFile returns the PDQ hash and quality of the JPEG, PNG, GIF or WebP
// image in r, of size bytes: Decode, then HashImage. Its errors are
// Decode's.
func HashFile(r io.ReaderAt, size int64, lim imaging.Limits) (Hash, int, error) {
	m, err := Decode(r, size, lim)
	if err != nil {
		return Hash{}, 0, err
	}
	return HashImage(m)
}

// Decode decodes the JPEG, PNG, GIF (its first frame) or WebP image in r,
// of size bytes, for hashing. It first reads the header with
// imaging.Inspect and refuses, before decoding a pixel, any file that is
// not such an image or is larger than lim, so a decompression bomb costs
// a few kilobytes of reading; decoding then takes memory in proportion to
// the pixels lim allows (see imaging.Thumbnail for the figures). Animated
// WebP files are not supported.
//
// Errors about the file are *kurir.Error values with code kurir.EInvalid, a
// message that names the problem, and one of imaging's Reason constants; a
// failure to read r is an internal error.
func Decode(r io.ReaderAt, size int64, lim imaging.Limits) (image.Image, error) {
	ra := &errReaderAt{r: r}
	info, err := imaging.Inspect(io.NewSectionReader(ra, 0, size), lim)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 32<<10)
	var m image.Image
	switch info.Format {
	case imaging.JPEG:
		m, err = jpeg.Decode(br)
	case imaging.PNG:
		m, err = png.Decode(br)
	case imaging.GIF:
		m, err = gif.Decode(br)
	case imaging.WebP:
		if animatedWebP(ra) {
			return nil, &kurir.Error{Code: kurir.EInvalid, Reason: imaging.ReasonUnsupported, Message: "Animated WebP images cannot be decoded here."}
		}
		m, err = webp.Decode(br)
	default:
		return nil, fmt.Errorf("pdq: imaging.Inspect accepted format %q, which Decode does not know", info.Format)
	}
	if err != nil {
		return nil, decodeError(info.Format, ra.err, err)
	}
	// The decoders read the size from the header that Inspect checked
	// (a GIF's first frame may be smaller than its canvas); this guards
	// against one that did not.
	if b := m.Bounds(); b.Dx() > info.Width || b.Dy() > info.Height {
		return nil, &kurir.Error{Code: kurir.EInvalid, Reason: imaging.ReasonCorrupt, Message: fmt.Sprintf(
			"The image decodes to %d × %d pixels, more than the %d × %d its header says.",
			b.Dx(), b.Dy(), info.Width, info.Height)}
	}
	return m, nil
}

// decodeError turns err, from decoding an image of format f, into Decode's
// error: an internal error if reading failed (readErr), else an EInvalid
// error about the file.
func decodeError(f imaging.Format, readErr, err error) error {
	var (
		jue jpeg.UnsupportedError
		pue png.UnsupportedError
	)
	name := formatName(f)
	switch {
	case readErr != nil:
		return fmt.Errorf("pdq: reading the file: %w", readErr)
	case errors.As(err, &jue), errors.As(err, &pue):
		return &kurir.Error{Code: kurir.EInvalid, Reason: imaging.ReasonUnsupported, Err: err, Message: fmt.Sprintf(
			"This %s image uses a feature that cannot be decoded here.", name)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &kurir.Error{Code: kurir.EInvalid, Reason: imaging.ReasonCorrupt, Err: err, Message: fmt.Sprintf(
			"The %s image is truncated.", name)}
	}
	return &kurir.Error{Code: kurir.EInvalid, Reason: imaging.ReasonCorrupt, Err: err, Message: fmt.Sprintf(
		"The %s image is damaged or incomplete.", name)}
}

// animatedWebP reports whether the WebP file in r has the VP8X animation
// flag set. golang.org/x/image/webp decodes only still images, and calls an
// animation an invalid file.
func animatedWebP(r io.ReaderAt) bool {
	var h [21]byte
	_, err := r.ReadAt(h[:], 0)
	return err == nil && string(h[12:16]) == "VP8X" && h[20]&(1<<1) != 0
}

// formatName returns f as people write it.
func formatName(f imaging.Format) string {
	switch f {
	case imaging.JPEG:
		return "JPEG"
	case imaging.PNG:
		return "PNG"
	case imaging.GIF:
		return "GIF"
	case imaging.WebP:
		return "WebP"
	}
	return "image"
}

// errReaderAt remembers the first error other than io.EOF that its reader
// returned, so that a failing disk is told apart from a broken file when a
// decoder reports both the same way.
type errReaderAt struct {
	r   io.ReaderAt
	err error
}

func (e *errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
