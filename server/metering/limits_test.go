package metering_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func hourTotal(t *testing.T, st *store.Store, sub uint, dim string, hour time.Time) float64 {
	t.Helper()
	var q []float64
	if err := st.TestingReadDB(t).Table("usage_hours").Where("subscription_id = ? AND dimension = ? AND hour = ?", sub, dim, hour).Pluck("quantity", &q).Error; err != nil {
		t.Fatal(err)
	}
	if len(q) == 0 {
		return 0
	}
	return q[0]
}

// AWS: UsageRecord.Quantity is "Type: Integer, Valid Range: Minimum value of
// 0. Maximum value of 2147483647" (Metering API Reference), and there is one
// record per customer, dimension and hour (R6). An event that would take an
// hour past 2,147,483,647 is refused with a stable code, so everything
// accepted is sent, and accepted, as one record. Microsoft's quantity is a
// double: an hour stays within 2^53 - 1, where every whole unit still counts.
func TestHourTotalWithinMarketplaceLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		st.SetSetting(ctx, "metering.sealed_through", h8.Add(-time.Hour).Format(time.RFC3339))
		ev := func(id string, q float64, min int) metering.Event {
			return metering.Event{ID: id, Customer: "XLEGACY", Dimension: "api_calls", Quantity: q, Timestamp: h8.Add(time.Duration(min) * time.Minute)}
		}
		res := w.ingest(ev("big", 2_000_000_000, 10), ev("fill", 147_483_647, 20), ev("over", 1, 30),
			metering.Event{ID: "huge", Customer: "XLEGACY", Dimension: "storage_gb", Quantity: 3_000_000_000, Timestamp: h8.Add(5 * time.Minute)})
		if res[0].Status != "accepted" || res[1].Status != "accepted" {
			t.Fatalf("up to the limit: %+v %+v", res[0], res[1])
		}
		for _, r := range res[2:] {
			if r.Status != "rejected" || r.Code != metering.CodeHourTotalMax || !strings.Contains(r.Reason, "2147483647") {
				t.Fatalf("past the limit: %+v", r)
			}
		}
		// A repeat gets the original answer, code included.
		if again := w.ingest(ev("over", 1, 30)); again[0].Status != "duplicate" || again[0].Code != metering.CodeHourTotalMax {
			t.Fatalf("repeat: %+v", again[0])
		}
		if q := hourTotal(t, st, w.legA.ID, "api_calls", h8); q != math.MaxInt32 {
			t.Fatalf("hour total %v", q)
		}
		// Microsoft: an hour already holding 2^53 - 1 - 5e11.
		if err := st.TestingDB(t).Exec("INSERT INTO usage_hours (subscription_id, dimension, hour, quantity, events, sealed, updated_at) VALUES (?,?,?,?,?,?,?)",
			w.msC.ID, "api_calls", h8, float64(metering.MaxHourAzure)-5e11, 1, false, h8).Error; err != nil {
			t.Fatal(err)
		}
		ms := w.ingest(metering.Event{ID: "m1", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 5e11, Timestamp: h8},
			metering.Event{ID: "m2", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 1, Timestamp: h8})
		if ms[0].Status != "accepted" || ms[1].Status != "rejected" || ms[1].Code != metering.CodeHourTotalMax {
			t.Fatalf("microsoft: %+v", ms)
		}
		// Sealed and sent: AWS bills the full hour.
		w.m.Seal(ctx)
		w.m.Dispatch(ctx)
		recs := w.records("subscription_id = ? AND dimension = ? AND hour = ?", w.legA.ID, "api_calls", h8)
		if len(recs) != 1 || recs[0].Status != store.RecordAccepted || recs[0].Quantity != math.MaxInt32 {
			t.Fatalf("record: %+v", recs)
		}
		billed := false
		for _, r := range w.aws.Metered() {
			billed = billed || (r.Hour.Equal(h8) && r.Dimension == "api_calls" && r.Quantity == math.MaxInt32)
		}
		if !billed {
			t.Fatalf("AWS billed %+v", w.aws.Metered())
		}
	})
}

// The limit is checked by the statement that adds to the hour: events of
// concurrent requests on two replicas cannot jointly take an hour past it.
func TestHourLimitUnderConcurrentIngest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		other := &metering.Meter{Store: st, Log: w.m.Log, Owner: "replica-2"}
		now := w.clk.now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				m := w.m
				if i%2 == 1 {
					m = other
				}
				res, err := m.Ingest(context.Background(), nil, "api", []metering.Event{{ID: fmt.Sprintf("c%d", i), Customer: "XLEGACY",
					Dimension: "api_calls", Quantity: 300_000_000, Timestamp: now}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case res[0].Status == "accepted":
					accepted++
				case res[0].Code != metering.CodeHourTotalMax:
					t.Errorf("event %d: %+v", i, res[0])
				}
			}(i)
		}
		wg.Wait()
		total := hourTotal(t, st, w.legA.ID, "api_calls", now.Truncate(time.Hour))
		if accepted != 7 || total != 7*300_000_000 {
			t.Fatalf("accepted %d events, hour holds %v; want 7 and 2,100,000,000 (the 8th would pass 2,147,483,647)", accepted, total)
		}
		var stored int64
		st.TestingReadDB(t).Model(&store.UsageEvent{}).Where("status = ?", "accepted").Count(&stored)
		if stored != 7 {
			t.Fatalf("%d events stored as accepted", stored)
		}
	})
}

