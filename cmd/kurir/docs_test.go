package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
)

// TestOperatorGuideListsEverySetting keeps docs/operator-guide.md true: every
// flag of "kurir serve" appears in its settings table with its variable.
func TestOperatorGuideListsEverySetting(t *testing.T) {
	guide, err := os.ReadFile("../../docs/operator-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	var cfg serveConfig
	fs, e := newFlagSet("serve", serveHelp, noEnv, io.Discard, io.Discard)
	cfg.register(e)
	envOf := map[string]string{}
	for _, b := range *e.envs {
		envOf[b[0]] = b[1]
	}
	fs.VisitAll(func(f *flag.Flag) {
		env, ok := envOf[f.Name]
		if !ok {
			t.Errorf("flag --%s has no environment variable", f.Name)
		}
		row := "| `--" + f.Name + "` | `" + env + "` |"
		if !strings.Contains(string(guide), row) {
			t.Errorf("docs/operator-guide.md has no settings row starting %q", row)
		}
	})
}

func TestEnvironmentSetsFlags(t *testing.T) {
	env := map[string]string{"KURIR_PASSWORD_MEMORY": "lots"}
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"kurir", "serve"}, func(k string) string { return env[k] }, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `$KURIR_PASSWORD_MEMORY="lots"`) {
		t.Fatalf("err = %v, want it to name the bad variable", err)
	}

	// A flag wins over its variable: the variable names a database that
	// cannot be opened, the flag one that can.
	env = map[string]string{"KURIR_DATABASE_URL": "mysql://nowhere"}
	err = run(t.Context(), []string{"kurir", "admin", "user", "list", "--database", "sqlite:" + t.TempDir() + "/k.db"},
		func(k string) string { return env[k] }, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("flag did not win over variable: %v", err)
	}
	err = run(t.Context(), []string{"kurir", "admin", "user", "list"}, func(k string) string { return env[k] }, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "mysql://nowhere") {
		t.Fatalf("variable ignored: err = %v", err)
	}
}
