package subscriptions_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func offer(t *testing.T, st *store.Store) store.Offer {
	t.Helper()
	o := store.Offer{Marketplace: "aws", Name: "Acme", MarketplaceID: "prod-1", CreatedAt: t0, UpdatedAt: t0,
		Plans: []store.Plan{{PlanID: "std", Name: "Standard", Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: t0, UpdatedAt: t0}}}
	if err := st.TestingDB(t).Create(&o).Error; err != nil {
		t.Fatal(err)
	}
	return o
}

func TestBothOrdersEndTheSame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := offer(t, st)
		init := func(s *store.Subscription) { s.OfferID = &o.ID }
		reg := lifecycle.Event{Kind: lifecycle.AWSRegistered, At: t0.Add(2 * time.Minute), PlanID: "std"}
		ok := lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: t0.Add(time.Minute)}
		results := map[string]store.Subscription{}
		for name, order := range map[string][]lifecycle.Event{"confirmation first": {ok, reg}, "registration first": {reg, ok}} {
			ref := subscriptions.Ref{AWSCustomerAccountID: "111122223333", AWSLicenseArn: "arn:" + name}
			var last subscriptions.Result
			for _, ev := range order {
				r, err := subscriptions.Apply(ctx, st, ref, ev, subscriptions.Meta{Source: "test"}, init)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				last = r
			}
			s, err := st.GetSubscription(ctx, last.Subscription.ID)
			if err != nil {
				t.Fatal(err)
			}
			tl, _ := st.Timeline(ctx, s.ID)
			if s.State != "active" || s.Plan == nil || s.Plan.PlanID != "std" || len(tl) != 2 {
				t.Fatalf("%s: state %s plan %v timeline %d", name, s.State, s.Plan, len(tl))
			}
			results[name] = *s
		}
		a, b := results["confirmation first"], results["registration first"]
		if !a.StateChangedAt.Equal(b.StateChangedAt) || a.Quantity != b.Quantity {
			t.Fatalf("orders differ: %+v vs %+v", a, b)
		}
	})
}

func TestConcurrentEventsNeverLoseAVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ref := subscriptions.Ref{AzureSubscriptionID: "c1a3e8b2-0000-4000-a000-000000000001"}
		if _, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: lifecycle.AzureResolved, At: t0}, subscriptions.Meta{}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: lifecycle.AzureActivated, At: t0.Add(time.Second)}, subscriptions.Meta{}, nil); err != nil {
			t.Fatal(err)
		}
		// 20 quantity changes, each to a distinct value, in parallel.
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: lifecycle.AzureChangeQuantity, At: t0.Add(time.Minute), Quantity: 100 + i}, subscriptions.Meta{}, nil)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent apply: %v", err)
			}
		}
		var s store.Subscription
		st.TestingReadDB(t).Where("azure_subscription_id = ?", ref.AzureSubscriptionID).First(&s)
		tl, _ := st.Timeline(ctx, s.ID)
		// created (1) + activated (2) + 20 distinct quantities = version 22.
		if s.Version != 22 || len(tl) != 22 {
			t.Fatalf("version %d, timeline %d; want 22 and 22", s.Version, len(tl))
		}
	})
}

func TestUnknownPlanStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := offer(t, st)
		_, err := subscriptions.Apply(ctx, st, subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "X1"},
			lifecycle.Event{Kind: lifecycle.AWSRegistered, At: t0, PlanID: "platinum"}, subscriptions.Meta{}, func(s *store.Subscription) { s.OfferID = &o.ID })
		if err == nil {
			t.Fatal("an unknown plan was accepted")
		}
		var n int64
		st.TestingReadDB(t).Model(&store.Subscription{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d subscriptions stored", n)
		}
	})
}

// TestAnyIdentityFindsTheOnePurchase: for legacy products ResolveCustomer
// answers the CustomerIdentifier AND CustomerAWSAccountId, LicenseArn and
// ProductCode (reference §1, §3); an SNS message names only the customer
// identifier, an EventBridge event only the account and license. Each finds
// the one subscription; identities are added, never replaced.
func TestAnyIdentityFindsTheOnePurchase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := offer(t, st)
		init := func(s *store.Subscription) { s.OfferID = &o.ID }
		apply := func(ref subscriptions.Ref, k lifecycle.Kind, at time.Time) subscriptions.Result {
			t.Helper()
			r, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: k, At: at}, subscriptions.Meta{Source: "test"}, init)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		sns := subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XONE"}
		resolved := subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XONE", AWSCustomerAccountID: "111122223333", AWSLicenseArn: "arn:l-1"}
		license := subscriptions.Ref{AWSCustomerAccountID: "111122223333", AWSLicenseArn: "arn:l-1"}
		first := apply(sns, lifecycle.AWSSubscribeSuccess, t0)
		second := apply(resolved, lifecycle.AWSRegistered, t0.Add(time.Minute))
		// A later event naming another license does not replace the stored one.
		third := apply(subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XONE", AWSCustomerAccountID: "111122223333", AWSLicenseArn: "arn:l-2"},
			lifecycle.AWSSubscribeSuccess, t0.Add(2*time.Minute))
		fourth := apply(license, lifecycle.AWSUnsubscribePending, t0.Add(3*time.Minute))
		for _, r := range []subscriptions.Result{second, third, fourth} {
			if r.Created || r.Subscription.ID != first.Subscription.ID {
				t.Fatalf("another subscription: %+v", r.Subscription)
			}
		}
		s, _ := st.GetSubscription(ctx, first.Subscription.ID)
		if s.AWSCustomerAccountID != "111122223333" || s.AWSLicenseArn != "arn:l-1" || s.AWSCustomerIdentifier != "XONE" || s.State != "unsubscribe_pending" {
			t.Fatalf("stored: %+v", s)
		}
		// The default plan of a non-contract AWS offer came with it.
		if s.Plan == nil || s.Plan.PlanID != "std" {
			t.Fatalf("plan: %+v", s.Plan)
		}

		// Two records stored before identities were merged: the older one is
		// acted on, nothing is merged (unique identities), the timeline says so.
		a := apply(subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XTWO"}, lifecycle.AWSSubscribeSuccess, t0)
		b := apply(subscriptions.Ref{AWSCustomerAccountID: "444455556666", AWSLicenseArn: "arn:l-two"}, lifecycle.AWSRegistered, t0)
		r := apply(subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XTWO", AWSCustomerAccountID: "444455556666", AWSLicenseArn: "arn:l-two"},
			lifecycle.AWSRegistered, t0.Add(time.Minute))
		if r.Subscription.ID != a.Subscription.ID || r.Created {
			t.Fatalf("acted on %d, want the older %d", r.Subscription.ID, a.Subscription.ID)
		}
		tl, _ := st.Timeline(ctx, a.Subscription.ID)
		if last := tl[len(tl)-1].Summary; !strings.Contains(last, fmt.Sprintf("also name subscription %d: not merged", b.Subscription.ID)) {
			t.Fatalf("timeline: %q", last)
		}
	})
}

