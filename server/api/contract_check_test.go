package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/marketgate/marketgate/server/api"
)

var portalContract = struct {
	once   sync.Once
	router routers.Router
	err    error
}{}

// portalRouter loads the portal API's document (made from the Go types)
// and checks that it is a valid OpenAPI document.
func portalRouter(t testing.TB) routers.Router {
	t.Helper()
	portalContract.once.Do(func() {
		b, err := api.PortalOpenAPI()
		if err != nil {
			portalContract.err = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			portalContract.err = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			portalContract.err = err
			return
		}
		portalContract.router, portalContract.err = gorillamux.NewRouter(doc)
	})
	if portalContract.err != nil {
		t.Fatalf("the portal API's document: %v", portalContract.err)
	}
	return portalContract.router
}

// checkContract wraps the server so that every answer of the portal API
// (/api/..., not the seller's /api/v1) that a test receives is validated
// against the portal API's document: a handler whose answer drifts from
// its declared Go type, or a nil list answered as null, fails the test
// that made the call. Every scenario test in this package goes through it.
func checkContract(t testing.TB, h http.Handler) http.Handler {
	router := portalRouter(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		route, params, err := router.FindRoute(r)
		if err != nil {
			return // not a route of the portal API (404/405 answers)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return
		}
		if rec.Code < 400 {
			// A route not yet described by a Go type has no schema for its answers.
			if rs := route.Operation.Responses.Status(rec.Code); rs == nil || rs.Value == nil || rs.Value.Content.Get("application/json") == nil ||
				rs.Value.Content.Get("application/json").Schema == nil {
				if rec.Code != http.StatusNoContent {
					return
				}
			}
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{ExcludeRequestBody: true, ExcludeRequestQueryParams: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(bytes.Clone(rec.Body.Bytes()))
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s answered %d outside the portal API's contract: %v\nbody: %.400s", r.Method, p, rec.Code, err, rec.Body.String())
		}
	})
}
