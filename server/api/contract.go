package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
)

// The portal API's contract: an OpenAPI 3.0 document made from the routes
// registered in routes.go and the Go types of their bodies and answers.
// The binary serves it at /api/openapi.json; `go run ./server/api/gencontract`
// writes it to frontend/src/shared/api/portal-openapi.json, from which the
// portal's TypeScript types are generated (npm run gen:api), and
// scripts/test.sh fails when either is stale. The answers of the real
// handlers are validated against it in the API tests.
//
// Go types become schemas by these rules: a struct is an object of its
// JSON fields (embedded structs flattened), each required unless tagged
// omitempty, and nothing else; a pointer may be null; a slice is an array
// (never null: answer an empty slice); time.Time is a date-time string;
// a map is an object of its values; an interface or json.RawMessage is any
// JSON value; a string field tagged `enum:"a,b"` takes only those values; a
// pointer tagged omitempty is left out rather than null. A named struct
// becomes a component schema named after its Go type, without a trailing
// "View" and with a capital first letter (subscriptionView → Subscription);
// two types of one name are an error.

// PortalOpenAPI returns the portal API's document as indented JSON.
func PortalOpenAPI() ([]byte, error) {
	return portalOpenAPI(contractOptions{})
}

// contractOptions changes how the document is made, for the contract's
// own tests: renames[Type.field] = new field name simulates renaming a
// JSON field of a Go answer type.
type contractOptions struct {
	renames map[string]string
}

var portalDoc = struct {
	once sync.Once
	b    []byte
	err  error
}{}

func (s *Server) portalOpenAPIJSON(c *gin.Context) {
	portalDoc.once.Do(func() { portalDoc.b, portalDoc.err = PortalOpenAPI() })
	if portalDoc.err != nil {
		s.fail(c, portalDoc.err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", portalDoc.b)
}

// portalRoutesOf registers the routes on a throwaway engine and returns
// the portal API's routes.
func portalRoutesOf() []route {
	s := &Server{Deps: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}}
	s.routes(gin.New())
	return s.portalRoutes
}

func portalOpenAPI(o contractOptions) ([]byte, error) {
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}, opts: o}
	paths := map[string]map[string]any{}
	for _, rt := range portalRoutesOf() {
		p, params := openAPIPath(rt.Path)
		op, err := g.operation(rt, params)
		if err != nil {
			return nil, err
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		m := strings.ToLower(rt.Method)
		if _, dup := paths[p][m]; dup {
			return nil, fmt.Errorf("%s %s registered twice", rt.Method, rt.Path)
		}
		paths[p][m] = op
	}
	g.schemas["Error"] = map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"error"},
		"properties": map[string]any{"error": map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"code", "message", "request_id"},
			"properties": map[string]any{
				"code":       map[string]any{"type": "string"},
				"message":    map[string]any{"type": "string"},
				"request_id": map[string]any{"type": "string"},
				// fields: one entry per invalid field of a form (optional).
				"fields": map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "additionalProperties": false, "required": []string{"field", "code", "message"},
					"properties": map[string]any{
						"field":   map[string]any{"type": "string"},
						"code":    map[string]any{"type": "string"},
						"message": map[string]any{"type": "string"},
					},
				}},
			},
		}},
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Marketgate portal API",
			"version": "1",
			"description": "The API the portal (the web pages) calls, signed in by session cookie. Made from the " +
				"server's Go types (server/api/contract.go); the portal's TypeScript types are generated from it. " +
				"x-access names who may call each route (see server/api/routes.go). The seller's application " +
				"uses the API described at /api/v1/openapi.json instead.",
		},
		"servers":    []any{map[string]any{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": g.schemas},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// operation describes one route: its id, access, summary, path and
// query parameters, body and answers (schemas made in that order).
func (g *schemaGen) operation(rt route, params []string) (map[string]any, error) {
	op := map[string]any{
		"operationId": operationID(rt),
		"x-access":    accessName(rt),
	}
	if rt.Summary != "" {
		op["summary"] = rt.Summary
	}
	parameters, err := g.parameters(rt, params)
	if err != nil {
		return nil, err
	}
	if parameters != nil {
		op["parameters"] = parameters
	}
	if rt.Body != nil {
		sch, err := g.schema(rt.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s body: %w", rt.Method, rt.Path, err)
		}
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": sch}}}
	}
	responses, err := g.responses(rt)
	if err != nil {
		return nil, err
	}
	op["responses"] = responses
	return op, nil
}

// parameters are a route's path parameters and the fields of its query
// type (by their form tag); nil for none.
func (g *schemaGen) parameters(rt route, params []string) ([]any, error) {
	var parameters []any
	for _, name := range params {
		parameters = append(parameters, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	if rt.Query == nil {
		return parameters, nil
	}
	for _, f := range fieldsOf(rt.Query) {
		name := strings.Split(f.Tag.Get("form"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		sch, err := g.schema(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s %s query %s: %w", rt.Method, rt.Path, name, err)
		}
		parameters = append(parameters, map[string]any{"name": name, "in": "query", "schema": sch})
	}
	return parameters, nil
}

// responses are a route's answer (204, a typed JSON answer or a raw
// content type) and the error answer every route may give.
func (g *schemaGen) responses(rt route) (map[string]any, error) {
	responses := map[string]any{"default": map[string]any{
		"description": "An error: a stable code, a message for people and the request id.",
		"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
	}}
	switch {
	case rt.Answer == reflect.TypeFor[NoContent]():
		responses["204"] = map[string]any{"description": "Done."}
	case rt.Answer != nil:
		sch, err := g.schema(rt.Answer)
		if err != nil {
			return nil, fmt.Errorf("%s %s answer: %w", rt.Method, rt.Path, err)
		}
		responses[fmt.Sprint(rt.Status)] = map[string]any{"description": "OK.",
			"content": map[string]any{"application/json": map[string]any{"schema": sch}}}
		for _, code := range rt.Also {
			responses[fmt.Sprint(code)] = map[string]any{"description": "OK.",
				"content": map[string]any{"application/json": map[string]any{"schema": sch}}}
		}
	default:
		responses[fmt.Sprint(rt.Status)] = map[string]any{"description": "OK (not described by a Go type).",
			"content": map[string]any{rt.Raw: map[string]any{}}}
	}
	return responses, nil
}

var pathParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// openAPIPath turns gin's /a/:id into /a/{id} and lists the parameters.
func openAPIPath(p string) (string, []string) {
	var params []string
	out := pathParam.ReplaceAllStringFunc(p, func(m string) string {
		params = append(params, m[1:])
		return "{" + m[1:] + "}"
	})
	return out, params
}

func operationID(rt route) string {
	parts := []string{strings.ToLower(rt.Method)}
	for _, seg := range strings.Split(strings.TrimPrefix(rt.Path, "/api/"), "/") {
		seg = strings.TrimLeft(seg, ":*")
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			parts = append(parts, strings.ToUpper(w[:1])+w[1:])
		}
	}
	return strings.Join(parts, "")
}

func accessName(rt route) string {
	if rt.Public {
		return "public"
	}
	for name, a := range map[string]access{"signedIn": signedIn, "anyUserRead": anyUserRead, "sellerRead": sellerRead,
		"sellerWrite": sellerWrite, "adminOnly": adminOnly, "manageSeats": manageSeats, "customerAdminOnly": customerAdminOnly} {
		if reflect.DeepEqual(a, rt.Access) {
			return name
		}
	}
	return strings.Join(rt.Access.roles, ",")
}

// schemaGen makes JSON schemas of Go types.
type schemaGen struct {
	schemas map[string]any
	names   map[reflect.Type]string
	taken   map[string]reflect.Type
	opts    contractOptions
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// schemaName is a named struct's component name.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if base, arg, ok := strings.Cut(n, "["); ok {
		// A generic answer, list[offerView]: OfferList.
		arg = strings.TrimSuffix(arg[strings.LastIndex(arg, ".")+1:], "]")
		n = capital(strings.TrimSuffix(arg, "View")) + capital(base)
	}
	n = strings.TrimSuffix(n, "View")
	if n == "" {
		n = t.Name()
	}
	return capital(n)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (g *schemaGen) schema(t reflect.Type) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawJSONType:
		return map[string]any{}, nil
	}
	if sch, ok := scalarSchema(t.Kind()); ok {
		return sch, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.nullable(t.Elem())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}, nil
		}
		items, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s: only string keys are JSON objects", t.Key())
		}
		vals, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": vals}, nil
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.component(t)
	}
	return nil, fmt.Errorf("type %s has no JSON schema", t)
}

