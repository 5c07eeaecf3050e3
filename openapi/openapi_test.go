package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The types below stand in for the HTTP layer's: nested structs, slices,
// time.Time, enums, optional, pointer and nullable fields, a generic type.

type problem struct {
	Type       string `json:"type" jsonschema:"format=uri-reference"`
	Title      string `json:"title"`
	Status     int    `json:"status" jsonschema:"minimum=400,maximum=599"`
	Detail     string `json:"detail,omitempty"`
	Instance   string `json:"instance,omitempty"`
	Code       string `json:"code" jsonschema:"enum=not_found,enum=invalid,enum=conflict,enum=unauthenticated"`
	Reason     string `json:"reason,omitempty"`
	Field      string `json:"field,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty" jsonschema:"minimum=0"`
}

type role string

type user struct {
	ID   int64  `json:"id"`
	Name string `json:"name" jsonschema:"minLength=1,maxLength=64"`
	Role role   `json:"role" jsonschema:"enum=user,enum=moderator,enum=admin"`
}

type session struct {
	ID      int64             `json:"id"`
	User    user              `json:"user" jsonschema_description:"The account, signed in."`
	Created time.Time         `json:"created"`
	Expires *time.Time        `json:"expires,omitempty"`
	Device  *string           `json:"device" jsonschema:"nullable"`
	Scopes  []string          `json:"scopes"`
	Labels  map[string]string `json:"labels,omitempty"`
}

type createSession struct {
	Login    string `json:"login" jsonschema:"minLength=1"`
	Password string `json:"password" jsonschema:"minLength=8"`
	Device   string `json:"device,omitempty"`
}

type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func testOperations() []Operation {
	id := Param{Name: "id", In: "path", Description: "Session ID.", Schema: int64(0)}
	return []Operation{
		{
			Method: "GET", Path: "/api/v1/sessions/{id}", ID: "getSession",
			Summary: "Get a session", Tags: []string{"sessions"}, Auth: true,
			Params:    []Param{id},
			Responses: map[int]Response{200: {Body: session{}}},
		},
		{
			Method: "GET", Path: "/api/v1/sessions/current", ID: "getCurrentSession", Auth: true,
			Responses: map[int]Response{200: {Description: "The caller's session.", Body: &session{}}},
		},
		{
			Method: "DELETE", Path: "/api/v1/sessions/{id}", ID: "deleteSession", Auth: true,
			Params:    []Param{id},
			Responses: map[int]Response{204: {Description: "Signed out."}},
		},
		{
			Method: "POST", Path: "/api/v1/sessions", ID: "createSession", Summary: "Sign in",
			Request: createSession{},
			Responses: map[int]Response{
				201: {Body: session{}},
				409: {Description: "Already signed in on this device."},
			},
		},
		{
			Method: "GET", Path: "/api/v1/users", ID: "listUsers", Auth: true,
			Params: []Param{
				{Name: "q", In: "query", Required: true, Description: "Name prefix."},
				{Name: "limit", In: "query", Schema: 0},
				{Name: "admins", In: "query", Schema: false},
			},
			Responses: map[int]Response{200: {Body: page[user]{}}},
		},
		{
			Method: "GET", Path: "/api/v1/export", ID: "exportAccount", Auth: true,
			Responses: map[int]Response{200: {ContentType: "application/zip"}},
		},
	}
}

func newTestSpec(t testing.TB) *Spec {
	t.Helper()
	s := New(Info{Title: "kurir", Version: "1", Description: "Test API.", Problem: problem{}})
	for _, op := range testOperations() {
		s.Add(op)
	}
	return s
}

// document marshals s and decodes the result into generic values.
func document(t *testing.T, s *Spec) map[string]any {
	t.Helper()
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("MarshalJSON output is not JSON: %v", err)
	}
	return doc
}