// A record stored before ingestion kept hours within AWS's range is not
// sent as a wrapped-around int32 (the old conversion sent -2147483648 for
// 3,000,000,000): it is refused here, with the reason, and AWS sees nothing.
func TestRecordBeyondAWSRangeNotSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		rec := store.MeteringRecord{SubscriptionID: w.legA.ID, Marketplace: "aws", Dimension: "api_calls", Hour: h8, Quantity: 3e9, Status: store.RecordPending,
			AWSCustomerIdentifier: "XLEGACY", AWSProductCode: "prod-legacy", CreatedAt: h8, UpdatedAt: h8}
		if err := st.TestingDB(t).Create(&rec).Error; err != nil {
			t.Fatal(err)
		}
		w.m.Dispatch(context.Background())
		got := w.records("id = ?", rec.ID)[0]
		if got.Status != store.RecordRejected || !strings.Contains(got.Reason, "0 to 2147483647") || len(w.aws.Received()) != 0 {
			t.Fatalf("record %+v; AWS received %v", got, w.aws.Received())
		}
	})
}

// Every accepted event is billable: its record goes out with its hour's
// start as the Timestamp, which AWS takes "up to 24 hours in the past" (R3)
// and, for a month that has ended, only until 06:00 UTC on the 1st (R4);
// Microsoft takes an effectiveStartTime "within the past 24 h" (M2). So an
// event whose own (open) hour could no longer be sealed and sent in time is
// refused with the cutoff, not accepted and then expired; an event whose
// hour is sealed counts in the current hour, as the design says.
func TestAcceptedUsageIsBillable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		now := w.clk.now() // 2026-06-02 09:20
		ev := func(id, ref string, at time.Time) metering.Event {
			return metering.Event{ID: id, Customer: ref, Dimension: "api_calls", Quantity: 3, Timestamp: at}
		}
		res := w.ingest(
			ev("old-58", "XLEGACY", now.Add(-23*time.Hour-58*time.Minute)), // hour 06-01 09:00: AWS takes it until 06-02 09:00
			ev("old-30", "XLEGACY", now.Add(-23*time.Hour-30*time.Minute)), // 06-01 09:50, same hour
			ev("old-10", "XLEGACY", now.Add(-23*time.Hour-10*time.Minute)), // hour 06-01 10:00: until 06-02 10:00
			ev("ms-58", w.msC.AzureSubscriptionID, now.Add(-23*time.Hour-58*time.Minute)),
			ev("ms-10", w.msC.AzureSubscriptionID, now.Add(-23*time.Hour-10*time.Minute)),
		)
		for _, i := range []int{0, 1, 3} {
			if r := res[i]; r.Status != "rejected" || r.Code != metering.CodeHourClosed || !strings.Contains(r.Reason, "until 2026-06-02T09:00:00Z") {
				t.Fatalf("%s: %+v", r.ID, r)
			}
		}
		for _, i := range []int{2, 4} {
			if r := res[i]; r.Status != "accepted" || r.Late {
				t.Fatalf("%s: %+v", r.ID, r)
			}
		}
		if _, err := w.m.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		// Its hour now sealed, later usage for it counts in the current hour.
		late := w.ingest(ev("old-5", "XLEGACY", now.Add(-23*time.Hour-5*time.Minute)))
		if late[0].Status != "accepted" || !late[0].Late || !late[0].Hour.Equal(now.Truncate(time.Hour)) {
			t.Fatalf("sealed hour: %+v", late[0])
		}
		if _, err := w.m.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		h10 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
		for _, sub := range []uint{w.legA.ID, w.msC.ID} {
			r := w.records("subscription_id = ? AND dimension = ? AND hour = ?", sub, "api_calls", h10)
			if len(r) != 1 || r[0].Status != store.RecordAccepted || r[0].Quantity != 3 {
				t.Fatalf("accepted usage of 06-01 10:00: %+v", r)
			}
		}

		// Month end (R4): at 06:30 on 1 July AWS no longer takes June; Microsoft
		// has no such rule.
		w.clk.set(time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC))
		june := time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)
		mr := w.ingest(ev("june-aws", "XLEGACY", june), ev("june-ms", w.msC.AzureSubscriptionID, june))
		if mr[0].Status != "rejected" || mr[0].Code != metering.CodeMonthClosed || !strings.Contains(mr[0].Reason, "2026-07-01T06:00:00Z") {
			t.Fatalf("june on AWS: %+v", mr[0])
		}
		if mr[1].Status != "accepted" {
			t.Fatalf("june on Microsoft: %+v", mr[1])
		}
		// Before 06:00, June's open last hour is taken only while it can
		// still be sealed and sent before the cutoff.
		w.clk.set(time.Date(2026, 7, 1, 5, 50, 0, 0, time.UTC))
		st.TestingDB(t).Exec("DELETE FROM usage_hours WHERE dimension = ? AND hour = ?", "storage_gb", june.Truncate(time.Hour))
		if r := w.ingest(metering.Event{ID: "june-early", Customer: "XLEGACY", Dimension: "storage_gb", Quantity: 1, Timestamp: june}); r[0].Status != "accepted" {
			t.Fatalf("before the cutoff: %+v", r[0])
		}
		w.clk.set(time.Date(2026, 7, 1, 5, 56, 0, 0, time.UTC))
		r := w.ingest(metering.Event{ID: "june-late", Customer: caID.LicenseArn, Dimension: "storage_gb", Quantity: 1, Timestamp: june})
		if r[0].Status != "rejected" || r[0].Code != metering.CodeHourClosed || !strings.Contains(r[0].Reason, "until 2026-07-01T06:00:00Z") {
			t.Fatalf("just before the cutoff: %+v", r[0])
		}
	})
}

