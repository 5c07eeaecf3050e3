// Package blobtest is the conformance suite every blob store passes.
package blobtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
	"testing"

	"kurir/blob"
)

// Store is what the suite tests: the methods every blob store has.
type Store interface {
	Put(ctx context.Context, r io.Reader, limit int64) (blob.Info, error)
	Open(ctx context.Context, h blob.Hash) (blob.Object, error)
	Stat(ctx context.Context, h blob.Hash) (int64, error)
	Delete(ctx context.Context, h blob.Hash) error
	Walk(ctx context.Context, fn func(h blob.Hash, size int64) error) error
}

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("kurir blob conformance "), 10_000) // 230 kB

	t.Run("PutThenOpen", func(t *testing.T) {
		s := open(t)
		info, err := s.Put(ctx, bytes.NewReader(content), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if info.SHA256 != sha256.Sum256(content) || info.MD5 != md5.Sum(content) || info.Size != int64(len(content)) {
			t.Errorf("Put info = %x %x %d, want the content's SHA-256, MD5 and size", info.SHA256, info.MD5, info.Size)
		}
		if n, err := s.Stat(ctx, info.SHA256); err != nil || n != int64(len(content)) {
			t.Errorf("Stat = %d, %v; want %d", n, err, len(content))
		}
		o, err := s.Open(ctx, info.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if o.Size() != int64(len(content)) {
			t.Errorf("Size() = %d, want %d", o.Size(), len(content))
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("read back %d bytes (err %v), want the %d stored", len(got), err, len(content))
		}
		// Range reads, as HTTP Range requests make them.
		part := make([]byte, 100)
		if _, err := o.ReadAt(part, 1000); err != nil || !bytes.Equal(part, content[1000:1100]) {
			t.Errorf("ReadAt(1000) = %q, %v; want %q", part, err, content[1000:1100])
		}
		if _, err := o.Seek(int64(len(content))-5, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if tail, _ := io.ReadAll(o); !bytes.Equal(tail, content[len(content)-5:]) {
			t.Errorf("read after Seek = %q, want %q", tail, content[len(content)-5:])
		}
	})

	t.Run("SameContentStoredOnce", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		infos := make([]blob.Info, 8)
		errs := make([]error, 8)
		for i := range infos {
			wg.Go(func() { infos[i], errs[i] = s.Put(ctx, bytes.NewReader(content), 1<<20) })
		}
		wg.Wait()
		for i := range infos {
			if errs[i] != nil || infos[i] != infos[0] {
				t.Errorf("concurrent Put %d = %v, %v; want %v", i, infos[i], errs[i], infos[0])
			}
		}
		if n := count(t, s); n != 1 {
			t.Errorf("%d blobs stored for one content, want 1", n)
		}
	})

	t.Run("TooLargeStoresNothing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Put(ctx, bytes.NewReader(content), int64(len(content))-1); !errors.Is(err, blob.ErrTooLarge) {
			t.Errorf("Put over the limit: err = %v, want ErrTooLarge", err)
		}
		if _, err := s.Put(ctx, bytes.NewReader(content), int64(len(content))); err != nil {
			t.Errorf("Put of exactly the limit: %v", err)
		}
		if n := count(t, s); n != 1 {
			t.Errorf("%d blobs stored, want only the one within the limit", n)
		}
	})

	t.Run("FailedReadStoresNothing", func(t *testing.T) {
		s := open(t)
		broken := io.MultiReader(bytes.NewReader(content[:5000]), errReader{})
		if _, err := s.Put(ctx, broken, 1<<20); err == nil {
			t.Error("Put of a reader that fails half-way succeeded")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cancelled, bytes.NewReader(content), 1<<20); !errors.Is(err, context.Canceled) {
			t.Errorf("Put with a cancelled context: err = %v, want context.Canceled", err)
		}
		if n := count(t, s); n != 0 {
			t.Errorf("%d blobs visible after failed writes, want 0", n)
		}
	})

	t.Run("DeleteAndMissing", func(t *testing.T) {
		s := open(t)
		info, err := s.Put(ctx, bytes.NewReader(content), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, info.SHA256); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, info.SHA256); err != nil {
			t.Errorf("deleting a deleted blob: %v, want no error", err)
		}
		if _, err := s.Open(ctx, info.SHA256); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open after Delete: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, info.SHA256); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat after Delete: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("EmptyBlob", func(t *testing.T) {
		s := open(t)
		info, err := s.Put(ctx, bytes.NewReader(nil), 1<<20)
		if err != nil || info.Size != 0 || info.SHA256 != sha256.Sum256(nil) {
			t.Errorf("Put(empty) = %v, %v", info, err)
		}
	})
}

func count(t *testing.T, s Store) int {
	t.Helper()
	n := 0
	if err := s.Walk(context.Background(), func(blob.Hash, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
