package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type ruleChild struct {
	N int `json:"n"`
}

type ruleSample struct {
	Name     string            `json:"name"`
	Kind     string            `json:"kind" enum:"a,b"`
	Optional string            `json:"optional,omitempty"`
	Child    *ruleChild        `json:"child"`
	Omitted  *ruleChild        `json:"omitted,omitempty"`
	Count    *int64            `json:"count,omitempty"`
	List     []string          `json:"list"`
	Map      map[string]int    `json:"map"`
	At       time.Time         `json:"at"`
	Raw      json.RawMessage   `json:"raw"`
	Hidden   string            `json:"-"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// TestContractSchemaRules pins the rules the document is made by (see the
// top of contract.go): what the portal's types will say about each field.
func TestContractSchemaRules(t *testing.T) {
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
	ref, err := g.schema(reflect.TypeFor[ruleSample]())
	if err != nil {
		t.Fatal(err)
	}
	if ref["$ref"] != "#/components/schemas/RuleSample" {
		t.Fatalf("component name: %v", ref)
	}
	obj := g.schemas["RuleSample"].(map[string]any)
	if obj["additionalProperties"] != false {
		t.Error("an answer object must be closed (no field the Go type does not declare)")
	}
	want := []string{"at", "child", "kind", "list", "map", "name", "raw"}
	if got := obj["required"]; !reflect.DeepEqual(got, want) {
		t.Errorf("required %v, want %v (every field not tagged omitempty)", got, want)
	}
	props := obj["properties"].(map[string]any)
	if _, ok := props["Hidden"]; ok {
		t.Error(`a json:"-" field is in the document`)
	}
	for name, check := range map[string]func(map[string]any) bool{
		"kind":  func(s map[string]any) bool { return reflect.DeepEqual(s["enum"], []any{"a", "b"}) },
		"child": func(s map[string]any) bool { return s["nullable"] == true && s["allOf"] != nil },
		"omitted": func(s map[string]any) bool {
			return s["$ref"] == "#/components/schemas/RuleChild" && s["nullable"] == nil
		},
		"count": func(s map[string]any) bool { return s["type"] == "integer" && s["nullable"] == nil },
		"list":  func(s map[string]any) bool { return s["type"] == "array" && s["nullable"] == nil },
		"map":   func(s map[string]any) bool { return s["type"] == "object" && s["additionalProperties"] != nil },
		"at":    func(s map[string]any) bool { return s["format"] == "date-time" },
		"raw":   func(s map[string]any) bool { return len(s) == 0 },
	} {
		s, _ := props[name].(map[string]any)
		if !check(s) {
			t.Errorf("%s: schema %v", name, s)
		}
	}
}

// Two answer types of one name would make one TypeScript type of two
// shapes: the document refuses them.
func TestContractRefusesTwoTypesOfOneName(t *testing.T) {
	type ruleChildView struct {
		X string `json:"x"`
	}
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
	if _, err := g.schema(reflect.TypeFor[ruleChild]()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.schema(reflect.TypeFor[ruleChildView]()); err == nil {
		t.Fatal("ruleChild and ruleChildView both became RuleChild without an error")
	}
}
