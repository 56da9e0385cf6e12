package metering

import (
	"testing"
	"time"
	_ "time/tzdata" // the clock locations below, whatever the machine has

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A record's deadline is one rule: AWS takes a Timestamp "up to 24 hours in
// the past" (R3) and usage of the previous month "only until 06:00 UTC on the
// 1st" ("a record for 31 March 23:00 can be sent until 1 April 05:59:59
// UTC", R4); Microsoft an effectiveStartTime "within the past 24 h" (M2).
// The SQL form used by expiry, retry and the expiry warning selects, on both
// databases, exactly the records whose sendDeadline has come, for times
// around a month end given in UTC and in clocks' own locations.
func TestDeadlineSQLIsSendDeadline(t *testing.T) {
	cases := []struct {
		mp   string
		hour time.Time
		want time.Time
	}{
		{"aws", time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC)},
		{"aws", time.Date(2026, 3, 31, 5, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 5, 0, 0, 0, time.UTC)},
		{"aws", time.Date(2026, 3, 31, 6, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC)},
		{"aws", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)},
		{"aws", time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC)},
		{"azure", time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 23, 0, 0, 0, time.UTC)},
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, c := range cases {
		// The same instant in Tokyo (already 1 April 08:00 for 31 March 23:00 UTC) has the same deadline.
		if got := sendDeadline(c.mp, c.hour.In(tokyo)); !got.Equal(c.want) {
			t.Errorf("sendDeadline(%s, %s) = %s, want %s", c.mp, c.hour, got, c.want)
		}
	}

	storetest.Each(t, func(t *testing.T, st *store.Store) {
		start := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
		sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: start, Version: 1, CreatedAt: start, UpdatedAt: start}
		if err := st.TestingDB(t).Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		var recs []store.MeteringRecord
		for h := 0; h < 72; h++ {
			for _, mp := range []string{"aws", "azure"} {
				recs = append(recs, store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: mp, Dimension: mp, Hour: start.Add(time.Duration(h) * time.Hour),
					Quantity: 1, Status: store.RecordPending, CreatedAt: start, UpdatedAt: start})
			}
		}
		if err := st.TestingDB(t).CreateInBatches(&recs, 100).Error; err != nil {
			t.Fatal(err)
		}
		locs := []*time.Location{time.UTC, tokyo}
		if la, err := time.LoadLocation("America/Los_Angeles"); err == nil {
			locs = append(locs, la)
		}
		for at := start.Add(20 * time.Hour); at.Before(start.Add(72 * time.Hour)); at = at.Add(20 * time.Minute) {
			for _, loc := range locs {
				now := at.In(loc)
				check := func(what, cond string, args []any, want func(r store.MeteringRecord) bool) {
					var ids []uint
					if err := st.TestingReadDB(t).Model(&store.MeteringRecord{}).Where(cond, args...).Order("id").Pluck("id", &ids).Error; err != nil {
						t.Fatal(err)
					}
					got := map[uint]bool{}
					for _, id := range ids {
						got[id] = true
					}
					for _, r := range recs {
						if got[r.ID] != want(r) {
							t.Fatalf("%s at %s: record %s %s selected %v, sendDeadline %s", what, now, r.Marketplace, r.Hour.Format(time.RFC3339),
								got[r.ID], sendDeadline(r.Marketplace, r.Hour).Format(time.RFC3339))
						}
					}
				}
				cond, args := deadlineBy(now)
				check("deadline passed", cond, args, func(r store.MeteringRecord) bool { return !now.Before(sendDeadline(r.Marketplace, r.Hour)) })
				cond, args = ExpiringBy(now)
				check("expiring", cond, args, func(r store.MeteringRecord) bool {
					return Expiring(r.Marketplace, r.Hour, now) && !now.Add(ExpiryWarning).Before(sendDeadline(r.Marketplace, r.Hour))
				})
			}
		}
	})
}
