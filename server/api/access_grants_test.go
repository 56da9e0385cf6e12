package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestAccessDecidesOnTheCurrentGrant: GetEntitlements may list a dimension
// twice, an expired grant beside the current one, and "a past date … means
// not entitled" (reference §5). The access check answers from the current
// grant, whichever row was stored first.
func TestAccessDecidesOnTheCurrentGrant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, nil)
		key, prefix := auth.NewAPIKey()
		if err := st.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: prefix}, key); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		res, err := subscriptions.Apply(ctx, st, subscriptions.Ref{AWSCustomerAccountID: "111122223333", AWSLicenseArn: "arn:l-twice"},
			lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: now.Add(-time.Hour)}, subscriptions.Meta{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Entitlements are a contract's (defect 8: only AWS contract
		// customers are checked against them).
		offer := store.Offer{Marketplace: "aws", Name: "Contracts", MarketplaceID: "prod-twice", Contract: true,
			IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&offer).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", res.Subscription.ID).Update("offer_id", offer.ID).Error; err != nil {
			t.Fatal(err)
		}
		old, cur := now.Add(-24*time.Hour), now.Add(300*24*time.Hour)
		v25, v35 := int64(25), int64(35)
		st.TestingDB(t).Create(&[]store.Entitlement{
			{SubscriptionID: res.Subscription.ID, Dimension: "seats", Kind: "integer", Value: "25", IntegerValue: &v25, ExpiresAt: &old, UpdatedAt: now},
			{SubscriptionID: res.Subscription.ID, Dimension: "seats", Kind: "integer", Value: "35", IntegerValue: &v35, ExpiresAt: &cur, UpdatedAt: now},
		})
		for q, want := range map[string]bool{"30": true, "36": false} {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/access?customer=arn:l-twice&dimension=seats&quantity="+q, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			var out struct {
				Allowed     bool
				Reason      string
				Entitlement struct{ Value string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if out.Allowed != want || out.Entitlement.Value != "35" {
				t.Fatalf("quantity %s: allowed %v (%s), entitlement %q", q, out.Allowed, out.Reason, out.Entitlement.Value)
			}
		}
	})
}
