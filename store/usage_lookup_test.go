package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// The dedup lookup finds an earlier delivery whatever the shape of the
// group: one id, a short chunk (padded to a prepared size), several
// chunks; in the bucket of its timestamp and in bucket 0, where events
// stored before buckets existed are.
func TestUsageEventsByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		db := st.TestingDB(t)
		stored := map[string]int64{
			"ev-legacy":   0, // before buckets existed
			"ev-now":      store.UsageDedupBucket(now),
			"ev-2days":    store.UsageDedupBucket(now.Add(-47 * time.Hour)),
			"ev-too-old":  store.UsageDedupBucket(now.Add(-80 * time.Hour)), // outside the window: not a repeat
			"ev-rejected": store.UsageDedupBucket(now),
		}
		for id, b := range stored {
			status := store.UsageAccepted
			if id == "ev-rejected" {
				status = store.UsageRejected
			}
			if err := db.Create(&store.UsageEvent{DedupBucket: b, EventID: id, Status: status, Reason: "r", Dimension: "d", Source: "api", ReceivedAt: now}).Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 5, 64, 65, 399, 400, 401, 1000} {
			ids := make([]string, 0, n)
			for i := 0; len(ids) < n-4; i++ {
				ids = append(ids, fmt.Sprintf("fresh-%d", i))
			}
			want := []string{"ev-legacy", "ev-now", "ev-2days", "ev-rejected"}[:min(4, n)]
			ids = append(ids, want...)
			if n >= 6 {
				ids = append(ids, "ev-too-old")
				ids = ids[1:]
			}
			var prior map[string]store.UsageEvent
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				prior, err = tx.UsageEventsByID(ctx, nil, ids, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(prior) != len(want) {
				t.Errorf("%d ids: found %d %v, want %v", n, len(prior), prior, want)
			}
			for _, id := range want {
				if _, ok := prior[id]; !ok {
					t.Errorf("%d ids: %s not found", n, id)
				}
			}
			if r := prior["ev-rejected"]; n >= 4 && (r.Status != store.UsageRejected || r.Reason != "r") {
				t.Errorf("%d ids: rejected event read as %+v", n, r)
			}
		}
	})
}
