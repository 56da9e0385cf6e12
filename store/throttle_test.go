package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Rate limits hold across replicas sharing one database: concurrent hits
// from two stores (two connection pools) on one key are all counted.
func TestThrottleHitsCountedAcrossReplicas(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			cfg := storetest.Migrated(t, dialect)
			var sts []*store.Store
			for i := 0; i < 2; i++ {
				st, err := store.Open(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				if i == 0 {
					if err := st.Migrate(); err != nil {
						t.Fatal(err)
					}
				}
				sts = append(sts, st)
			}
			now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
			const n = 40
			var wg sync.WaitGroup
			errs := make(chan error, n)
			seen := make(chan int, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(st *store.Store) {
					defer wg.Done()
					c, err := st.ThrottleHit(context.Background(), "k", time.Hour, time.Hour, now)
					errs <- err
					seen <- c
				}(sts[i%2])
			}
			wg.Wait()
			close(errs)
			close(seen)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			counts := map[int]bool{}
			for c := range seen {
				counts[c] = true
			}
			if len(counts) != n || !counts[1] || !counts[n] {
				t.Fatalf("each hit should see its own count 1..%d, saw %v", n, counts)
			}
			// A window later the count starts again; a block outlives nothing.
			if err := sts[0].ThrottleBlock(context.Background(), "k", now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			until, err := sts[1].ThrottleBlockedUntil(context.Background(), []string{"k"}, now)
			if err != nil || !until.Equal(now.Add(time.Minute)) {
				t.Fatalf("blocked until %v, %v", until, err)
			}
			c, err := sts[1].ThrottleHit(context.Background(), "k", time.Hour, time.Hour, now.Add(2*time.Hour))
			if err != nil || c != 1 {
				t.Fatalf("after the window: %d %v", c, err)
			}
			if until, _ := sts[0].ThrottleBlockedUntil(context.Background(), []string{"k"}, now); !until.IsZero() {
				t.Fatalf("the block survived the restart of the count: %v", until)
			}
		})
	}
}
