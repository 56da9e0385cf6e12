package metering

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A pass whose lease ran out, and whose records another replica claimed
// since, sends none of them and stores nothing for them: the record is in
// flight at the replica that holds it, and only there.
func TestLostLeaseIsNotSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)
		st.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now,
			AWSCustomerIdentifier: "X", AWSProductCode: "p"}
		if err := st.TestingDB(t).Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		rec := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: "d", Hour: now.Truncate(time.Hour).Add(-time.Hour),
			Quantity: 5, Status: store.RecordPending, AWSCustomerIdentifier: "X", AWSProductCode: "p", CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&rec).Error; err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a := &Meter{Store: st, Log: log, Owner: "replica-a"}
		b := &Meter{Store: st, Log: log, Owner: "replica-a"} // even the same process name: each claim has its own token
		got, err := a.claim(ctx, st.Now(), store.RecordPos{})
		if err != nil || len(got) != 1 {
			t.Fatalf("a claimed %d, %v", len(got), err)
		}
		mu.Lock()
		now = now.Add(leaseTTL + time.Second) // a stalled: its lease ran out
		mu.Unlock()
		taken, err := b.claim(ctx, st.Now(), store.RecordPos{})
		if err != nil || len(taken) != 1 || taken[0].LeaseOwner == got[0].LeaseOwner {
			t.Fatalf("b claimed %+v, %v", taken, err)
		}
		calls := 0
		send := func(_ context.Context, rs []*store.MeteringRecord) []outcome {
			calls++
			out := make([]outcome, len(rs))
			for i := range out {
				out[i] = outcome{status: store.RecordAccepted, marketplaceID: "m-1"}
			}
			return out
		}
		outs := a.guarded(ctx, []*store.MeteringRecord{&got[0]}, send)
		if calls != 0 || !outs[0].lost {
			t.Fatalf("a sent a record it no longer holds (calls %d, %+v)", calls, outs)
		}
		if n, err := a.store(ctx, []*store.MeteringRecord{&got[0]}, outs); err != nil || n != 0 {
			t.Fatalf("a stored %d, %v", n, err)
		}
		outs = b.guarded(ctx, []*store.MeteringRecord{&taken[0]}, send)
		if calls != 1 || outs[0].lost {
			t.Fatalf("b did not send (calls %d)", calls)
		}
		if n, err := b.store(ctx, []*store.MeteringRecord{&taken[0]}, outs); err != nil || n != 1 {
			t.Fatalf("b stored %d, %v", n, err)
		}
		var final store.MeteringRecord
		st.TestingReadDB(t).First(&final, rec.ID)
		if final.Status != store.RecordAccepted || final.Attempts != 1 || final.LeaseOwner != "" {
			t.Fatalf("record %+v", final)
		}
	})
}
