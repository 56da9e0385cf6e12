package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A customer admin's scope is a parameter of the portal's queries: another
// customer's subscription, records and figures do not exist for them.
func TestPortalQueriesKeepToTheCustomersScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.TestingDB(t)
		now := time.Now().UTC().Truncate(time.Second)
		a, b := store.Customer{Name: "A", CreatedAt: now, UpdatedAt: now}, store.Customer{Name: "B", CreatedAt: now, UpdatedAt: now}
		for _, cu := range []*store.Customer{&a, &b} {
			if err := db.Create(cu).Error; err != nil {
				t.Fatal(err)
			}
		}
		subA, subB := newSub("azure"), newSub("azure")
		subA.CustomerID, subB.CustomerID = &a.ID, &b.ID
		subA.AzureSubscriptionID, subB.AzureSubscriptionID = "sub-a", "sub-b"
		for _, s := range []*store.Subscription{&subA, &subB} {
			if err := db.Omit("Customer", "Offer", "Plan").Create(s).Error; err != nil {
				t.Fatal(err)
			}
		}
		hour := now.Truncate(time.Hour).Add(-time.Hour)
		for _, s := range []store.Subscription{subA, subB} {
			rec := store.MeteringRecord{SubscriptionID: s.ID, Marketplace: "azure", Dimension: "d", Hour: hour, Quantity: 1, Status: store.RecordPending}
			if err := db.Create(&rec).Error; err != nil {
				t.Fatal(err)
			}
		}

		if got, err := st.ScopedSubscription(ctx, subA.ID, a.ID); err != nil || got.ID != subA.ID || got.Customer == nil || got.Customer.Name != "A" {
			t.Fatalf("own subscription: %+v %v", got, err)
		}
		if _, err := st.ScopedSubscription(ctx, subB.ID, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another customer's subscription: %v, want ErrNotFound", err)
		}
		if got, err := st.ScopedSubscription(ctx, subB.ID, 0); err != nil || got.ID != subB.ID {
			t.Fatalf("seller staff (no scope): %+v %v", got, err)
		}

		recs, err := st.ListRecords(ctx, store.RecordFilter{CustomerID: a.ID, Limit: 10})
		if err != nil || recs.Total != 1 || recs.TotalCapped || len(recs.Items) != 1 || recs.Items[0].SubscriptionID != subA.ID {
			t.Fatalf("records in A's scope: %+v %v", recs, err)
		}
		if recs, err := st.ListRecords(ctx, store.RecordFilter{Limit: 10}); err != nil || recs.Total != 2 {
			t.Fatalf("every record: total %d %v", recs.Total, err)
		}

		since := now.Truncate(24*time.Hour).AddDate(0, 0, -29)
		f, err := st.Dashboard(ctx, a.ID, since, 30)
		if err != nil {
			t.Fatal(err)
		}
		var created int64
		for _, d := range f.Created {
			created += d.Count
		}
		if len(f.Created) != 30 || created != 1 {
			t.Fatalf("A's dashboard counts %d created over %d days, want 1 over 30", created, len(f.Created))
		}
		if f, err = st.Dashboard(ctx, 0, since, 30); err != nil {
			t.Fatal(err)
		}
		created = 0
		for _, d := range f.Created {
			created += d.Count
		}
		if created != 2 {
			t.Fatalf("the seller's dashboard counts %d created, want 2", created)
		}
	})
}

// A second offer of one marketplace id, or a second plan of one plan id in
// an offer, is a conflict the portal can name.
func TestCatalogDuplicatesAreConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		o := store.Offer{Marketplace: "azure", Name: "App", MarketplaceID: "app", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOffer(ctx, &o); err != nil {
			t.Fatal(err)
		}
		again := store.Offer{Marketplace: "azure", Name: "Other", MarketplaceID: "app", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOffer(ctx, &again); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second offer app: %v, want ErrConflict", err)
		}
		p := store.Plan{OfferID: o.ID, PlanID: "basic", Name: "Basic", Dimensions: "[]", ActivationPolicy: store.ActivateAutomatic, CreatedAt: now, UpdatedAt: now}
		if err := st.CreatePlan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		p2 := p
		p2.ID = 0
		if err := st.CreatePlan(ctx, &p2); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second plan basic: %v, want ErrConflict", err)
		}
		p.Name, p.NeedsReview = "Basic plan", true
		if err := st.SavePlan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		got, err := st.PlanByID(ctx, p.ID)
		if err != nil || got.Name != "Basic plan" || got.NeedsReview {
			t.Fatalf("saved plan: %+v %v (want the new name, reviewed)", got, err)
		}
		if _, err := st.OfferByID(ctx, 9999, true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing offer: %v", err)
		}
	})
}
