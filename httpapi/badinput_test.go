package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestBadInput sends what buggy or hostile clients send. Each request must
// get a 4xx problem that says what is wrong, and change nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const maxBody = 1024
	type input struct {
		name        string
		body        []byte
		contentType string // default application/json
		want        problemWant
	}
	// bodies common to every endpoint that takes JSON; valid is a good body
	// for the endpoint, used to build the variants, and field its first member.
	common := func(valid, field string) []input {
		quoted := `"` + field + `"`
		return []input{
			{"malformed JSON", []byte(`{"username": "jana", "password": }`), "", problemWant{400, "invalid", "malformed_json", ""}},
			{"truncated JSON", []byte(valid[:len(valid)-5]), "", problemWant{400, "invalid", "malformed_json", ""}},
			{"single quotes", []byte(`{'username': 'jana'}`), "", problemWant{400, "invalid", "malformed_json", ""}},
			{"array instead of object", []byte("[" + valid + "]"), "", problemWant{400, "invalid", "wrong_type", ""}},
			{"string instead of object", []byte(`"jana"`), "", problemWant{400, "invalid", "wrong_type", ""}},
			{"trailing object", []byte(valid + ` {}`), "", problemWant{400, "invalid", "malformed_json", ""}},
			{"trailing garbage", []byte(valid + `x`), "", problemWant{400, "invalid", "malformed_json", ""}},
			{"empty body", nil, "", problemWant{400, "invalid", "empty_body", ""}},
			{"whitespace body", []byte(" \n\t "), "", problemWant{400, "invalid", "empty_body", ""}},
			{"body over the limit", []byte(valid[:len(valid)-1] + `, "x": "` + strings.Repeat("a", 4*maxBody) + `"}`), "", problemWant{413, "invalid", "body_too_large", ""}},
			{"invalid UTF-8 in a string", []byte(valid[:len(valid)-2] + "\xff\"}"), "", problemWant{400, "invalid", "invalid_utf8", ""}},
			{"overlong UTF-8 encoding", []byte(valid[:len(valid)-2] + "\xc1\xa1\"}"), "", problemWant{400, "invalid", "invalid_utf8", ""}},
			{"text/plain", []byte(valid), "text/plain", problemWant{415, "invalid", "unsupported_media_type", ""}},
			{"form encoded", []byte("username=jana"), "application/x-www-form-urlencoded", problemWant{415, "invalid", "unsupported_media_type", ""}},
			{"unparsable content type", []byte(valid), "application/json; charset", problemWant{415, "invalid", "unsupported_media_type", ""}},
			{"unknown field", []byte(valid[:len(valid)-1] + `, "role": "admin"}`), "", problemWant{400, "invalid", "unknown_field", "role"}},
			{"field name in capitals", []byte(strings.Replace(valid, quoted, strings.ToUpper(quoted), 1)), "", problemWant{400, "invalid", "unknown_field", strings.ToUpper(field)}},
			{"repeated field", []byte(valid[:len(valid)-1] + `, ` + quoted + `: "other"}`), "", problemWant{400, "invalid", "duplicate_field", field}},
			{"null body", []byte(`null`), "", problemWant{400, "invalid", "wrong_type", ""}},
			{"null field", []byte(`{` + quoted + `: null}`), "", problemWant{400, "invalid", "wrong_type", field}},
		}
	}
	register := `{"username": "jana", "password": "` + password + `"}`
	login := `{"username": "pavel", "password": "` + password + `"}`
	profile := `{"display_name": "Pavel the Great"}`

	tests := []struct {
		method, path string
		auth         bool
		inputs       []input
	}{
		{"POST", "/api/v1/accounts", false, append(common(register, "username"),
			input{"username of the wrong type", []byte(`{"username": 42, "password": "` + password + `"}`), "", problemWant{400, "invalid", "wrong_type", "username"}},
			input{"password of the wrong type", []byte(`{"username": "jana", "password": true}`), "", problemWant{400, "invalid", "wrong_type", "password"}},
			input{"object for a string", []byte(`{"username": {"name": "jana"}, "password": "` + password + `"}`), "", problemWant{400, "invalid", "wrong_type", "username"}},
			input{"taken username", []byte(`{"username": "pavel", "password": "` + password + `"}`), "", problemWant{409, "conflict", "username_taken", "username"}},
			input{"taken username in other case", []byte(`{"username": "PaVeL", "password": "` + password + `"}`), "", problemWant{409, "conflict", "username_taken", "username"}},
			input{"confusable username", []byte(`{"username": "pave1", "password": "` + password + `"}`), "", problemWant{409, "conflict", "username_taken", "username"}},
			input{"fullwidth username", []byte(`{"username": "ｐａｖｅｌ", "password": "` + password + `"}`), "", problemWant{409, "conflict", "username_taken", "username"}},
			input{"mixed-script username", []byte(`{"username": "jаna", "password": "` + password + `"}`), "", problemWant{400, "invalid", "username_mixed_script", "username"}},
			input{"username too short", []byte(`{"username": "jan", "password": "` + password + `"}`), "", problemWant{400, "invalid", "username_too_short", "username"}},
			input{"missing username", []byte(`{"password": "` + password + `"}`), "", problemWant{400, "invalid", "username_too_short", "username"}},
			input{"weak password", []byte(`{"username": "jana", "password": "password123"}`), "", problemWant{400, "invalid", "weak_password", "password"}},
			input{"short password", []byte(`{"username": "jana", "password": "x7#k"}`), "", problemWant{400, "invalid", "weak_password", "password"}},
			input{"missing password", []byte(`{"username": "jana"}`), "", problemWant{400, "invalid", "weak_password", "password"}},
			input{"invalid email", []byte(`{"username": "jana", "password": "` + password + `", "email": "jana at example"}`), "", problemWant{400, "invalid", "invalid_email", "email"}},
			input{"invalid phone", []byte(`{"username": "jana", "password": "` + password + `", "phone": "0812345678"}`), "", problemWant{400, "invalid", "invalid_phone", "phone"}},
			input{"control character in display name", []byte(`{"username": "jana", "password": "` + password + `", "display_name": "Ja\u0000na"}`), "", problemWant{400, "invalid", "invalid_characters", "display_name"}},
		)},
		{"POST", "/api/v1/sessions", false, append(common(login, "username"),
			input{"username of the wrong type", []byte(`{"username": ["pavel"], "password": "` + password + `"}`), "", problemWant{400, "invalid", "wrong_type", "username"}},
			input{"wrong password", []byte(`{"username": "pavel", "password": "not-the-password-1"}`), "", problemWant{401, "unauthenticated", "wrong_credentials", ""}},
			input{"unknown user", []byte(`{"username": "nobody", "password": "` + password + `"}`), "", problemWant{401, "unauthenticated", "wrong_credentials", ""}},
			input{"invalid username", []byte(`{"username": "?", "password": "` + password + `"}`), "", problemWant{401, "unauthenticated", "wrong_credentials", ""}},
			input{"device name too long", []byte(`{"username": "pavel", "password": "` + password + `", "device_name": "` + strings.Repeat("d", 65) + `"}`), "", problemWant{400, "invalid", "too_long", "device_name"}},
		)},
		{"PATCH", "/api/v1/me", true, append(common(profile, "display_name"),
			input{"display name of the wrong type", []byte(`{"display_name": 7}`), "", problemWant{400, "invalid", "wrong_type", "display_name"}},
			input{"empty display name", []byte(`{"display_name": "  "}`), "", problemWant{400, "invalid", "empty", "display_name"}},
			input{"display name too long", []byte(`{"display_name": "` + strings.Repeat("é", 65) + `"}`), "", problemWant{400, "invalid", "too_long", "display_name"}},
			input{"invisible characters", []byte(`{"display_name": "Pavel\u202e"}`), "", problemWant{400, "invalid", "invalid_characters", "display_name"}},
			input{"invalid email", []byte(`{"email": "Pavel <pavel@example.com>"}`), "", problemWant{400, "invalid", "invalid_email", "email"}},
			input{"invalid phone", []byte(`{"phone": "+62 abc"}`), "", problemWant{400, "invalid", "invalid_phone", "phone"}},
			input{"null email", []byte(`{"email": null}`), "", problemWant{400, "invalid", "wrong_type", "email"}},
			input{"valid name, invalid email", []byte(`{"display_name": "Changed", "email": "nope"}`), "", problemWant{400, "invalid", "invalid_email", "email"}},
		)},
	}

	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{maxBody: maxBody})
		h.register(t, "pavel")
		token := h.login(t, "pavel", password, "Pixel 8").Token
		for _, tt := range tests {
			for _, in := range tt.inputs {
				t.Run(tt.method+" "+tt.path+"/"+in.name, func(t *testing.T) {
					c := call{method: tt.method, path: tt.path, body: in.body, contentType: in.contentType, mode: checkResponse}
					if in.body == nil {
						c.body = []byte{}
					}
					if tt.auth {
						c.token = token
					}
					rowsBefore := countRows(t, db)
					me := h.do(t, "GET", "/api/v1/me", token, nil)
					resp := h.send(t, c)
					resp.wantProblem(t, tt.method+" "+tt.path, in.want)
					if after := countRows(t, db); after != rowsBefore {
						t.Errorf("rows changed from %+v to %+v", rowsBefore, after)
					}
					if again := h.do(t, "GET", "/api/v1/me", token, nil); !bytes.Equal(again.body, me.body) {
						t.Errorf("the account changed from %s to %s", me.body, again.body)
					}
				})
			}
		}
	}, schema...)
}

