package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestPreparedFindSeatAnswersAsTheQuery: the seat check's prepared lookup
// (PreparedReads) finds the same seat, with every field, as the plain
// query, for each way a user is named, among one or more subscriptions,
// and none for a stranger.
func TestPreparedFindSeatAnswersAsTheQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		cust := store.Customer{Name: "Contoso", CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&cust).Error; err != nil {
			t.Fatal(err)
		}
		var subs []uint
		for i := 0; i < 2; i++ {
			s := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: now, CustomerID: &cust.ID, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.TestingDB(t).Omit("Customer", "Offer", "Plan").Create(&s).Error; err != nil {
				t.Fatal(err)
			}
			subs = append(subs, s.ID)
		}
		checked := now.Add(-time.Hour)
		seats := []store.Seat{
			{SubscriptionID: subs[0], CustomerID: &cust.ID, Email: "ann@contoso.example", Name: "Ann", Source: "manual", AssignedBy: "it@contoso.example", AssignedAt: now, LastCheckedAt: &checked},
			{SubscriptionID: subs[1], EntraObjectID: "0b1c2d3e-0000-4000-8000-000000000001", Source: "auto", AssignedAt: now.Add(time.Minute)},
			{SubscriptionID: subs[1], Email: "bob@contoso.example", EntraObjectID: "0b1c2d3e-0000-4000-8000-000000000002", Source: "import", AssignedAt: now},
		}
		for i := range seats {
			if err := st.Writes(ctx).CreateSeat(&seats[i]); err != nil {
				t.Fatal(err)
			}
		}
		prepared := st.PreparedReads()
		for _, c := range []struct {
			name          string
			subs          []uint
			email, object string
			want          uint // a seat's id, 0 for none
		}{
			{"e-mail", subs[:1], "ann@contoso.example", "", seats[0].ID},
			{"e-mail among two subscriptions", subs, "bob@contoso.example", "", seats[2].ID},
			{"object id", subs, "", "0b1c2d3e-0000-4000-8000-000000000001", seats[1].ID},
			{"both, matched by the object id", subs, "nobody@contoso.example", "0b1c2d3e-0000-4000-8000-000000000002", seats[2].ID},
			{"a seat of another subscription", subs[:1], "bob@contoso.example", "", 0},
			{"a stranger", subs, "eve@fabrikam.example", "", 0},
		} {
			for i := 0; i < 2; i++ { // (the second time through the prepared statement)
				got, err := prepared.WithContext(ctx).FindSeat(c.subs, c.email, c.object)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				plain, err := st.Reads(ctx).FindSeat(c.subs, c.email, c.object)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if (got == nil) != (c.want == 0) || (got != nil && got.ID != c.want) {
					t.Fatalf("%s: found %+v, want seat %d", c.name, got, c.want)
				}
				if got != nil && !reflect.DeepEqual(norm(*got), norm(*plain)) {
					t.Fatalf("%s: prepared %+v, plain %+v", c.name, *got, *plain)
				}
			}
		}
	})
}

// norm puts a seat's times in UTC (drivers differ in the location they
// read a time in, not in the instant).
func norm(s store.Seat) store.Seat {
	s.AssignedAt = s.AssignedAt.UTC()
	if s.LastCheckedAt != nil {
		at := s.LastCheckedAt.UTC()
		s.LastCheckedAt = &at
	}
	return s
}
