package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// MarshalJSON returns the OpenAPI 3.1 document: compact JSON with object keys
// sorted, so the same Spec always yields the same bytes. It freezes s, and
// fails if a reflected schema is not valid JSON Schema 2020-12 (a bad pattern
// in a struct tag, say), so calling it once at startup catches that.
func (s *Spec) MarshalJSON() ([]byte, error) {
	c, err := s.freeze()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(c.doc), nil
}

// object is a JSON object in the document under construction.
type object = map[string]any

// document assembles the OpenAPI document as a tree of maps, slices and
// schemas. The caller holds s.mu.
func (s *Spec) document() object {
	info := object{"title": s.info.Title, "version": s.info.Version}
	if s.info.Description != "" {
		info["description"] = s.info.Description
	}
	paths := object{}
	for _, e := range s.sorted() {
		item, _ := paths[e.op.Path].(object)
		if item == nil {
			item = object{}
			paths[e.op.Path] = item
		}
		item[strings.ToLower(e.op.Method)] = e.operation()
	}
	return object{
		"openapi": "3.1.0",
		"info":    info,
		"paths":   paths,
		"components": object{
			"schemas": maps.Clone(s.schemas),
			"responses": object{
				"Problem": object{
					"description": "An error, described as RFC 9457 problem details.",
					"content":     object{problemType: object{"schema": s.problemBody}},
				},
			},
			"securitySchemes": object{
				"bearer": object{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

// operation returns e's operation object.
func (e *entry) operation() object {
	op := object{"operationId": e.op.ID}
	if e.op.Summary != "" {
		op["summary"] = e.op.Summary
	}
	if e.op.Description != "" {
		op["description"] = e.op.Description
	}
	if len(e.op.Tags) > 0 {
		op["tags"] = e.op.Tags
	}
	if e.op.Auth {
		op["security"] = []any{object{"bearer": []any{}}}
	}
	if len(e.op.Params) > 0 {
		params := make([]any, len(e.op.Params))
		for i, p := range e.op.Params {
			po := object{"name": p.Name, "in": p.In, "required": p.Required, "schema": e.params[i]}
			if p.Description != "" {
				po["description"] = p.Description
			}
			params[i] = po
		}
		op["parameters"] = params
	}
	if e.request != nil {
		op["requestBody"] = object{
			"required": true,
			"content":  object{jsonType: object{"schema": e.request}},
		}
	}
	if ct := e.op.RawRequest; ct != "" {
		op["requestBody"] = object{
			"required": true,
			"content":  object{ct: object{}},
		}
	}
	responses := object{
		"4XX": object{"$ref": "#/components/responses/Problem"},
		"5XX": object{"$ref": "#/components/responses/Problem"},
	}
	for status, r := range e.op.Responses {
		ro := object{"description": r.Description}
		if r.Description == "" {
			ro["description"] = http.StatusText(status)
		}
		if ct, ok := e.contentType(status); ok {
			media := object{}
			if sch := e.responses[status]; sch != nil {
				media["schema"] = sch
			} else if status >= 400 && r.Body == nil && r.ContentType == "" {
				media["schema"] = object{"$ref": componentsPrefix + "Problem"}
			}
			ro["content"] = object{ct: media}
		}
		responses[strconv.Itoa(status)] = ro
	}
	op["responses"] = responses
	return op
}

// contentType returns the media type of the body documented for status, and
// false if the response has no body.
func (e *entry) contentType(status int) (string, bool) {
	r := e.op.Responses[status]
	switch {
	case r.ContentType != "":
		return r.ContentType, true
	case r.Body != nil:
		return jsonType, true
	case status >= 400:
		return problemType, true
	}
	return "", false
}

// encode renders the document tree as compact JSON with sorted keys. Schemas
// marshal their properties in field order, so the tree makes a round trip
// through generic values, whose maps encoding/json sorts.
func encode(doc object) ([]byte, any, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: encode document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, nil, fmt.Errorf("openapi: decode document: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, nil, fmt.Errorf("openapi: encode document: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), tree, nil
}
