package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"kurir/blob"
	"kurir/blob/blobtest"
)

func TestFS(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Store {
		s, err := blob.OpenFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFSRemovesUnfinishedWrites: a write interrupted by a crash leaves a file
// in tmp/, never a blob; opening the store again removes it.
func TestFSRemovesUnfinishedWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.OpenFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(s.TempDir(), "put-123")
	if err := os.WriteFile(half, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.OpenFS(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Errorf("unfinished write still there after reopening: %v", err)
	}
}

func TestParseHash(t *testing.T) {
	s, _ := blob.OpenFS(t.TempDir())
	info, err := s.Put(context.Background(), bytes.NewReader([]byte("x")), 10)
	if err != nil {
		t.Fatal(err)
	}
	h, err := blob.ParseHash(info.SHA256.String())
	if err != nil || h != info.SHA256 {
		t.Errorf("ParseHash(String()) = %v, %v", h, err)
	}
	for _, bad := range []string{"", "abc", "../../../../etc/passwd", info.SHA256.String()[:63] + "g"} {
		if _, err := blob.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) succeeded", bad)
		}
	}
}

func BenchmarkFSPut(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			s, err := blob.OpenFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := range b.N {
				data[0], data[1], data[2] = byte(i), byte(i>>8), byte(i>>16) // a new blob every time
				if _, err := s.Put(context.Background(), bytes.NewReader(data), int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
