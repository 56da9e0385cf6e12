package metering_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// BenchmarkIngest measures the metering engine alone (no HTTP): batches of
// 1,000 usage events for 1,000 subscriptions on SQLite.
func BenchmarkIngest(b *testing.B) { benchIngest(b, 1000) }

// BenchmarkIngestSmall: groups of 8 events, as concurrent single-event
// requests make them (the writer takes whatever requests are queued).
func BenchmarkIngestSmall(b *testing.B) { benchIngest(b, 8) }

// BenchmarkIngestAfterAMonth: batches of 1,000 as BenchmarkIngest, with a
// month of hours kept for every subscription (sealing stores each hour of
// each metered dimension, empty or not: 720 rows a series), on SQLite and,
// with MARKETGATE_TEST_POSTGRES_URL, on Postgres.
func BenchmarkIngestAfterAMonth(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d, func(b *testing.B) { benchIngestOn(b, d, 1000, 30*24) })
	}
}

func benchIngest(b *testing.B, batch int) { benchIngestOn(b, store.SQLite, batch, 0) }

// benchIngestOn ingests batches for 1,000 subscriptions of one metered
// dimension, each with hours sealed hours kept before the current one.
func benchIngestOn(b *testing.B, dialect string, batch, hours int) {
	st := storetest.Open(b, dialect)
	ctx := context.Background()
	then := time.Now().UTC().Add(-48 * time.Hour)
	o := store.Offer{Marketplace: "aws", Name: "Bench", MarketplaceID: "p", IdentityModel: "legacy", CreatedAt: then, UpdatedAt: then,
		Plans: []store.Plan{{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls"}]`, ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
	st.TestingDB(b).Create(&o)
	subs := make([]store.Subscription, 1000)
	for i := range subs {
		subs[i] = store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: then, OfferID: &o.ID, PlanID: &o.Plans[0].ID,
			AWSCustomerIdentifier: fmt.Sprintf("C%04d", i), AWSProductCode: "p", Version: 1, CreatedAt: then, UpdatedAt: then}
	}
	st.TestingDB(b).CreateInBatches(subs, 500)
	cur := time.Now().UTC().Truncate(time.Hour)
	for h := 1; h <= hours; h++ {
		rows := make([]map[string]any, len(subs))
		for i := range subs {
			rows[i] = map[string]any{"subscription_id": subs[i].ID, "dimension": "api_calls", "hour": cur.Add(-time.Duration(h) * time.Hour),
				"quantity": 0.0, "events": 0, "sealed": true, "updated_at": cur}
		}
		if err := st.TestingDB(b).Table("usage_hours").CreateInBatches(rows, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
	m := &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	now := time.Now().UTC()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		evs := make([]metering.Event, batch)
		for i := range evs {
			evs[i] = metering.Event{ID: fmt.Sprintf("b%d-%d", n, i), Customer: fmt.Sprintf("C%04d", (n*batch+i)%1000), Dimension: "api_calls", Quantity: 1, Timestamp: now}
		}
		if _, err := m.Ingest(ctx, nil, "api", evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
