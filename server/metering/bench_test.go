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

func benchIngest(b *testing.B, batch int) {
	st := storetest.Open(b, store.SQLite)
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
