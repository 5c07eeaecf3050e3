package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/httpapi"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/secret"
	"kurir/sqldb"
)

// serveEnv makes the test binary a kurir server over the database at its
// value instead of running tests; see startServerProcess.
const serveEnv = "KURIR_CLIENT_TEST_SERVE"

func TestMain(m *testing.M) {
	if dbURL := os.Getenv(serveEnv); dbURL != "" {
		if err := serveProcess(dbURL, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "client test server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// canned, given to serveProcess as the database, serves a fixed answer to
// every request instead of the API: a server that costs next to nothing,
// to measure the client alone.
const canned = "canned"

// cannedMessage is the answer of the canned server.
const cannedMessage = `{"chat_id":1,"seq":42,"sender_id":7,"text":"The quick brown fox jumps over the lazy dog.","created_at":"2025-03-01T09:00:00.123456Z"}`

// serveProcess serves the API over the database at dbURL on 127.0.0.1,
// writes its base URL as one line to out, and stops when in ends.
func serveProcess(dbURL string, in io.Reader, out io.Writer) error {
	ctx := context.Background()
	if dbURL == canned {
		return serve(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, cannedMessage)
		}), in, out)
	}
	db, err := sqldb.Open(ctx, dbURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, schema...); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	clock := kurir.SystemClock{}
	msg := messaging.NewService(db, nil, clock, log, messaging.Config{})
	dir, err := os.MkdirTemp("", "kurir-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	files, err := media.NewService(db, blobs, msg, filepath.Join(dir, "uploads"), clock, log, media.Config{})
	if err != nil {
		return err
	}
	accounts := account.NewService(db, clock, log, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{},
		StaffTOTPOptional: true}) // as kurir serve --staff-2fa optional: staff tools without an authenticator
	mod := moderation.NewService(db, msg, accounts, clock, log, moderation.Config{})
	secrets, err := secret.NewService(ctx, db, clock, log, secret.Config{Reports: mod})
	if err != nil {
		return err
	}
	api := httpapi.NewServer(httpapi.Deps{
		Accounts: accounts, Messaging: msg, Media: files, Moderation: mod, Secret: secrets,
		Ready: db, Log: log, Clock: clock, Version: "test", Metrics: prometheus.NewRegistry(),
	})
	return serve(ctx, api, in, out)
}

// serve serves h on 127.0.0.1, writes its base URL as one line to out, and
// stops when in ends.
func serve(ctx context.Context, h http.Handler, in io.Reader, out io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	fmt.Fprintf(out, "http://%s\n", l.Addr())
	io.Copy(io.Discard, in)
	return srv.Shutdown(ctx)
}

// startServerProcess runs the API over the database at dbURL in a child
// process until b ends, and returns its base URL. A benchmark against it
// counts only the client's allocations, not the server's.
func startServerProcess(b *testing.B, dbURL string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+dbURL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("server process: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("server process did not say where it listens: %v", err)
	}
	return strings.TrimSpace(line)
}
