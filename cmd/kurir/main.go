// Command kurir is the kurir messenger: the server, and the tools an operator
// runs beside it. Run "kurir help" for the list of commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(os.Stderr, "kurir: %v\n", err)
			os.Exit(2)
		}
		if !errors.Is(err, errHelpShown) {
			fmt.Fprintf(os.Stderr, "kurir: %v\n", err)
			os.Exit(1)
		}
	}
}

// usageError is a mistake in the command line: the command, a flag or an
// argument. It exits with status 2, like flag parsing errors.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errHelpShown ends a command after -h printed its help; it is not a failure.
var errHelpShown = errors.New("help shown")

const mainHelp = `kurir is a messenger server with trust & safety built in.

Usage:
  kurir <command> [arguments]

Commands:
  serve      run the server: the HTTP API and the live update stream
  admin      operator tasks against the server's database (users, roles, bans)
  audit      the log of privileged reads and writes: kurir audit verify
  chat       the terminal client: kurir chat login --server URL, then kurir chat
  bench      load generator for loopback and test servers: kurir bench messaging
  scan       test text rules: kurir scan --rules FILE < messages
  pdq        print the PDQ perceptual hash of image files
  version    print the version
  help       print this help, or "kurir help <command>" for one command

Every flag can also be set with an environment variable, named in each
command's help (for example KURIR_ADDR for --addr). Flags win over variables.

Start here:
  kurir serve                                  # SQLite in ./kurir-data, http://127.0.0.1:8080
  kurir admin user create --role admin alice   # your first administrator
`

// run is the whole program, callable from tests: args are the command line
// (args[0] is the program name), getenv reads the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, mainHelp)
		return usagef("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdin, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, getenv, stdout, stderr)
	case "chat":
		return runChat(ctx, rest, getenv, stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "scan":
		return runScan(ctx, rest, getenv, stdin, stdout, stderr)
	case "pdq":
		return runPDQ(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "kurir", version())
		return nil
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 {
			return run(ctx, []string{args[0], rest[0], "--help"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, mainHelp)
		return nil
	default:
		fmt.Fprint(stderr, mainHelp)
		return usagef("unknown command %q", cmd)
	}
}