// TestBadToken checks that requests without a valid token are refused with a
// Bearer challenge, before the handler acts on anything they carry.
func TestBadToken(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "pavel")
		token := h.login(t, "pavel", password, "Pixel 8").Token
		other := h.login(t, "pavel", password, "Laptop")

		tests := []struct {
			name          string
			authorization string // the whole header; empty sends none
			reason        string
		}{
			{"no Authorization header", "", "missing_token"},
			{"Basic credentials", "Basic cGF2ZWw6d2V0LW90dGVyLWxhbnRlcm4tOQ==", "missing_token"},
			{"Bearer without a token", "Bearer ", "missing_token"},
			{"Bearer alone", "Bearer", "missing_token"},
			{"no space after Bearer", "Bearer" + token, "missing_token"},
			{"bare token", token, "missing_token"},
			{"not a kurir token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo", "invalid_token"},
			{"unknown kurir token", "Bearer kurir_" + strings.Repeat("A", 43), "invalid_token"},
			{"token with a typo", "Bearer " + token[:len(token)-1] + "x", "invalid_token"},
			{"token with extra text", "Bearer " + token + "x", "invalid_token"},
			{"overlong token", "Bearer kurir_" + strings.Repeat("A", 4000), "invalid_token"},
		}
		requests := []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/me", nil},
			{"PATCH", "/api/v1/me", map[string]string{"display_name": "Hijacked"}},
			{"POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": "quiet-heron-marmalade-4"}},
			{"POST", "/api/v1/me/deletion", map[string]string{"password": password}},
			{"GET", "/api/v1/sessions", nil},
			{"DELETE", "/api/v1/sessions/current", nil},
			{"DELETE", "/api/v1/sessions/" + itoa(other.Session.ID), nil},
			{"GET", "/api/v1/users/pavel", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, r := range requests {
					before := countRows(t, db)
					me := h.do(t, "GET", "/api/v1/me", token, nil)
					c := call{method: r.method, path: r.path, body: r.body, header: http.Header{}}
					if tt.authorization != "" {
						c.header.Set("Authorization", tt.authorization)
					}
					h.send(t, c).wantProblem(t, r.method+" "+r.path, problemWant{http.StatusUnauthorized, "unauthenticated", tt.reason, ""})
					if after := countRows(t, db); after != before {
						t.Errorf("%s %s: rows changed from %+v to %+v", r.method, r.path, before, after)
					}
					if again := h.do(t, "GET", "/api/v1/me", token, nil); !bytes.Equal(again.body, me.body) {
						t.Errorf("%s %s: the account changed from %s to %s", r.method, r.path, me.body, again.body)
					}
				}
			})
		}
		// The password is unchanged and the other device still logged in.
		h.do(t, "GET", "/api/v1/me", other.Token, nil).want(t, "the other device", http.StatusOK, nil)
		h.login(t, "pavel", password, "Tablet")
	}, schema...)
}

