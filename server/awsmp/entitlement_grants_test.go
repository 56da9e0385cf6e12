package awsmp_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestEntitlementListedTwiceForOneDimension: GetEntitlements answers a list
// of entitlements, each with its own ExpirationDate, and "a past date … means
// not entitled" (reference §5). One dimension can therefore be listed twice:
// the expired grant of the old term beside the current one. Marketgate stores
// every grant as AWS returned it, and takes plan, seats and term from the
// current grants only; the read is applied at once (no unique-index failure,
// no retry loop), and again on every later read.
func TestEntitlementListedTwiceForOneDimension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Contracts", MarketplaceID: "prod-contract", Contract: true, CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{{PlanID: "per-seat", Name: "Per seat", SeatBased: true, ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now,
				Dimensions: `[{"key":"seats","name":"Seats","unit":"user"}]`}}})
		fake := awsfake.NewEntitlements()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		client, _ := awsmp.New(ctx, awsmp.Config{EntitlementEndpoint: srv.URL, StaticKeys: true, MaxAttempts: 1})
		p := processor(st)
		p.AWS = client
		id := awsfake.Identity{CustomerIdentifier: "XTWICE", ProductCode: "prod-contract"}
		oldEnd, newEnd := now.Add(-24*time.Hour).Truncate(time.Second), now.Add(365*24*time.Hour).Truncate(time.Second)
		fake.Set(id,
			awsfake.Entitlement{Dimension: "seats", Value: 25, Expiration: oldEnd},
			awsfake.Entitlement{Dimension: "seats", Value: 35, Expiration: newEnd})
		updated := func(msgID string) string {
			return snsEnvelope(msgID, now, map[string]any{"action": "entitlement-updated", "customer-identifier": "XTWICE", "product-code": "prod-contract"})
		}
		for _, m := range []string{"m-1", "m-2"} { // a first read, and a re-read of the same answer
			if err := p.Receive(ctx, updated(m), "q-"+m); err != nil {
				t.Fatal(err)
			}
			var msg store.InboxMessage
			st.TestingReadDB(t).Where("dedup_key = ?", "sns:"+m).First(&msg)
			if msg.Status != store.InboxProcessed {
				t.Fatalf("%s: inbox %s (%s)", m, msg.Status, msg.Error)
			}
		}
		var sub store.Subscription
		st.TestingReadDB(t).Preload("Plan").Where("aws_customer_identifier = ?", "XTWICE").First(&sub)
		var ents []store.Entitlement
		st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Order("id").Find(&ents)
		if len(ents) != 2 || *ents[0].IntegerValue != 25 || !ents[0].ExpiresAt.Equal(oldEnd) || *ents[1].IntegerValue != 35 || !ents[1].ExpiresAt.Equal(newEnd) {
			t.Fatalf("stored grants: %+v", ents)
		}
		if sub.State != "active" || sub.Quantity != 35 || sub.Plan == nil || sub.Plan.PlanID != "per-seat" || sub.TermEnd == nil || !sub.TermEnd.Equal(newEnd) {
			t.Fatalf("subscription from the current grant: state %s, quantity %d, term end %v", sub.State, sub.Quantity, sub.TermEnd)
		}
		if g := store.BestEntitlement(ents, now); g == nil || *g.IntegerValue != 35 {
			t.Fatalf("the grant deciding access: %+v", g)
		}
		// The current grant is raised: the re-read replaces every grant.
		fake.Set(id,
			awsfake.Entitlement{Dimension: "seats", Value: 25, Expiration: oldEnd},
			awsfake.Entitlement{Dimension: "seats", Value: 45, Expiration: newEnd})
		if err := p.Receive(ctx, updated("m-3"), "q-m-3"); err != nil {
			t.Fatal(err)
		}
		st.TestingReadDB(t).First(&sub, sub.ID)
		st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Order("id").Find(&ents)
		if sub.Quantity != 45 || len(ents) != 2 || *ents[1].IntegerValue != 45 {
			t.Fatalf("after the raise: quantity %d, grants %+v", sub.Quantity, ents)
		}
	})
}
