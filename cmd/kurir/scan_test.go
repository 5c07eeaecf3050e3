package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "spam.rules")
	os.WriteFile(rules, []byte("# test rules\nSPAM\tblock\tzorblax pills\nPHISH\thold\tdomain:evil-login.example\n"), 0o600)
	in := strings.NewReader("hello there\nbuy ｚоrblax pills\nhttps://a.evil-login.example/x\n")
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"kurir", "scan", "--rules", rules}, func(string) string { return "" }, in, &out, &errb)
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, errb.String())
	}
	var got []struct {
		Action     string   `json:"action"`
		Categories []string `json:"categories"`
		Rules      []string `json:"rules"`
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct {
			Action     string   `json:"action"`
			Categories []string `json:"categories"`
			Rules      []string `json:"rules"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, r)
	}
	if len(got) != 3 || got[0].Action != "allow" || got[1].Action != "block" || got[1].Rules[0] != rules+":2" || got[2].Action != "hold" {
		t.Errorf("scan output:\n%s", out.String())
	}

	// A broken rule file is refused whole, naming its bad lines.
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(bad, []byte("SPAM\tblock\tfine\nSPAM\tobliterate\tx\nonly one field\n"), 0o600)
	out.Reset()
	err = run(t.Context(), []string{"kurir", "scan", "--rules", bad}, func(string) string { return "" }, strings.NewReader("x\n"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") || out.Len() != 0 {
		t.Errorf("bad rule file: err %v, output %q; want both bad lines named and nothing scanned", err, out.String())
	}
}

// TestScanBadLines: a gigantic or invalid line gets an error object naming
// its line number, and the lines after it are still scanned, so the
// output stays one line per input line, each with the format's keys.
func TestScanBadLines(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "spam.rules")
	os.WriteFile(rules, []byte("SPAM\tflag\tzorblax\n"), 0o600)
	huge := strings.Repeat("zorblax ", (1<<20)/8+1)
	in := strings.NewReader("zorblax\n" + huge + "\nw\xffrd\r\nfine\r\n\x00\x01binary\nlast zorblax")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"kurir", "scan", "--rules", rules}, func(string) string { return "" }, in, &out, &errb); err != nil {
		t.Fatalf("scan: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`{"action":"flag","categories":["SPAM"],"rules":["` + rules + `:1"]}`,
		`{"error":"line 2: longer than 1 MiB, not scanned","line":2}`,
		`{"error":"line 3: not valid UTF-8, not scanned","line":3}`,
		`{"action":"allow","categories":[],"rules":[]}`,
		`{"action":"allow","categories":[],"rules":[]}`,
		`{"action":"flag","categories":["SPAM"],"rules":["` + rules + `:1"]}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
}

// TestScanShowNormalized: --show-normalized shows the forms the rules read,
// so an operator can see why a disguised term matches.
func TestScanShowNormalized(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "spam.rules")
	os.WriteFile(rules, []byte("SPAM\tflag\tzorblax\n"), 0o600)
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"kurir", "scan", "--rules", rules, "--show-normalized"}, func(string) string { return "" },
		strings.NewReader("ZО\u200bRBLAX 10\n"), &out, &errb) // a Cyrillic О and a zero-width space
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, errb.String())
	}
	want := `{"action":"flag","categories":["SPAM"],"rules":["` + rules + `:1"],"normalized":"zorblax 10","light":"zоrblax 10"}` + "\n"
	if out.String() != want {
		t.Errorf("output %s, want %s", out.String(), want)
	}
}
