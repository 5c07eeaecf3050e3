package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"kurir/safety/textscan"
)

const scanHelp = `Usage: kurir scan --rules FILE [--rules FILE...]

Tests text rules: reads messages from standard input, one per line, and
prints for each one JSON object on a line of its own:

  {"action":"block","categories":["SPAM"],"rules":["spam.rules:12"]}

action is the strictest of the matching rules (allow when none matches),
and rules names each matching rule by file and line. A line that cannot be
scanned (longer than 1 MiB, or not valid UTF-8) gets an error object
instead, so the output stays one line per input line:

  {"error":"line 7: longer than 1 MiB, not scanned","line":7}

--show-normalized adds what the rules read, to see why a term does or does
not match: "normalized", the form terms are matched in, and "light", the
form "re:" patterns are matched in.

A rule file has one rule per line, CATEGORY<TAB>ACTION<TAB>PATTERN, with an
optional fourth field of options; '#' starts a comment. ACTION is flag,
hold or block (or allow). PATTERN is matched as whole words after the text
is normalised: look-alike letters from other scripts, fullwidth forms,
invisible characters and diacritics do not hide a term. Digits stay digits
("101" is not "lol") unless the rule has the leet option. "re:" makes it a
regular expression over the text in lower case, without invisible
characters, diacritics or fullwidth forms but otherwise as written (so
\d matches digits); "domain:" a domain whose links match (subdomains too,
punycode or Unicode, look-alike letters, and dots written "[.]" or "(dot)");
a public suffix such as co.uk is refused. Options, comma-separated: leet
(also "b4d"), spacing (also "b a d"), clitics (an Arabic term also with
"wa", "bi", "al" and the like joined to it), script=CODE (only text with a letter
in that script: an ISO 15924 code such as Latn, Cyrl, Arab, Deva, or a
Unicode script name; several as script=Arab|Hebr), severity=1..5. A rule
cannot be limited to a language: short messages do not reliably show
theirs. A file with any bad line is refused whole, with every bad line
named. Examples: docs/examples/*.rules.
`

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func runScan(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, e := newFlagSet("scan", scanHelp, getenv, stdout, stderr)
	var files multiFlag
	fs.Var(&files, "rules", "a rule file; give --rules more than once for several")
	showNormalized := fs.Bool("show-normalized", false, "also print the forms of each line that the rules read")
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
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var buf []byte
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var tooLong bool
		var err error
		buf, tooLong, err = readScanLine(in, buf[:0], maxScanLine)
		if err != nil && err != io.EOF {
			return fmt.Errorf("scan: read messages: line %d: %w", n, err)
		}
		if err == io.EOF && len(buf) == 0 && !tooLong {
			return nil
		}
		var v any
		switch {
		case tooLong:
			v = scanError{fmt.Sprintf("line %d: longer than 1 MiB, not scanned", n), n}
		case !utf8.Valid(buf):
			v = scanError{fmt.Sprintf("line %d: not valid UTF-8, not scanned", n), n}
		default:
			text := string(buf)
			r := s.Scan(text)
			if *showNormalized {
				v = shownVerdict{verdict{r.Action, r.Categories, r.Rules}, textscan.Normalize(text), textscan.Light(text)}
			} else {
				v = verdict{r.Action, r.Categories, r.Rules}
			}
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// maxScanLine is the longest message kurir scan reads: far longer than
// any message the server accepts.
const maxScanLine = 1 << 20

// verdict is kurir scan's answer for a line, exactly the three keys its
// format promises.
type verdict struct {
	Action     textscan.Action `json:"action"`
	Categories []string        `json:"categories"`
	Rules      []string        `json:"rules"`
}

// shownVerdict is a verdict with the forms of the text the rules read
// (--show-normalized).
type shownVerdict struct {
	verdict
	Normalized string `json:"normalized"`
	Light      string `json:"light"`
}

// scanError stands for a line that could not be scanned.
type scanError struct {
	Error string `json:"error"`
	Line  int    `json:"line"`
}

// readScanLine appends the next line of r, without its line ending, to buf.
// A line longer than max is read to its end but not kept: tooLong says so.
// At the end of input it returns io.EOF, with the last line if it had no
// line ending.
func readScanLine(r *bufio.Reader, buf []byte, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max+2 { // room for "\r\n"
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		if !tooLong && len(buf) > max {
			tooLong, buf = true, buf[:0]
		}
		return buf, tooLong, err
	}
}
