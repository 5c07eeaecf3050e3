package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"kurir"
)

const (
	reasonBodyTooLarge    = "body_too_large"
	reasonUnsupportedType = "unsupported_media_type"
	reasonMethod          = "method_not_allowed"
)

// decode reads a JSON request body into a T, refusing with a clear EInvalid
// error: a body over limit bytes, a media type other than JSON, invalid
// UTF-8, malformed JSON, a wrong type, an unknown field, or trailing data.
// encoding/json would quietly replace invalid UTF-8 and ignore unknown
// fields; a client that sends either has a bug it should hear about.
func decode[T any](r *http.Request, limit int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return v, &kurir.Error{Code: kurir.EInvalid, Reason: reasonUnsupportedType,
				Message: fmt.Sprintf("The request body must be application/json, not %q.", ct)}
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return v, &kurir.Error{Code: kurir.EInvalid, Reason: "unreadable_body", Message: "The request body could not be read.", Err: err}
	}
	if int64(len(body)) > limit {
		return v, &kurir.Error{Code: kurir.EInvalid, Reason: reasonBodyTooLarge,
			Message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
	}
	return decodeBytes[T](body)
}

func decodeBytes[T any](body []byte) (T, error) {
	var v T
	if len(bytes.TrimSpace(body)) == 0 {
		return v, &kurir.Error{Code: kurir.EInvalid, Reason: "empty_body", Message: "The request body is empty; send a JSON object."}
	}
	if !utf8.Valid(body) {
		return v, &kurir.Error{Code: kurir.EInvalid, Reason: "invalid_utf8", Message: "The request body is not valid UTF-8."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, &kurir.Error{Code: kurir.EInvalid, Reason: "malformed_json", Message: "The request body has data after the JSON value."}
	}
	if err := checkMembers(json.NewDecoder(bytes.NewReader(body)), reflect.TypeFor[T](), ""); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// checkMembers refuses what encoding/json accepts but the OpenAPI document
// does not: null for an object or a field (json leaves the value unset, so
// {"email": null} would quietly change nothing), a member name that matches a
// field only when letter case is ignored, and a repeated member (json keeps
// the last one, while a proxy or log that reads the first sees another
// request). dec reads one well-formed JSON value that decoded into a t; field
// names the value's member, "" for the body itself.
func checkMembers(dec *json.Decoder, t reflect.Type, field string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		var raw json.RawMessage // any JSON value, or one the type checks itself
		return dec.Decode(&raw)
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	switch tok {
	case nil:
		if field == "" {
			return &kurir.Error{Code: kurir.EInvalid, Reason: "wrong_type",
				Message: fmt.Sprintf("The request body must be a JSON %s, not null.", jsonKind(t.Kind().String()))}
		}
		return &kurir.Error{Code: kurir.EInvalid, Reason: "wrong_type", Field: field,
			Message: fmt.Sprintf("The field %q must be a %s, not null; leave it out instead.", field, jsonKind(t.Kind().String()))}
	case json.Delim('{'):
		fields := jsonFields(t)
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return jsonError(err)
			}
			name := tok.(string)
			ft, ok := fields[name]
			if t.Kind() == reflect.Map {
				ft, ok = t.Elem(), true
			}
			if !ok {
				msg := fmt.Sprintf("The field %q is not known here.", name)
				for known := range fields {
					if strings.EqualFold(known, name) {
						msg = fmt.Sprintf("The field %q is not known here; field names are case-sensitive: did you mean %q?", name, known)
					}
				}
				return &kurir.Error{Code: kurir.EInvalid, Reason: "unknown_field", Field: name, Message: msg}
			}
			if seen[name] {
				return &kurir.Error{Code: kurir.EInvalid, Reason: "duplicate_field", Field: name,
					Message: fmt.Sprintf("The field %q appears more than once.", name)}
			}
			seen[name] = true
			if err := checkMembers(dec, ft, name); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for dec.More() {
			if err := checkMembers(dec, t.Elem(), field); err != nil {
				return err
			}
		}
	default:
		return nil // a scalar
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// jsonFields returns the JSON member names of struct type t and their types;
// it returns nil for any other type. Embedded structs without a json tag
// contribute their fields, as in encoding/json.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		embedded := f.Type
		if embedded.Kind() == reflect.Pointer {
			embedded = embedded.Elem()
		}
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && tag == "" && embedded.Kind() == reflect.Struct:
			maps.Copy(fields, jsonFields(embedded))
		case tag == "":
			fields[f.Name] = f.Type
		default:
			fields[tag] = f.Type
		}
	}
	return fields
}

// jsonError turns a decoding error into a message naming what is wrong and where.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &kurir.Error{Code: kurir.EInvalid, Reason: "malformed_json",
			Message: fmt.Sprintf("The request body is not valid JSON (at byte %d): %s.", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &kurir.Error{Code: kurir.EInvalid, Reason: "malformed_json", Message: "The request body ends in the middle of a JSON value."}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &kurir.Error{Code: kurir.EInvalid, Reason: "wrong_type",
				Message: fmt.Sprintf("The request body must be a JSON %s, not %s.", jsonKind(typ.Type.Kind().String()), typ.Value)}
		}
		return &kurir.Error{Code: kurir.EInvalid, Reason: "wrong_type", Field: typ.Field,
			Message: fmt.Sprintf("The field %q must be a %s, not %s.", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &kurir.Error{Code: kurir.EInvalid, Reason: "unknown_field", Field: field,
			Message: fmt.Sprintf("The field %q is not known here.", field)}
	default:
		return &kurir.Error{Code: kurir.EInvalid, Reason: "malformed_json", Message: "The request body is not valid JSON.", Err: err}
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	default:
		return "number"
	}
}

// encode writes v as a JSON response with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json", v)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a programming error (an unencodable type) gets here.
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"type":"urn:kurir:problem:internal","title":"Internal error","status":500,"detail":"An internal error occurred.","code":"internal"}`)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
