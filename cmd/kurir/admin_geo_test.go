package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminGeo(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	run := func(area string, args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(t.Context(), append([]string{"kurir", area}, append(args, "--data-dir", dir)...), env, strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), err
	}
	kurir := func(args ...string) (string, string, error) { return run("admin", append([]string{"geo"}, args...)...) }
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	if out, _, err := kurir("status"); err != nil || !strings.Contains(out, "no IP-to-country table has been imported") {
		t.Errorf("status before any import: %q, %v", out, err)
	}
	if _, _, err := kurir("lookup", "1.0.0.1"); err == nil || !strings.Contains(err.Error(), "no IP-to-country table has been imported") {
		t.Errorf("lookup before any import: %v", err)
	}

	dbip := write("dbip-country-lite-2026-05.csv", "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n# unallocated\n2.0.0.0,2.0.0.255,ZZ\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n1.0.4.0,1.0.7.255,AU\n")
	out, progress, err := kurir("import", dbip)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "6 lines read, 4 ranges imported (3 IPv4, 1 IPv6) covering 3 countries, 1 unknown skipped; saved as table 1") ||
		!strings.Contains(progress, "100.0%") {
		t.Errorf("import summary %q, progress %q", out, progress)
	}

	out, _, err = kurir("lookup", "1.0.0.1", "::ffff:1.0.2.3", "2001:200::1", "9.9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1.0.0.1         AU       Australia", "::ffff:1.0.2.3  CN       China", "2001:200::1     JP       Japan", "9.9.9.9         -        not in the table"} {
		if !strings.Contains(out, want) {
			t.Errorf("lookup output lacks %q:\n%s", want, out)
		}
	}
	var usage usageError
	if _, _, err := kurir("lookup", "1.0.0.1", "somewhere"); !errors.As(err, &usage) || !strings.Contains(err.Error(), `"somewhere" is not an IP address`) {
		t.Errorf("lookup of a name: %v", err)
	}
	if _, _, err := kurir("lookup"); !errors.As(err, &usage) {
		t.Errorf("lookup of nothing: %v", err)
	}

	// A file with bad lines is refused whole, naming them.
	bad := write("bad.csv", `"ip_from","ip_to","country_code","country_name"`+"\n"+
		`"16777216","16777471","DE","Germany"`+"\n"+
		`"16777472","16777471","DE","Germany"`+"\n"+
		`"16778240","16779263","QQ","Nowhere"`+"\n"+
		`"16777300","16777400","FR","France"`+"\n")
	_, _, err = kurir("import", bad)
	for _, want := range []string{"3 invalid line(s)", "line 3: start 1.0.1.0 is after end 1.0.0.255", `line 4: unknown country code "QQ"`,
		"line 5: range 1.0.0.84-1.0.0.184 overlaps line 2 (1.0.0.0-1.0.0.255)", "nothing was imported"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad file: %v\nwant it to say %q", err, want)
		}
	}
	if out, _, _ := kurir("lookup", "1.0.0.1"); !strings.Contains(out, "AU") {
		t.Errorf("the refused file changed the table:\n%s", out)
	}

	// --skip-invalid imports the rest, and lists what it skipped.
	out, stderr, err := kurir("import", bad, "--skip-invalid", "--source", "IP2Location LITE DB1 2026-05")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "5 lines read, 1 ranges imported (1 IPv4, 0 IPv6) covering 1 countries, 0 unknown skipped, 3 invalid skipped; saved as table 2") ||
		!strings.Contains(stderr, "3 invalid line(s) skipped:\n  line 3: start 1.0.1.0 is after end 1.0.0.255\n") {
		t.Errorf("import --skip-invalid: %q\n%s", out, stderr)
	}
	if out, _, _ := kurir("lookup", "1.0.0.1", "2001:200::1"); !strings.Contains(out, "1.0.0.1      DE") || !strings.Contains(out, "2001:200::1  -") {
		t.Errorf("after the second import:\n%s", out)
	}
	out, _, err = kurir("status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"table     2", "source    IP2Location LITE DB1 2026-05", "ranges    1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	// Imports are in the audit log; the refused one is not.
	out, _, err = run("audit", "list", "--action", "admin.geo_import")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "geo_table:1") || !strings.Contains(out, "source dbip-country-lite-2026-05.csv: 4 ranges (3 IPv4, 1 IPv6)") ||
		!strings.Contains(out, "geo_table:2") || !strings.Contains(out, "source IP2Location LITE DB1 2026-05: 1 ranges") || strings.Count(out, "admin.geo_import") != 2 {
		t.Errorf("audit log:\n%s", out)
	}
}
