package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Issue 15, findings 4 and 9: everything an anonymous visitor creates has a
// retention period. E-mail verification links (their data holds the chosen
// password's hash) go at the hourly sweep once used or expired, even when
// nobody starts another onboarding.
func TestPurgeRemovesUsedAndExpiredEmailVerifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		ctx := context.Background()
		used := now.Add(-time.Minute)
		for _, v := range []store.EmailVerification{
			{TokenHash: store.HashToken("live"), Email: "live@example.com", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: store.HashToken("expired"), Email: "expired@example.com", ExpiresAt: now.Add(-time.Second)},
			{TokenHash: store.HashToken("used"), Email: "used@example.com", ExpiresAt: now.Add(time.Hour), UsedAt: &used},
		} {
			v.Purpose, v.Data, v.CreatedAt = "aws_onboarding", `{"password_hash":"x"}`, now.Add(-time.Hour)
			if err := st.TestingDB(t).Create(&v).Error; err != nil {
				t.Fatal(err)
			}
		}
		p, err := st.Purge(ctx, store.DefaultRetention)
		if err != nil {
			t.Fatal(err)
		}
		var left []store.EmailVerification
		if err := st.TestingDB(t).Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		if p.EmailVerifications != 2 || len(left) != 1 || left[0].Email != "live@example.com" {
			t.Fatalf("purged %d, left %+v; want the used and the expired link gone, the live one kept", p.EmailVerifications, left)
		}
	})
}

// Sealing stores a usage hour for every metered dimension of every active
// subscription every hour, empty or not: 4.8 million rows a day at 100,000
// subscriptions × 2 dimensions. The hourly sweep deletes those sealed with
// nothing in them once a week old, hour by hour from where it stopped,
// at most 72 hours a sweep and 5,000 rows a statement; it keeps every
// hour with usage (usage reports read them), every hour not sealed, and
// every hour of the last week.
func TestPurgeEmptyUsageHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		ctx := context.Background()
		cur := now.Truncate(time.Hour)
		type row struct {
			sub            uint
			dim            string
			hour           time.Time
			quantity       float64
			events         int
			sealed, purged bool
		}
		rows := []row{
			{1, "a", cur.Add(-20 * 24 * time.Hour), 0, 0, true, true}, // alone in the first sweep's 72 hours
			{7000, "a", cur.Add(-10 * 24 * time.Hour), 5, 2, true, false},
			{1, "a", cur.Add(-8 * 24 * time.Hour), 0, 0, true, true},
			{2, "a", cur.Add(-8 * 24 * time.Hour), 1, 1, false, false},
			{1, "a", cur.Add(-6 * 24 * time.Hour), 0, 0, true, false},
			{1, "b", cur.Add(-time.Hour), 0, 0, true, false},
		}
		for s := uint(1); s <= 6000; s++ { // an hour of 12,000 empty ones: three statements
			for _, d := range []string{"a", "b"} {
				rows = append(rows, row{s, d, cur.Add(-10 * 24 * time.Hour), 0, 0, true, true})
			}
		}
		vals := make([]map[string]any, len(rows))
		for i, r := range rows {
			vals[i] = map[string]any{"subscription_id": r.sub, "dimension": r.dim, "hour": r.hour, "quantity": r.quantity, "events": r.events, "sealed": r.sealed, "updated_at": r.hour}
		}
		if err := st.TestingDB(t).Table("usage_hours").CreateInBatches(vals, 500).Error; err != nil {
			t.Fatal(err)
		}
		p, err := st.Purge(ctx, store.DefaultRetention)
		if err != nil {
			t.Fatal(err)
		}
		if p.EmptyUsageHours != 1 {
			t.Fatalf("first sweep deleted %d, want the one empty hour of its 72", p.EmptyUsageHours)
		}
		total := p.EmptyUsageHours
		for i := 0; i < 5; i++ {
			if p, err = st.Purge(ctx, store.DefaultRetention); err != nil {
				t.Fatal(err)
			}
			total += p.EmptyUsageHours
		}
		if total != 12002 || p.EmptyUsageHours != 0 {
			t.Fatalf("deleted %d in six sweeps (the last %d), want 12,002 and nothing in the last", total, p.EmptyUsageHours)
		}
		var left []struct {
			SubscriptionID uint
			Dimension      string
			Hour           time.Time
		}
		if err := st.TestingReadDB(t).Table("usage_hours").Order("hour, subscription_id, dimension").Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range rows {
			if !r.purged {
				want = append(want, fmt.Sprintf("%d %s %s", r.sub, r.dim, r.hour.Format(time.RFC3339)))
			}
		}
		var got []string
		for _, l := range left {
			got = append(got, fmt.Sprintf("%d %s %s", l.SubscriptionID, l.Dimension, l.Hour.UTC().Format(time.RFC3339)))
		}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Fatalf("kept\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
