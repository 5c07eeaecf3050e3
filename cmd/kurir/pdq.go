package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"

	"kurir"
	"kurir/media/imaging"
	"kurir/safety/pdq"
)

const pdqHelp = `Usage: kurir pdq [flags] FILE...

Prints the PDQ perceptual hash of each image file: Meta's 256-bit hash that
stays nearly the same when a picture is recompressed, resized or lightly
edited, used to find copies of known images. One line per file, in the order
given:

  HASH QUALITY FILE

HASH is 64 hex digits, as Meta's reference implementation prints it. QUALITY
runs from 0 to 100; a hash of quality under 50 (a nearly flat image) should
not be matched. Two hashes that differ in at most 31 of their 256 bits are
of the same picture. A photo's EXIF orientation is not applied, as in the
reference: a turned copy matches through the hash's rotations, which the
safety/pdq package computes.

JPEG, PNG, GIF (the first frame) and still WebP files are read. Each file's
header is checked before any pixel is decoded, so an image larger than
--max-pixels is refused without being decoded. A file that cannot be read or
hashed is named on stderr with the reason; the other files are still hashed,
and the command then exits with status 1.

Example:

  kurir pdq photo.jpg scans/*.png
`

// runPDQ is "kurir pdq": it prints the PDQ hash of each file named in args.
func runPDQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		jobs      int
		maxPixels int
	)
	fs, e := newFlagSet("pdq", pdqHelp, getenv, stdout, stderr)
	e.int(&jobs, "jobs", "KURIR_PDQ_JOBS", runtime.GOMAXPROCS(0), "files hashed at once; each takes memory in proportion to its pixels")
	e.int(&maxPixels, "max-pixels", "KURIR_PDQ_MAX_PIXELS", imaging.DefaultMaxPixels, "largest image, in pixels (width × height), that is decoded")
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	files := fs.Args()
	switch {
	case len(files) == 0:
		fs.Usage()
		return usagef("pdq: name at least one image file")
	case jobs < 1:
		return usagef("pdq: --jobs %d: want 1 or more", jobs)
	case maxPixels < 1:
		return usagef("pdq: --max-pixels %d: want 1 or more", maxPixels)
	}
	lim := imaging.Limits{MaxPixels: int64(maxPixels)}

	// Workers hash files as they come; the lines are printed in the
	// order of the files, each as soon as it and those before it are
	// done. Each result has a buffered channel of its own, so no worker
	// waits for the printer.
	type result struct {
		hash    pdq.Hash
		quality int
		err     error
	}
	results := make([]chan result, len(files))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range min(jobs, len(files)) {
		wg.Go(func() {
			for i := range next {
				h, q, err := hashFile(files[i], lim)
				results[i] <- result{h, q, err}
			}
		})
	}
	go func() {
		// Stops feeding when ctx is done, and answers for the files not
		// yet handed out so that the printer below never waits on them.
		defer close(next)
		for i := range files {
			select {
			case next <- i:
			case <-ctx.Done():
				for _, r := range results[i:] {
					r <- result{err: ctx.Err()}
				}
				return
			}
		}
	}()

	failed := 0
	for i, name := range files {
		r := <-results[i]
		switch {
		case errors.Is(r.err, context.Canceled), errors.Is(r.err, context.DeadlineExceeded):
			return r.err
		case r.err != nil:
			failed++
			fmt.Fprintf(stderr, "kurir pdq: %s: %s\n", name, reason(r.err))
		default:
			fmt.Fprintf(stdout, "%s %d %s\n", r.hash, r.quality, name)
		}
	}
	if failed > 0 {
		return fmt.Errorf("pdq: %d of %d files could not be hashed", failed, len(files))
	}
	return nil
}

// hashFile returns the hash and quality of the image file at path.
func hashFile(path string, lim imaging.Limits) (pdq.Hash, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return pdq.Hash{}, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return pdq.Hash{}, 0, err
	}
	if st.IsDir() {
		return pdq.Hash{}, 0, errors.New("is a directory, not a file")
	}
	return pdq.HashFile(f, st.Size(), lim)
}

// reason says why a file could not be hashed, for a person: what is wrong
// with the image, or why it could not be read.
func reason(err error) string {
	var (
		ke *kurir.Error
		pe *fs.PathError
	)
	switch {
	case errors.As(err, &ke):
		return ke.Message
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}
