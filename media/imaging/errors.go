package imaging

import (
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"

	"kurir"
)

// corrupt returns a ReasonCorrupt error whose message reads
// "The <format> image <what>.", keeping cause for the logs.
func corrupt(f Format, cause error, what string, args ...any) *kurir.Error {
	return &kurir.Error{
		Code:    kurir.EInvalid,
		Reason:  ReasonCorrupt,
		Message: fmt.Sprintf("The %s image %s.", f.name(), fmt.Sprintf(what, args...)),
		Err:     cause,
	}
}

// decodeError turns err, from reading or decoding an image of format f,
// into the error to return: an internal error if readErr, the error of the
// underlying reader, is set, else an EInvalid error saying what is wrong
// with the file.
func decodeError(f Format, readErr, err error) error {
	var (
		ke  *kurir.Error
		jue jpeg.UnsupportedError
		pue png.UnsupportedError
	)
	switch {
	case readErr != nil:
		return fmt.Errorf("imaging: reading the file: %w", readErr)
	case errors.As(err, &ke):
		return err
	case errors.As(err, &jue), errors.As(err, &pue):
		return &kurir.Error{Code: kurir.EInvalid, Reason: ReasonUnsupported, Err: err, Message: fmt.Sprintf(
			"This %s image uses a feature that is not supported; save it again as an ordinary %[1]s and retry.", f.name())}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt(f, err, "is truncated")
	}
	return corrupt(f, err, "is damaged or incomplete")
}

// errReader remembers the first error other than io.EOF that its reader
// returned, so that a failing disk is told apart from a broken file when a
// decoder reports both the same way.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// errWriter remembers the first error its writer returned.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
