package device

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secret")
	path := filepath.Join(dir, "device.state")
	fs := NewFileStore(path)
	ctx := t.Context()

	data, err := fs.Lock(ctx)
	if err != nil || data != nil {
		t.Fatalf("Lock of a new store: %q, %v; want nothing", data, err)
	}
	if err := fs.Save([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Unlock(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{path, path + ".lock"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
			}
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", dir, fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the state and its lock (no temporary files left)", len(entries))
	}
	if err := fs.Save([]byte("unlocked")); err == nil {
		t.Error("Save without the lock succeeded")
	}
	if err := fs.Unlock(); err == nil {
		t.Error("Unlock without the lock succeeded")
	}

	// A second store on the same file (another process, as far as the
	// lock goes) waits for the first and then reads what it saved.
	other := NewFileStore(path)
	if _, err := fs.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := other.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while another store holds it: %v, want to wait until the deadline", err)
	}
	got := make(chan []byte, 1)
	go func() {
		data, err := other.Lock(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- data
		other.Unlock()
	}()
	time.Sleep(50 * time.Millisecond)
	if err := fs.Save([]byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Unlock(); err != nil {
		t.Fatal(err)
	}
	if data := <-got; string(data) != "two" {
		t.Errorf("the waiting store read %q, want what the first saved", data)
	}
}

// TestFileStoreExclusive: many goroutines with stores of their own each
// read, change and save; none's change is lost.
func TestFileStoreExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	var wg sync.WaitGroup
	for range 8 {
		fs := NewFileStore(path)
		wg.Go(func() {
			for range 20 {
				data, err := fs.Lock(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if err := fs.Save(append(data, 'x')); err != nil {
					t.Error(err)
				}
				fs.Unlock()
			}
		})
	}
	wg.Wait()
	data, _ := os.ReadFile(path)
	if len(data) != 8*20 {
		t.Errorf("%d changes survived of %d", len(data), 8*20)
	}
}
