package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"kurir/safety/textscan"
)

const scanHelp = `Usage: kurir scan --rules FILE [--rules FILE...]

Tests text rules: reads messages from standard input, one per line, and
prints for each one JSON object on a line of its own:

  {"action":"block","categories":["SPAM"],"rules":["spam.rules:12"],"severity":3}

action is the strictest of the matching rules (allow when none matches),
and rules names each matching rule by file and line.

A rule file has one rule per line, CATEGORY<TAB>ACTION<TAB>PATTERN, with an
optional fourth field of options; '#' starts a comment. ACTION is flag,
hold or block (or allow). PATTERN is matched as whole words after the text
is normalised: look-alike letters from other scripts, fullwidth forms,
invisible characters and diacritics do not hide a term. "re:" makes it a
regular expression over the normalised text, "domain:" a domain whose links
match (subdomains too). Options, comma-separated: leet (also "b4d"),
spacing (also "b a d"), severity=1..5. A file with any bad line is refused
whole, with every bad line named.
`

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func runScan(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, e := newFlagSet("scan", scanHelp, getenv, stdout, stderr)
	var files multiFlag
	fs.Var(&files, "rules", "a rule file; give --rules more than once for several")
	if err := parse(e, args, stdout); err != nil {
		return err
	}
	if len(files) == 0 || fs.NArg() > 0 {
		return usagef("scan: give --rules FILE, and the messages on standard input")
	}
	var rules []textscan.Rule
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		rs, err := textscan.ParseRules(name, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("scan: %s is refused:\n%w", name, err)
		}
		rules = append(rules, rs...)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := enc.Encode(s.Scan(in.Text())); err != nil {
			return err
		}
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("scan: read messages: %w", err)
	}
	return nil
}
