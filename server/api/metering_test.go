package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func TestUsageAPIAndRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)
		st.Now = func() time.Time { return clock }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		m := &metering.Meter{Store: st, Log: log, Owner: "test"}
		h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
			Log: log, Info: api.Info{BaseURL: "http://portal.test"}, Meter: m, Now: st.Now})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, st: st, h: h}
		then := clock.Add(-72 * time.Hour)
		offer := store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", IdentityModel: "legacy", CreatedAt: then, UpdatedAt: then,
			Plans: []store.Plan{{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls"}]`, ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
		st.TestingDB(t).Create(&offer)
		custs := []store.Customer{{Name: "Contoso", CreatedAt: then, UpdatedAt: then}, {Name: "Fabrikam", CreatedAt: then, UpdatedAt: then}}
		st.TestingDB(t).Create(&custs)
		mk := func(c store.Customer, ident, state string) store.Subscription {
			s := store.Subscription{Marketplace: "aws", State: state, StateChangedAt: then, CustomerID: &c.ID, OfferID: &offer.ID, PlanID: &offer.Plans[0].ID,
				AWSCustomerIdentifier: ident, AWSProductCode: "prod-legacy", Version: 1, CreatedAt: then, UpdatedAt: then}
			st.TestingDB(t).Create(&s)
			return s
		}
		mine, theirs := mk(custs[0], "XCONTOSO", "active"), mk(custs[1], "XFABRIKAM", "active")
		ended := mk(custs[0], "XOLD", "ended")
		key, prefix := auth.NewAPIKey()
		if err := st.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: prefix}, key); err != nil {
			t.Fatal(err)
		}
		app := &browser{e: e}
		bearer := map[string]string{"Authorization": "Bearer " + key, "Sec-Fetch-Site": ""}
		post := func(body string) resp { return app.do(http.MethodPost, "/api/v1/usage", body, bearer) }

		app.do(http.MethodPost, "/api/v1/usage", `{"events":[]}`, map[string]string{"Sec-Fetch-Site": ""}).errCode(t, 401, "unauthenticated")
		ts := clock.Add(-10 * time.Minute).Format(time.RFC3339)
		r := post(fmt.Sprintf(`{"events":[
			{"id":"u1","customer":"XCONTOSO","dimension":"api_calls","quantity":12,"timestamp":%q},
			{"id":"u2","customer":"nobody","dimension":"api_calls","quantity":1,"timestamp":%q},
			{"id":"u3","customer":"XCONTOSO","dimension":"api_calls","quantity":"lots","timestamp":%q},
			{"id":"u4","customer":"XCONTOSO","dimension":"api_calls","quantity":1,"timestamp":"yesterday"},
			{"id":"u5","subscription":%d,"dimension":"api_calls","quantity":3,"timestamp":%q}]}`, ts, ts, ts, mine.ID, ts))
		var out struct {
			Results                        []metering.Result `json:"results"`
			Accepted, Rejected, Duplicates int
		}
		r.json(t, &out)
		if r.code != 200 || out.Accepted != 2 || out.Rejected != 3 || out.Results[2].Reason != "quantity must be a number" ||
			!strings.Contains(out.Results[3].Reason, "RFC 3339") || out.Results[1].Reason != "unknown customer or subscription" {
			t.Fatalf("batch: %d %+v", r.code, out)
		}
		// The same ids again (bare array form): counted once, original results returned.
		post(fmt.Sprintf(`[{"id":"u1","customer":"XCONTOSO","dimension":"api_calls","quantity":12,"timestamp":%q}]`, ts)).json(t, &out)
		if out.Duplicates != 1 || out.Results[0].OriginalStatus != "accepted" {
			t.Fatalf("repeat: %+v", out)
		}
		// Too many, or not JSON.
		many := make([]string, 1001)
		for i := range many {
			many[i] = fmt.Sprintf(`{"id":"m%d","customer":"XCONTOSO","dimension":"api_calls","quantity":1,"timestamp":%q}`, i, ts)
		}
		post("["+strings.Join(many, ",")+"]").errCode(t, 400, "invalid_input")
		post("not json").errCode(t, 400, "invalid_input")

		// Sealed after the hour: a record of 15.
		clock = clock.Add(time.Hour)
		if n, err := m.Seal(ctx); err != nil || n != 2 {
			t.Fatalf("sealed %d, %v", n, err)
		}
		e.user("op@example.com", store.RoleOperator, nil)
		op := e.login("op@example.com")
		var list struct {
			Items []struct {
				ID             uint    `json:"id"`
				SubscriptionID uint    `json:"subscription_id"`
				Quantity       float64 `json:"quantity"`
				Status         string  `json:"status"`
			} `json:"items"`
			Total int `json:"total"`
		}
		op.get(fmt.Sprintf("/api/metering/records?subscription=%d", mine.ID)).json(t, &list)
		if list.Total != 1 || list.Items[0].Quantity != 15 || list.Items[0].Status != "pending" {
			t.Fatalf("records: %+v", list)
		}
		for _, q := range []string{"status=bogus", "from=yesterday", "subscription=abc", "marketplace=gcp", "limit=0", "offset=-1"} {
			op.get("/api/metering/records?"+q).errCode(t, 400, "invalid_input")
		}
		csvResp := op.get("/api/metering/records?format=csv")
		rows, err := csv.NewReader(strings.NewReader(string(csvResp.body))).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][0] != "id" || !strings.HasPrefix(csvResp.hdr.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %v %q", err, csvResp.body)
		}
		var health struct {
			Health metering.Health `json:"health"`
		}
		op.get("/api/metering/health").json(t, &health)
		if health.Health.Pending != 2 {
			t.Fatalf("health: %+v", health)
		}
		m.Observe(ctx)
		if metrics := op.get("/metrics"); !strings.Contains(string(metrics.body), "marketgate_metering_records_pending 2") {
			t.Fatalf("metrics:\n%s", metrics.body)
		}
		// Retry of a rejected record makes it pending again.
		st.TestingDB(t).Model(&store.MeteringRecord{}).Where("id = ?", list.Items[0].ID).Updates(map[string]any{"status": "rejected"})
		var retried struct{ Retried int }
		op.do(http.MethodPost, "/api/metering/records/retry", fmt.Sprintf(`{"ids":[%d]}`, list.Items[0].ID), nil).json(t, &retried)
		if retried.Retried != 1 {
			t.Fatalf("retry: %+v", retried)
		}
		// Manual usage entry.
		if r := op.do(http.MethodPost, "/api/metering/usage", fmt.Sprintf(`{"subscription_id":%d,"dimension":"api_calls","quantity":4}`, mine.ID), nil); r.code != 200 {
			t.Fatalf("manual: %d %s", r.code, r.body)
		}
		op.do(http.MethodPost, "/api/metering/usage", fmt.Sprintf(`{"subscription_id":%d,"dimension":"api_calls","quantity":4}`, ended.ID), nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, "/api/metering/usage", fmt.Sprintf(`{"subscription_id":%d,"dimension":"api_calls","quantity":4,"timestamp":"now"}`, mine.ID), nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, "/api/metering/usage", fmt.Sprintf(`{"subscription_id":%d,"dimension":"api_calls","quantity":-4}`, mine.ID), nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, "/api/metering/records/retry", `{"ids":[]}`, nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, "/api/metering/records/retry", `{"ids":"all"}`, nil).errCode(t, 400, "invalid_input")
		e.user("viewer@example.com", store.RoleViewer, nil)
		e.login("viewer@example.com").do(http.MethodPost, "/api/metering/usage", `{}`, nil).errCode(t, 403, "forbidden")

		// A customer admin sees only their organisation's records and usage.
		e.user("it@fabrikam.example", store.RoleCustomerAdmin, &custs[1].ID)
		ca := e.login("it@fabrikam.example")
		ca.get("/api/metering/records").json(t, &list)
		for _, it := range list.Items {
			if it.SubscriptionID != theirs.ID {
				t.Fatalf("customer admin sees record of subscription %d", it.SubscriptionID)
			}
		}
		ca.get(fmt.Sprintf("/api/subscriptions/%d/usage", mine.ID)).errCode(t, 404, "not_found")
		ca.get("/api/metering/health").errCode(t, 403, "forbidden")
		var series usageReport
		op.get(fmt.Sprintf("/api/subscriptions/%d/usage?granularity=day", mine.ID)).json(t, &series)
		if len(series.Dimensions) != 1 || len(series.Dimensions[0].Buckets) != 2 || series.Dimensions[0].Buckets[1].Used != 19 {
			t.Fatalf("daily series: %+v", series)
		}
	})
}

