package seats_test

import (
	"context"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A check that grants a seat queues the seat's last-checked time, and the
// first one since start is written at once, off the request. FlushTouches,
// which a stop runs before it closes the database, waits for that write
// first: returning while it is still under way would let the stop close
// the database under it, and the time would be lost.
func TestFlushTouchesWaitsForTheBatchInFlight(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, d)
			sub := seedSeatOrg(t, st.TestingDB(t), time.Now().UTC().Add(-time.Hour))
			// Hold the seats' writes back: SQLite's one writer is taken;
			// on Postgres the seats' rows are locked.
			tx := st.TestingDB(t).Begin()
			must(t, tx.Error)
			if d == store.Postgres {
				must(t, tx.Exec("SELECT id FROM seats WHERE subscription_id = ? FOR UPDATE", sub.ID).Error)
			}
			svc := &seats.Service{Store: st}
			ans, err := svc.Check(ctx, seats.Query{TenantID: "tenant-a", User: seats.User{Email: "ann@contoso.com"}})
			must(t, err)
			if !ans.Licensed {
				t.Fatalf("a seat holder not licensed: %+v", ans)
			}
			flushed := make(chan struct{})
			go func() {
				svc.FlushTouches()
				close(flushed)
			}()
			select {
			case <-flushed:
				t.Fatal("FlushTouches returned while the check's last-checked time was still being written")
			case <-time.After(300 * time.Millisecond):
			}
			must(t, tx.Rollback().Error)
			<-flushed
			var seat store.Seat
			must(t, st.TestingDB(t).Where("subscription_id = ? AND email = ?", sub.ID, "ann@contoso.com").First(&seat).Error)
			if seat.LastCheckedAt == nil {
				t.Fatal("after FlushTouches the checked seat has no last-checked time")
			}
		})
	}
}
