package metering_test

import (
	"context"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the clock locations below, whatever the machine has

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Clock locations a store may run in: UTC, Japan (ahead of UTC, where many
// sellers are) and the US west coast (behind it). Metering works in UTC
// whatever the clock's location.
var clockZones = []string{"UTC", "Asia/Tokyo", "America/Los_Angeles"}

// inZone makes the store's clock answer in the location (the same instants).
func (w *world) inZone(t *testing.T, zone string) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	w.st.Now = func() time.Time { return w.clk.now().In(loc) }
}

// pending stores a pending record as sealing would.
func (w *world) pending(sub store.Subscription, dim string, hour time.Time, q float64) store.MeteringRecord {
	w.t.Helper()
	r := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: sub.Marketplace, Dimension: dim, Hour: hour, Quantity: q, Status: store.RecordPending,
		AWSCustomerIdentifier: sub.AWSCustomerIdentifier, AWSCustomerAccountID: sub.AWSCustomerAccountID, AWSLicenseArn: sub.AWSLicenseArn,
		AWSProductCode: sub.AWSProductCode, AzureSubscriptionID: sub.AzureSubscriptionID, CreatedAt: hour.Add(time.Hour), UpdatedAt: hour.Add(time.Hour)}
	if sub.Marketplace == "azure" {
		r.PlanID = "silver"
	}
	if err := w.st.TestingDB(w.t).Create(&r).Error; err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) record(id uint) store.MeteringRecord {
	w.t.Helper()
	recs := w.records("id = ?", id)
	if len(recs) != 1 {
		w.t.Fatalf("record %d not found", id)
	}
	return recs[0]
}

// awsReceived: how often the fake AWS received the record (customer key, dimension, hour).
func (w *world) awsReceived(key, dim string, hour time.Time) int {
	return w.aws.Received()[key+"|"+dim+"|"+hour.UTC().Format(time.RFC3339)]
}

const legacyKey = "legacy:prod-legacy:XLEGACY"

// The expiry warning comes before the real deadline, whichever comes first:
// AWS takes a record "up to 24 hours in the past" (R3) but usage of the
// previous month "only until 06:00 UTC on the 1st" ("a record for 31 March
// 23:00 can be sent until 1 April 05:59:59 UTC", R4). So June's last AWS
// hours are announced 4 hours before 06:00 on 1 July, not 20 hours after
// their hour (19:00, long after AWS stopped taking them); Microsoft's
// ("within the past 24 h", M2) 20 hours after theirs. In every clock
// location.
func TestExpiryWarningBeforeMonthEndCutoff(t *testing.T) {
	for _, zone := range clockZones {
		t.Run(zone, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				w := newWorld(t, st)
				w.inZone(t, zone)
				ctx := context.Background()
				h23 := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)
				awsLast := w.pending(w.legA, "api_calls", h23, 5)
				awsEarly := w.pending(w.legA, "storage_gb", time.Date(2026, 6, 30, 5, 0, 0, 0, time.UTC), 5) // 24 h first: 1 July 05:00
				msLast := w.pending(w.msC, "api_calls", h23, 5)
				fresh := w.pending(w.caB, "api_calls", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), 5)
				warned := func() map[uint]bool {
					var ids []uint
					st.TestingReadDB(t).Model(&store.MeteringRecord{}).Where("expiry_warned_at IS NOT NULL").Pluck("id", &ids)
					out := map[uint]bool{}
					for _, id := range ids {
						out[id] = true
					}
					return out
				}
				steps := []struct {
					at     time.Time
					warned []uint
				}{
					{time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC), nil},
					{time.Date(2026, 7, 1, 0, 59, 0, 0, time.UTC), nil},
					{time.Date(2026, 7, 1, 1, 0, 0, 0, time.UTC), []uint{awsEarly.ID}}, // 4 h before 05:00
					{time.Date(2026, 7, 1, 1, 59, 0, 0, time.UTC), []uint{awsEarly.ID}},
					{time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC), []uint{awsEarly.ID, awsLast.ID}}, // 4 h before 06:00
					{time.Date(2026, 7, 1, 18, 59, 0, 0, time.UTC), []uint{awsEarly.ID, awsLast.ID}},
					{time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC), []uint{awsEarly.ID, awsLast.ID, msLast.ID}},
				}
				for _, s := range steps {
					w.clk.set(s.at)
					if _, err := w.m.WarnExpiring(ctx); err != nil {
						t.Fatal(err)
					}
					h, err := w.m.HealthNow(ctx)
					if err != nil {
						t.Fatal(err)
					}
					got := warned()
					if len(got) != len(s.warned) || h.Expiring != int64(len(s.warned)) {
						t.Fatalf("at %s: warned %v (health counts %d), want %v", s.at.Format(time.RFC3339), got, h.Expiring, s.warned)
					}
					for _, id := range s.warned {
						if !got[id] {
							t.Fatalf("at %s: record %d not warned; warned %v", s.at.Format(time.RFC3339), id, got)
						}
					}
					if got[fresh.ID] {
						t.Fatal("a July record warned")
					}
				}
			})
		})
	}
}

