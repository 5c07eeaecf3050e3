package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"kurir/httpapi"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the code")

// TestOpenAPIDocIsCurrent keeps the published API reference, docs/openapi.json,
// identical to the document the server builds from its routes. After changing
// the API run: go test ./httpapi -run TestOpenAPIDocIsCurrent -update
func TestOpenAPIDocIsCurrent(t *testing.T) {
	raw, err := httpapi.Spec().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	const path = "../docs/openapi.json"
	if *update {
		if err := os.WriteFile(path, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./httpapi -run TestOpenAPIDocIsCurrent -update)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%s is out of date with the routes; run: go test ./httpapi -run TestOpenAPIDocIsCurrent -update", path)
	}
}
