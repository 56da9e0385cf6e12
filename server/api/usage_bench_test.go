package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// BenchmarkUsageSingleEvent is POST /api/v1/usage with one event per
// request from 64 concurrent callers, in-process (no network), on SQLite:
// the per-request cost around the group commit.
func BenchmarkUsageSingleEvent(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := &metering.Meter{Store: st, Log: log, Owner: "bench"}
	m.Start(ctx)
	h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: log, Info: api.Info{BaseURL: "http://portal.test"}, Meter: m, Now: st.Now})
	if err != nil {
		b.Fatal(err)
	}
	then := time.Now().UTC().Add(-72 * time.Hour)
	offer := store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", IdentityModel: "legacy", CreatedAt: then, UpdatedAt: then,
		Plans: []store.Plan{{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls"}]`, ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
	st.TestingDB(b).Create(&offer)
	sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: then, OfferID: &offer.ID, PlanID: &offer.Plans[0].ID,
		AWSCustomerIdentifier: "CUST", AWSProductCode: "prod-legacy", Version: 1, CreatedAt: then, UpdatedAt: then}
	st.TestingDB(b).Create(&sub)
	key, prefix := auth.NewAPIKey()
	if err := st.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: prefix, Scopes: "usage"}, key); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	var seq atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := `[{"id":"s` + strconv.FormatInt(seq.Add(1), 10) + `","customer":"CUST","dimension":"api_calls","quantity":1,"timestamp":"` + now + `"}]`
			req := httptest.NewRequest(http.MethodPost, "/api/v1/usage", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"accepted"`) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}
