package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// loadOpenAPI loads and validates the embedded document.
func loadOpenAPI(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

// TestOpenAPIDocument: the document is valid, served without a key as YAML
// and as the same document in JSON, and names exactly the /api/v1 routes.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t, api.OpenAPIDocument())
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st, nil)

	served := map[string][]byte{}
	for _, f := range []struct{ path, ctype string }{
		{"/api/v1/openapi.yaml", "application/yaml"},
		{"/api/v1/openapi.json", "application/json"},
	} {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, f.path, nil))
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), f.ctype) || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d %q %q", f.path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
		}
		served[f.path] = rec.Body.Bytes()
	}
	if !bytes.Equal(served["/api/v1/openapi.yaml"], api.OpenAPIDocument()) {
		t.Fatal("the YAML served is not the embedded document")
	}
	if !json.Valid(served["/api/v1/openapi.json"]) || !bytes.HasPrefix(served["/api/v1/openapi.json"], []byte("{\n  \"openapi\": \"3.0.3\"")) {
		t.Fatalf("the JSON document is not JSON, or not in the YAML's order: %.200s", served["/api/v1/openapi.json"])
	}
	fromJSON := loadOpenAPI(t, served["/api/v1/openapi.json"])
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Fatal("the JSON document differs from the YAML one")
	}

	// Every /api/v1 route is documented, and every documented operation is a route.
	eng := e.engine.(interface{ Routes() gin.RoutesInfo })
	routes := map[string]bool{}
	for _, ri := range eng.Routes() {
		if p, ok := strings.CutPrefix(ri.Path, "/api/v1/"); ok {
			// gin's :param is OpenAPI's {param}
			p = regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(p, "{$1}")
			routes[ri.Method+" /"+p] = true
		}
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for d := range documented {
		if !routes[d] {
			t.Errorf("openapi.yaml documents %s, which is no route", d)
		}
	}
}

// apiCase is one request to the /api/v1 API and what it must answer.
type apiCase struct {
	name   string
	method string
	path   string // with the query
	key    string // the API key ("" = no Authorization header)
	authz  string // a raw Authorization header instead of key
	body   string
	hdr    map[string]string
	env    *env // nil: the main one
	// reqValid says whether the request conforms to the document: cases
	// that break it on purpose (to get an error) must be flagged invalid by
	// the document, the others must pass it.
	reqValid bool
	status   int
	code     string   // the error code, for errors
	want     []string // substrings of the body
}

