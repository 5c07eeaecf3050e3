package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"kurir/account"
	"kurir/audit"
	"kurir/jurisdiction"
	"kurir/jurisdiction/geo"
	"kurir/legal"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/secret"
	"kurir/sqldb"
	"kurir/transparency"
	"kurir/transparency/dsa"
)

// common are the settings every command that touches the database shares.
type common struct {
	dataDir   string
	database  string
	logLevel  string
	logFormat string
}

// envFlags registers flags that can also be set by KURIR_* environment
// variables, and names the variable in each flag's help. Variables are applied
// before the command line is parsed, so flags win.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	envs   *[][2]string // flag name, variable
}

func (e envFlags) bind(name, env string) { *e.envs = append(*e.envs, [2]string{name, env}) }

func (e envFlags) string(p *string, name, env, def, usage string) {
	e.fs.StringVar(p, name, def, usage+" ($"+env+")")
	e.bind(name, env)
}

func (e envFlags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	e.fs.DurationVar(p, name, def, usage+" ($"+env+")")
	e.bind(name, env)
}

func (e envFlags) bool(p *bool, name, env string, usage string) {
	e.fs.BoolVar(p, name, false, usage+" ($"+env+")")
	e.bind(name, env)
}

func (e envFlags) int(p *int, name, env string, def int, usage string) {
	e.fs.IntVar(p, name, def, usage+" ($"+env+")")
	e.bind(name, env)
}

func (e envFlags) float64(p *float64, name, env string, def float64, usage string) {
	e.fs.Float64Var(p, name, def, usage+" ($"+env+")")
	e.bind(name, env)
}

// bytes registers a size in bytes, written like 2GiB, 500MB or 1048576.
func (e envFlags) bytes(p *int64, name, env string, def int64, usage string) {
	*p = def
	e.fs.Func(name, fmt.Sprintf("%s (default %s) ($%s)", usage, humanize.IBytes(uint64(def)), env), func(s string) error {
		n, err := humanize.ParseBytes(s)
		if err != nil || n == 0 || n > math.MaxInt64 {
			return errors.New("want a size such as 2GiB, 500MB or 1048576")
		}
		*p = int64(n)
		return nil
	})
	e.bind(name, env)
}

func (e envFlags) uint32(p *uint32, name, env string, usage string) {
	def := *p
	e.fs.Func(name, fmt.Sprintf("%s (default %d) ($%s)", usage, def, env), func(s string) error {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			return errors.New("want a positive whole number")
		}
		*p = uint32(n)
		return nil
	})
	e.bind(name, env)
}

// applyEnv sets every bound flag whose variable is set, reporting a bad value
// by the variable's name.
func (e envFlags) applyEnv() error {
	for _, b := range *e.envs {
		if v := e.getenv(b[1]); v != "" {
			if err := e.fs.Set(b[0], v); err != nil {
				return usagef("$%s=%q: %v", b[1], v, err)
			}
		}
	}
	return nil
}

func (c *common) register(e envFlags) {
	e.string(&c.dataDir, "data-dir", "KURIR_DATA_DIR", "kurir-data", "directory for kurir's files: the SQLite database")
	e.string(&c.database, "database", "KURIR_DATABASE_URL", "", "database URL: sqlite:PATH or postgres://USER@HOST/DB (default: sqlite:DATA-DIR/kurir.db)")
	e.string(&c.logLevel, "log-level", "KURIR_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	e.string(&c.logFormat, "log-format", "KURIR_LOG_FORMAT", "text", "log format: text or json")
}

// newFlagSet returns a flag set that prints help to stdout (when asked for)
// and errors to stderr.
func newFlagSet(name, help string, getenv func(string) string, stdout, stderr io.Writer) (*flag.FlagSet, envFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs, envFlags{fs: fs, getenv: getenv, envs: new([][2]string)}
}

// parse applies the environment, then parses args, turning -h into help on
// stdout and bad flags into a usageError.
func parse(e envFlags, args []string, stdout io.Writer) error {
	if err := e.applyEnv(); err != nil {
		return err
	}
	fs := e.fs
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelpShown
	case err != nil:
		fs.Usage()
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usagef("--log-format %q: want text or json", c.logFormat)
	}
}

// schema is every capability's migrations, in dependency order.
var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, geo.Migrations, moderation.Migrations, jurisdiction.Migrations, legal.Migrations, transparency.Migrations, dsa.Migrations, secret.Migrations}

// openDB opens and migrates the database the settings name, creating the data
// directory for SQLite.
func (c *common) openDB(ctx context.Context, log *slog.Logger) (*sqldb.DB, error) {
	url := c.database
	if url == "" {
		if err := os.MkdirAll(c.dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		url = "sqlite:" + filepath.Join(c.dataDir, "kurir.db")
	}
	db, err := sqldb.Open(ctx, url, log)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, schema...); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// version is the module version, or the VCS revision for a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
