package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"kurir"
)

// RequestBodySeeds are request bodies, good and bad, that the fuzzers start
// from; FuzzRegisterEndpoint in package httpapi_test uses them too.
var RequestBodySeeds = []string{
	`{"username":"pavel","password":"wet-otter-lantern-9"}`,
	`{"username":"pavel","password":"wet-otter-lantern-9","display_name":"Pavel","email":"p@example.com","phone":"+62 812 3456 7890"}`,
	`{}`,
	` {"username" : "jana" } `,
	`{"username":"pavel"`,
	`{"username":1}`,
	`{"username":null}`,
	`{"role":"admin"}`,
	`{"Username":"pavel"}`,
	`{"username":"a","username":"b"}`,
	`[]`,
	`null`,
	`"pavel"`,
	`{"username":"pavel"} {}`,
	`{"username":"pav\u0000el"}`,
	`{"username":"\ud800"}`,
	"{\"username\":\"pa\xffvel\"}",
	"\xef\xbb\xbf{}",
	``,
	` `,
}

// FuzzDecodeRegister checks the JSON request decoder: it never panics, every
// refusal is an EInvalid error with a reason and a message for a person, and
// whatever it accepts is valid UTF-8 holding one JSON object whose members
// are all fields the OpenAPI document lists for the request, each once.
func FuzzDecodeRegister(f *testing.F) {
	for _, s := range RequestBodySeeds {
		f.Add([]byte(s))
	}
	known := map[string]bool{"username": true, "password": true, "display_name": true, "email": true, "phone": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeBytes[registerRequest](body)
		if err != nil {
			var e *kurir.Error
			if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Reason == "" || e.Message == "" || !utf8.ValidString(e.Message) {
				t.Fatalf("decode %q: error %#v, want EInvalid with a reason and a UTF-8 message", body, err)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("decode accepted invalid UTF-8 %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("decode accepted %q, which is not a JSON object (first token %v, %v)", body, tok, err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("decode accepted %q, which does not parse: %v", body, err)
			}
			name := tok.(string)
			if !known[name] || seen[name] {
				t.Fatalf("decode accepted %q with member %q (known: %v, repeated: %v)", body, name, known[name], seen[name])
			}
			seen[name] = true
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("decode accepted %q, which does not parse: %v", body, err)
			}
		}
		if !seen["username"] && req.Username != "" {
			t.Fatalf("decode of %q set username %q from nowhere", body, req.Username)
		}
	})
}
