package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A landing's sign-in is used once, and only before it expires
// (the state Entra sends back must not be replayable).
func TestAzureSignInUsedOnceBeforeItExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := st.Now()
		w := st.Writes(ctx)
		for _, si := range []*store.AzureSignIn{
			{StateHash: "live", Nonce: "n1", PurchaseToken: "tok", ExpiresAt: now.Add(time.Minute), CreatedAt: now},
			{StateHash: "old", Nonce: "n2", PurchaseToken: "tok", ExpiresAt: now.Add(-time.Second), CreatedAt: now.Add(-time.Hour)},
		} {
			if err := w.CreateAzureSignIn(si); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.UseAzureSignIn("live", now)
		if err != nil || got.Nonce != "n1" || got.UsedAt == nil {
			t.Fatalf("first use: %+v %v", got, err)
		}
		if _, err := w.UseAzureSignIn("live", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second use: %v, want ErrNotFound", err)
		}
		if _, err := w.UseAzureSignIn("old", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired: %v, want ErrNotFound", err)
		}
		if _, err := w.UseAzureSignIn("unknown", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: %v, want ErrNotFound", err)
		}
		if err := w.ForgetPurchaseToken(got.ID); err != nil {
			t.Fatal(err)
		}
		if si, err := st.Reads(ctx).AzureSignInByState("live"); err != nil || si.PurchaseToken != "" {
			t.Fatalf("after forgetting: %+v %v", si, err)
		}
	})
}

// An operation is finished once: the notification and the poller may both
// see it succeed, and only the first applies it.
func TestAzureOperationFinishedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := st.Now()
		next := now.Add(-time.Second)
		sub := store.Subscription{Marketplace: "azure", AzureSubscriptionID: "ms-1", State: "active", CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateAzureOperation(&store.AzureOperation{SubscriptionID: sub.ID, OperationID: "op-1", Action: "ChangePlan",
				Status: "InProgress", NextPollAt: &next, CreatedAt: now, UpdatedAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}
		due, err := st.Reads(ctx).DueAzureOperations(now, 50)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %v %v", due, err)
		}
		var claims []bool
		for range 2 {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				ok, err := tx.FinishAzureOperation("op-1", "Succeeded", "")
				claims = append(claims, ok)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !claims[0] || claims[1] {
			t.Fatalf("claims %v, want [true false]", claims)
		}
		op, err := st.Reads(ctx).AzureOperationByID("op-1")
		if err != nil || op.Status != "Succeeded" || op.FinishedAt == nil || op.NextPollAt != nil {
			t.Fatalf("finished: %+v %v", op, err)
		}
		if due, _ := st.Reads(ctx).DueAzureOperations(now, 50); len(due) != 0 {
			t.Fatalf("a finished operation is still due: %v", due)
		}
		if known, err := st.Reads(ctx).AzureOperationKnown("op-2"); err != nil || known {
			t.Fatalf("op-2 known: %v %v", known, err)
		}
	})
}

// The catalog and customer lookups answer ErrNotFound, never an empty row.
func TestAzureLookupsAnswerNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rd := st.Reads(context.Background())
		if _, err := rd.AzureOffer("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("offer: %v", err)
		}
		if _, err := rd.AzureCustomer("tenant"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("customer: %v", err)
		}
		if _, err := rd.AzureSubscription("ms-1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("subscription: %v", err)
		}
		if id, err := rd.AzureSubscriptionID("ms-1"); err != nil || id != 0 {
			t.Errorf("subscription id: %d %v", id, err)
		}
		if _, err := rd.UserWithEmail("x@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user: %v", err)
		}
	})
}
