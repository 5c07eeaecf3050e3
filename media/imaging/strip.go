package imaging

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// StripMetadata copies the file in src, of size bytes, to dst without the
// metadata that can tell where, when and with what a picture was taken or
// who made it, for serving to people other than the uploader:
//
//   - JPEG: Exif and XMP (APP1), IPTC/Photoshop (APP13), MPF and FlashPix
//     (APP2), other APP segments and comments are dropped; JFIF (APP0), the
//     ICC profile (APP2), Adobe (APP14), the tables and the image data are
//     kept byte for byte. An Exif orientation other than 1 is put back as a
//     tiny Exif segment holding only that tag, so the photo still shows
//     upright. Whatever follows the end-of-image marker, such as the video
//     of a motion photo, is dropped.
//   - PNG: every ancillary chunk except those that change how the image
//     looks is dropped, including eXIf, tEXt, zTXt, iTXt and tIME.
//   - WebP: the EXIF and XMP chunks, and unknown chunks, are dropped and the
//     VP8X flags and RIFF size are fixed to match.
//   - GIF: comment extensions and the XMP application extension are dropped.
//
// The image data is copied, never decoded, so the copy shows exactly the
// same pixels. The format is recognised from the bytes; any other file is
// copied unchanged. Memory use is small and constant whatever the size.
//
// A file that starts like one of these formats but is broken or truncated
// gets a ReasonCorrupt error. On any error dst has received part of a copy,
// which must be thrown away.
func StripMetadata(dst io.Writer, src io.ReaderAt, size int64) error {
	ra := &errReaderAt{r: src}
	out := &errWriter{w: dst}
	br := bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 64<<10)
	bw := bufio.NewWriterSize(out, 64<<10)
	head, _ := br.Peek(12)
	f := formatOf(head)
	var err error
	switch f {
	case JPEG:
		err = stripJPEG(bw, br)
	case PNG:
		err = stripPNG(bw, br)
	case GIF:
		err = stripGIF(bw, br)
	case WebP:
		err = stripWebP(bw, ra, size)
	default:
		_, err = bw.ReadFrom(br)
	}
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case out.err != nil:
		return fmt.Errorf("imaging: writing the stripped file: %w", out.err)
	case ra.err != nil:
		return fmt.Errorf("imaging: reading the file: %w", ra.err)
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt(f, err, "is truncated")
	}
	return err
}

// errReaderAt remembers the first error other than io.EOF that its reader
// returned; see errReader.
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
