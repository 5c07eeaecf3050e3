package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FS is a Store in a directory: each blob is a read-only file named by its
// hash under objects/, two levels of two hex digits deep. A blob is written
// to tmp/ first and renamed into place once complete and synced, so a crash
// never leaves a partial blob visible. FS is safe for concurrent use.
type FS struct {
	objects, tmp string
}

// OpenFS opens (creating if needed) a blob directory. Files left in its
// tmp/ by a crash are removed.
func OpenFS(dir string) (*FS, error) {
	s := &FS{objects: filepath.Join(dir, "objects"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{s.objects, s.tmp} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("open blob store: %w", err)
		}
	}
	left, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	for _, e := range left {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("open blob store: remove unfinished write: %w", err)
		}
	}
	return s, nil
}

func (s *FS) path(h Hash) string {
	x := h.String()
	return filepath.Join(s.objects, x[:2], x[2:4], x)
}

// TempDir is where the store writes blobs before they are complete. A
// caller that stages a file before storing it can stage it here, on the
// same file system, so that Put's copy stays local; the store empties this
// directory when it opens.
func (s *FS) TempDir() string { return s.tmp }

// Put stores everything r yields and returns the blob's Info. More than
// limit bytes fails with ErrTooLarge and stores nothing. Content already
// stored is not written twice. ctx cancels a Put in progress.
func (s *FS) Put(ctx context.Context, r io.Reader, limit int64) (info Info, err error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := NewHasher()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if n > limit {
		return Info{}, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	info = h.Info()
	dst := s.path(info.SHA256)
	if _, err := os.Stat(dst); err == nil {
		os.Remove(f.Name()) // already stored
		return info, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o440); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	// The rename is durable once the directory holding the new name is.
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	return info, nil
}

// Open opens a stored blob for reading, or fails with ErrNotFound.
func (s *FS) Open(ctx context.Context, h Hash) (Object, error) {
	f, err := os.Open(s.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob: %w", err)
	}
	return &fileObject{File: f, size: st.Size()}, nil
}

// Stat returns a stored blob's size, or fails with ErrNotFound.
func (s *FS) Stat(ctx context.Context, h Hash) (int64, error) {
	st, err := os.Stat(s.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob: %w", err)
	}
	return st.Size(), nil
}

// Delete removes a blob. Deleting one that is not stored is not an error.
func (s *FS) Delete(ctx context.Context, h Hash) error {
	err := os.Remove(s.path(h))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// Walk calls fn for every stored blob, in no particular order, until fn
// returns an error (which Walk returns) or ctx ends.
func (s *FS) Walk(ctx context.Context, fn func(h Hash, size int64) error) error {
	return filepath.WalkDir(s.objects, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		h, perr := ParseHash(d.Name())
		if perr != nil || !strings.HasSuffix(filepath.Dir(path), filepath.Join(h.String()[:2], h.String()[2:4])) {
			return nil // not one of ours
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		return fn(h, st.Size())
	})
}

type fileObject struct {
	*os.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