// TestProductFirstSeenBeforeItsOffer: a notification about an unknown
// product still creates the record (DESIGN: nothing is lost); once the
// seller has created the offer, the next event links it and its default
// plan, so the product's dimensions are metered without a database edit.
func TestProductFirstSeenBeforeItsOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ref := subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XEARLY"}
		r, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: t0}, subscriptions.Meta{Source: "test"}, nil)
		if err != nil || r.Subscription.OfferID != nil || r.Subscription.PlanID != nil {
			t.Fatalf("first: %+v %v", r.Subscription, err)
		}
		o := offer(t, st)
		if _, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: t0.Add(time.Hour)}, subscriptions.Meta{Source: "test"}, nil); err != nil {
			t.Fatal(err)
		}
		s, _ := st.GetSubscription(ctx, r.Subscription.ID)
		if s.OfferID == nil || *s.OfferID != o.ID || s.Plan == nil || s.Plan.PlanID != "std" {
			t.Fatalf("after the offer exists: %+v", s)
		}
	})
}

// TestSearchDigestFollowsEveryChange: the search digest (store.SearchTextFor)
// is what the subscription and its customer hold after every change: an
// identity merged onto it, and a customer renamed since the last change
// (the next change refreshes a stale digest). Each change is one version.
func TestSearchDigestFollowsEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := offer(t, st)
		cust := store.Customer{Name: "Contoso Ltd", Email: "it@contoso.example", CreatedAt: t0, UpdatedAt: t0}
		if err := st.TestingDB(t).Create(&cust).Error; err != nil {
			t.Fatal(err)
		}
		init := func(s *store.Subscription) { s.OfferID, s.CustomerID = &o.ID, &cust.ID }
		apply := func(ref subscriptions.Ref, k lifecycle.Kind, at time.Time) *store.Subscription {
			t.Helper()
			r, err := subscriptions.Apply(ctx, st, ref, lifecycle.Event{Kind: k, At: at}, subscriptions.Meta{Source: "test"}, init)
			if err != nil {
				t.Fatal(err)
			}
			var s store.Subscription
			if err := st.TestingReadDB(t).First(&s, r.Subscription.ID).Error; err != nil {
				t.Fatal(err)
			}
			var c store.Customer
			st.TestingReadDB(t).First(&c, cust.ID)
			if want := store.SearchTextFor(&s, &c); s.SearchText != want {
				t.Fatalf("after %s: digest %q, want %q", k, s.SearchText, want)
			}
			return &s
		}
		s := apply(subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XDIGEST"}, lifecycle.AWSSubscribeSuccess, t0)
		if s.Version != 1 || !strings.Contains(s.SearchText, "xdigest") || !strings.Contains(s.SearchText, "contoso ltd") {
			t.Fatalf("created: version %d, digest %q", s.Version, s.SearchText)
		}
		s = apply(subscriptions.Ref{AWSProductCode: "prod-1", AWSCustomerIdentifier: "XDIGEST", AWSCustomerAccountID: "777788889999", AWSLicenseArn: "arn:l-digest"},
			lifecycle.AWSRegistered, t0.Add(time.Minute))
		if s.Version != 2 || !strings.Contains(s.SearchText, "777788889999") || !strings.Contains(s.SearchText, "arn:l-digest") {
			t.Fatalf("identities merged: version %d, digest %q", s.Version, s.SearchText)
		}
		// The customer is renamed behind the subscription's back: the next
		// change brings the digest up to date.
		if err := st.TestingDB(t).Model(&store.Customer{}).Where("id = ?", cust.ID).Update("name", "Fabrikam Inc").Error; err != nil {
			t.Fatal(err)
		}
		s = apply(subscriptions.Ref{AWSCustomerAccountID: "777788889999", AWSLicenseArn: "arn:l-digest"}, lifecycle.AWSUnsubscribePending, t0.Add(2*time.Minute))
		if s.Version != 3 || s.State != "unsubscribe_pending" || !strings.Contains(s.SearchText, "fabrikam inc") || strings.Contains(s.SearchText, "contoso ltd") {
			t.Fatalf("after the rename: version %d, state %s, digest %q", s.Version, s.State, s.SearchText)
		}
	})
}
