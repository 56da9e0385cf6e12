package seats_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// BenchmarkCheck is the seat check without HTTP, on SQLite, at 1,000
// customers × 100 seats, under a context that cannot be cancelled and
// under one that can (as a request's).
func BenchmarkCheck(b *testing.B) {
	const customers, seatsEach = 1000, 100
	st := storetest.Open(b, "sqlite")
	ctx := context.Background()
	tenant := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
	then := time.Now().UTC().Add(-time.Hour)
	err := st.TestingDB(b).WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		o := store.Offer{Marketplace: "azure", Name: "Bench", MarketplaceID: "bench", CreatedAt: then, UpdatedAt: then,
			Plans: []store.Plan{{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
		if err := tx.Create(&o).Error; err != nil {
			return err
		}
		for i := 0; i < customers; i++ {
			c := store.Customer{Name: "c", AzureTenantID: tenant(i), CreatedAt: then, UpdatedAt: then}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			sub := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: then, CustomerID: &c.ID, OfferID: &o.ID,
				PlanID: &o.Plans[0].ID, Quantity: seatsEach, AzureSubscriptionID: fmt.Sprint("s", i), Version: 1, CreatedAt: then, UpdatedAt: then}
			if err := tx.Create(&sub).Error; err != nil {
				return err
			}
			var sql strings.Builder
			var args []any
			sql.WriteString("INSERT INTO seats (subscription_id, customer_id, email, source, assigned_at) VALUES ")
			for u := 0; u < seatsEach; u++ {
				if u > 0 {
					sql.WriteString(",")
				}
				sql.WriteString("(?, ?, ?, 'manual', ?)")
				args = append(args, sub.ID, c.ID, fmt.Sprintf("user%d@c%d.example", u, i), then)
			}
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	svc := &seats.Service{Store: st}
	// An HTTP request's context can be cancelled (the client goes away);
	// the check must not pay for that on each lookup (Service.reads).
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, run := range []struct {
		name string
		ctx  context.Context
	}{{"background", ctx}, {"request_context", reqCtx}} {
		b.Run(run.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c, u := (i*7919)%customers, i%110
				a, err := svc.Check(run.ctx, seats.Query{TenantID: tenant(c), User: seats.User{Email: fmt.Sprintf("user%d@c%d.example", u, c)}})
				if err != nil || a.Licensed != (u < seatsEach) {
					b.Fatalf("%v %+v", err, a)
				}
			}
		})
	}
}
