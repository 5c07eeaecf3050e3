package openapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// componentsPrefix is where named schemas live in the document.
const componentsPrefix = "#/components/schemas/"

// reflect returns the schema of v's type, which refers to named types in
// components/schemas, and adds those to s.schemas. The caller holds s.mu or
// is New.
func (s *Spec) reflect(v any) *jsonschema.Schema {
	root := s.reflector.Reflect(v)
	for name, def := range root.Definitions {
		rewriteRefs(def)
		// Namer guarantees one Go type per name, so an existing entry
		// is the same schema reflected earlier.
		if _, ok := s.schemas[name]; !ok {
			s.schemas[name] = def
		}
	}
	root.Definitions = nil
	root.Version = ""
	rewriteRefs(root)
	return root
}

// Types that invopop/jsonschema turns into inline strings or lets through
// without a definition, whatever their kind.
var (
	timeType    = reflect.TypeFor[time.Time]()
	urlType     = reflect.TypeFor[url.URL]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// typeName is the Reflector's Namer: it names the component of a Go type,
// and panics if two different types would share a component name, because
// invopop/jsonschema would otherwise silently reference the wrong schema.
func (s *Spec) typeName(t reflect.Type) string {
	if t == s.problem {
		s.claim("Problem", t)
		return "Problem"
	}
	if t.Name() == "" || t.PkgPath() == "" {
		return t.Name() // unnamed or predeclared: never a component
	}
	name := componentName(t.Name())
	if becomesComponent(t) {
		s.claim(name, t)
	}
	return name
}

// claim records that name belongs to t.
func (s *Spec) claim(name string, t reflect.Type) {
	if prev, ok := s.names[name]; ok && prev != t {
		panic(fmt.Sprintf("openapi: schema name %q is used by both %v (%s) and %v (%s); rename one",
			name, prev, prev.PkgPath(), t, t.PkgPath()))
	}
	s.names[name] = t
}

// becomesComponent reports whether invopop/jsonschema makes a definition of
// the named type t (it does for structs, slices, arrays, maps and types with
// their own JSONSchema method) rather than inlining it.
func becomesComponent(t reflect.Type) bool {
	switch t {
	case timeType, urlType, rawJSONType:
		return false
	}
	if _, ok := t.MethodByName("JSONSchema"); ok {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

var (
	qualifiedName = regexp.MustCompile(`[A-Za-z0-9_./-]*\.([A-Za-z0-9_]+)`)
	unsafeName    = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// componentName turns a Go type name into a valid component name
// (^[a-zA-Z0-9._-]+$). Generic instantiations lose their package paths:
// Page[kurir/messaging.Message] becomes Page_Message.
func componentName(goName string) string {
	n := qualifiedName.ReplaceAllString(goName, "$1")
	n = unsafeName.ReplaceAllString(n, "_")
	return strings.Trim(n, "_")
}

// rewriteRefs points invopop/jsonschema's "#/$defs/X" references at
// components/schemas, in sch and every schema beneath it.
func rewriteRefs(sch *jsonschema.Schema) {
	if sch == nil {
		return
	}
	if name, ok := strings.CutPrefix(sch.Ref, "#/$defs/"); ok {
		sch.Ref = componentsPrefix + name
	}
	for _, list := range [][]*jsonschema.Schema{sch.AllOf, sch.AnyOf, sch.OneOf, sch.PrefixItems} {
		for _, sub := range list {
			rewriteRefs(sub)
		}
	}
	for _, sub := range []*jsonschema.Schema{
		sch.Not, sch.If, sch.Then, sch.Else, sch.Items, sch.Contains,
		sch.AdditionalProperties, sch.PropertyNames, sch.ContentSchema,
	} {
		rewriteRefs(sub)
	}
	for _, m := range []map[string]*jsonschema.Schema{sch.DependentSchemas, sch.PatternProperties, sch.Definitions} {
		for _, sub := range m {
			rewriteRefs(sub)
		}
	}
	if sch.Properties != nil {
		for sub := range sch.Properties.ValuesFromOldest() {
			rewriteRefs(sub)
		}
	}
}
