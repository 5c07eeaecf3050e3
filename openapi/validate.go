package openapi

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL is the base URL the document's schemas are compiled under. It is
// never fetched: the document is added to the compiler as a resource.
const docURL = "https://kurir.invalid/openapi.json"

// compiled is a frozen Spec: its document and the compiled schemas of every
// body it describes. It is read-only, so safe for concurrent use.
type compiled struct {
	doc     []byte
	problem *jsonschema.Schema
	routes  []*route
}

// route is one path template and its operations by method.
type route struct {
	segs []string
	ops  map[string]*operation
}

// operation is an entry with compiled body schemas.
type operation struct {
	*entry
	name      string // for messages: "GET /api/v1/sessions/{id} (getSession)"
	request   *jsonschema.Schema
	responses map[int]*jsonschema.Schema // JSON bodies by status
}

// freeze builds and compiles the document on first use, and stops Add.
func (s *Spec) freeze() (*compiled, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.frozen = true
		s.out, s.err = s.compile()
	}
	return s.out, s.err
}

// compile renders the document and compiles, with JSON Schema 2020-12 (the
// dialect of OpenAPI 3.1), the schema of every JSON body in it, by its
// location in the document so that what is validated is what is published.
// The caller holds s.mu.
func (s *Spec) compile() (*compiled, error) {
	doc, tree, err := encode(s.document())
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, tree); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	at := func(tokens ...string) (*jsonschema.Schema, error) {
		sch, err := c.Compile(docURL + "#" + pointer(tokens))
		if err != nil {
			return nil, fmt.Errorf("openapi: compile schema at %s: %w", pointer(tokens), err)
		}
		return sch, nil
	}
	out := &compiled{doc: doc}
	if out.problem, err = at("components", "schemas", "Problem"); err != nil {
		return nil, err
	}
	routes := map[string]*route{}
	for _, e := range s.sorted() {
		op := &operation{
			entry:     e,
			name:      fmt.Sprintf("%s %s (%s)", e.op.Method, e.op.Path, e.op.ID),
			responses: map[int]*jsonschema.Schema{},
		}
		base := []string{"paths", e.op.Path, strings.ToLower(e.op.Method)}
		if e.request != nil {
			if op.request, err = at(slices.Concat(base, []string{"requestBody", "content", jsonType, "schema"})...); err != nil {
				return nil, err
			}
		}
		for status := range e.op.Responses {
			ct, ok := e.contentType(status)
			if !ok || !isJSON(ct) || (e.responses[status] == nil && ct != problemType) {
				continue
			}
			loc := slices.Concat(base, []string{"responses", strconv.Itoa(status), "content", ct, "schema"})
			if op.responses[status], err = at(loc...); err != nil {
				return nil, err
			}
		}
		key := normalizePath(e.segs)
		r := routes[key]
		if r == nil {
			r = &route{segs: e.segs, ops: map[string]*operation{}}
			routes[key] = r
			out.routes = append(out.routes, r)
		}
		r.ops[e.op.Method] = op
	}
	return out, nil
}

// pointer returns the URL fragment of the JSON pointer made of tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, tok := range tokens {
		tok = strings.ReplaceAll(tok, "~", "~0")
		tok = strings.ReplaceAll(tok, "/", "~1")
		b.WriteByte('/')
		b.WriteString(url.PathEscape(tok))
	}
	return b.String()
}

// ValidateResponse returns nil if a response written to a request for method
// and path matches the document, and otherwise an error. Path is a concrete
// request path such as /api/v1/sessions/42; a query string is ignored.
//
// A status the operation declares must carry the declared content type and
// a body matching its schema, or no body if none is declared. Any status of
// 400 or more may instead carry an application/problem+json body matching the
// Problem schema. Any other status is an error. The error names the
// operation, the status and the JSON pointer of every value that failed.
// ValidateResponse freezes s.
func (s *Spec) ValidateResponse(method, path string, status int, contentType string, body []byte) error {
	c, err := s.freeze()
	if err != nil {
		return err
	}
	op, _, err := c.lookup(method, path)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("response %d", status)
	mt := mediaType(contentType)
	if _, declared := op.op.Responses[status]; declared {
		ct, hasBody := op.contentType(status)
		switch {
		case !hasBody && len(body) == 0:
			return nil
		case !hasBody:
			return fmt.Errorf("openapi: %s: %s: documented without a body, got %d bytes of %q", op.name, what, len(body), contentType)
		case mediaMatches(mt, mediaType(ct)):
			if sch := op.responses[status]; sch != nil {
				return op.check(what, sch, body)
			}
			return nil
		case status < 400 || mt != problemType:
			return fmt.Errorf("openapi: %s: %s: content type %q, documented %q", op.name, what, contentType, ct)
		}
	}
	if status >= 400 && mt == problemType {
		return op.check(what+" problem", c.problem, body)
	}
	if status >= 400 {
		return fmt.Errorf("openapi: %s: %s: content type %q, want %s", op.name, what, contentType, problemType)
	}
	return fmt.Errorf("openapi: %s: %s is not documented (documented: %v)", op.name, what, statuses(op.op.Responses))
}

