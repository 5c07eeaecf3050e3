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

// TestAdminBankExportEntriesFind: a bank read from standard input exports
// as CSV and as a list that import back into another bank unchanged;
// entries and find show the IDs that disable takes.
func TestAdminBankExportEntriesFind(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	kurir := func(stdin string, args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(t.Context(), append([]string{"kurir", "admin", "bank"}, append(args, "--data-dir", dir)...), env, strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), err
	}
	for _, b := range []string{"SPAM", "COPY", "PDQ_ONLY"} {
		if _, _, err := kurir("", "create", b, "--action", "flag"); err != nil {
			t.Fatal(err)
		}
	}
	pdqHash := "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	md5Hash := "0123456789abcdef0123456789abcdef"
	csvIn := "signal_type,signal_value,provenance\npdq," + pdqHash + ",\"partner list, November\"\nmd5," + md5Hash + ",\n"
	out, _, err := kurir(csvIn, "import", "-", "--bank", "SPAM", "--format", "csv")
	if err != nil || !strings.Contains(out, "3 lines read, 2 entries added to SPAM") {
		t.Fatalf("import from standard input: %q, %v", out, err)
	}
	exported, _, err := kurir("", "export", "SPAM")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exported, "pdq,"+pdqHash+",\"partner list, November\"") || !strings.Contains(exported, "md5,"+md5Hash+",standard input") {
		t.Errorf("CSV export:\n%s", exported)
	}
	if out, _, err := kurir(exported, "import", "-", "--bank", "COPY", "--format", "csv"); err != nil || !strings.Contains(out, "2 entries added") {
		t.Fatalf("re-import of the export: %q, %v", out, err)
	}
	again, _, _ := kurir("", "export", "COPY")
	if again != exported {
		t.Errorf("export of the re-imported bank differs:\n%s\nwant\n%s", again, exported)
	}
	if _, _, err := kurir("", "export", "SPAM", "--format", "list"); err == nil || !strings.Contains(err.Error(), "md5, pdq") {
		t.Errorf("list export of a bank with two kinds of hash: %v, want an error naming them", err)
	}
	list, _, err := kurir("", "export", "SPAM", "--format", "list", "--signal", "pdq")
	if err != nil || !strings.Contains(list, "\n"+pdqHash+"\n") || strings.Contains(list, md5Hash) {
		t.Fatalf("list export:\n%s%v", list, err)
	}
	if out, _, err := kurir(list, "import", "-", "--bank", "PDQ_ONLY", "--signal", "pdq"); err != nil || !strings.Contains(out, "1 entries added") {
		t.Errorf("re-import of the list: %q, %v", out, err)
	}

	out, _, err = kurir("", "entries", "SPAM")
	if err != nil || !strings.Contains(out, "1   SPAM  pdq     yes") || !strings.Contains(out, "2   SPAM  md5     yes") {
		t.Errorf("entries:\n%s%v", out, err)
	}
	out, _, err = kurir("", "find", strings.ToUpper(pdqHash))
	if err != nil || strings.Count(out, pdqHash) != 3 || !strings.Contains(out, "PDQ_ONLY") {
		t.Errorf("find, want the hash in three banks:\n%s%v", out, err)
	}
	if _, _, err := kurir("", "disable", "1"); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := kurir("", "entries", "SPAM", "--limit", "1"); !strings.Contains(out, "1   SPAM  pdq     no") {
		t.Errorf("entries after disable:\n%s", out)
	}
	if _, _, err := kurir("", "find", "xyz"); err == nil {
		t.Error("find of a hash that is not hex: no error")
	}
	if _, _, err := kurir("", "find", strings.Repeat("ab", 16)); err == nil || !strings.Contains(err.Error(), "No bank holds") {
		t.Errorf("find of an unknown hash: %v", err)
	}
}
