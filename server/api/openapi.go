package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
)

// openAPIDoc is the OpenAPI 3 document of the seller's application API
// (/api/v1), served at /api/v1/openapi.yaml and, as JSON, /api/v1/openapi.json.
// openapi_test.go checks the handlers' answers against it.
//
//go:embed openapi.yaml
var openAPIDoc []byte

// OpenAPIDocument returns the OpenAPI document (YAML).
func OpenAPIDocument() []byte { return bytes.Clone(openAPIDoc) }

var openAPIJSON = sync.OnceValues(func() ([]byte, error) { return yamlToJSON(openAPIDoc) })

func (s *Server) openAPIYAML(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", openAPIDoc)
}

func (s *Server) openAPIJSON(c *gin.Context) {
	b, err := openAPIJSON()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

// yamlToJSON converts a YAML document to indented JSON, keeping the order
// of its keys.
func yamlToJSON(in []byte) ([]byte, error) {
	var v any
	if err := yaml.UnmarshalWithOptions(in, &v, yaml.UseOrderedMap()); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case yaml.MapSlice:
		buf.WriteByte('{')
		for i, item := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			key, ok := item.Key.(string)
			if !ok {
				return fmt.Errorf("openapi: key %v is not a string", item.Key)
			}
			if err := writeJSON(buf, key); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, item.Value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	return nil
}