// TestBadSessionID checks the session path parameter.
func TestBadSessionID(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "pavel")
		h.register(t, "jana")
		token := h.login(t, "pavel", password, "Pixel 8").Token
		janas := h.login(t, "jana", password, "Phone")
		tests := []struct {
			name, path string
			mode       checkMode
			want       problemWant
		}{
			{"not a number", "/api/v1/sessions/abc", checkResponse, problemWant{400, "invalid", "invalid_id", "id"}},
			{"too big", "/api/v1/sessions/99999999999999999999", checkResponse, problemWant{400, "invalid", "invalid_id", "id"}},
			{"no such session", "/api/v1/sessions/987654", checkBoth, problemWant{404, "not_found", "", ""}},
			{"someone else's session", "/api/v1/sessions/" + itoa(janas.Session.ID), checkBoth, problemWant{404, "not_found", "", ""}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := countRows(t, db)
				h.send(t, call{method: "DELETE", path: tt.path, token: token, mode: tt.mode}).wantProblem(t, "DELETE "+tt.path, tt.want)
				if after := countRows(t, db); after != before {
					t.Errorf("rows changed from %+v to %+v", before, after)
				}
			})
		}
		h.do(t, "GET", "/api/v1/me", janas.Token, nil).want(t, "jana's session", http.StatusOK, nil)
	}, schema...)
}