// TestOpenAPIResponses drives the real handlers, on a real store, through
// each /api/v1 route's answers and errors, and validates every request
// and response against the document: a handler that drifts from it fails.
func TestOpenAPIResponses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		doc := loadOpenAPI(t, api.OpenAPIDocument())
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			t.Fatal(err)
		}
		clock := time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)
		st.Now = func() time.Time { return clock }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		mkEnv := func(st *store.Store, m *metering.Meter) *env {
			h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
				Log: log, Info: api.Info{BaseURL: "http://portal.test"}, Meter: m, Now: st.Now})
			if err != nil {
				t.Fatal(err)
			}
			return &env{t: t, st: st, h: h}
		}
		meter := &metering.Meter{Store: st, Log: log, Owner: "test"}
		mainEnv := mkEnv(st, meter)
		noMeter := mkEnv(st, nil)
		// A store whose database is gone: every call fails inside.
		broken := storetest.Open(t, st.Dialect)
		brokenKey, brokenPrefix := auth.NewAPIKey()
		must(t, broken.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: brokenPrefix}, brokenKey))
		down := mkEnv(broken, meter)
		must(t, broken.Close())

		f := newOpenAPIFixtures(t, st, clock)
		key := func(scopes string, revoked bool) string {
			k, prefix := auth.NewAPIKey()
			ak := &store.APIKey{Name: "app " + scopes, Prefix: prefix, Scopes: scopes}
			if revoked {
				ak.RevokedAt = &clock
			}
			must(t, st.CreateAPIKey(ctx, ak, k))
			return k
		}
		all, accessOnly, usageOnly, seatsOnly, revoked := key("", false), key("access", false), key("usage", false), key("seats", false), key("", true)
		readOnly := key("read", false)

		ts := func(d time.Duration) string { return clock.Add(d).Format(time.RFC3339) }
		ev := func(id, who, dim string, q any, at string) string {
			b, _ := json.Marshal(map[string]any{"id": id, "customer": who, "dimension": dim, "quantity": q, "timestamp": at})
			return string(b)
		}
		many := make([]string, 1001)
		for i := range many {
			many[i] = ev(fmt.Sprintf("m%d", i), "XACME", "api_calls", 1, ts(-time.Minute))
		}
		huge := make([]string, 1000) // over 1 MiB, though valid in every other way
		for i := range huge {
			huge[i] = ev(fmt.Sprintf("h%d", i), "XACME"+strings.Repeat(" ", 1100), "api_calls", 1, ts(-time.Minute))
		}
		accessQ := func(q string) string { return "/api/v1/access?" + q }
		seatQ := func(q string) string { return "/api/v1/seats/check?" + q }
		get, post := http.MethodGet, http.MethodPost

		cases := []apiCase{
			// GET /api/v1/access
			{name: "access: active", method: get, path: accessQ("customer=XACME"), key: accessOnly, reqValid: true, status: 200,
				want: []string{`"allowed":true`, `"state":"active"`, `"customer":{"id":`, `"plan":{"id":`}},
			{name: "access: by customer id, request id kept", method: get, path: accessQ(fmt.Sprintf("customer=%d", f.acme)), key: all,
				hdr: map[string]string{"X-Request-Id": "my-req.1"}, reqValid: true, status: 200, want: []string{`"allowed":true`}},
			{name: "access: unknown customer", method: get, path: accessQ("customer=999999999999"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `"subscription":null`}},
			{name: "access: pending, no customer, offer or plan", method: get, path: accessQ("customer=XBARE"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `"state":"pending"`, `"customer":null`, `"offer":null`, `"plan":null`}},
			{name: "access: ended", method: get, path: accessQ("customer=XGONE"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `"state":"ended"`}},
			{name: "access: entitled", method: get, path: accessQ("customer=444455556666&dimension=users&quantity=10"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":true`, `"entitlement":{"dimension":"users","expires_at":"`, `"kind":"integer","value":"10"`, `"term_end":"`}},
			{name: "access: entitled to fewer", method: get, path: accessQ("customer=444455556666&dimension=users&quantity=11"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `"entitlement":{`}},
			{name: "access: entitlement expired", method: get, path: accessQ("customer=444455556666&dimension=storage"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `expired on`}},
			{name: "access: entitlement without expiry or kind", method: get, path: accessQ("customer=444455556666&dimension=flag"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":true`, `"expires_at":null,"kind":"","value":""`}},
			{name: "access: no entitlement", method: get, path: accessQ("customer=444455556666&dimension=gpus"), key: all, reqValid: true, status: 200,
				want: []string{`"allowed":false`, `no entitlement for gpus`}},
			{name: "access: no customer", method: get, path: accessQ(""), key: all, status: 400, code: "invalid_input"},
			{name: "access: customer too long", method: get, path: accessQ("customer=" + strings.Repeat("x", 2049)), key: all, status: 400, code: "invalid_input"},
			{name: "access: quantity without dimension", method: get, path: accessQ("customer=XACME&quantity=5"), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "access: quantity 0", method: get, path: accessQ("customer=XACME&dimension=users&quantity=0"), key: all, status: 400, code: "invalid_input"},
			{name: "access: quantity not a number", method: get, path: accessQ("customer=XACME&dimension=users&quantity=x"), key: all, status: 400, code: "invalid_input"},
			{name: "access: dimension too long", method: get, path: accessQ("customer=XACME&dimension=" + strings.Repeat("d", 257)), key: all, status: 400, code: "invalid_input"},
			{name: "access: no key", method: get, path: accessQ("customer=XACME"), status: 401, code: "unauthenticated"},
			{name: "access: not a bearer key", method: get, path: accessQ("customer=XACME"), authz: "Basic abc", status: 401, code: "unauthenticated"},
			{name: "access: forged key", method: get, path: accessQ("customer=XACME"), key: "mgk_forged", reqValid: true, status: 401, code: "unauthenticated"},
			{name: "access: revoked key", method: get, path: accessQ("customer=XACME"), key: revoked, reqValid: true, status: 401, code: "unauthenticated"},
			{name: "access: wrong scope", method: get, path: accessQ("customer=XACME"), key: seatsOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "access: database down", method: get, path: accessQ("customer=XACME"), key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},

			// POST /api/v1/usage
			{name: "usage: batch", method: post, path: "/api/v1/usage", key: usageOnly, reqValid: true, status: 200,
				body: fmt.Sprintf(`{"events":[%s,%s,%s,%s,%s,{"id":"u6","subscription":%d,"dimension":"api_calls","quantity":2,"timestamp":%q},{"id":"u7","subscription":"%d","dimension":"api_calls","quantity":0.5,"timestamp":%q},%s]}`,
					ev("u1", "XACME", "api_calls", 12, ts(-10*time.Minute)),
					ev("u2", "nobody", "api_calls", 1, ts(-10*time.Minute)),
					ev("u3", "XACME", "gpu_hours", 1, ts(-10*time.Minute)),
					ev("u4", "XGONE", "api_calls", 1, ts(-10*time.Minute)),
					ev("u5", "XACME", "api_calls", 1.5, ts(-10*time.Minute)),
					f.acmeSub, ts(-5*time.Minute), f.azureSub, ts(-5*time.Minute),
					ev("u1", "XACME", "api_calls", 12, ts(-10*time.Minute))),
				want: []string{`{"id":"u1","status":"accepted","subscription_id":`, `"hour":"2026-06-02T09:00:00Z"`, `"reason":"unknown customer or subscription"`,
					`is not metered on plan`, `subscription not active`, `AWS meters whole numbers`, `{"id":"u7","status":"accepted"`,
					`"status":"duplicate","original_status":"accepted"`, `"accepted":3,"duplicates":1,"rejected":4`}},
			{name: "usage: bare array, repeats", method: post, path: "/api/v1/usage", key: all, reqValid: true, status: 200,
				body: "[" + ev("u1", "XACME", "api_calls", 12, ts(-10*time.Minute)) + "," + ev("u2", "nobody", "api_calls", 1, ts(-10*time.Minute)) + "]",
				want: []string{`"status":"duplicate","original_status":"accepted","subscription_id":`, `"status":"duplicate","reason":"unknown customer or subscription","original_status":"rejected"`, `"duplicates":2`}},
			{name: "usage: malformed events", method: post, path: "/api/v1/usage", key: all, status: 200,
				body: fmt.Sprintf(`[{"id":5},{"customer":"XACME","dimension":"api_calls","quantity":1,"timestamp":%q},%s,%s,%s,%s]`, ts(-time.Minute),
					ev("b3", "XACME", "api_calls", "lots", ts(-time.Minute)), ev("b4", "XACME", "api_calls", 1, "yesterday"),
					ev("b5", "XACME", "api_calls", 1, ts(time.Hour)), ev("b6", "XACME", "api_calls", 1, ts(-25*time.Hour))),
				want: []string{`{"id":"","status":"rejected","reason":"malformed event: `, `"reason":"id is required"`, `"quantity must be a number"`, `RFC 3339`,
					`"timestamp is in the future"`, `older than the open window`, `"rejected":6`}},
			{name: "usage: not JSON", method: post, path: "/api/v1/usage", key: all, body: "not json", status: 400, code: "invalid_input"},
			{name: "usage: no events", method: post, path: "/api/v1/usage", key: all, body: `{"events":[]}`, status: 400, code: "invalid_input"},
			{name: "usage: 1,001 events", method: post, path: "/api/v1/usage", key: all, body: "[" + strings.Join(many, ",") + "]", status: 400, code: "invalid_input"},
			// Past 1 MiB (the request limit of every route): 413.
			{name: "usage: over 1 MiB", method: post, path: "/api/v1/usage", key: all, body: "[" + strings.Join(huge, ",") + "]", reqValid: true, status: 413, code: "request_too_large"},
			{name: "usage: no key", method: post, path: "/api/v1/usage", body: `{"events":[]}`, status: 401, code: "unauthenticated"},
			{name: "usage: wrong scope", method: post, path: "/api/v1/usage", key: accessOnly, reqValid: true, status: 403, code: "forbidden",
				body: "[" + ev("x1", "XACME", "api_calls", 1, ts(-time.Minute)) + "]"},
			{name: "usage: metering off", method: post, path: "/api/v1/usage", key: all, env: noMeter, reqValid: true, status: 503, code: "unavailable",
				body: "[" + ev("x1", "XACME", "api_calls", 1, ts(-time.Minute)) + "]"},
			{name: "usage: database down", method: post, path: "/api/v1/usage", key: brokenKey, env: down, reqValid: true, status: 500, code: "internal",
				body: "[" + ev("x1", "XACME", "api_calls", 1, ts(-time.Minute)) + "]"},

			// GET /api/v1/seats/check
			{name: "seats: held by e-mail", method: get, path: seatQ("tenant_id=" + strings.ToUpper(tenantA) + "&email=ANN@contoso.com&offer=teams-app"), key: seatsOnly, reqValid: true, status: 200,
				want: []string{`"licensed":true`, `"reason":"seat_assigned"`, `"seat":{"id":`, `"source":"manual"`}},
			{name: "seats: held by object id", method: get, path: seatQ(fmt.Sprintf("customer_id=%d&object_id=11111111-2222-4333-8444-555555555555", f.custA)), key: all, reqValid: true, status: 200,
				want: []string{`"reason":"seat_assigned"`, `"source":"import"`}},
			{name: "seats: no seat", method: get, path: seatQ("tenant_id=" + tenantA + "&email=bob@contoso.com"), key: all, reqValid: true, status: 200,
				want: []string{`"licensed":false`, `"reason":"no_seat"`, `"seat":null`}},
			{name: "seats: auto-assigned", method: get, path: seatQ("tenant_id=" + tenantB + "&email=first@fabrikam.com"), key: all, reqValid: true, status: 200,
				want: []string{`"licensed":true`, `"reason":"seat_auto_assigned"`, `"source":"auto"`, `"last_checked_at":"`}},
			{name: "seats: no free seat", method: get, path: seatQ("tenant_id=" + tenantB + "&email=second@fabrikam.com"), key: all, reqValid: true, status: 200,
				want: []string{`"licensed":false`, `"reason":"no_free_seat"`}},
			{name: "seats: over the quantity", method: get, path: seatQ(fmt.Sprintf("customer_id=%d&email=newest@litware.com", f.custOver)), key: all, reqValid: true, status: 200,
				want: []string{`"licensed":false`, `"reason":"seat_over_quantity"`}},
			{name: "seats: subscription not active", method: get, path: seatQ("aws_account_id=777788889999&email=ann@northwind.com"), key: all, reqValid: true, status: 200,
				want: []string{`"licensed":false`, `"reason":"subscription_not_active"`, `"state":"suspended"`}},
			{name: "seats: no per-user subscription", method: get, path: seatQ(fmt.Sprintf("customer_id=%d&email=ann@contoso.com&offer=other", f.custA)), key: all, reqValid: true, status: 200,
				want: []string{`"reason":"no_seat_based_subscription"`, `"subscription":null`}},
			{name: "seats: unknown organisation", method: get, path: seatQ("tenant_id=cccccccc-0000-4000-8000-00000000000c&email=ann@contoso.com"), key: all, reqValid: true, status: 200,
				want: []string{`"reason":"unknown_customer"`}},
			{name: "seats: no organisation", method: get, path: seatQ("email=ann@contoso.com"), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "seats: two organisations", method: get, path: seatQ("tenant_id=" + tenantA + "&customer_id=1&email=a@b.c"), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "seats: no user", method: get, path: seatQ("tenant_id=" + tenantA), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "seats: not an e-mail", method: get, path: seatQ("tenant_id=" + tenantA + "&email=nope"), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "seats: not an object id", method: get, path: seatQ("tenant_id=" + tenantA + "&object_id=nope"), key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "seats: customer id 0", method: get, path: seatQ("customer_id=0&email=ann@contoso.com"), key: all, status: 400, code: "invalid_input"},
			{name: "seats: customer id not a number", method: get, path: seatQ("customer_id=abc&email=ann@contoso.com"), key: all, status: 400, code: "invalid_input"},
			{name: "seats: tenant id too long", method: get, path: seatQ("tenant_id=" + strings.Repeat("a", 65) + "&email=ann@contoso.com"), key: all, status: 400, code: "invalid_input"},
			{name: "seats: no key", method: get, path: seatQ("tenant_id=" + tenantA + "&email=ann@contoso.com"), status: 401, code: "unauthenticated"},
			{name: "seats: wrong scope", method: get, path: seatQ("tenant_id=" + tenantA + "&email=ann@contoso.com"), key: usageOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "seats: database down", method: get, path: seatQ("tenant_id=" + tenantA + "&email=ann@contoso.com"), key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},

			// The read API.
			{name: "read: subscriptions", method: get, path: "/api/v1/subscriptions", key: readOnly, reqValid: true, status: 200,
				want: []string{`"items":[{"id":`, `"next_cursor":null`, `"aws_customer_identifier":"XACME"`}},
			{name: "read: subscriptions, a page", method: get, path: "/api/v1/subscriptions?limit=2&marketplace=azure&state=active", key: all, reqValid: true, status: 200,
				want: []string{`"next_cursor":"`, `"marketplace":"azure"`}},
			{name: "read: subscriptions of a customer, changed since", method: get, path: fmt.Sprintf("/api/v1/subscriptions?customer=%d&updated_since=%s", f.acme, url.QueryEscape(ts(-73*time.Hour))),
				key: all, reqValid: true, status: 200, want: []string{fmt.Sprintf(`"items":[{"id":%d,`, f.acmeSub)}},
			{name: "read: nothing changed since", method: get, path: fmt.Sprintf("/api/v1/subscriptions?customer=%d&updated_since=%s", f.acme, url.QueryEscape(ts(-71*time.Hour))),
				key: all, reqValid: true, status: 200, want: []string{`{"items":[],"next_cursor":null}`}},
			{name: "read: subscriptions, bad limit", method: get, path: "/api/v1/subscriptions?limit=500", key: all, status: 400, code: "invalid_input"},
			{name: "read: subscriptions, bad cursor", method: get, path: "/api/v1/subscriptions?cursor=nonsense", key: all, reqValid: true, status: 400, code: "invalid_input"},
			{name: "read: subscriptions, no key", method: get, path: "/api/v1/subscriptions", status: 401, code: "unauthenticated"},
			{name: "read: subscriptions, wrong scope", method: get, path: "/api/v1/subscriptions", key: usageOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "read: subscriptions, database down", method: get, path: "/api/v1/subscriptions", key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},
			{name: "read: a contract", method: get, path: fmt.Sprintf("/api/v1/subscriptions/%d", f.contractSub), key: readOnly, reqValid: true, status: 200,
				want: []string{`"seats":null`, `"entitlements":[{"dimension":`, `"dimension":"users","kind":"integer","value":"10"`}},
			{name: "read: a per-user subscription", method: get, path: fmt.Sprintf("/api/v1/subscriptions/%d", f.teamsSub), key: all, reqValid: true, status: 200,
				want: []string{`"seats":{"bought":5,"assigned":2,"free":3,"over":0,"usable":true}`, `"entitlements":[]`}},
			{name: "read: no such subscription", method: get, path: "/api/v1/subscriptions/999999", key: all, reqValid: true, status: 404, code: "not_found"},
			{name: "read: subscription id not a number", method: get, path: "/api/v1/subscriptions/abc", key: all, status: 400, code: "invalid_input"},
			{name: "read: subscription, no key", method: get, path: fmt.Sprintf("/api/v1/subscriptions/%d", f.acmeSub), status: 401, code: "unauthenticated"},
			{name: "read: subscription, wrong scope", method: get, path: fmt.Sprintf("/api/v1/subscriptions/%d", f.acmeSub), key: seatsOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "read: subscription, database down", method: get, path: fmt.Sprintf("/api/v1/subscriptions/%d", f.acmeSub), key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},
			{name: "read: a customer", method: get, path: fmt.Sprintf("/api/v1/customers/%d", f.custA), key: readOnly, reqValid: true, status: 200,
				want: []string{`"name":"Contoso"`, `"azure_tenant_id":"` + tenantA + `"`, `"active_subscriptions":3`}},
			{name: "read: no such customer", method: get, path: "/api/v1/customers/999999", key: all, reqValid: true, status: 404, code: "not_found"},
			{name: "read: customer id not a number", method: get, path: "/api/v1/customers/x", key: all, status: 400, code: "invalid_input"},
			{name: "read: customer, no key", method: get, path: fmt.Sprintf("/api/v1/customers/%d", f.custA), status: 401, code: "unauthenticated"},
			{name: "read: customer, wrong scope", method: get, path: fmt.Sprintf("/api/v1/customers/%d", f.custA), key: accessOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "read: customer, database down", method: get, path: "/api/v1/customers/1", key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},
			{name: "read: events from the start", method: get, path: "/api/v1/events", key: readOnly, reqValid: true, status: 200,
				want: []string{`"type":"subscription.created"`, `"id":"evt_fixture_0"`, `"data":{"id":`, `"timestamp":"2026-`}},
			{name: "read: events, one at a time", method: get, path: "/api/v1/events?after=0&limit=1", key: all, reqValid: true, status: 200,
				want: []string{`"id":"evt_fixture_0"`}},
			{name: "read: events, none after the last", method: get, path: "/api/v1/events?after=4000000000", key: all, reqValid: true, status: 200,
				want: []string{`{"items":[],"next":4000000000}`}},
			{name: "read: events, bad after", method: get, path: "/api/v1/events?after=-1", key: all, status: 400, code: "invalid_input"},
			{name: "read: events, no key", method: get, path: "/api/v1/events", status: 401, code: "unauthenticated"},
			{name: "read: events, wrong scope", method: get, path: "/api/v1/events", key: usageOnly, reqValid: true, status: 403, code: "forbidden"},
			{name: "read: events, database down", method: get, path: "/api/v1/events", key: brokenKey, env: down, reqValid: true, status: 500, code: "internal"},

			// The document itself: no key.
			{name: "document: JSON", method: get, path: "/api/v1/openapi.json", reqValid: true, status: 200, want: []string{`"openapi": "3.0.3"`}},
			{name: "document: YAML", method: get, path: "/api/v1/openapi.yaml", reqValid: true, status: 200, want: []string{"openapi: 3.0.3"}},
		}

		// The usage batch above counts in 09:00; then 09:00 is sealed, and
		// usage for it counts, late, in 10:00.
		late := apiCase{name: "usage: late", method: post, path: "/api/v1/usage", key: all, reqValid: true, status: 200,
			body: "[" + ev("late1", "XACME", "api_calls", 1, ts(10*time.Minute)) + "]",
			want: []string{`"status":"accepted"`, `"hour":"2026-06-02T10:00:00Z","late":true`}}

		seen := map[string]bool{} // "METHOD /path STATUS"
		validated := 0
		run := func(c apiCase) {
			t.Helper()
			e := c.env
			if e == nil {
				e = mainEnv
			}
			newReq := func() *http.Request {
				req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
				if c.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				switch {
				case c.authz != "":
					req.Header.Set("Authorization", c.authz)
				case c.key != "":
					req.Header.Set("Authorization", "Bearer "+c.key)
				}
				for k, v := range c.hdr {
					req.Header.Set(k, v)
				}
				return req
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, newReq())
			r := resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
			if r.code != c.status {
				t.Fatalf("%s: %d, want %d: %.500s", c.name, r.code, c.status, r.body)
			}
			if c.code != "" {
				r.errCode(t, c.status, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("%s: the answer lacks %s: %.2000s", c.name, w, r.body)
				}
			}
			if id := c.hdr["X-Request-Id"]; id != "" && r.hdr.Get("X-Request-Id") != id {
				t.Errorf("%s: request id %q not kept: %q", c.name, id, r.hdr.Get("X-Request-Id"))
			}

			// The request, against the document.
			req := newReq()
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("%s: no documented operation for %s %s: %v", c.name, c.method, c.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: bearerKey}}
			err = openapi3filter.ValidateRequest(ctx, in)
			switch {
			case c.reqValid && err != nil:
				t.Errorf("%s: the document refuses the request: %v", c.name, err)
			case !c.reqValid && err == nil:
				t.Errorf("%s: the document accepts a request the API refuses", c.name)
			}
			// The response, against the document: an undocumented status fails too.
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.code, Header: r.hdr,
				Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			out.SetBodyBytes(r.body)
			if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
				t.Errorf("%s: the answer does not match the document: %v\n%.2000s", c.name, err, r.body)
			}
			validated++
			seen[fmt.Sprintf("%s %s %d", route.Method, route.Path, r.code)] = true
		}
		for _, c := range cases {
			run(c)
		}
		clock = clock.Add(time.Hour)
		if n, err := meter.Seal(ctx); err != nil || n == 0 {
			t.Fatalf("sealed %d, %v", n, err)
		}
		run(late)

		// Every documented answer of every operation was produced and checked.
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				for status := range op.Responses.Map() {
					if k := fmt.Sprintf("%s %s %s", method, path, status); !seen[k] {
						t.Errorf("no case answers %s: add one", k)
					}
				}
			}
		}
		// And every seat check reason the document lists.
		for _, reason := range doc.Components.Schemas["SeatAnswer"].Value.Properties["reason"].Value.Enum {
			if !slices.ContainsFunc(cases, func(c apiCase) bool { return slices.Contains(c.want, fmt.Sprintf(`"reason":%q`, reason)) }) {
				t.Errorf("no case answers the seat check reason %s", reason)
			}
		}
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("%d requests and responses validated against openapi.yaml; answers seen: %s", validated, strings.Join(keys, ", "))
	})
}