// Expiry uses the same deadline in UTC whatever the clock's location: at
// 06:30 UTC on 1 July (15:30 in Tokyo, 23:30 on 30 June in Los Angeles) AWS
// no longer takes June (R4) so June's AWS record expires unsent, while
// Microsoft still takes 30 June 07:00 (M2, within 24 h) and AWS 1 July
// 05:00 (R3): both are sent and accepted. Usage reported now is sealed into
// its UTC hour.
func TestExpiryInUTCWhateverTheClockLocation(t *testing.T) {
	for _, zone := range clockZones {
		t.Run(zone, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				w := newWorld(t, st)
				w.inZone(t, zone)
				ctx := context.Background()
				now := time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC)
				w.clk.set(now)
				june := time.Date(2026, 6, 30, 7, 0, 0, 0, time.UTC)
				awsJune := w.pending(w.legA, "api_calls", june, 5)
				msJune := w.pending(w.msC, "api_calls", june, 5)
				awsJuly := w.pending(w.legA, "api_calls", time.Date(2026, 7, 1, 5, 0, 0, 0, time.UTC), 5)
				if _, err := w.m.Dispatch(ctx); err != nil {
					t.Fatal(err)
				}
				if r := w.record(awsJune.ID); r.Status != store.RecordExpired || !strings.Contains(r.Reason, "month-end cutoff") {
					t.Fatalf("AWS June record: %s %q", r.Status, r.Reason)
				}
				if n := w.awsReceived(legacyKey, "api_calls", june); n != 0 {
					t.Fatalf("AWS received the June record %d times", n)
				}
				for _, id := range []uint{msJune.ID, awsJuly.ID} {
					if r := w.record(id); r.Status != store.RecordAccepted {
						t.Fatalf("record %s %s: %s %q", r.Marketplace, r.Hour.Format(time.RFC3339), r.Status, r.Reason)
					}
				}
				if res := w.ingest(metering.Event{ID: "tz", Customer: "XLEGACY", Dimension: "storage_gb", Quantity: 2, Timestamp: now}); res[0].Status != "accepted" ||
					!res[0].Hour.Equal(time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)) {
					t.Fatalf("usage now: %+v", res[0])
				}
				w.clk.set(now.Add(time.Hour))
				if _, err := w.m.Seal(ctx); err != nil {
					t.Fatal(err)
				}
				r := w.records("subscription_id = ? AND dimension = ? AND hour = ?", w.legA.ID, "storage_gb", time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC))
				if len(r) != 1 || r[0].Quantity != 2 {
					t.Fatalf("sealed 06:00 UTC: %+v", r)
				}
			})
		})
	}
}

