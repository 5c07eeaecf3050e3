// Package openapi describes kurir's HTTP API as an OpenAPI 3.1 document built
// from the Go types the handlers actually encode and decode, and validates real
// requests and responses against that same document, so that the published
// description cannot drift from the code.
//
// The HTTP layer declares every route once, with its Go request and response
// types, by calling [Spec.Add] at startup. [Spec.MarshalJSON] renders the
// document; [Spec.ValidateRequest] and [Spec.ValidateResponse] check bodies
// against its schemas and are meant for tests.
//
// Schemas are reflected from Go types with github.com/invopop/jsonschema:
//
//   - A field's JSON name comes from its json tag. A field is required unless
//     its json tag has omitempty or omitzero; `jsonschema:"required"` forces it.
//   - Objects have additionalProperties false: a handler that writes an
//     undocumented field fails validation.
//   - Named struct, slice and map types become components/schemas entries named
//     after the Go type and are referenced with $ref; two different types with
//     the same name panic in [Spec.Add]. Named scalar types (type Role string)
//     are inlined.
//   - time.Time is a string with format date-time; []byte is a base64 string.
//     omitempty never omits a time.Time; use omitzero or a pointer.
//   - Fields of interface type and json.RawMessage accept any JSON value.
//   - A nil slice, map or pointer encodes as JSON null, which the schema
//     rejects unless the field is omitempty or tagged `jsonschema:"nullable"`.
//   - Other keywords come from the jsonschema struct tag, comma-separated:
//     description=..., enum=a,enum=b, minLength=1, maxLength=64, pattern=...,
//     format=email, minimum=0, maximum=100, minItems=1, maxItems=50, example=...
//     A literal comma inside a value is written \, ; a long description is
//     easier to write in its own tag: `jsonschema_description:"..."`.
package openapi

import (
	"fmt"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
)

// Media types the package treats specially.
const (
	jsonType    = "application/json"
	problemType = "application/problem+json"
)

// Info is the document's info object, plus the Go type of error bodies.
type Info struct {
	// Title and Version are required.
	Title, Version string
	// Description is optional CommonMark text.
	Description string
	// Problem is a value of the Go type written as the RFC 9457
	// application/problem+json body of every error response (type, title,
	// status, detail, instance and any extension members). It must be a struct
	// or a pointer to one. Its schema is published as components/schemas/Problem
	// whatever the Go type is called.
	Problem any
}

// Param is a path or query parameter of an operation.
type Param struct {
	Name string
	// In is "path", "query" or "header" (documented; not validated). Every {name} in an operation's path must be
	// declared as a path parameter, and path parameters are always required.
	In          string
	Description string
	Required    bool
	// Schema is a value of the parameter's Go type, for example "", 0,
	// int64(0) or false; nil means string. Only scalar types are allowed.
	Schema any
}

// Response documents one status code of an operation.
type Response struct {
	// Description is shown to readers; empty means the status text.
	Description string
	// Body is a value of the Go type encoded as the JSON body. Nil means no
	// body, except that for a status of 400 or more nil means the Problem body.
	Body any
	// ContentType is the body's media type, by default application/json when
	// Body is set. Bodies of a media type other than JSON are documented but
	// only their content type is validated. A ContentType with a nil Body
	// documents a body of that type with no schema (a file download, say).
	ContentType string
}

// Operation is one method on one path: the unit [Spec.Add] documents.
type Operation struct {
	// Method is the HTTP method, such as "GET" or "POST".
	Method string
	// Path is an OpenAPI path template such as "/api/v1/sessions/{id}". A
	// parameter must fill a whole path segment.
	Path string
	// ID is the operationId: required, unique in the Spec, and stable, since
	// generated clients name their functions after it.
	ID          string
	Summary     string
	Description string
	Tags        []string
	// Auth means the operation requires "Authorization: Bearer <token>".
	Auth   bool
	Params []Param
	// Request is a value of the Go type decoded from the JSON request body,
	// or nil when the operation takes no body.
	Request any
	// RawRequest, instead of Request, documents a request body of raw bytes
	// (a file upload) of this media type, such as application/octet-stream.
	// Its content is not validated.
	RawRequest string
	// Responses maps each status the handler writes on success (and any
	// error status that needs its own description or body) to its response.
	// Every operation also implicitly documents 4XX and 5XX problem bodies.
	Responses map[int]Response
}