// at returns the value at path in a decoded document, failing the test if
// there is none.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, key := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				t.Fatalf("no %q at /%s", key, strings.Join(path[:i], "/"))
			}
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(x) {
				t.Fatalf("no index %q at /%s", key, strings.Join(path[:i], "/"))
			}
			v = x[n]
		default:
			t.Fatalf("/%s is %T, not a container", strings.Join(path[:i], "/"), v)
		}
	}
	return v
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDocument(t *testing.T) {
	doc := document(t, newTestSpec(t))
	schemas := at(t, doc, "components", "schemas").(map[string]any)

	tests := []struct {
		name string
		path []string
		want string // JSON
	}{
		{"openapi version", []string{"openapi"}, `"3.1.0"`},
		{"info", []string{"info"}, `{"description":"Test API.","title":"kurir","version":"1"}`},
		{"required fields", []string{"components", "schemas", "session", "required"},
			`["id","user","created","device","scopes"]`},
		{"no additional properties", []string{"components", "schemas", "session", "additionalProperties"}, `false`},
		{"nested struct by reference", []string{"components", "schemas", "session", "properties", "user"},
			`{"$ref":"#/components/schemas/user","description":"The account, signed in."}`},
		{"time", []string{"components", "schemas", "session", "properties", "created"},
			`{"format":"date-time","type":"string"}`},
		{"optional pointer", []string{"components", "schemas", "session", "properties", "expires"},
			`{"format":"date-time","type":"string"}`},
		{"nullable pointer", []string{"components", "schemas", "session", "properties", "device"},
			`{"oneOf":[{"type":"string"},{"type":"null"}]}`},
		{"slice", []string{"components", "schemas", "session", "properties", "scopes"},
			`{"items":{"type":"string"},"type":"array"}`},
		{"map", []string{"components", "schemas", "session", "properties", "labels"},
			`{"additionalProperties":{"type":"string"},"type":"object"}`},
		{"enum of named string", []string{"components", "schemas", "user", "properties", "role"},
			`{"enum":["user","moderator","admin"],"type":"string"}`},
		{"length limits", []string{"components", "schemas", "user", "properties", "name"},
			`{"maxLength":64,"minLength":1,"type":"string"}`},
		{"generic type name", []string{"components", "schemas", "page_user", "properties", "items"},
			`{"items":{"$ref":"#/components/schemas/user"},"type":"array"}`},
		{"problem schema under its fixed name", []string{"components", "schemas", "Problem", "required"},
			`["type","title","status","code"]`},
		{"problem response", []string{"components", "responses", "Problem", "content"},
			`{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}}`},
		{"security scheme", []string{"components", "securitySchemes"},
			`{"bearer":{"scheme":"bearer","type":"http"}}`},
		{"auth operation", []string{"paths", "/api/v1/sessions/{id}", "get", "security"}, `[{"bearer":[]}]`},
		{"path parameter", []string{"paths", "/api/v1/sessions/{id}", "get", "parameters"},
			`[{"description":"Session ID.","in":"path","name":"id","required":true,"schema":{"type":"integer"}}]`},
		{"response body", []string{"paths", "/api/v1/sessions/{id}", "get", "responses", "200"},
			`{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/session"}}},"description":"OK"}`},
		{"error ranges", []string{"paths", "/api/v1/sessions/{id}", "get", "responses", "4XX"},
			`{"$ref":"#/components/responses/Problem"}`},
		{"no body", []string{"paths", "/api/v1/sessions/{id}", "delete", "responses", "204"},
			`{"description":"Signed out."}`},
		{"request body", []string{"paths", "/api/v1/sessions", "post", "requestBody"},
			`{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/createSession"}}},"required":true}`},
		{"declared error status gets the problem body", []string{"paths", "/api/v1/sessions", "post", "responses", "409"},
			`{"content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"Already signed in on this device."}`},
		{"non-JSON body", []string{"paths", "/api/v1/export", "get", "responses", "200"},
			`{"content":{"application/zip":{}},"description":"OK"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := asJSON(at(t, doc, tt.path...)); got != tt.want {
				t.Errorf("/%s\n got %s\nwant %s", strings.Join(tt.path, "/"), got, tt.want)
			}
		})
	}

	if _, ok := at(t, doc, "paths", "/api/v1/sessions", "post").(map[string]any)["security"]; ok {
		t.Error("public operation has a security requirement")
	}
	for _, name := range []string{"role", "time", "Time"} {
		if _, ok := schemas[name]; ok {
			t.Errorf("components/schemas has %q; scalar and time types should be inlined", name)
		}
	}
}

// TestDocumentShape checks the document against a hand-written subset of the
// OpenAPI 3.1 schema, which also checks every schema in it against the JSON
// Schema 2020-12 meta-schema, and then checks what a schema cannot: every
// $ref resolves and operation IDs are unique.
func TestDocumentShape(t *testing.T) {
	b, err := newTestSpec(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}

	c := jsonschema.NewCompiler()
	meta, err := c.Compile("testdata/openapi-3.1-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Validate(doc); err != nil {
		t.Errorf("document does not match the OpenAPI 3.1 subset:\n%v", err)
	}

	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				refs = append(refs, ref)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, ref := range refs {
		ptr, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Errorf("$ref %q is not local", ref)
			continue
		}
		v := doc
		for _, tok := range strings.Split(ptr, "/") {
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			m, _ := v.(map[string]any)
			if v, ok = m[tok]; !ok {
				t.Errorf("$ref %q does not resolve", ref)
				break
			}
		}
	}

	ids := map[string]string{}
	for path, item := range doc.(map[string]any)["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			id := op.(map[string]any)["operationId"].(string)
			if prev, ok := ids[id]; ok {
				t.Errorf("operationId %q used by %s and %s %s", id, prev, method, path)
			}
			ids[id] = method + " " + path
		}
	}
	if len(ids) != len(testOperations()) {
		t.Errorf("document has %d operations, want %d", len(ids), len(testOperations()))
	}
}

// TestDocumentShapeRejects proves the shape check can fail.
func TestDocumentShapeRejects(t *testing.T) {
	c := jsonschema.NewCompiler()
	meta, err := c.Compile("testdata/openapi-3.1-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]any{
		"openapi": "3.0.3", "info": map[string]any{"title": "x"}, "paths": map[string]any{}, "components": map[string]any{},
	}
	if err := meta.Validate(bad); err == nil {
		t.Error("a 3.0 document without info.version passed")
	}
}

func TestMarshalJSONDeterministic(t *testing.T) {
	a := newTestSpec(t)
	b := New(Info{Title: "kurir", Version: "1", Description: "Test API.", Problem: &problem{}})
	ops := testOperations()
	slices.Reverse(ops)
	for _, op := range ops {
		b.Add(op)
	}
	ja, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jb, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Errorf("same operations added in another order give another document:\n%s\n%s", ja, jb)
	}
	again, _ := a.MarshalJSON()
	if !bytes.Equal(ja, again) {
		t.Error("MarshalJSON is not stable across calls")
	}
}

const goodSession = `{"id":42,"user":{"id":7,"name":"ana","role":"admin"},"created":"2025-01-02T03:04:05Z","device":null,"scopes":[]}`

func TestValidateResponse(t *testing.T) {
	s := newTestSpec(t)
	const (
		jsonCT    = "application/json; charset=utf-8"
		problemCT = "application/problem+json"
	)
	notFound := `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`
	tests := []struct {
		name   string
		method string
		path   string
		status int
		ct     string
		body   string
		want   string // substring of the error; "" for none
	}{
		{"correct body", "GET", "/api/v1/sessions/42", 200, jsonCT, goodSession, ""},
		{"optional fields present", "GET", "/api/v1/sessions/42", 200, jsonCT,
			`{"id":42,"user":{"id":7,"name":"ana","role":"user"},"created":"2025-01-02T03:04:05+01:00","expires":"2025-02-02T03:04:05Z","device":"phone","scopes":["chat"],"labels":{"a":"b"}}`, ""},
		{"lower-case method and query ignored", "get", "/api/v1/sessions/42?x=1", 200, jsonCT, goodSession, ""},
		{"literal path wins over parameter", "GET", "/api/v1/sessions/current", 200, jsonCT, goodSession, ""},
		{"missing required field", "GET", "/api/v1/sessions/42", 200, jsonCT,
			`{"id":42,"user":{"id":7,"role":"admin"},"created":"2025-01-02T03:04:05Z","device":null,"scopes":[]}`,
			`GET /api/v1/sessions/{id} (getSession): response 200: at '/user': missing property 'name'`},
		{"extra field", "GET", "/api/v1/sessions/42", 200, jsonCT,
			strings.Replace(goodSession, `"id":42`, `"id":42,"secret":"x"`, 1),
			`response 200: at '': additional properties 'secret' not allowed`},
		{"wrong type", "GET", "/api/v1/sessions/42", 200, jsonCT,
			strings.Replace(goodSession, `"id":7`, `"id":"7"`, 1),
			`at '/user/id': got string, want integer`},
		{"nil slice", "GET", "/api/v1/sessions/42", 200, jsonCT,
			strings.Replace(goodSession, `"scopes":[]`, `"scopes":null`, 1),
			`at '/scopes': got null, want array`},
		{"bad enum", "GET", "/api/v1/sessions/42", 200, jsonCT,
			strings.Replace(goodSession, `"admin"`, `"root"`, 1),
			`at '/user/role': value must be one of`},
		{"bad date-time", "GET", "/api/v1/sessions/42", 200, jsonCT,
			strings.Replace(goodSession, `2025-01-02T03:04:05Z`, `yesterday`, 1),
			`at '/created': 'yesterday' is not valid date-time`},
		{"not JSON", "GET", "/api/v1/sessions/42", 200, jsonCT, `{"id":`, "body is not JSON"},
		{"trailing data", "GET", "/api/v1/sessions/42", 200, jsonCT, goodSession + `{}`, "body is not JSON"},
		{"empty body", "GET", "/api/v1/sessions/42", 200, jsonCT, ``, "empty body"},
		{"wrong content type", "GET", "/api/v1/sessions/42", 200, "text/html", goodSession,
			`response 200: content type "text/html", documented "application/json"`},
		{"undeclared 2xx", "GET", "/api/v1/sessions/42", 201, jsonCT, goodSession,
			"response 201 is not documented (documented: [200])"},
		{"undeclared 3xx", "GET", "/api/v1/sessions/42", 302, "", "", "response 302 is not documented"},
		{"problem for 404", "GET", "/api/v1/sessions/42", 404, problemCT, notFound, ""},
		{"problem for 500", "DELETE", "/api/v1/sessions/42", 500, problemCT,
			`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"not_found","detail":"x"}`,
			""},
		{"bad problem", "GET", "/api/v1/sessions/42", 404, problemCT, `{"title":"Not Found","status":404,"code":"lost"}`,
			`response 404 problem: at '': missing property 'type'; at '/code': value must be one of`},
		{"problem with extra member", "GET", "/api/v1/sessions/42", 404, problemCT,
			strings.Replace(notFound, `"code"`, `"stack":"main.go:1","code"`, 1), `additional properties 'stack' not allowed`},
		{"error status as plain JSON", "GET", "/api/v1/sessions/42", 404, jsonCT, notFound,
			`response 404: content type "application/json; charset=utf-8", want application/problem+json`},
		{"declared error status", "POST", "/api/v1/sessions", 409, problemCT,
			`{"type":"about:blank","title":"Conflict","status":409,"code":"conflict"}`, ""},
		{"declared error status, bad problem", "POST", "/api/v1/sessions", 409, problemCT,
			`{"title":"Conflict","status":409,"code":"conflict"}`, `response 409: at '': missing property 'type'`},
		{"no body", "DELETE", "/api/v1/sessions/42", 204, "", "", ""},
		{"body where none is documented", "DELETE", "/api/v1/sessions/42", 204, jsonCT, `{}`,
			"response 204: documented without a body"},
		{"non-JSON body", "GET", "/api/v1/export", 200, "application/zip", "PK\x03\x04", ""},
		{"non-JSON body, wrong type", "GET", "/api/v1/export", 200, jsonCT, "{}", `documented "application/zip"`},
		{"unknown path", "GET", "/api/v1/nowhere", 200, jsonCT, `{}`, "GET /api/v1/nowhere: no documented path matches"},
		{"parameter needs a segment", "GET", "/api/v1/sessions/", 200, jsonCT, goodSession, "no documented path matches"},
		{"unknown method", "PATCH", "/api/v1/sessions/42", 200, jsonCT, `{}`,
			"PATCH /api/v1/sessions/42: method not documented for this path (documented: DELETE, GET)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateResponse(tt.method, tt.path, tt.status, tt.ct, []byte(tt.body))
			checkErr(t, err, tt.want)
		})
	}
}

func TestValidateRequest(t *testing.T) {
	s := newTestSpec(t)
	tests := []struct {
		name   string
		method string
		path   string
		ct     string
		body   string
		want   string
	}{
		{"correct body", "POST", "/api/v1/sessions", "application/json", `{"login":"ana","password":"correct horse"}`, ""},
		{"optional field", "POST", "/api/v1/sessions", "application/json; charset=utf-8",
			`{"login":"ana","password":"correct horse","device":"phone"}`, ""},
		{"missing required field", "POST", "/api/v1/sessions", "application/json", `{"login":"ana"}`,
			`POST /api/v1/sessions (createSession): request body: at '': missing property 'password'`},
		{"extra field", "POST", "/api/v1/sessions", "application/json",
			`{"login":"ana","password":"correct horse","admin":true}`, `additional properties 'admin' not allowed`},
		{"wrong type", "POST", "/api/v1/sessions", "application/json", `{"login":1,"password":"correct horse"}`,
			`at '/login': got number, want string`},
		{"too short", "POST", "/api/v1/sessions", "application/json", `{"login":"ana","password":"x"}`,
			`at '/password': minLength: got 1, want 8`},
		{"not an object", "POST", "/api/v1/sessions", "application/json", `[]`, `at '': got array, want object`},
		{"missing body", "POST", "/api/v1/sessions", "application/json", ``, "request body: empty body"},
		{"wrong content type", "POST", "/api/v1/sessions", "application/x-www-form-urlencoded", `login=ana`,
			`content type "application/x-www-form-urlencoded", want application/json`},
		{"no body expected", "GET", "/api/v1/sessions/42", "", ``, ""},
		{"unexpected body", "DELETE", "/api/v1/sessions/42", "application/json", `{}`, "the operation takes none"},
		{"bad path parameter", "GET", "/api/v1/sessions/abc", "", ``, `path parameter "id": "abc" is not a valid integer`},
		{"escaped path parameter", "GET", "/api/v1/sessions/%34%32", "", ``, ""},
		{"query", "GET", "/api/v1/users?q=an&limit=10&admins=true", "", ``, ""},
		{"escaped query", "GET", "/api/v1/users?q=a%20b", "", ``, ""},
		{"missing required query", "GET", "/api/v1/users?limit=10", "", ``, `missing required query parameter "q"`},
		{"missing query string", "GET", "/api/v1/users", "", ``, `missing required query parameter "q"`},
		{"bad integer query", "GET", "/api/v1/users?q=a&limit=ten", "", ``, `query parameter "limit": "ten" is not a valid integer`},
		{"bad boolean query", "GET", "/api/v1/users?q=a&admins=maybe", "", ``, `"maybe" is not a valid boolean`},
		{"repeated query", "GET", "/api/v1/users?q=a&q=b", "", ``, `query parameter "q" given 2 times`},
		{"undocumented query", "GET", "/api/v1/users?q=a&sort=name", "", ``, `undocumented query parameter "sort"`},
		{"unknown path", "GET", "/nowhere", "", ``, "no documented path matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateRequest(tt.method, tt.path, tt.ct, []byte(tt.body))
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got error %v, want none", err)
	case want != "" && err == nil:
		t.Errorf("got no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("got error\n\t%v\nwant it to contain\n\t%s", err, want)
	}
}

func TestAddPanics(t *testing.T) {
	ok := map[int]Response{200: {}}
	tests := []struct {
		name string
		op   Operation
		want string
	}{
		{"duplicate", Operation{Method: "GET", Path: "/api/v1/sessions/{id}", ID: "other",
			Params: []Param{{Name: "id", In: "path"}}, Responses: ok}, "duplicate of GET /api/v1/sessions/{id}"},
		{"duplicate with another parameter name", Operation{Method: "get", Path: "/api/v1/sessions/{sid}", ID: "other",
			Params: []Param{{Name: "sid", In: "path"}}, Responses: ok}, "duplicate of GET /api/v1/sessions/{id}"},
		{"same path, other parameter name", Operation{Method: "PUT", Path: "/api/v1/sessions/{sid}", ID: "other",
			Params: []Param{{Name: "sid", In: "path"}}, Responses: ok}, "same path as /api/v1/sessions/{id}"},
		{"duplicate ID", Operation{Method: "PUT", Path: "/x", ID: "getSession", Responses: ok},
			`operation ID "getSession" already used by GET /api/v1/sessions/{id}`},
		{"no ID", Operation{Method: "GET", Path: "/x", Responses: ok}, "no operation ID"},
		{"unknown method", Operation{Method: "FETCH", Path: "/x", ID: "x", Responses: ok}, `unknown method "FETCH"`},
		{"relative path", Operation{Method: "GET", Path: "x", ID: "x", Responses: ok}, "does not start with /"},
		{"partial segment parameter", Operation{Method: "GET", Path: "/files/{name}.json", ID: "x", Responses: ok},
			"must fill a whole segment"},
		{"undeclared path parameter", Operation{Method: "GET", Path: "/x/{id}", ID: "x", Responses: ok},
			"path parameter {id} is not declared"},
		{"path parameter not in path", Operation{Method: "GET", Path: "/x", ID: "x",
			Params: []Param{{Name: "id", In: "path"}}, Responses: ok}, `path parameter "id" is not in the path`},
		{"cookie parameter", Operation{Method: "GET", Path: "/x", ID: "x",
			Params: []Param{{Name: "X-Id", In: "cookie"}}, Responses: ok}, `In is "cookie"`},
		{"non-scalar parameter", Operation{Method: "GET", Path: "/x", ID: "x",
			Params: []Param{{Name: "ids", In: "query", Schema: []int{}}}, Responses: ok}, "is not a scalar type"},
		{"no responses", Operation{Method: "GET", Path: "/x", ID: "x"}, "no responses"},
		{"bad status", Operation{Method: "GET", Path: "/x", ID: "x", Responses: map[int]Response{2000: {}}}, "status 2000"},
		{"undescribable type", Operation{Method: "GET", Path: "/x", ID: "x",
			Responses: map[int]Response{200: {Body: struct{ C chan int }{}}}}, "GET /x: response 200: unsupported type chan int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSpec(t)
			got := panicMessage(func() { s.Add(tt.op) })
			if !strings.Contains(got, tt.want) {
				t.Errorf("Add panicked with %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func panicMessage(f func()) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	f()
	return "no panic"
}

func TestNameCollision(t *testing.T) {
	type user struct { // same name as the package-level user, another type
		Nick string `json:"nick"`
	}
	s := newTestSpec(t)
	got := panicMessage(func() {
		s.Add(Operation{Method: "GET", Path: "/nick", ID: "nick", Responses: map[int]Response{200: {Body: user{}}}})
	})
	if want := `GET /nick: response 200: schema name "user" is used by both`; !strings.Contains(got, want) {
		t.Errorf("Add panicked with %q, want it to contain %q", got, want)
	}

	type Problem struct{}
	got = panicMessage(func() {
		s.Add(Operation{Method: "GET", Path: "/p", ID: "p", Responses: map[int]Response{200: {Body: Problem{}}}})
	})
	if want := `schema name "Problem" is used by both`; !strings.Contains(got, want) {
		t.Errorf("Add panicked with %q, want it to contain %q", got, want)
	}
}

func TestNewPanics(t *testing.T) {
	tests := []struct {
		name string
		info Info
		want string
	}{
		{"no title", Info{Version: "1", Problem: problem{}}, "needs a Title and a Version"},
		{"no problem", Info{Title: "t", Version: "1"}, "Info.Problem must be a struct, not <nil>"},
		{"problem not a struct", Info{Title: "t", Version: "1", Problem: "oops"}, "must be a struct, not string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := panicMessage(func() { New(tt.info) }); !strings.Contains(got, tt.want) {
				t.Errorf("New panicked with %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestAddAfterFreeze(t *testing.T) {
	s := newTestSpec(t)
	if err := s.ValidateRequest("GET", "/api/v1/sessions/1", "", nil); err != nil {
		t.Fatal(err)
	}
	got := panicMessage(func() {
		s.Add(Operation{Method: "GET", Path: "/late", ID: "late", Responses: map[int]Response{200: {}}})
	})
	if want := "after the spec was frozen"; !strings.Contains(got, want) {
		t.Errorf("Add panicked with %q, want it to contain %q", got, want)
	}
}

func TestOperations(t *testing.T) {
	s := newTestSpec(t)
	ops := s.Operations()
	var got []string
	for _, op := range ops {
		got = append(got, op.Method+" "+op.Path)
	}
	want := []string{
		"GET /api/v1/export",
		"POST /api/v1/sessions",
		"GET /api/v1/sessions/current",
		"GET /api/v1/sessions/{id}",
		"DELETE /api/v1/sessions/{id}",
		"GET /api/v1/users",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Operations()\n got %q\nwant %q", got, want)
	}
	if !ops[3].Params[0].Required {
		t.Error("path parameter not marked required")
	}

	ops[3].Params[0].Name = "changed"
	ops[3].Responses[500] = Response{}
	again := s.Operations()
	if again[3].Params[0].Name != "id" || len(again[3].Responses) != 1 {
		t.Error("changing the result of Operations changed the Spec")
	}
	if !reflect.DeepEqual(again, s.Operations()) {
		t.Error("Operations is not stable")
	}
}

// TestConcurrentUse races first use, to be run with -race.
func TestConcurrentUse(t *testing.T) {
	s := newTestSpec(t)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 10 {
		wg.Go(func() {
			errs <- s.ValidateResponse("GET", "/api/v1/sessions/1", 200, "application/json", []byte(goodSession))
		})
		wg.Go(func() {
			errs <- s.ValidateRequest("POST", "/api/v1/sessions", "application/json", []byte(`{"login":"a","password":"12345678"}`))
		})
		wg.Go(func() {
			_, err := s.MarshalJSON()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestComponentName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Session", "Session"},
		{"page[kurir/messaging.Message]", "page_Message"},
		{"Pair[int,kurir/x.Y]", "Pair_int_Y"},
		{"Page[map[string]kurir/a/b.C]", "Page_map_string_C"},
	}
	for _, tt := range tests {
		if got := componentName(tt.in); got != tt.want {
			t.Errorf("componentName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzValidateRequest(f *testing.F) {
	f.Add("POST", "/api/v1/sessions", "application/json", []byte(`{"login":"ana","password":"correct horse"}`))
	f.Add("GET", "/api/v1/users?q=a&limit=1", "", []byte(nil))
	f.Add("GET", "/api/v1/sessions/%zz", "", []byte(nil))
	s := newTestSpec(f)
	f.Fuzz(func(t *testing.T, method, path, ct string, body []byte) {
		_ = s.ValidateRequest(method, path, ct, body)
		_ = s.ValidateResponse(method, path, 200, ct, body)
	})
}

func TestInvalidSchema(t *testing.T) {
	type badPattern struct {
		Code string `json:"code" jsonschema:"pattern=^([a-z$"`
	}
	s := newTestSpec(t)
	s.Add(Operation{Method: "GET", Path: "/bad", ID: "bad", Responses: map[int]Response{200: {Body: badPattern{}}}})
	if _, err := s.MarshalJSON(); err == nil || !strings.Contains(err.Error(), "/components/schemas/badPattern") {
		t.Errorf("MarshalJSON error = %v, want one naming the bad schema", err)
	}
	if err := s.ValidateResponse("GET", "/bad", 200, "application/json", []byte(`{"code":"a"}`)); err == nil {
		t.Error("ValidateResponse succeeded on a spec whose schemas do not compile")
	}
}

func TestMediaMatches(t *testing.T) {
	for _, tt := range []struct {
		mt, doc string
		want    bool
	}{
		{"image/png", "image/png", true},
		{"image/png", "*/*", true},
		{"image/png", "image/*", true},
		{"video/mp4", "image/*", false},
		{"imagex/png", "image/*", false},
		{"application/json", "application/octet-stream", false},
	} {
		if got := mediaMatches(tt.mt, tt.doc); got != tt.want {
			t.Errorf("mediaMatches(%q, %q) = %v, want %v", tt.mt, tt.doc, got, tt.want)
		}
	}
}
