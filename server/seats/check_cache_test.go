package seats_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// The seat check's cache (server/seats/check_cache.go) with two replicas
// on one database (one SQLite file; one Postgres): a seat released on the
// other replica is refused at once; a subscription suspended there is
// seen within store.GrantRecheck; a change made on this replica is seen
// by the very next check.
func TestSeatCheckCacheAcrossReplicas(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Migrated(t, d)
			a := storetest.OpenOn(t, cfg)
			if err := a.Migrate(); err != nil {
				t.Fatal(err)
			}
			b := storetest.OpenOn(t, cfg)
			clock := time.Now().UTC()
			a.Now = func() time.Time { return clock }
			sub := seedSeatOrg(t, a.TestingDB(t), clock.Add(-time.Hour))
			svc := &seats.Service{Store: a}
			check := func(user string) *seats.Answer {
				t.Helper()
				ans, err := svc.Check(ctx, seats.Query{TenantID: "tenant-a", User: seats.User{Email: user}})
				if err != nil {
					t.Fatal(err)
				}
				return ans
			}
			if !check("ann@contoso.com").Licensed || !check("bob@contoso.com").Licensed {
				t.Fatal("seat holders not licensed")
			}
			// The other replica releases Bob's seat: refused at once.
			must(t, b.TestingDB(t).Exec("DELETE FROM seats WHERE email = ?", "bob@contoso.com").Error)
			if ans := check("bob@contoso.com"); ans.Licensed || ans.Reason != seats.ReasonNoSeat {
				t.Fatalf("released on the other replica: %+v", ans)
			}
			// The other replica suspends the subscription: within the bound
			// this replica may still answer from what it read …
			must(t, b.TestingDB(t).Exec("UPDATE subscriptions SET state = 'suspended', version = version + 1 WHERE id = ?", sub.ID).Error)
			if !check("ann@contoso.com").Licensed {
				t.Fatal("the cache was not used (the check read the subscription again)")
			}
			// … and never past it.
			clock = clock.Add(store.GrantRecheck)
			if ans := check("ann@contoso.com"); ans.Licensed || ans.Reason != seats.ReasonNotActive {
				t.Fatalf("suspended on the other replica, %s later: %+v", store.GrantRecheck, ans)
			}
			// A change made on this replica is seen by the next check, with no time passing.
			must(t, a.TestingDB(t).Exec("UPDATE subscriptions SET state = 'active', version = version + 1 WHERE id = ?", sub.ID).Error)
			if !check("ann@contoso.com").Licensed {
				t.Fatal("reactivated here, still refused")
			}
			must(t, a.TestingDB(t).Exec("UPDATE subscriptions SET state = 'ended', version = version + 1 WHERE id = ?", sub.ID).Error)
			if ans := check("ann@contoso.com"); ans.Licensed || ans.Reason != seats.ReasonNotActive {
				t.Fatalf("ended here, still granted: %+v", ans)
			}
		})
	}
}

// seedSeatOrg adds Contoso (tenant-a) with an active per-user Microsoft
// subscription of 5 seats, two of them held (ann, bob).
func seedSeatOrg(t *testing.T, db *gorm.DB, then time.Time) store.Subscription {
	t.Helper()
	o := store.Offer{Marketplace: "azure", Name: "Seats", MarketplaceID: "seats", CreatedAt: then, UpdatedAt: then,
		Plans: []store.Plan{{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
	must(t, db.Create(&o).Error)
	c := store.Customer{Name: "Contoso", AzureTenantID: "tenant-a", CreatedAt: then, UpdatedAt: then}
	must(t, db.Create(&c).Error)
	sub := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: then, CustomerID: &c.ID, OfferID: &o.ID,
		PlanID: &o.Plans[0].ID, Quantity: 5, AzureSubscriptionID: "sub-a", Version: 1, CreatedAt: then, UpdatedAt: then}
	must(t, db.Create(&sub).Error)
	for _, u := range []string{"ann@contoso.com", "bob@contoso.com"} {
		must(t, db.Exec("INSERT INTO seats (subscription_id, customer_id, email, source, assigned_at) VALUES (?, ?, ?, 'manual', ?)", sub.ID, c.ID, u, then).Error)
	}
	return sub
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An organisation with two per-user subscriptions: the first check keeps
// the count of one; a holder of the other, answered from the cached
// entry, gets that subscription's own count (read, then kept), and a seat
// assigned there since is counted at the next check.
func TestSeatCheckCountsEachSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		then := time.Now().UTC().Add(-time.Hour)
		db := st.TestingDB(t)
		a := seedSeatOrg(t, db, then)
		b := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: then, CustomerID: a.CustomerID, OfferID: a.OfferID,
			PlanID: a.PlanID, Quantity: 10, AzureSubscriptionID: "sub-b", Version: 1, CreatedAt: then.Add(time.Minute), UpdatedAt: then}
		must(t, db.Create(&b).Error)
		must(t, db.Exec("INSERT INTO seats (subscription_id, customer_id, email, source, assigned_at) VALUES (?, ?, 'cy@contoso.com', 'manual', ?)", b.ID, *a.CustomerID, then).Error)
		svc := &seats.Service{Store: st}
		check := func(email string) *seats.Answer {
			t.Helper()
			ans, err := svc.Check(ctx, seats.Query{TenantID: "tenant-a", User: seats.User{Email: email}})
			if err != nil {
				t.Fatal(err)
			}
			return ans
		}
		if ans := check("ann@contoso.com"); !ans.Licensed || ans.Subscription.ID != a.ID || ans.Subscription.SeatsAssigned != 2 {
			t.Fatalf("ann: %+v %+v", ans, ans.Subscription)
		}
		for range 2 {
			if ans := check("cy@contoso.com"); !ans.Licensed || ans.Subscription.ID != b.ID || ans.Subscription.SeatsAssigned != 1 || ans.Subscription.SeatsBought != 10 {
				t.Fatalf("cy: %+v %+v", ans, ans.Subscription)
			}
		}
		if _, _, err := svc.Assign(ctx, *a.CustomerID, b.ID, seats.User{Email: "dee@contoso.com"}, "", "it@contoso.com"); err != nil {
			t.Fatal(err)
		}
		if ans := check("cy@contoso.com"); ans.Subscription.SeatsAssigned != 2 {
			t.Fatalf("cy after a second seat on b: %+v", ans.Subscription)
		}
		if ans := check("ann@contoso.com"); ans.Subscription.SeatsAssigned != 2 {
			t.Fatalf("ann after a seat on b: %+v", ans.Subscription)
		}
	})
}