func TestAPIKeyManagement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@example.com", store.RoleAdmin, nil)
		e.user("op@example.com", store.RoleOperator, nil)
		admin := e.login("admin@example.com")
		e.login("op@example.com").do(http.MethodPost, "/api/apikeys", `{"name":"x","scopes":["usage"]}`, nil).errCode(t, 403, "forbidden")
		admin.do(http.MethodPost, "/api/apikeys", `{"name":"","scopes":["usage"]}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/apikeys", `{"name":"x","scopes":["root"]}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/apikeys", `{"name":"x","scopes":[]}`, nil).errCode(t, 400, "invalid_input")
		r := admin.do(http.MethodPost, "/api/apikeys", `{"name":"billing","scopes":["access"]}`, nil)
		var created struct {
			Key    string `json:"key"`
			APIKey struct {
				ID     uint     `json:"id"`
				Scopes []string `json:"scopes"`
			} `json:"api_key"`
		}
		r.json(t, &created)
		if r.code != 201 || !strings.HasPrefix(created.Key, auth.APIKeyPrefix) || len(created.APIKey.Scopes) != 1 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
		app := &browser{e: e}
		hdr := map[string]string{"Authorization": "Bearer " + created.Key, "Sec-Fetch-Site": ""}
		// The access scope may check access, not report usage.
		if r := app.do(http.MethodGet, "/api/v1/access?customer=nobody", "", hdr); r.code != 200 {
			t.Fatalf("access with the access scope: %d", r.code)
		}
		app.do(http.MethodPost, "/api/v1/usage", `[]`, hdr).errCode(t, 403, "forbidden")
		// The list shows the key (never the secret) and its last use.
		var list struct {
			Items []struct {
				Name       string     `json:"name"`
				LastUsedAt *time.Time `json:"last_used_at"`
			} `json:"items"`
		}
		lr := admin.get("/api/apikeys")
		lr.json(t, &list)
		if len(list.Items) != 1 || list.Items[0].LastUsedAt == nil || strings.Contains(string(lr.body), created.Key) {
			t.Fatalf("list: %s", lr.body)
		}
		// Revoked: refused from then on.
		if r := admin.do(http.MethodPost, fmt.Sprintf("/api/apikeys/%d/revoke", created.APIKey.ID), "", nil); r.code != 204 {
			t.Fatalf("revoke: %d", r.code)
		}
		admin.do(http.MethodPost, fmt.Sprintf("/api/apikeys/%d/revoke", created.APIKey.ID), "", nil).errCode(t, 404, "not_found")
		admin.do(http.MethodPost, "/api/apikeys/abc/revoke", "", nil).errCode(t, 400, "invalid_input")
		app.do(http.MethodGet, "/api/v1/access?customer=nobody", "", hdr).errCode(t, 401, "unauthenticated")
	})
}
