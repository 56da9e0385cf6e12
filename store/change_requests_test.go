package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestChangeRequests: one open request per subscription and kind, one
// request per idempotency key, a customer's scope in the queries, and
// the plan policies' default for plans stored before the migration.
func TestChangeRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.TestingDB(t)
		now := time.Now().UTC()
		offer := store.Offer{Marketplace: "azure", Name: "O", MarketplaceID: "o", CreatedAt: now, UpdatedAt: now}
		mustOK(t, db.Create(&offer).Error)
		// A plan inserted without the policy columns gets the migration's default: approval.
		mustOK(t, db.Exec("INSERT INTO plans (offer_id, plan_id, name, seat_based, dimensions, activation_policy, created_at, updated_at) VALUES (?, 'p', 'P', TRUE, '[]', 'automatic', ?, ?)",
			offer.ID, now, now).Error)
		var plan store.Plan
		mustOK(t, db.Where("plan_id = 'p'").First(&plan).Error)
		if plan.CustomerPlanChange != "approval" || plan.CustomerSeatChange != "approval" || plan.CustomerUnsubscribe != "approval" {
			t.Fatalf("default policies: %+v", plan)
		}
		var subs [2]store.Subscription
		var custs [2]store.Customer
		for i, name := range []string{"A", "B"} {
			custs[i] = store.Customer{Name: name, CreatedAt: now, UpdatedAt: now}
			mustOK(t, db.Create(&custs[i]).Error)
			subs[i] = store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: now, Name: name, CustomerID: &custs[i].ID,
				OfferID: &offer.ID, PlanID: &plan.ID, Quantity: 3, Version: 1, CreatedAt: now, UpdatedAt: now}
			mustOK(t, db.Create(&subs[i]).Error)
		}
		mk := func(i int, kind, status, key string) error {
			return st.InTx(ctx, func(tx *store.Tx) error {
				return tx.CreateChangeRequest(&store.ChangeRequest{SubscriptionID: subs[i].ID, CustomerID: custs[i].ID, Marketplace: "azure",
					Kind: kind, Quantity: 5, Status: status, IdempotencyKey: key, CreatedAt: now, UpdatedAt: now})
			})
		}
		mustOK(t, mk(0, "seats", store.ChangePending, "k1"))
		if err := mk(0, "seats", store.ChangePerforming, ""); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second open seat request: %v", err)
		}
		if err := mk(0, "plan", store.ChangePending, "k1"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a reused idempotency key: %v", err)
		}
		mustOK(t, mk(0, "plan", store.ChangePending, "k2"))
		mustOK(t, mk(1, "seats", store.ChangePending, "k1")) // keys are per subscription
		// Answered requests leave room for a new one of their kind.
		open, err := st.Reads(ctx).OpenChangeRequest(subs[0].ID, "seats")
		mustOK(t, err)
		moved, err := st.Writes(ctx).MoveChangeRequest(open.ID, store.ChangePending, store.ChangeDeclined, map[string]any{"answer": "no"})
		if err != nil || !moved {
			t.Fatalf("decline: %v %v", moved, err)
		}
		if moved, _ := st.Writes(ctx).MoveChangeRequest(open.ID, store.ChangePending, store.ChangeApproved, nil); moved {
			t.Fatal("an answered request moved again")
		}
		mustOK(t, mk(0, "seats", store.ChangePending, ""))
		// Scope: a customer sees only their own.
		rows, err := st.ListChangeRequests(ctx, store.ChangeRequestFilter{CustomerID: custs[1].ID})
		mustOK(t, err)
		if len(rows) != 1 || rows[0].CustomerName != "B" || rows[0].CurrentPlanID != "p" {
			t.Fatalf("B's requests: %+v", rows)
		}
		if _, err := st.Reads(ctx).ChangeRequestByID(open.ID, custs[1].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B reads A's request: %v", err)
		}
		rows, err = st.ListChangeRequests(ctx, store.ChangeRequestFilter{Status: store.ChangePending, Marketplace: "azure"})
		mustOK(t, err)
		if len(rows) != 3 {
			t.Fatalf("pending: %d", len(rows))
		}
	})
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
