package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestSeededUsageHistory: the demo's usage history is what the meter would
// have made: one record per metered dimension and finished hour, holding
// that hour's usage; AWS is sent every hour, zeros too; Microsoft is never
// sent a zero (its zero hours stay here as not_sent_zero). The real meter
// then carries on from the latest finished hour without a gap or a clash.
func TestSeededUsageHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 12, 20, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		if _, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Subscriptions: 120, Customers: 30, Now: now, UsageHistory: true}); err != nil {
			t.Fatal(err)
		}
		db := st.TestingReadDB(t)
		var recs []store.MeteringRecord
		db.Order("subscription_id, dimension, hour").Find(&recs)
		type usageRow struct {
			SubscriptionID uint
			Dimension      string
			Hour           time.Time
			Quantity       float64
		}
		var rows []usageRow
		db.Table("usage_hours").Select("subscription_id, dimension, hour, quantity").Find(&rows)
		if len(recs) == 0 || len(rows) == 0 {
			t.Fatalf("no usage history: %d records, %d hours", len(recs), len(rows))
		}
		used := map[string]float64{}
		for _, r := range rows {
			used[fmt.Sprint(r.SubscriptionID, r.Dimension, r.Hour.Unix())] = r.Quantity
		}
		// Every hour that has a record is a sealed usage hour, an idle one
		// too: otherwise usage arriving later for it would be accepted into
		// that hour, and its record could never be sealed and sent (the
		// hour already has one): billed never.
		var unsealed int64
		db.Table("metering_records AS r").Where("NOT EXISTS (SELECT 1 FROM usage_hours h WHERE h.subscription_id = r.subscription_id " +
			"AND h.dimension = r.dimension AND h.hour = r.hour AND h.sealed)").Count(&unsealed)
		if unsealed != 0 {
			t.Fatalf("%d seeded records whose hour is not sealed", unsealed)
		}
		last := now.Truncate(time.Hour).Add(-8 * time.Hour)
		subs := map[uint]bool{}
		markets := map[string]int{}
		for _, r := range recs {
			subs[r.SubscriptionID] = true
			markets[r.Marketplace+"/"+r.Status]++
			if r.Quantity != used[fmt.Sprint(r.SubscriptionID, r.Dimension, r.Hour.Unix())] || r.Hour.After(last) {
				t.Fatalf("record %+v does not hold its hour's usage", r)
			}
			switch {
			case r.Marketplace == "azure" && r.Quantity == 0:
				if r.Status != store.RecordNotSentZero || r.SentAt != nil {
					t.Fatalf("a zero hour sent to Microsoft: %+v", r)
				}
			case r.Status != store.RecordAccepted || r.MarketplaceRecordID == "":
				t.Fatalf("record %+v", r)
			case r.Marketplace == "aws" && r.AWSProductCode == "":
				t.Fatalf("AWS record without its product: %+v", r)
			}
		}
		if len(subs) == 0 || len(subs) > 40 || markets["aws/accepted"] == 0 || markets["azure/accepted"] == 0 || markets["azure/not_sent_zero"] == 0 {
			t.Fatalf("history of %d subscriptions: %v", len(subs), markets)
		}
		// The meter seals the latest finished hour next, after the history's
		// open gap: no clash.
		now = now.Add(10 * time.Minute)
		m := &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Owner: "test"}
		if _, err := m.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		var next int64
		db.Model(&store.MeteringRecord{}).Where("hour = ?", now.Truncate(time.Hour).Add(-time.Hour)).Count(&next)
		if next == 0 {
			t.Fatal("the meter did not seal the latest finished hour")
		}
	})
}