// Ingestion does not read the current hour's rows: it takes the hour as
// open and empty, and the statement that adds the usage finds it sealed
// (the subscription's final usage was sent) or its total at the limit,
// and those events are placed again (placeHours, addToHours). Here the
// current hour holds each state before one group, beside hours that take
// their add in the same statement, and the answers, the events as stored
// and the totals must be what a read of the hour first would have given.
func TestCurrentHourFoundByTheAdd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		h9 := w.clk.now().Truncate(time.Hour)
		put := func(sub uint, dim string, q float64, sealed bool) {
			if err := st.TestingDB(t).Exec("INSERT INTO usage_hours (subscription_id, dimension, hour, quantity, events, sealed, updated_at) VALUES (?,?,?,?,?,?,?)",
				sub, dim, h9, q, 1, sealed, h9).Error; err != nil {
				t.Fatal(err)
			}
		}
		put(w.legA.ID, "api_calls", metering.MaxHourAWS-10, false) // 10 short of AWS's limit
		put(w.caB.ID, "api_calls", 7, true)                        // final usage sent
		ev := func(id string, sub uint, dim string, q float64) metering.Event {
			return metering.Event{ID: id, Subscription: fmt.Sprint(sub), Dimension: dim, Quantity: q, Timestamp: h9.Add(5 * time.Minute)}
		}
		evs := []metering.Event{
			ev("a1", w.legA.ID, "api_calls", 6), ev("a2", w.legA.ID, "api_calls", 5), ev("a3", w.legA.ID, "api_calls", 4),
			ev("c1", w.caB.ID, "api_calls", 1), ev("c2", w.caB.ID, "storage_gb", 2), ev("m1", w.msC.ID, "api_calls", 3),
		}
		want := map[string]string{"a1": "accepted", "a2": metering.CodeHourTotalMax, "a3": "accepted", "c1": metering.CodeFinalSent, "c2": "accepted", "m1": "accepted"}
		check := func(res []metering.Result, repeat bool) {
			t.Helper()
			for _, r := range res {
				got := r.Status
				if repeat {
					got = r.OriginalStatus
				}
				if got == "rejected" {
					got = r.Code
				}
				if got != want[r.ID] || (r.Status == "accepted" && (r.Hour == nil || !r.Hour.Equal(h9) || r.Late)) {
					t.Errorf("%s (repeat %v): %+v, want %s", r.ID, repeat, r, want[r.ID])
				}
			}
		}
		check(w.ingest(evs...), false)
		check(w.ingest(evs...), true) // a repeat gets the first answer
		for _, c := range []struct {
			sub  uint
			dim  string
			want float64
		}{{w.legA.ID, "api_calls", metering.MaxHourAWS}, {w.caB.ID, "api_calls", 7}, {w.caB.ID, "storage_gb", 2}, {w.msC.ID, "api_calls", 3}} {
			if q := hourTotal(t, st, c.sub, c.dim, h9); q != c.want {
				t.Errorf("hour total of %d %s: %v, want %v", c.sub, c.dim, q, c.want)
			}
		}
		// The events as stored: the refused ones count in no hour.
		var stored []store.UsageEvent
		st.TestingReadDB(t).Order("event_id").Find(&stored)
		if len(stored) != len(evs) {
			t.Fatalf("%d events stored, want %d", len(stored), len(evs))
		}
		for _, e := range stored {
			accepted := want[e.EventID] == "accepted"
			if (e.Status == "accepted") != accepted || (e.Hour == nil) == accepted || e.Late {
				t.Errorf("stored %s: status %s, hour %v, late %v", e.EventID, e.Status, e.Hour, e.Late)
			}
		}
	})
}
