package metering_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// flightFake is what both marketplaces' fakes tell about records in flight.
type flightFake interface {
	SetLatency(func())
	InFlightOverlaps() []string
	Received() map[string]int
}

// Replicas never send the same record at once: a pass whose rounds outlast
// the 45 s lease keeps its records (renewed while it lasts, checked and
// renewed before every call), and a second replica starting 50 s into it
// sends only what the first no longer holds. AWS bills an identical resend
// once (R7) and Microsoft answers a resend Duplicate (M1), but the README
// promises no record is in flight twice, on either marketplace.
// Simulated: 800 records in one claim, 4 calls in flight, every call
// taking 2 s on the shared fake clock.
func TestLeaseHeldThroughLongPass(t *testing.T) {
	for _, mp := range []string{"aws", "azure"} {
		t.Run(mp, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) { leaseHeldThroughLongPass(t, st, mp) })
		})
	}
}

func leaseHeldThroughLongPass(t *testing.T, st *store.Store, mp string) {
	w := newWorld(t, st)
	ctx := context.Background()
	start := w.clk.now()
	var recs []store.MeteringRecord
	var fake flightFake = w.aws
	billed := func() int { return len(w.aws.Metered()) }
	if mp == "aws" {
		for d := 0; d < 40; d++ {
			for h := 2; h < 22; h++ {
				recs = append(recs, store.MeteringRecord{SubscriptionID: w.caB.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%02d", d),
					Hour: start.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour), Quantity: float64(d + h), Status: store.RecordPending,
					AWSCustomerAccountID: caID.CustomerAWSAccountID, AWSLicenseArn: caID.LicenseArn, AWSProductCode: caID.ProductCode,
					CreatedAt: start, UpdatedAt: start})
			}
		}
	} else {
		// Microsoft: one event per resource, dimension and hour (M1), so
		// 40 subscriptions of the plan, 20 hours each.
		fake, billed = w.ms, func() int { return len(w.ms.Usage()) }
		buyer := azurefake.Party{EmailID: "it@contoso.example", ObjectID: "o1", TenantID: "t1"}
		for s := 0; s < 40; s++ {
			id, _, err := w.ms.Purchase("saas", "silver", 0, buyer, buyer, fmt.Sprintf("Contoso %d", s))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.ms.SetStatusSilently(id, "Subscribed"); err != nil {
				t.Fatal(err)
			}
			sub := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: start, OfferID: w.msC.OfferID, PlanID: w.msC.PlanID,
				Version: 1, AzureSubscriptionID: id, CreatedAt: start, UpdatedAt: start}
			if err := st.TestingDB(t).Create(&sub).Error; err != nil {
				t.Fatal(err)
			}
			for h := 2; h < 22; h++ {
				recs = append(recs, store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "azure", Dimension: "api_calls",
					Hour: start.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour), Quantity: float64(s + h), Status: store.RecordPending,
					AzureSubscriptionID: id, PlanID: "silver", CreatedAt: start, UpdatedAt: start})
			}
		}
	}
	if err := st.TestingDB(t).CreateInBatches(&recs, 200).Error; err != nil {
		t.Fatal(err)
	}
	w.m.Claim, w.m.Concurrency = 800, 4
	// The meters' warnings (a lease not renewed, a call failed) are shown
	// when the test fails.
	w.m.Log = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	second := &metering.Meter{Store: st, Log: w.m.Log, AWS: w.m.AWS, Azure: w.m.Azure, Owner: "replica-2", Claim: 800, Concurrency: 4}
	var wg sync.WaitGroup
	var started atomic.Bool
	var n2 int
	var err2 error
	fake.SetLatency(func() {
		if w.clk.advance(2*time.Second).Sub(start) >= 50*time.Second && started.CompareAndSwap(false, true) {
			wg.Add(1)
			done := make(chan struct{})
			go func() {
				defer wg.Done()
				defer close(done)
				n2, err2 = second.Dispatch(ctx)
			}()
			// This call stays in flight until the second replica has
			// claimed what it could (or is done), for at most 2 s of real
			// time. The other calls go on meanwhile. A sync.Once here held
			// every call past 50 s too, for as long as this lasted; on a
			// loaded machine that could pass the Microsoft client's 15 s
			// timeout, and a batch timed out and resent while the fake
			// still held the first request counted as in flight twice.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				var n int64
				st.TestingReadDB(t).Model(&store.MeteringRecord{}).Where("lease_owner LIKE ?", "replica-2%").Count(&n)
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
		}
		time.Sleep(2 * time.Millisecond) // calls of both replicas overlap in time
	})
	n1, err := w.m.Dispatch(ctx)
	wg.Wait()
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	t.Logf("first replica settled %d, second %d", n1, n2)
	if w.clk.now().Sub(start) < 60*time.Second {
		t.Fatalf("the pass lasted %v on the fake clock: not past the 45 s lease", w.clk.now().Sub(start))
	}
	if o := fake.InFlightOverlaps(); len(o) != 0 {
		t.Fatalf("%d records in flight twice at once, e.g. %s", len(o), o[0])
	}
	got := fake.Received()
	twice := 0
	for _, n := range got {
		if n != 1 {
			twice++
		}
	}
	if len(got) != 800 || twice != 0 {
		t.Fatalf("%s received %d distinct records, %d of them more than once", mp, len(got), twice)
	}
	if n1+n2 != 800 || billed() != 800 {
		t.Fatalf("settled %d + %d, billed %d", n1, n2, billed())
	}
	if left := w.records("status <> ? OR attempts <> 1", store.RecordAccepted); len(left) != 0 {
		t.Fatalf("%d records not accepted after exactly one send, e.g. %+v", len(left), left[0])
	}
}

// testLog writes the meters' log lines to the test's log (shown when it
// fails, or with -v).
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// A pass claims page after page from where its last claim ended, and
// still sends in the same pass a record that became due behind that
// position: here a record another replica leased until 30 s into the
// pass (it crashed), the oldest of all. Pages of 2 records, every call
// 20 s on the fake clock: the first claims pass it by, and once the
// claims from the position come up short, one from the beginning finds
// its lease run out and sends it, once.
func TestPassSendsWhatBecameDueBehindIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		now := w.clk.now()
		base := now.Truncate(time.Hour).Add(-8 * time.Hour)
		stuck := w.pending(w.legA, "api_calls", base, 5)
		until := now.Add(30 * time.Second)
		if err := st.TestingDB(t).Model(&store.MeteringRecord{}).Where("id = ?", stuck.ID).
			Updates(map[string]any{"lease_owner": "crashed-replica/0123", "lease_until": until}).Error; err != nil {
			t.Fatal(err)
		}
		var others []store.MeteringRecord
		for h := 1; h <= 5; h++ {
			others = append(others, w.pending(w.legA, "api_calls", base.Add(time.Duration(h)*time.Hour), float64(h)))
		}
		w.m.Claim, w.m.Concurrency = 2, 1
		w.aws.SetLatency(func() { w.clk.advance(20 * time.Second) })
		n, err := w.m.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 6 {
			t.Errorf("the pass settled %d records, want 6", n)
		}
		for _, r := range append([]store.MeteringRecord{stuck}, others...) {
			if got := w.record(r.ID); got.Status != store.RecordAccepted {
				t.Errorf("record of %s: %s %q", r.Hour.Format(time.RFC3339), got.Status, got.Reason)
			}
			if c := w.awsReceived(legacyKey, "api_calls", r.Hour); c != 1 {
				t.Errorf("AWS received the record of %s %d times, want 1", r.Hour.Format(time.RFC3339), c)
			}
		}
	})
}
