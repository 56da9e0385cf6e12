package api_test

import (
	"context"
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

func TestAccessCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, nil)
		key, prefix := auth.NewAPIKey()
		if err := st.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: prefix}, key); err != nil {
			t.Fatal(err)
		}
		revoked, rprefix := auth.NewAPIKey()
		now := time.Now().UTC()
		st.CreateAPIKey(ctx, &store.APIKey{Name: "old", Prefix: rprefix, RevokedAt: &now}, revoked)

		at := now.Add(-time.Hour)
		apply := func(ref subscriptions.Ref, kinds ...lifecycle.Kind) {
			for i, k := range kinds {
				if _, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: k, At: at.Add(time.Duration(i) * time.Minute)}, subscriptions.Meta{}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		apply(subscriptions.Ref{AWSCustomerAccountID: "111111111111", AWSLicenseArn: "arn:l-active"}, lifecycle.AWSRegistered, lifecycle.AWSSubscribeSuccess)
		apply(subscriptions.Ref{AWSCustomerAccountID: "222222222222", AWSLicenseArn: "arn:l-pending"}, lifecycle.AWSRegistered)
		apply(subscriptions.Ref{AWSProductCode: "p", AWSCustomerIdentifier: "XENDED"}, lifecycle.AWSSubscribeSuccess, lifecycle.AWSUnsubscribeSuccess)
		apply(subscriptions.Ref{AWSProductCode: "p", AWSCustomerIdentifier: "XLEAVING"}, lifecycle.AWSSubscribeSuccess, lifecycle.AWSUnsubscribePending)
		apply(subscriptions.Ref{AWSProductCode: "p", AWSCustomerIdentifier: "XFAILED"}, lifecycle.AWSRegistered, lifecycle.AWSSubscribeFail)
		// One account, two licenses: one ended, one active → allowed.
		apply(subscriptions.Ref{AWSCustomerAccountID: "333333333333", AWSLicenseArn: "arn:l-old"}, lifecycle.AWSSubscribeSuccess, lifecycle.AWSUnsubscribeSuccess)
		apply(subscriptions.Ref{AWSCustomerAccountID: "333333333333", AWSLicenseArn: "arn:l-new"}, lifecycle.AWSSubscribeSuccess)

		call := func(authz, query string) resp {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/access?"+query, nil)
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
		}
		cases := []struct {
			customer string
			allowed  bool
			state    string
		}{
			{"111111111111", true, "active"},
			{"arn:l-active", true, "active"},
			{"222222222222", false, "pending"},
			{"XENDED", false, "ended"},
			{"XLEAVING", true, "unsubscribe_pending"},
			{"XFAILED", false, "failed"},
			{"333333333333", true, "active"},
			{"999999999999", false, ""},
		}
		for _, c := range cases {
			t.Run(c.customer, func(t *testing.T) {
				r := call("Bearer "+key, "customer="+c.customer)
				var out struct {
					Allowed      bool
					Reason       string
					Subscription *struct{ State string }
				}
				r.json(t, &out)
				if r.code != 200 || out.Allowed != c.allowed || out.Reason == "" {
					t.Fatalf("%d %+v", r.code, out)
				}
				if (c.state == "") != (out.Subscription == nil) || (out.Subscription != nil && out.Subscription.State != c.state) {
					t.Fatalf("subscription %+v, want state %q", out.Subscription, c.state)
				}
			})
		}
		call("", "customer=111111111111").errCode(t, 401, "unauthenticated")
		call("Bearer "+revoked, "customer=111111111111").errCode(t, 401, "unauthenticated")
		call("Bearer mgk_forged", "customer=111111111111").errCode(t, 401, "unauthenticated")
		call("Basic abc", "customer=111111111111").errCode(t, 401, "unauthenticated")
		call("Bearer "+key, "").errCode(t, 400, "invalid_input")
		call("Bearer "+key, "customer=111111111111&quantity=5").errCode(t, 400, "invalid_input")
		call("Bearer "+key, "customer=111111111111&dimension=users&quantity=0").errCode(t, 400, "invalid_input")
		call("Bearer "+key, "customer=111111111111&dimension=users&quantity=x").errCode(t, 400, "invalid_input")

		// Contract entitlements: 10 users until tomorrow, storage expired.
		var active store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn = ?", "arn:l-active").First(&active)
		contract := store.Offer{Marketplace: "aws", Name: "Contracts", MarketplaceID: "prodcontract", IdentityModel: "concurrent_agreements", Contract: true,
			CreatedAt: now, UpdatedAt: now}
		st.TestingDB(t).Create(&contract)
		st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", active.ID).Update("offer_id", contract.ID)
		ten := int64(10)
		tomorrow, yesterday := now.Add(24*time.Hour), now.Add(-24*time.Hour)
		st.TestingDB(t).Create(&[]store.Entitlement{
			{SubscriptionID: active.ID, Dimension: "users", Kind: "integer", Value: "10", IntegerValue: &ten, ExpiresAt: &tomorrow, UpdatedAt: now},
			{SubscriptionID: active.ID, Dimension: "storage", Kind: "integer", Value: "10", IntegerValue: &ten, ExpiresAt: &yesterday, UpdatedAt: now},
		})
		for q, want := range map[string]bool{
			"dimension=users": true, "dimension=users&quantity=10": true, "dimension=users&quantity=11": false,
			"dimension=storage": false, "dimension=gpus": false,
		} {
			var out struct {
				Allowed bool
				Reason  string
			}
			call("Bearer "+key, "customer=111111111111&"+q).json(t, &out)
			if out.Allowed != want || out.Reason == "" {
				t.Fatalf("%s: %+v", q, out)
			}
		}
		// A session cookie is no API key.
		e.user("a@example.com", store.RoleAdmin, nil)
		e.login("a@example.com").get("/api/v1/access?customer=111111111111").errCode(t, 401, "unauthenticated")

		keys, _ := st.ListAPIKeys(ctx)
		for _, k := range keys {
			if k.Name == "app" && k.LastUsedAt == nil {
				t.Fatal("last use not recorded")
			}
			if k.Hash == key || k.Hash == revoked {
				t.Fatal("a key is stored in the clear")
			}
		}
	})
}
