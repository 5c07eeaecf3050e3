package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kurir/client"
)

// stallReader yields n bytes of data and then blocks until ctx ends, like a
// client whose connection hangs mid-upload.
type stallReader struct {
	ctx  context.Context
	data []byte
}

func (s *stallReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		<-s.ctx.Done()
		return 0, s.ctx.Err()
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestCrashMidUpload kills the server with SIGKILL while a whole-file
// upload and a resumable upload are half sent, restarts it, and checks that
// no partial or corrupt blob is visible, nothing of the broken whole-file
// upload was recorded, and the resumable upload resumes where the server
// last acknowledged it and completes intact.
func TestCrashMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := buildKurir(t)
	dataDir := t.TempDir()
	cmd, base := startProcess(t, bin, dataDir)
	ctx := t.Context()
	anon := client.New(base)
	if _, err := anon.Register(ctx, client.RegisterParams{Username: "crash_uploader", Password: "a long and unusual passphrase"}); err != nil {
		t.Fatal(err)
	}
	l, err := anon.Login(ctx, client.LoginParams{Username: "crash_uploader", Password: "a long and unusual passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	c := anon.WithToken(l.Token)

	data := make([]byte, 20<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	up, err := c.StartUpload(ctx, int64(len(data)), client.UploadParams{Name: "video.bin"})
	if err != nil {
		t.Fatal(err)
	}
	first := int64(client.UploadPart)
	if up, err = c.AppendUpload(ctx, up.ID, 0, bytes.NewReader(data[:first]), first); err != nil || up.Received != first {
		t.Fatalf("first part: %+v, %v", up, err)
	}

	// Two transfers hang half-way: a whole-file upload and the next part.
	stall, unstall := context.WithCancel(ctx)
	defer unstall()
	go c.UploadMedia(stall, &stallReader{ctx: stall, data: data[:5<<20]}, int64(len(data)), client.UploadParams{Name: "whole.bin"})
	go c.AppendUpload(stall, up.ID, first, &stallReader{ctx: stall, data: data[first : first+3<<20]}, 8<<20)
	staging := filepath.Join(dataDir, "uploads")
	waitFor(t, "both transfers to be under way", func() bool {
		whole, _ := filepath.Glob(filepath.Join(staging, "upload-*"))
		part, err := os.Stat(filepath.Join(staging, up.ID+".part"))
		return len(whole) == 1 && err == nil && part.Size() > first
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	unstall()

	cmd, base = startProcess(t, bin, dataDir)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	c = client.New(base, client.WithToken(l.Token))

	// Every blob is whole: its content hashes to its name.
	blobs := 0
	filepath.WalkDir(filepath.Join(dataDir, "blobs", "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.Name() {
			t.Errorf("blob %s holds content hashing to %x", d.Name(), sum)
		}
		blobs++
		return nil
	})
	if blobs != 0 {
		t.Errorf("%d blobs stored by uploads that never finished, want 0", blobs)
	}
	if left, _ := filepath.Glob(filepath.Join(staging, "upload-*")); len(left) != 0 {
		t.Errorf("staged files of broken whole-file uploads left after restart: %v", left)
	}

	// The resumable upload stands where the server last acknowledged it.
	st, err := c.UploadStatus(ctx, up.ID)
	if err != nil || st.Received != first {
		t.Fatalf("upload after the crash: %+v, %v; want it at byte %d", st, err, first)
	}
	for st.Media == nil {
		n := min(client.UploadPart, int64(len(data))-st.Received)
		if st, err = c.AppendUpload(ctx, up.ID, st.Received, bytes.NewReader(data[st.Received:st.Received+n]), n); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	if _, err := c.Download(ctx, st.Media.ID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download after resuming: %d bytes, %v; want the %d uploaded", got.Len(), err, len(data))
	}
	if _, err := c.UploadMedia(ctx, strings.NewReader("after the crash"), -1, client.UploadParams{Name: "ok.txt"}); err != nil {
		t.Errorf("a new upload after the restart: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// patternReader yields n bytes of a cheap pattern, without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range n {
		b[i] = byte(p.left - int64(i))
	}
	p.left -= int64(n)
	return n, nil
}

// TestUploadMemoryBounded uploads a large file to a server process in one
// request and checks the server's peak resident memory: uploads stream to
// disk, so it must stay far below the file's size. The size is 256 MiB, or
// KURIR_TEST_UPLOAD_BYTES (docs/BENCHMARKS.md uses 1073741824).
func TestUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads hundreds of megabytes to a server process")
	}
	size := int64(256 << 20)
	if v := os.Getenv("KURIR_TEST_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("KURIR_TEST_UPLOAD_BYTES=%q: %v", v, err)
		}
		size = n
	}
	bin := buildKurir(t)
	cmd, base := startProcess(t, bin, t.TempDir())
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	ctx := t.Context()
	anon := client.New(base)
	if _, err := anon.Register(ctx, client.RegisterParams{Username: "big_uploader", Password: "a long and unusual passphrase"}); err != nil {
		t.Fatal(err)
	}
	l, err := anon.Login(ctx, client.LoginParams{Username: "big_uploader", Password: "a long and unusual passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, err := anon.WithToken(l.Token).UploadMedia(ctx, &patternReader{left: size}, size, client.UploadParams{Name: "big.bin"})
	if err != nil || m.Size != size {
		t.Fatalf("upload: %+v, %v", m, err)
	}
	elapsed := time.Since(start)
	peak := peakRSS(t, cmd.Process.Pid)
	t.Logf("uploaded %d MiB in %v (%.0f MB/s); server peak RSS %.1f MiB", size>>20, elapsed.Round(time.Millisecond),
		float64(size)/1e6/elapsed.Seconds(), float64(peak)/(1<<20))
	if peak > 100<<20 {
		t.Errorf("server peak RSS %.1f MiB during a %d MiB upload, want under 100 MiB", float64(peak)/(1<<20), size>>20)
	}
}

// peakRSS returns a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("cannot read the server's memory use: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/PID/status")
	return 0
}
