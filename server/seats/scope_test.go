package seats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestSeatChangesAreScopedToTheCustomer: a customer admin changes the seats
// of their own customer's subscriptions only; another customer's
// subscription is not found (and keeps its seats), whoever asks. The
// seller's staff (scope 0) reach every subscription.
func TestSeatChangesAreScopedToTheCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		db := st.TestingDB(t)
		o := store.Offer{Marketplace: "azure", Name: "Teams app", MarketplaceID: "teams-app", CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now}}}
		if err := db.Create(&o).Error; err != nil {
			t.Fatal(err)
		}
		own := store.Customer{Name: "Contoso", CreatedAt: now, UpdatedAt: now}
		other := store.Customer{Name: "Northwind", CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&own).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&other).Error; err != nil {
			t.Fatal(err)
		}
		sub := store.Subscription{Marketplace: "azure", AzureSubscriptionID: "sub-scope", Name: "Contoso", State: "active", Quantity: 5,
			CustomerID: &own.ID, OfferID: &o.ID, PlanID: &o.Plans[0].ID, StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		svc := &seats.Service{Store: st}
		ann := seats.User{Email: "ann@contoso.com"}
		if _, _, err := svc.Assign(ctx, other.ID, sub.ID, ann, "", "admin@northwind.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("assign by another customer: %v, want not found", err)
		}
		seat, sm, err := svc.Assign(ctx, own.ID, sub.ID, ann, "", "admin@contoso.com")
		if err != nil || sm.Assigned != 1 {
			t.Fatalf("assign by the customer: %v %+v", err, sm)
		}
		if _, _, err := svc.Release(ctx, other.ID, sub.ID, []uint{seat.ID}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("release by another customer: %v, want not found", err)
		}
		lines := []seats.Line{{Line: 1, User: seats.User{Email: "bob@contoso.com"}}}
		if _, err := svc.Import(ctx, other.ID, sub.ID, lines, nil, seats.ModeReplace, true, "admin@northwind.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("import by another customer: %v, want not found", err)
		}
		items, err := svc.All(ctx, &sub)
		if err != nil || len(items) != 1 || items[0].Email != ann.Email {
			t.Fatalf("seats after the refused changes: %+v %v", items, err)
		}
		if _, _, err := svc.Assign(ctx, 0, sub.ID, seats.User{Email: "cy@contoso.com"}, "", "staff@seller.example"); err != nil {
			t.Fatalf("assign by the seller's staff: %v", err)
		}
		if n, _, err := svc.Release(ctx, own.ID, sub.ID, []uint{seat.ID}); err != nil || n != 1 {
			t.Fatalf("release by the customer: %d %v", n, err)
		}
	})
}
