package device

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// FileStore keeps a device's encoded state in a file, readable and
// writable by its owner only (mode 0600, in a directory made 0700). Save
// replaces the file atomically — a crash leaves the old state or the new
// one, never a mix — and syncs it to disk before returning.
//
// Lock makes the state one process's at a time: a second process (a
// "kurir chat secret send" while a "tail" runs) waits until the first
// unlocks, and then reads what the first saved. Without it two processes
// could each advance a session from the same saved state and reuse a
// message key. The lock is an advisory lock on the file Path + ".lock"
// (flock on Unix, LockFileEx on Windows); elsewhere it only excludes
// callers in the same process.
//
// A FileStore is safe for concurrent use; the methods other than Lock must
// be called only while holding the lock.
type FileStore struct {
	path string

	held   chan struct{} // holds a token from Lock to Unlock
	locked *os.File      // the lock file, while locked
}

// NewFileStore returns a store for the state file at path. Nothing is
// read or created until Lock.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path, held: make(chan struct{}, 1)}
}

// Path returns the state file's path.
func (f *FileStore) Path() string { return f.path }

// lockPoll is how often Lock tries again for a lock another process holds.
const lockPoll = 20 * time.Millisecond

// Lock waits until the caller holds the state, or ctx ends, and returns
// the saved bytes: nil if nothing was saved yet. Call Unlock when done.
func (f *FileStore) Lock(ctx context.Context) ([]byte, error) {
	// Another goroutine of this process holding the lock is waited for
	// here, without holding a file open.
	select {
	case f.held <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("device: lock %s: %w", f.path, ctx.Err())
	}
	data, err := f.lock(ctx)
	if err != nil {
		<-f.held
		return nil, err
	}
	return data, nil
}

func pause(ctx context.Context) error {
	t := time.NewTimer(lockPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *FileStore) lock(ctx context.Context) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return nil, fmt.Errorf("device: lock %s: %w", f.path, err)
	}
	lf, err := os.OpenFile(f.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("device: lock %s: %w", f.path, err)
	}
	for {
		ok, err := tryLockFile(lf)
		if err != nil {
			lf.Close()
			return nil, fmt.Errorf("device: lock %s: %w", f.path, err)
		}
		if ok {
			break
		}
		if err := pause(ctx); err != nil {
			lf.Close()
			return nil, fmt.Errorf("device: lock %s: held by another process: %w", f.path, err)
		}
	}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		unlockFile(lf)
		lf.Close()
		return nil, fmt.Errorf("device: read %s: %w", f.path, err)
	}
	f.locked = lf
	return data, nil
}

// Unlock releases the lock Lock took.
func (f *FileStore) Unlock() error {
	if f.locked == nil {
		return fmt.Errorf("device: unlock %s: not locked", f.path)
	}
	lf := f.locked
	f.locked = nil
	err := unlockFile(lf)
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	<-f.held
	if err != nil {
		return fmt.Errorf("device: unlock %s: %w", f.path, err)
	}
	return nil
}

// Save replaces the state file with data. It must be called while locked.
func (f *FileStore) Save(data []byte) error {
	if f.locked == nil {
		return fmt.Errorf("device: save %s: not locked", f.path)
	}
	return writeFileAtomic(f.path, data)
}

// writeFileAtomic writes data to a new file beside path, syncs it and
// renames it over path, then syncs the directory, so that after a crash
// path holds the old bytes or the new ones.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	// CreateTemp makes the file 0600 already; say so for other platforms.
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("device: save %s: %w", path, err)
	}
	if runtime.GOOS != "windows" {
		// The rename is durable only once the directory is synced.
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
