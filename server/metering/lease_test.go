package metering_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Replicas never send the same record at once: a pass whose rounds outlast
// the 45 s lease keeps its records (renewed while it lasts, checked and
// renewed before every call), and a second replica starting 50 s into it
// sends only what the first no longer holds. AWS bills an identical resend
// once (R7), but the README promises no record is in flight twice.
// Simulated: 800 records in one claim, 4 calls in flight, every call
// taking 2 s on the shared fake clock.
func TestLeaseHeldThroughLongPass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		start := w.clk.now()
		var recs []store.MeteringRecord
		for d := 0; d < 40; d++ {
			for h := 2; h < 22; h++ {
				recs = append(recs, store.MeteringRecord{SubscriptionID: w.caB.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%02d", d),
					Hour: start.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour), Quantity: float64(d + h), Status: store.RecordPending,
					AWSCustomerAccountID: caID.CustomerAWSAccountID, AWSLicenseArn: caID.LicenseArn, AWSProductCode: caID.ProductCode,
					CreatedAt: start, UpdatedAt: start})
			}
		}
		if err := st.W.CreateInBatches(&recs, 200).Error; err != nil {
			t.Fatal(err)
		}
		w.m.Claim, w.m.Concurrency = 800, 4
		second := &metering.Meter{Store: st, Log: w.m.Log, AWS: w.m.AWS, Owner: "replica-2", Claim: 800, Concurrency: 4}
		var wg sync.WaitGroup
		var once sync.Once
		var n2 int
		var err2 error
		w.aws.SetLatency(func() {
			if w.clk.advance(2*time.Second).Sub(start) >= 50*time.Second {
				once.Do(func() {
					wg.Add(1)
					done := make(chan struct{})
					go func() {
						defer wg.Done()
						defer close(done)
						n2, err2 = second.Dispatch(ctx)
					}()
					// This call stays in flight until the second replica has
					// claimed what it could (or is done).
					for i := 0; i < 5000; i++ {
						var n int64
						st.R.Model(&store.MeteringRecord{}).Where("lease_owner LIKE ?", "replica-2%").Count(&n)
						select {
						case <-done:
							return
						default:
						}
						if n > 0 {
							return
						}
						time.Sleep(time.Millisecond)
					}
				})
			}
			time.Sleep(2 * time.Millisecond) // calls of both replicas overlap in time
		})
		n1, err := w.m.Dispatch(ctx)
		wg.Wait()
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		if w.clk.now().Sub(start) < 60*time.Second {
			t.Fatalf("the pass lasted %v on the fake clock: not past the 45 s lease", w.clk.now().Sub(start))
		}
		if o := w.aws.InFlightOverlaps(); len(o) != 0 {
			t.Fatalf("%d records in flight twice at once, e.g. %s", len(o), o[0])
		}
		got := w.aws.Received()
		twice := 0
		for _, n := range got {
			if n != 1 {
				twice++
			}
		}
		if len(got) != 800 || twice != 0 {
			t.Fatalf("AWS received %d distinct records, %d of them more than once", len(got), twice)
		}
		if n1+n2 != 800 || len(w.aws.Metered()) != 800 {
			t.Fatalf("settled %d + %d, billed %d", n1, n2, len(w.aws.Metered()))
		}
		if left := w.records("status <> ? OR attempts <> 1", store.RecordAccepted); len(left) != 0 {
			t.Fatalf("%d records not accepted after exactly one send, e.g. %+v", len(left), left[0])
		}
	})
}