// scalarSchema is the schema of a string, boolean, number or interface
// (anything) kind; false for other kinds.
func scalarSchema(k reflect.Kind) (map[string]any, bool) {
	switch k {
	case reflect.String:
		return map[string]any{"type": "string"}, true
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}, true
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, true
	case reflect.Interface:
		return map[string]any{}, true
	}
	return nil, false
}

// nullable is the schema of a pointer to elem: elem's schema, nullable.
func (g *schemaGen) nullable(elem reflect.Type) (map[string]any, error) {
	inner, err := g.schema(elem)
	if err != nil {
		return nil, err
	}
	if ref, ok := inner["$ref"]; ok {
		return map[string]any{"nullable": true, "allOf": []any{map[string]any{"$ref": ref}}}, nil
	}
	out := map[string]any{"nullable": true}
	for k, v := range inner {
		out[k] = v
	}
	return out, nil
}

// component refers to the named struct's component schema, making it the
// first time; two types with one schema name are an error.
func (g *schemaGen) component(t reflect.Type) (map[string]any, error) {
	if name, ok := g.names[t]; ok {
		return map[string]any{"$ref": "#/components/schemas/" + name}, nil
	}
	name := schemaName(t)
	if other, ok := g.taken[name]; ok && other != t {
		return nil, fmt.Errorf("two answer types are both named %s (%s and %s): rename one", name, other, t)
	}
	g.names[t], g.taken[name] = name, t
	obj, err := g.object(t)
	if err != nil {
		return nil, err
	}
	g.schemas[name] = obj
	return map[string]any{"$ref": "#/components/schemas/" + name}, nil
}

// fieldsOf lists a struct's fields, embedded structs flattened.
func fieldsOf(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, fieldsOf(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (g *schemaGen) object(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	required := []string{}
	for _, f := range fieldsOf(t) {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if r, ok := g.opts.renames[schemaName(t)+"."+name]; ok {
			name = r
		}
		sch, err := g.schema(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		if strings.Contains(","+opts+",", ",string,") {
			sch = map[string]any{"type": "string"}
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			// The values a string field takes: `enum:"a,b,c"`.
			vals := []any{}
			for _, v := range strings.Split(enum, ",") {
				vals = append(vals, v)
			}
			sch["enum"] = vals
		}
		omitted := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		if omitted && f.Type.Kind() == reflect.Pointer {
			// A nil pointer tagged omitempty is left out, never null.
			sch = notNull(sch)
		}
		props[name] = sch
		if !omitted {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	out := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out, nil
}

// notNull is a pointer's schema without "may be null".
func notNull(sch map[string]any) map[string]any {
	if all, ok := sch["allOf"].([]any); ok && len(all) == 1 {
		return all[0].(map[string]any)
	}
	out := map[string]any{}
	for k, v := range sch {
		if k != "nullable" {
			out[k] = v
		}
	}
	return out
}
