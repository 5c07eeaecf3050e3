package httpapi_test

import (
	"net/http"
	"testing"

	"kurir/httpapi"
	"kurir/sqldb/sqldbtest"
)

// FuzzRegisterEndpoint posts arbitrary bytes to POST /api/v1/accounts on a
// real server. Whatever the body, the server never fails (5xx); every refusal
// is a problem+json matching the document and adds no account; and it
// creates an account only from a body the OpenAPI document allows.
func FuzzRegisterEndpoint(f *testing.F) {
	for _, s := range httpapi.RequestBodySeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"username":"jana","password":"wet-otter-lantern-9","phone":"+420 601 234 567"}`,
		`{"username":"ｊａｎａ","password":"wet-otter-lantern-9"}`,
		`{"username":"jаna","password":"wet-otter-lantern-9"}`,
		`{"username":"pave1","password":"wet-otter-lantern-9"}`,
		`{"username":"admin","password":"wet-otter-lantern-9"}`,
		`{"username":"pavel","password":"pavel123"}`,
		`{"username":"pavel","password":"wet-otter-lantern-9","display_name":"\u202eevil"}`,
		`{"username":"pavel","password":"wet-otter-lantern-9","email":"\"a\\u0000\"@example.com"}`,
		`{"username":"प्रिया","password":"wet-otter-lantern-9"}`,
		// Accepted before decode refused what encoding/json lets through.
		`{"USERNAME":"zora","PASSWORD":"wet-otter-lantern-9"}`,
		`{"username":"yuki","password":"wet-otter-lantern-9","email":null}`,
		`{"username":"xena","password":"wet-otter-lantern-9","username":"xena2"}`,
	} {
		f.Add([]byte(s))
	}
	db := sqldbtest.SQLite(f, schema...)
	h := newHarness(f, db, options{quiet: true})
	spec := h.srv.Spec()
	f.Fuzz(func(t *testing.T, body []byte) {
		if body == nil {
			body = []byte{} // send an empty body, not none
		}
		before := countRows(t, db)
		// The checking client validates the response against the document.
		resp := h.send(t, call{method: "POST", path: "/api/v1/accounts", body: body, mode: checkResponse})
		after := countRows(t, db)
		switch {
		case resp.status == http.StatusCreated:
			if err := spec.ValidateRequest("POST", "/api/v1/accounts", "application/json", body); err != nil {
				t.Errorf("created an account from %q, which the document refuses: %v", body, err)
			}
			if after.users != before.users+1 {
				t.Errorf("201 for %q, but users went from %d to %d", body, before.users, after.users)
			}
		case resp.status >= 400 && resp.status < 500:
			if after != before {
				t.Errorf("%d for %q, but rows changed from %+v to %+v", resp.status, body, before, after)
			}
		default:
			t.Errorf("status %d for %q: %s", resp.status, body, resp.body)
		}
	})
}