// bearerKey is the document's apiKey scheme: a Marketgate key in the
// Authorization header (whether the key is known is the server's business).
func bearerKey(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer "+auth.APIKeyPrefix) {
		return in.NewError(errors.New("no API key"))
	}
	return nil
}

type openAPIFixtures struct {
	acme, custA, custOver uint
	acmeSub, azureSub     uint
	contractSub, teamsSub uint
}

// newOpenAPIFixtures stores what the cases ask about: AWS and Microsoft
// subscriptions in several states, a contract with entitlements, and
// organisations with per-user subscriptions and seats.
func newOpenAPIFixtures(t *testing.T, st *store.Store, now time.Time) *openAPIFixtures {
	t.Helper()
	ctx := context.Background()
	db := st.TestingDB(t).WithContext(ctx)
	then := now.Add(-72 * time.Hour)
	f := &openAPIFixtures{}
	offer := func(mp, name, id string, contract bool, plans ...store.Plan) store.Offer {
		o := store.Offer{Marketplace: mp, Name: name, MarketplaceID: id, Contract: contract, CreatedAt: then, UpdatedAt: then}
		if mp == "aws" {
			o.IdentityModel = "legacy"
		}
		for _, p := range plans {
			if p.Dimensions == "" {
				p.Dimensions = "[]"
			}
			p.ActivationPolicy, p.OverQuantityPolicy, p.CreatedAt, p.UpdatedAt = store.ActivateAutomatic, store.OverQuantityKeepAll, then, then
			o.Plans = append(o.Plans, p)
		}
		must(t, db.Create(&o).Error)
		return o
	}
	cust := func(name, tenant, account string) uint {
		c := store.Customer{Name: name, AzureTenantID: tenant, AWSAccountID: account, CreatedAt: then, UpdatedAt: then}
		must(t, db.Create(&c).Error)
		return c.ID
	}
	sub := func(s store.Subscription, customer uint, o store.Offer, plan int) uint {
		s.StateChangedAt, s.Version, s.CreatedAt, s.UpdatedAt = then, 1, then, then
		if customer != 0 {
			s.CustomerID = &customer
		}
		if o.ID != 0 {
			s.OfferID, s.PlanID, s.Marketplace = &o.ID, &o.Plans[plan].ID, o.Marketplace
		}
		must(t, db.Create(&s).Error)
		return s.ID
	}

	legacy := offer("aws", "Analytics", "prod-legacy", false, store.Plan{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls"}]`})
	contract := offer("aws", "Analytics Contracts", "prod-contract", true, store.Plan{PlanID: "users", Name: "Per user", Dimensions: `[{"key":"users"}]`})
	saas := offer("azure", "Analytics for Azure", "analytics-saas", false, store.Plan{PlanID: "silver", Name: "Silver", Dimensions: `[{"key":"api_calls"}]`})
	teams := offer("azure", "Teams App", "teams-app", false,
		store.Plan{PlanID: "per-user", Name: "Per user", SeatBased: true},
		store.Plan{PlanID: "auto", Name: "Per user, first come first served", SeatBased: true, AutoAssignSeats: true},
		store.Plan{PlanID: "flat", Name: "Flat"})

	f.acme = cust("Acme", "", "")
	f.acmeSub = sub(store.Subscription{State: "active", AWSCustomerIdentifier: "XACME", AWSProductCode: "prod-legacy"}, f.acme, legacy, 0)
	sub(store.Subscription{State: "ended", AWSCustomerIdentifier: "XGONE", AWSProductCode: "prod-legacy"}, cust("Gone", "", ""), legacy, 0)
	sub(store.Subscription{Marketplace: "aws", State: "pending", AWSCustomerIdentifier: "XBARE"}, 0, store.Offer{}, 0)
	termEnd := now.Add(300 * 24 * time.Hour)
	contractSub := sub(store.Subscription{State: "active", AWSCustomerAccountID: "444455556666", AWSLicenseArn: "arn:aws:license-manager::444455556666:license:l-1",
		Quantity: 10, TermStart: &then, TermEnd: &termEnd}, cust("Woodgrove", "", "444455556666"), contract, 0)
	ten, tomorrow, yesterday := int64(10), now.Add(24*time.Hour), now.Add(-24*time.Hour)
	must(t, db.Create(&[]store.Entitlement{
		{SubscriptionID: contractSub, Dimension: "users", Kind: "integer", Value: "10", IntegerValue: &ten, ExpiresAt: &tomorrow, UpdatedAt: now},
		{SubscriptionID: contractSub, Dimension: "storage", Kind: "integer", Value: "10", IntegerValue: &ten, ExpiresAt: &yesterday, UpdatedAt: now},
		{SubscriptionID: contractSub, Dimension: "flag", UpdatedAt: now},
	}).Error)

	f.custA = cust("Contoso", tenantA, "")
	f.azureSub = sub(store.Subscription{State: "active", AzureSubscriptionID: "az-contoso-silver", AzureTenantID: tenantA, Quantity: 1}, f.custA, saas, 0)
	subA := sub(store.Subscription{State: "active", AzureSubscriptionID: "az-contoso-teams", AzureTenantID: tenantA, Quantity: 5}, f.custA, teams, 0)
	f.contractSub, f.teamsSub = contractSub, subA
	// Two outbound events, as the outbox holds them, for the events feed.
	for i, typ := range []string{"subscription.created", "subscription.activated"} {
		must(t, db.Create(&store.Event{EventID: fmt.Sprintf("evt_fixture_%d", i), Type: typ, SubscriptionID: &f.acmeSub, CustomerID: &f.acme,
			OccurredAt: then, Data: fmt.Sprintf(`{"id":%d,"state":"active"}`, f.acmeSub), CreatedAt: then}).Error)
	}
	sub(store.Subscription{State: "active", AzureSubscriptionID: "az-contoso-flat", AzureTenantID: tenantA}, f.custA, teams, 2)
	sub(store.Subscription{State: "active", AzureSubscriptionID: "az-fabrikam-auto", AzureTenantID: tenantB, Quantity: 1}, cust("Fabrikam", tenantB, ""), teams, 1)
	f.custOver = cust("Litware", "dddddddd-0000-4000-8000-00000000000d", "")
	subOver := sub(store.Subscription{State: "active", AzureSubscriptionID: "az-litware-teams", Quantity: 2}, f.custOver, teams, 0)
	subNorthwind := sub(store.Subscription{State: "active", AzureSubscriptionID: "az-northwind-teams", Quantity: 5}, cust("Northwind", "", "777788889999"), teams, 0)

	svc := &seats.Service{Store: st}
	assign := func(sub uint, user seats.User, source string) {
		seat, _, err := svc.Assign(ctx, 0, sub, user, "", "admin@example.com")
		must(t, err)
		must(t, db.Model(seat).Update("source", source).Error)
	}
	assign(subA, seats.User{Email: "ann@contoso.com"}, store.SeatManual)
	assign(subA, seats.User{ObjectID: "11111111-2222-4333-8444-555555555555"}, store.SeatImport)
	assign(subNorthwind, seats.User{Email: "ann@northwind.com"}, store.SeatManual)
	must(t, db.Model(&store.Subscription{}).Where("id = ?", subNorthwind).Update("state", "suspended").Error)
	// Two seats, then the quantity drops to one under newest_unlicensed.
	for i, u := range []string{"oldest@litware.com", "newest@litware.com"} {
		seat, _, err := svc.Assign(ctx, 0, subOver, seats.User{Email: u}, "", "admin@example.com")
		must(t, err)
		must(t, db.Model(seat).Update("assigned_at", then.Add(time.Duration(i)*time.Minute)).Error)
	}
	must(t, db.Model(&store.Subscription{}).Where("id = ?", subOver).Update("quantity", 1).Error)
	must(t, db.Model(&store.Plan{}).Where("id = ?", teams.Plans[0].ID).Update("over_quantity_policy", store.OverQuantityNewestUnlicensed).Error)
	return f
}
