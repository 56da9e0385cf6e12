package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// BenchmarkMeteringHealthAfterAWeek is one observation of metering (what
// the observer does every 30 s, and the metering page's health every
// 15 s): the health's counts and the records of the last 7 days by
// status, with a week of records kept, 6,000 an hour (10,000 subscriptions
// with a metered dimension or two, settled within the hour after theirs).
// What it costs must not grow with the records kept. Beside it, the
// metering page's records list (a page and its total) as it opens and as
// its failed card opens it.
func BenchmarkMeteringHealthAfterAWeek(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			now := time.Now().UTC()
			sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
			db := st.TestingDB(b)
			if err := db.Create(&sub).Error; err != nil {
				b.Fatal(err)
			}
			const perHour = 6000
			for h := 0; h < 7*24; h++ {
				hour := now.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour)
				rows := "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) SELECT i FROM g"
				if d == store.Postgres {
					rows = "SELECT generate_series(1, ?) AS i"
				}
				// Most accepted; one in 50 rejected, one in 97 expired.
				if err := db.Exec(`INSERT INTO metering_records (subscription_id, marketplace, dimension, hour, quantity, status, settled_at, created_at, updated_at)
					SELECT ?, 'aws', 'd' || CAST(i AS varchar(12)), ?, 1, CASE WHEN i % 50 = 0 THEN 'rejected' WHEN i % 97 = 0 THEN 'expired' ELSE 'accepted' END, ?, ?, ?
					FROM (`+rows+`) s`, sub.ID, hour, hour.Add(70*time.Minute), hour, hour, perHour).Error; err != nil {
					b.Fatal(err)
				}
			}
			if _, err := st.FoldMeteringRecordCounts(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := db.Exec("ANALYZE").Error; err != nil {
				b.Fatal(err)
			}
			r := st.Reads(context.Background())
			b.Run("observation", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					h, err := r.MeteringHealth(store.RecordDeadline{WindowEnd: now.Add(-20 * time.Hour)}, now.Add(-24*time.Hour), now.Add(-7*24*time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					by, err := r.MeteringRecordsByStatus(now.Add(-7 * 24 * time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						b.Logf("%s: accepted in the last 24 hours %d, failed %d; the last 7 days by status %v", d, h.Accepted, h.Failed, fmt.Sprint(by))
					}
				}
			})
			// The metering page's records as it opens, and as the failed
			// card opens them: a page of 50 and the total.
			for _, f := range []store.RecordFilter{{Limit: 50}, {Limit: 50, Statuses: []string{store.RecordRejected, store.RecordDuplicate, store.RecordConflict}}} {
				name := "records_list"
				if len(f.Statuses) > 0 {
					name += "_failed"
				}
				b.Run(name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						page, err := st.ListRecords(context.Background(), f)
						if err != nil || len(page.Items) != 50 {
							b.Fatal(len(page.Items), err)
						}
						if i == 0 {
							b.Logf("%s: %s total %d", d, name, page.Total)
						}
					}
				})
			}
		})
	}
}
