package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// SQLite's connections run in multi-thread mode (store.Open): each is used
// by one goroutine at a time, and a request that goes away cancels its
// statement from another goroutine (the driver calls sqlite3_interrupt).
// Many readers and the writer, their statements cancelled at random moments
// while others run: every cancelled statement fails as cancelled, every
// write that returned is stored, and afterwards every connection answers
// rightly and the database passes its integrity check.
func TestCancelledStatementsLeaveConnectionsWhole(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	const slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
	cancelled := func(err error) bool {
		return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "interrupt")
	}
	var interrupted, answered atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; i < 40; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+rng.IntN(60))*time.Millisecond)
				var n int64
				err := st.TestingReadDB(t).WithContext(ctx).Raw(slow, 50000).Scan(&n).Error
				cancel()
				switch {
				case err == nil && n == 50000:
					answered.Add(1)
				case err != nil && cancelled(err):
					interrupted.Add(1)
				default:
					t.Errorf("a reader's statement: %d, %v", n, err)
					return
				}
			}
		}()
	}
	stored := make(chan string, 400)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			key := fmt.Sprintf("cancel-test-%d", i)
			if i%2 == 0 {
				// A write whose caller has gone: cancelled mid-statement.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
				err := st.TestingDB(t).WithContext(ctx).Exec(slow, 2000000).Error
				cancel()
				if err != nil && !cancelled(err) {
					t.Errorf("the writer's statement: %v", err)
					return
				}
			}
			if err := st.SetSetting(context.Background(), key, key); err != nil {
				t.Errorf("a write after a cancelled one: %v", err)
				return
			}
			stored <- key
		}
	}()
	wg.Wait()
	close(stored)
	if interrupted.Load() == 0 {
		t.Fatalf("no statement was cancelled while running (%d answered): the test did not test", answered.Load())
	}
	for key := range stored {
		if v, ok, err := st.GetSetting(context.Background(), key); err != nil || !ok || v != key {
			t.Fatalf("setting %s written before: %q %v %v", key, v, ok, err)
		}
	}
	// Every connection again, at once: each answers the whole count.
	var again sync.WaitGroup
	for g := 0; g < 16; g++ {
		again.Add(1)
		go func() {
			defer again.Done()
			var n int64
			if err := st.TestingReadDB(t).Raw(slow, 1000).Scan(&n).Error; err != nil || n != 1000 {
				t.Errorf("a reader after the cancellations: %d, %v", n, err)
			}
		}()
	}
	again.Wait()
	var check string
	if err := st.TestingDB(t).Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	t.Logf("%d reads interrupted, %d answered", interrupted.Load(), answered.Load())
}