// Spec is an OpenAPI 3.1 document under construction.
//
// A Spec is built at startup by one goroutine calling [Spec.Add], then read:
// the first call to [Spec.MarshalJSON], [Spec.ValidateRequest] or
// [Spec.ValidateResponse] freezes it, and Add panics afterwards. Once frozen
// every method is safe for concurrent use.
type Spec struct {
	info        Info
	problem     reflect.Type
	reflector   *jsonschema.Reflector
	names       map[string]reflect.Type       // component name → Go type, to catch collisions
	schemas     map[string]*jsonschema.Schema // components/schemas
	problemBody *jsonschema.Schema            // reference to the Problem schema
	ops         map[string]*entry             // by method + " " + normalized path
	ids         map[string]string             // operationId → method + path, for messages
	templates   map[string]string             // normalized path → the path template using it

	mu     sync.Mutex
	frozen bool      // set by the first MarshalJSON or Validate call
	out    *compiled // the document and its compiled schemas, once frozen
	err    error     // why building them failed, once frozen
}

// entry is an operation with its reflected schemas.
type entry struct {
	op        Operation
	segs      []string // path segments; a parameter segment is "{name}"
	request   *jsonschema.Schema
	params    []*jsonschema.Schema // parallel to op.Params
	responses map[int]*jsonschema.Schema
}

// New returns an empty Spec. It panics if info lacks a title, a version or a
// Problem struct, since that is a programming error found at startup.
func New(info Info) *Spec {
	if info.Title == "" || info.Version == "" {
		panic("openapi: Info needs a Title and a Version")
	}
	pt := reflect.TypeOf(info.Problem)
	for pt != nil && pt.Kind() == reflect.Pointer {
		pt = pt.Elem()
	}
	if pt == nil || pt.Kind() != reflect.Struct {
		panic(fmt.Sprintf("openapi: Info.Problem must be a struct, not %T", info.Problem))
	}
	s := &Spec{
		info:      info,
		problem:   pt,
		names:     map[string]reflect.Type{},
		schemas:   map[string]*jsonschema.Schema{},
		ops:       map[string]*entry{},
		ids:       map[string]string{},
		templates: map[string]string{},
	}
	s.reflector = &jsonschema.Reflector{
		Anonymous: true,
		Namer:     s.typeName,
	}
	s.problemBody = s.reflect(info.Problem)
	return s
}

// Add documents op. It panics, naming the operation, if op is malformed: an
// unknown method, a duplicate method and path or operationId, a path
// parameter that is not declared or not in the path, no responses, or a Go
// type that cannot be described (a channel, a func, or a type whose name is
// already taken by another type). Add panics once the Spec is frozen.
func (s *Spec) Add(op Operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		panic(fmt.Sprintf("openapi: Add(%s %s) after the spec was frozen by its first use", op.Method, op.Path))
	}
	op = cloneOperation(op)
	op.Method = strings.ToUpper(op.Method)
	e := &entry{op: op, responses: map[int]*jsonschema.Schema{}}
	where := op.Method + " " + op.Path
	fail := func(format string, args ...any) {
		panic("openapi: " + where + ": " + fmt.Sprintf(format, args...))
	}
	// schemaOf is s.reflect with panics (from invopop/jsonschema, or a name
	// collision) reported against the operation.
	schemaOf := func(what string, v any) *jsonschema.Schema {
		defer func() {
			if r := recover(); r != nil {
				fail("%s: %s", what, strings.TrimPrefix(fmt.Sprint(r), "openapi: "))
			}
		}()
		return s.reflect(v)
	}

	if !slices.Contains(methods, op.Method) {
		fail("unknown method %q", op.Method)
	}
	segs, err := parsePath(op.Path)
	if err != nil {
		fail("%v", err)
	}
	e.segs = segs
	norm := normalizePath(segs)
	key := op.Method + " " + norm
	if prev, ok := s.ops[key]; ok {
		fail("duplicate of %s %s", prev.op.Method, prev.op.Path)
	}
	if prev, ok := s.templates[norm]; ok && prev != op.Path {
		fail("OpenAPI treats it as the same path as %s; use the same parameter names", prev)
	}
	if op.ID == "" {
		fail("no operation ID")
	}
	if prev, ok := s.ids[op.ID]; ok {
		fail("operation ID %q already used by %s", op.ID, prev)
	}
	if len(op.Responses) == 0 {
		fail("no responses")
	}
	for status, r := range op.Responses {
		if status < 100 || status > 599 {
			fail("status %d out of range", status)
		}
		if r.ContentType != "" {
			if _, _, err := mime.ParseMediaType(r.ContentType); err != nil {
				fail("response %d: content type %q: %v", status, r.ContentType, err)
			}
		}
	}
	if err := checkParams(op.Params, segs); err != nil {
		fail("%v", err)
	}

	for i, p := range op.Params {
		if p.Schema == nil {
			p.Schema = ""
		}
		sch := schemaOf(fmt.Sprintf("parameter %q", p.Name), p.Schema)
		switch sch.Type {
		case "string", "integer", "number", "boolean":
		default:
			fail("parameter %q: %T is not a scalar type", p.Name, p.Schema)
		}
		if p.In == "path" {
			e.op.Params[i].Required = true
		}
		e.params = append(e.params, sch)
	}
	if op.Request != nil {
		e.request = schemaOf("request body", op.Request)
	}
	for status, r := range op.Responses {
		if r.Body != nil {
			e.responses[status] = schemaOf(fmt.Sprintf("response %d", status), r.Body)
		}
	}

	s.ops[key] = e
	s.ids[op.ID] = where
	s.templates[norm] = op.Path
}