// A record past its deadline is never sent: it is settled as expired with
// the deadline as the reason. A pass still sending at 06:00 UTC on 1 July
// sends no June record after AWS stopped taking June (R4; AWS would fail the
// whole batch with TimestampOutOfBoundsException, R5), and the portal's
// retry of a June record after the cutoff settles it as expired instead of
// making it due, although it is less than 24 hours old.
func TestPastDeadlineNeverSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		w.clk.set(time.Date(2026, 7, 1, 5, 59, 50, 0, time.UTC))
		// Sent first (its product's batches come first): a July record, its
		// call taking 20 s, past 06:00.
		july := w.pending(w.caB, "api_calls", time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC), 3)
		var june []store.MeteringRecord
		for h := 20; h < 24; h++ {
			june = append(june, w.pending(w.legA, "api_calls", time.Date(2026, 6, 30, h, 0, 0, 0, time.UTC), 7))
		}
		w.m.Concurrency = 1
		w.aws.SetLatency(func() { w.clk.advance(20 * time.Second) })
		if _, err := w.m.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		if r := w.record(july.ID); r.Status != store.RecordAccepted {
			t.Fatalf("July record: %s %q", r.Status, r.Reason)
		}
		for _, j := range june {
			r := w.record(j.ID)
			if r.Status != store.RecordExpired || !strings.Contains(r.Reason, "only until 2026-07-01T06:00:00Z; not sent") || r.SentAt != nil || r.Attempts != 0 {
				t.Fatalf("June record %s: %s %q sent %v attempts %d", r.Hour.Format(time.RFC3339), r.Status, r.Reason, r.SentAt, r.Attempts)
			}
			if n := w.awsReceived(legacyKey, "api_calls", j.Hour); n != 0 {
				t.Fatalf("AWS received the June record %s %d times", j.Hour.Format(time.RFC3339), n)
			}
		}

		// The portal's retry at 06:30: the AWS June record refused earlier
		// stays unsent; Microsoft's of the same hour is sent again (M2: 24 h).
		w.aws.SetLatency(nil)
		w.clk.set(time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC))
		h20 := time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC)
		refused := w.pending(w.legA, "storage_gb", h20, 4)
		msRefused := w.pending(w.msC, "api_calls", h20, 4)
		st.TestingDB(t).Model(&store.MeteringRecord{}).Where("id IN ?", []uint{refused.ID, msRefused.ID}).
			Updates(map[string]any{"status": store.RecordRejected, "reason": "refused earlier"})
		n, err := w.m.Retry(ctx, []uint{refused.ID, msRefused.ID})
		if err != nil || n != 1 {
			t.Fatalf("retried %d, %v; want only the Microsoft record", n, err)
		}
		if r := w.record(refused.ID); r.Status != store.RecordExpired || !strings.Contains(r.Reason, "only until 2026-07-01T06:00:00Z") ||
			!strings.Contains(r.Reason, "it was rejected: refused earlier") {
			t.Fatalf("retried AWS June record: %s %q", r.Status, r.Reason)
		}
		if _, err := w.m.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		if r := w.record(msRefused.ID); r.Status != store.RecordAccepted {
			t.Fatalf("retried Microsoft record: %s %q", r.Status, r.Reason)
		}
		if n := w.awsReceived(legacyKey, "storage_gb", h20); n != 0 {
			t.Fatalf("AWS received the retried June record %d times", n)
		}
	})
}

// Late usage for a sealed hour of the previous month, in the first hours of
// a new month on AWS: the design rule "usage for an hour that is already
// sealed goes into the current hour" holds. AWS bills one record per hour,
// not additive (R6), so the sealed 30 June 23:00 record cannot carry it; the
// current hour (1 July) is within R3 and R4, so the usage is billed, in
// July. After 06:00 UTC on the 1st AWS no longer takes June usage (R4), and
// June usage is refused rather than moved into July.
func TestLateUsageOfSealedHourAtMonthStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		h23 := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)
		st.SetSetting(ctx, "metering.sealed_through", h23.Add(-time.Hour).Format(time.RFC3339))
		w.clk.set(h23.Add(40 * time.Minute))
		if r := w.ingest(metering.Event{ID: "on-time", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 10, Timestamp: h23.Add(30 * time.Minute)}); r[0].Status != "accepted" {
			t.Fatalf("on time: %+v", r[0])
		}
		w.clk.set(time.Date(2026, 7, 1, 0, 20, 0, 0, time.UTC))
		if _, err := w.m.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		late := w.ingest(metering.Event{ID: "late", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 4, Timestamp: h23.Add(50 * time.Minute)})
		h0 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
		if late[0].Status != "accepted" || !late[0].Late || !late[0].Hour.Equal(h0) {
			t.Fatalf("late June usage at 00:20: %+v", late[0])
		}
		w.clk.set(time.Date(2026, 7, 1, 1, 20, 0, 0, time.UTC))
		if _, err := w.m.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.m.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		billed := map[time.Time]int32{}
		for _, r := range w.aws.Metered() {
			if r.Key == legacyKey && r.Dimension == "api_calls" {
				billed[r.Hour.UTC()] = r.Quantity
			}
		}
		if billed[h23] != 10 || billed[h0] != 4 {
			t.Fatalf("AWS billed %v; want 10 for 30 June 23:00 and 4 for 1 July 00:00", billed)
		}
		w.clk.set(time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC))
		closed := w.ingest(metering.Event{ID: "too-late", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 1, Timestamp: h23.Add(55 * time.Minute)})
		if closed[0].Status != "rejected" || closed[0].Code != metering.CodeMonthClosed {
			t.Fatalf("June usage at 06:00: %+v", closed[0])
		}
	})
}