// ValidateRequest returns nil if a request matches the document, and
// otherwise an error. A request matches if path, which may end in a query
// string, matches an operation for method; path and query parameters have
// their declared types; required query parameters are present and
// undocumented ones absent; and the body is empty when the operation takes
// none, or else is application/json matching the request schema. The error
// names the operation and the JSON pointer of every value that failed.
// ValidateRequest freezes s.
func (s *Spec) ValidateRequest(method, path string, contentType string, body []byte) error {
	c, err := s.freeze()
	if err != nil {
		return err
	}
	op, values, err := c.lookup(method, path)
	if err != nil {
		return err
	}
	_, rawQuery, _ := strings.Cut(path, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("openapi: %s: query: %w", op.name, err)
	}
	for i, p := range op.op.Params {
		switch p.In {
		case "path":
			if err := checkScalar(op.params[i].Type, values[p.Name]); err != nil {
				return fmt.Errorf("openapi: %s: path parameter %q: %w", op.name, p.Name, err)
			}
		case "query":
			vs, ok := query[p.Name]
			switch {
			case !ok && p.Required:
				return fmt.Errorf("openapi: %s: missing required query parameter %q", op.name, p.Name)
			case !ok:
				continue
			case len(vs) > 1:
				return fmt.Errorf("openapi: %s: query parameter %q given %d times", op.name, p.Name, len(vs))
			}
			if err := checkScalar(op.params[i].Type, vs[0]); err != nil {
				return fmt.Errorf("openapi: %s: query parameter %q: %w", op.name, p.Name, err)
			}
			delete(query, p.Name)
		}
	}
	if len(query) > 0 {
		names := slices.Sorted(maps.Keys(query))
		return fmt.Errorf("openapi: %s: undocumented query parameter %q", op.name, names[0])
	}

	if op.op.RawRequest != "" {
		return nil // raw bytes, such as a file: nothing to check
	}
	if op.request == nil {
		if len(body) != 0 {
			return fmt.Errorf("openapi: %s: request body: the operation takes none, got %d bytes", op.name, len(body))
		}
		return nil
	}
	if mt := mediaType(contentType); mt != jsonType {
		return fmt.Errorf("openapi: %s: request body: content type %q, want %s", op.name, contentType, jsonType)
	}
	return op.check("request body", op.request, body)
}

// lookup finds the operation for method on a concrete path, preferring
// literal segments to parameters as OpenAPI requires, and returns the path
// parameters' unescaped values by name.
func (c *compiled) lookup(method, path string) (*operation, map[string]string, error) {
	method = strings.ToUpper(method)
	path, _, _ = strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/") {
		return nil, nil, fmt.Errorf("openapi: %s %s: path does not start with /", method, path)
	}
	segs := strings.Split(path[1:], "/")
	var best *route
	var others []string // methods documented on matching paths
	for _, r := range c.routes {
		if !r.match(segs) {
			continue
		}
		if r.ops[method] == nil {
			for m := range r.ops {
				others = append(others, m)
			}
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best = r
		}
	}
	if best == nil && len(others) > 0 {
		slices.Sort(others)
		return nil, nil, fmt.Errorf("openapi: %s %s: method not documented for this path (documented: %s)",
			method, path, strings.Join(slices.Compact(others), ", "))
	}
	if best == nil {
		return nil, nil, fmt.Errorf("openapi: %s %s: no documented path matches", method, path)
	}
	values := map[string]string{}
	for i, seg := range best.segs {
		if name, ok := paramName(seg); ok {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, nil, fmt.Errorf("openapi: %s %s: path parameter %q: %w", method, path, name, err)
			}
			values[name] = v
		}
	}
	return best.ops[method], values, nil
}

// match reports whether the concrete path segments fit r's template; a
// parameter matches any non-empty segment.
func (r *route) match(segs []string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, seg := range r.segs {
		if _, ok := paramName(seg); ok {
			if segs[i] == "" {
				return false
			}
		} else if seg != segs[i] {
			return false
		}
	}
	return true
}

// moreSpecific reports whether r has a literal segment where o, matching the
// same path, has its first parameter that r does not.
func (r *route) moreSpecific(o *route) bool {
	for i := range r.segs {
		_, rp := paramName(r.segs[i])
		_, op := paramName(o.segs[i])
		if rp != op {
			return op
		}
	}
	return false
}

// check validates a JSON body against sch.
func (op *operation) check(what string, sch *jsonschema.Schema, body []byte) error {
	if len(body) == 0 {
		return fmt.Errorf("openapi: %s: %s: empty body", op.name, what)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openapi: %s: %s: body is not JSON: %v", op.name, what, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("openapi: %s: %s: %s", op.name, what, describe(err))
	}
	return nil
}

// describe lists the innermost failures of a validation error, each with the
// JSON pointer of the value at fault, in a stable order.
func describe(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e.Error())
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(leaves)
	return strings.Join(slices.Compact(leaves), "; ")
}

// checkScalar checks that a parameter's text parses as the JSON type typ.
func checkScalar(typ, v string) error {
	var err error
	switch typ {
	case "integer":
		_, err = strconv.ParseInt(v, 10, 64)
	case "number":
		_, err = strconv.ParseFloat(v, 64)
	case "boolean":
		_, err = strconv.ParseBool(v)
	}
	if err != nil {
		return fmt.Errorf("%q is not a valid %s", v, typ)
	}
	return nil
}

// mediaType returns the lower-case media type of a Content-Type value
// without its parameters, or the value itself if it does not parse.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return mt
}

// isJSON reports whether a media type's bodies are JSON.
func isJSON(contentType string) bool {
	mt := mediaType(contentType)
	return mt == jsonType || strings.HasSuffix(mt, "+json")
}

// statuses lists the declared statuses in order.
func statuses(responses map[int]Response) []int {
	return slices.Sorted(maps.Keys(responses))
}

// mediaMatches reports whether media type mt falls under the documented
// range doc: equal, or doc is "*/*" or "type/*" (a file download that may
// be any type).
func mediaMatches(mt, doc string) bool {
	if doc == "*/*" || mt == doc {
		return true
	}
	prefix, ok := strings.CutSuffix(doc, "/*")
	return ok && strings.HasPrefix(mt, prefix+"/")
}