// Operations returns a copy of every documented operation, sorted by path and
// then method, so that a test can check that every route is documented.
func (s *Spec) Operations() []Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	es := s.sorted()
	ops := make([]Operation, len(es))
	for i, e := range es {
		ops[i] = cloneOperation(e.op)
	}
	return ops
}

// sorted returns the entries by path, then method in the order of methods.
// The caller holds s.mu or owns a frozen Spec.
func (s *Spec) sorted() []*entry {
	es := slices.Collect(maps.Values(s.ops))
	slices.SortFunc(es, func(a, b *entry) int {
		if c := strings.Compare(a.op.Path, b.op.Path); c != 0 {
			return c
		}
		return slices.Index(methods, a.op.Method) - slices.Index(methods, b.op.Method)
	})
	return es
}

// methods are the methods an OpenAPI path item may hold, in document order.
var methods = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}

func cloneOperation(op Operation) Operation {
	op.Tags = slices.Clone(op.Tags)
	op.Params = slices.Clone(op.Params)
	op.Responses = maps.Clone(op.Responses)
	return op
}

// parsePath splits an OpenAPI path template into segments, checking that each
// parameter fills a whole segment and that parameter names are unique.
func parsePath(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("path %q has a query or fragment", path)
	}
	segs := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for _, seg := range segs {
		name, isParam := paramName(seg)
		if !isParam {
			if strings.ContainsAny(seg, "{}") {
				return nil, fmt.Errorf("segment %q: a parameter must fill a whole segment", seg)
			}
			continue
		}
		if name == "" || strings.ContainsAny(name, "{}") {
			return nil, fmt.Errorf("segment %q: bad parameter name", seg)
		}
		if seen[name] {
			return nil, fmt.Errorf("parameter {%s} appears twice", name)
		}
		seen[name] = true
	}
	return segs, nil
}

// paramName returns the name of a "{name}" path segment.
func paramName(seg string) (string, bool) {
	if len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// normalizePath replaces parameter names by {}, since OpenAPI treats
// /a/{x} and /a/{y} as the same path.
func normalizePath(segs []string) string {
	var b strings.Builder
	for _, seg := range segs {
		b.WriteByte('/')
		if _, ok := paramName(seg); ok {
			b.WriteString("{}")
		} else {
			b.WriteString(seg)
		}
	}
	return b.String()
}

// checkParams checks that the path parameters declared are exactly those in
// the template, and that no parameter is declared twice.
func checkParams(params []Param, segs []string) error {
	inPath := map[string]bool{}
	for _, seg := range segs {
		if name, ok := paramName(seg); ok {
			inPath[name] = true
		}
	}
	seen := map[string]bool{}
	for _, p := range params {
		switch p.In {
		case "path":
			if !inPath[p.Name] {
				return fmt.Errorf("path parameter %q is not in the path", p.Name)
			}
		case "query", "header":
			if p.Name == "" {
				return fmt.Errorf("%s parameter with no name", p.In)
			}
		default:
			return fmt.Errorf("parameter %q: In is %q, want path, query or header", p.Name, p.In)
		}
		if seen[p.In+" "+p.Name] {
			return fmt.Errorf("%s parameter %q declared twice", p.In, p.Name)
		}
		seen[p.In+" "+p.Name] = true
	}
	for name := range inPath {
		if !seen["path "+name] {
			return fmt.Errorf("path parameter {%s} is not declared in Params", name)
		}
	}
	return nil
}
