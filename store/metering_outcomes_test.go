package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A batch of outcomes stored at once (StoreRecordOutcomes, the
// dispatcher's way) leaves every record as storing its outcome alone
// does: settled, retried, settled without a send, and untouched when the
// lease is another owner's or the record is settled already.
func TestRecordOutcomesStoredAsOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 4, 2, 10, 20, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		db := st.TestingDB(t)
		w := st.Writes(ctx)
		next := now.Add(90 * time.Second)
		cases := []struct {
			name  string
			owner string // who leases it ("" none)
			prior string // status before
			out   store.RecordOutcome
			want  bool // stored
		}{
			{"accepted", "a", store.RecordPending, store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "mp-1"}, true},
			{"rejected", "a", store.RecordPending, store.RecordOutcome{Status: store.RecordRejected, Reason: "CustomerNotSubscribed"}, true},
			{"retried", "a", store.RecordPending, store.RecordOutcome{Retry: true, NextAttemptAt: next, Reason: "ThrottlingException"}, true},
			{"expired unsent", "a", store.RecordPending, store.RecordOutcome{Unsent: true, Status: store.RecordExpired, Reason: "past its deadline"}, true},
			{"retried unsent", "a", store.RecordPending, store.RecordOutcome{Unsent: true, Retry: true, NextAttemptAt: next, Reason: "not active"}, true},
			{"another owner's", "b", store.RecordPending, store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "mp-2"}, false},
			{"settled already", "", store.RecordAccepted, store.RecordOutcome{Status: store.RecordRejected, Reason: "late"}, false},
		}
		// Two records per case: one stored alone, one in the batch.
		make := func(set string) []uint {
			ids := make([]uint, len(cases))
			for i, c := range cases {
				r := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("%s-%d", set, i), Hour: now.Truncate(time.Hour),
					Quantity: 1, Status: c.prior, Attempts: 2, CreatedAt: now, UpdatedAt: now}
				if err := db.Create(&r).Error; err != nil {
					t.Fatal(err)
				}
				ids[i] = r.ID
				if c.owner != "" {
					if won, err := w.LeaseRecords([]uint{r.ID}, c.owner, now, now.Add(time.Minute)); err != nil || len(won) != 1 {
						t.Fatalf("lease: %v %v", won, err)
					}
				}
			}
			return ids
		}
		alone, batched := make("alone"), make("batch")
		later := now.Add(5 * time.Second)
		var batch []store.IDOutcome
		for i, c := range cases {
			if _, err := w.StoreRecordOutcome(alone[i], "a", c.out, later); err != nil {
				t.Fatal(err)
			}
			// In reverse id order: the store orders them itself.
			batch = append([]store.IDOutcome{{ID: batched[i], Owner: "a", Outcome: c.out}}, batch...)
		}
		stored, err := w.StoreRecordOutcomes(batch, later)
		if err != nil {
			t.Fatal(err)
		}
		read := func(id uint) store.MeteringRecord {
			t.Helper()
			var r store.MeteringRecord
			if err := db.First(&r, id).Error; err != nil {
				t.Fatal(err)
			}
			r.ID, r.Dimension = 0, ""
			return r
		}
		for i, c := range cases {
			if stored[batched[i]] != c.want {
				t.Errorf("%s: stored %v, want %v", c.name, stored[batched[i]], c.want)
			}
			a, b := read(alone[i]), read(batched[i])
			if !c.want { // untouched: updated when it was leased, on the clock
				a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
			}
			if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
				t.Errorf("%s:\n stored alone %+v\n in a batch   %+v", c.name, a, b)
			}
		}
		// What the cases expect of a record, checked once (on the batch).
		if r := read(batched[0]); r.Status != store.RecordAccepted || r.MarketplaceRecordID != "mp-1" || r.Attempts != 3 || r.SettledAt == nil || r.LeaseOwner != "" || r.LeaseUntil != nil {
			t.Errorf("accepted: %+v", r)
		}
		if r := read(batched[2]); r.Status != store.RecordPending || r.NextAttemptAt == nil || !r.NextAttemptAt.Equal(next) || r.Attempts != 3 || r.SettledAt != nil {
			t.Errorf("retried: %+v", r)
		}
		if r := read(batched[3]); r.Status != store.RecordExpired || r.Attempts != 2 || r.SentAt != nil || r.SettledAt == nil {
			t.Errorf("expired unsent: %+v", r)
		}
		if r := read(batched[5]); r.Status != store.RecordPending || r.LeaseOwner != "b" {
			t.Errorf("another owner's: %+v", r)
		}
		countsAgree(t, st, now, "outcomes stored")
	})
}
