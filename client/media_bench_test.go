package client_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"kurir/client"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkMedia measures file upload and download throughput through the
// SDK against a real server (SQLite, blobs on the file system) in a child
// process on loopback. Every upload is new content, so none is
// deduplicated; an upload is acknowledged once its blob is synced to disk.
//
//	go test -run '^$' -bench BenchmarkMedia -benchtime 20x ./client/
func BenchmarkMedia(b *testing.B) {
	base := startServerProcess(b, sqldbtest.SQLiteURL(b))
	c := client.New(base)
	b.Cleanup(c.CloseIdleConnections)
	u, _ := benchUser(b, c, "sqlite", "media")
	for _, size := range []int{1 << 20, 100 << 20} {
		data := make([]byte, size)
		for i := 0; i+8 <= size; i += 4096 {
			binary.LittleEndian.PutUint64(data[i:], uint64(i)*0x9E3779B97F4A7C15)
		}
		name := fmt.Sprintf("%dMB", size>>20)
		var last client.Media
		n := 0
		b.Run("upload/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				n++
				binary.LittleEndian.PutUint64(data, uint64(n)) // new content every time
				m, err := u.UploadMedia(b.Context(), bytes.NewReader(data), int64(size), client.UploadParams{Name: "bench.bin"})
				if err != nil {
					b.Fatal(err)
				}
				last = m
			}
		})
		b.Run("download/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if got, err := u.Download(b.Context(), last.ID, io.Discard); err != nil || got != int64(size) {
					b.Fatalf("download: %d bytes, %v", got, err)
				}
			}
		})
	}
}
