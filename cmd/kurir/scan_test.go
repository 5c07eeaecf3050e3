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
