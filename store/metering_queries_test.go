package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A RecordDeadline selects by either cutoff or both (OR), and a zero one
// selects nothing; the records it selects are those the metering queries
// expire, warn about and refuse to make due again.
func TestRecordDeadlineSelectsByEitherCutoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		start := time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC)
		sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: start, Version: 1, CreatedAt: start, UpdatedAt: start}
		if err := st.TestingDB(t).Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		ids := map[string]uint{}
		for _, r := range []struct {
			name, mp string
			hour     time.Time
		}{
			{"aws-march", "aws", start},                        // 31 March 20:00
			{"azure-march", "azure", start},                    // 31 March 20:00
			{"aws-april", "aws", start.Add(5 * time.Hour)},     // 1 April 01:00
			{"azure-old", "azure", start.Add(-30 * time.Hour)}, // 30 March 14:00
		} {
			rec := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: r.mp, Dimension: r.name, Hour: r.hour, Quantity: 1,
				Status: store.RecordPending, CreatedAt: start, UpdatedAt: start}
			if err := st.TestingDB(t).Create(&rec).Error; err != nil {
				t.Fatal(err)
			}
			ids[r.name] = rec.ID
		}
		now := start.Add(12 * time.Hour) // 1 April 08:00: March is closed for AWS
		cases := []struct {
			name string
			d    store.RecordDeadline
			want []string
		}{
			{"window", store.RecordDeadline{WindowEnd: now.Add(-24 * time.Hour)}, []string{"azure-old"}},
			{"AWS month", store.RecordDeadline{AWSMonthStart: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, []string{"aws-march"}},
			{"both", store.RecordDeadline{WindowEnd: now.Add(-24 * time.Hour), AWSMonthStart: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
				[]string{"aws-march", "azure-old"}},
			{"zero", store.RecordDeadline{}, nil},
		}
		for _, c := range cases {
			got, err := st.Reads(context.Background()).PendingRecordsPastDeadline(c.d, now, 100)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint
			for _, n := range c.want {
				want = append(want, ids[n])
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: selected %v, want %v (%v)", c.name, got, want, c.want)
			}
		}
	})
}

// A lease is exclusive: a second owner wins none of the records another
// holds, and an outcome is stored only by the owner that holds the lease.
func TestLeasesAndOutcomesBelongToTheirOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		rec := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: "d", Hour: now.Add(-2 * time.Hour), Quantity: 3,
			Status: store.RecordPending, CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&rec).Error; err != nil {
			t.Fatal(err)
		}
		w := st.Writes(ctx)
		due, err := w.DueRecordIDs(now, []string{"active"}, 10)
		if err != nil || !slices.Equal(due, []uint{rec.ID}) {
			t.Fatalf("due = %v, %v; want [%d]", due, err, rec.ID)
		}
		won, err := w.LeaseRecords(due, "a", now, now.Add(time.Minute))
		if err != nil || len(won) != 1 || won[0].LeaseOwner != "a" {
			t.Fatalf("first lease: %v, %v", won, err)
		}
		if again, err := w.LeaseRecords(due, "b", now.Add(time.Second), now.Add(time.Minute)); err != nil || len(again) != 0 {
			t.Fatalf("second owner won %v (%v) while the lease runs", again, err)
		}
		if ok, err := w.StoreRecordOutcome(rec.ID, "b", store.RecordOutcome{Status: store.RecordAccepted}, now); err != nil || ok {
			t.Fatalf("an owner without the lease stored an outcome (%v, %v)", ok, err)
		}
		if ok, err := w.StoreRecordOutcome(rec.ID, "a", store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "m-1"}, now); err != nil || !ok {
			t.Fatalf("the owner could not store its outcome (%v, %v)", ok, err)
		}
		got, err := w.MeteringRecordsByID([]uint{rec.ID})
		if err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		if r := got[0]; r.Status != store.RecordAccepted || r.Attempts != 1 || r.LeaseOwner != "" || r.LeaseUntil != nil || r.MarketplaceRecordID != "m-1" {
			t.Errorf("stored record = %+v", r)
		}
	})
}
