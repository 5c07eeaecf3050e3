package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"kurir"
	"kurir/jurisdiction/geo"
)

const adminGeoHelp = `Usage: kurir admin geo <command> [flags] [arguments]

Where is a user: the IP-range table that gives the country of an address,
for per-country rules. Import one of the common free IP-to-country
databases (DB-IP lite, IP2Location LITE DB1, ip-location-db): CSV with a
start IP, an end IP and a country code on each line, IPv4 and IPv6, as
text or as integers. An import replaces the whole table; running servers
pick it up without a restart.

  geo import FILE [--skip-invalid] [--source TEXT]
                                 replace the table with a file's; a file with
                                 any bad line is refused whole, unless
                                 --skip-invalid imports the rest
  geo lookup IP...               the country of each address
  geo status                     the table in use: when it was imported, from
                                 what, how many ranges
`

func (a *adminCmd) geo(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, adminGeoHelp)
		if len(args) == 0 {
			return usagef("admin geo: name a command, e.g. kurir admin geo status")
		}
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "import":
		return a.geoImport(ctx, rest)
	case "lookup":
		return a.geoLookup(ctx, rest)
	case "status":
		return a.geoStatus(ctx, rest)
	default:
		fmt.Fprint(a.stderr, adminGeoHelp)
		return usagef("admin geo: unknown command %q", cmd)
	}
}

func (a *adminCmd) geoImport(ctx context.Context, args []string) error {
	var skipInvalid bool
	var source string
	db, _, rest, err := a.open(ctx, "admin geo import", "Usage: kurir admin geo import FILE [--skip-invalid] [--source TEXT]\n", args, 1, func(e envFlags) {
		e.fs.BoolVar(&skipInvalid, "skip-invalid", false, "import the valid lines of a file that has invalid ones (they are listed)")
		e.fs.StringVar(&source, "source", "", "where the table comes from, shown by status and kept in the audit log (default: the file's name)")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	path := rest[0]
	if source == "" {
		source = filepath.Base(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	bar := func(read int64) {
		pct := 100.0
		if st.Size() > 0 {
			pct = min(100, 100*float64(read)/float64(st.Size()))
		}
		const width = 30
		filled := int(pct / 100 * width)
		fmt.Fprintf(a.stderr, "\r[%s%s] %5.1f%%  %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, humanize.Bytes(uint64(read)))
	}
	table, rep, err := geo.Parse(f, geo.ParseOptions{SkipInvalid: skipInvalid, Progress: bar})
	fmt.Fprintln(a.stderr)
	var inv *geo.InvalidError
	if errors.As(err, &inv) {
		return fmt.Errorf("%s: %w\nnothing was imported: correct these lines, or import the rest with --skip-invalid", path, inv)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if table.Len() == 0 {
		return fmt.Errorf("%s: %d lines read and no ranges of a known country in them; nothing was imported", path, rep.Lines)
	}
	if rep.InvalidLines > 0 {
		fmt.Fprintf(a.stderr, "%d invalid line(s) skipped:\n", rep.InvalidLines)
		for _, l := range rep.Invalid[:min(len(rep.Invalid), 20)] {
			fmt.Fprintf(a.stderr, "  %s\n", l)
		}
		if rep.InvalidLines > 20 {
			fmt.Fprintf(a.stderr, "  ... and %d more\n", rep.InvalidLines-20)
		}
	}
	id, err := geo.Save(ctx, db, table, source, time.Now())
	if err != nil {
		return err
	}
	if err := a.audit(ctx, "admin.geo_import", fmt.Sprintf("geo_table:%d", id), fmt.Sprintf("source %s: %d ranges (%d IPv4, %d IPv6) covering %d countries, %d unknown, %d invalid skipped",
		source, rep.Ranges, rep.IPv4, rep.IPv6, rep.Countries, rep.Unknown, rep.InvalidLines)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: %d lines read, %d ranges imported (%d IPv4, %d IPv6) covering %d countries, %d unknown skipped", path,
		rep.Lines, rep.Ranges, rep.IPv4, rep.IPv6, rep.Countries, rep.Unknown)
	if rep.InvalidLines > 0 {
		fmt.Fprintf(a.stdout, ", %d invalid skipped", rep.InvalidLines)
	}
	fmt.Fprintf(a.stdout, "; saved as table %d", id)
	if table.Len() != rep.Ranges {
		fmt.Fprintf(a.stdout, " of %d ranges, adjacent ones of a country joined", table.Len())
	}
	fmt.Fprintf(a.stdout, " (%.1fs)\n", time.Since(start).Seconds())
	return nil
}

func (a *adminCmd) geoLookup(ctx context.Context, args []string) error {
	const help = "Usage: kurir admin geo lookup IP...\n\nPrints the country of each address in the newest table.\n"
	db, _, rest, err := a.open(ctx, "admin geo lookup", help, args, a.countArgs(args), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	addrs := make([]netip.Addr, len(rest))
	for i, s := range rest {
		if addrs[i], err = netip.ParseAddr(s); err != nil {
			return usagef("admin geo lookup: %q is not an IP address", s)
		}
	}
	table, id, err := geo.Load(ctx, db)
	if err != nil {
		return err
	}
	if table == nil {
		return errors.New("no IP-to-country table has been imported: kurir admin geo import FILE")
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ADDRESS\tCOUNTRY\t(table %d)\n", id)
	for _, addr := range addrs {
		if cc, ok := table.Lookup(addr); ok {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", addr, cc, kurir.CountryName(cc))
		} else {
			fmt.Fprintf(tw, "%s\t-\tnot in the table\n", addr)
		}
	}
	return tw.Flush()
}

// countArgs counts the positional arguments among args, for a command that
// takes any number (at least one) and only the common flags.
func (a *adminCmd) countArgs(args []string) int {
	fs, e := newFlagSet("", "", a.getenv, io.Discard, io.Discard)
	new(common).register(e)
	if err := parse(e, interspersed(fs, args), io.Discard); err != nil {
		return 1 // open parses them again, and says what is wrong
	}
	return max(fs.NArg(), 1)
}

func (a *adminCmd) geoStatus(ctx context.Context, args []string) error {
	db, _, _, err := a.open(ctx, "admin geo status", "Usage: kurir admin geo status\n\nDescribes the newest IP-to-country table, which servers use.\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	info, ok, err := geo.Newest(ctx, db)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(a.stdout, "no IP-to-country table has been imported: kurir admin geo import FILE")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "table\t%d\nimported\t%s\nsource\t%s\nranges\t%d\nsize\t%s\n",
		info.ID, info.ImportedAt.Format(time.RFC3339), oneLine(info.Source), info.Ranges, humanize.Bytes(uint64(info.Size)))
	return tw.Flush()
}
