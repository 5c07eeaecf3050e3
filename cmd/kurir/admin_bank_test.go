package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminBank(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	kurir := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(t.Context(), append([]string{"kurir", "admin", "bank"}, append(args, "--data-dir", dir)...), env, strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), err
	}
	if _, _, err := kurir("create", "CHILD_SAFETY", "--action", "block", "--description", "known material"); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "ncmec.txt")
	hash := "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	os.WriteFile(list, []byte("# pdq hashes\n"+hash+"\n"+strings.ToUpper(hash)+"\n"), 0o600)
	out, progress, err := kurir("import", list, "--bank", "CHILD_SAFETY", "--signal", "pdq")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 lines read, 1 entries added to CHILD_SAFETY, 1 duplicates skipped") || !strings.Contains(progress, "100.0%") {
		t.Errorf("import summary %q, progress %q", out, progress)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("pdq,"+hash+"\nsha1,abcd\npdq,xyz\n"), 0o600)
	_, _, err = kurir("import", bad, "--bank", "CHILD_SAFETY")
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("bad file: %v; want lines 2 and 3 named and nothing imported", err)
	}
	out, _, err = kurir("list")
	if err != nil || !strings.Contains(out, "CHILD_SAFETY  block   1") {
		t.Errorf("list:\n%s%v", out, err)
	}
	if _, _, err := kurir("disable", "1"); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := kurir("list"); !strings.Contains(out, "CHILD_SAFETY  block   0") {
		t.Errorf("after disable:\n%s", out)
	}
}
