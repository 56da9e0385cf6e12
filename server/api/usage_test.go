package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// usageReport is GET /api/subscriptions/:id/usage as a client reads it.
type usageReport struct {
	SubscriptionID uint      `json:"subscription_id"`
	Granularity    string    `json:"granularity"`
	From           time.Time `json:"from"`
	To             time.Time `json:"to"`
	Metered        bool      `json:"metered"`
	Dimensions     []struct {
		Key, Name, Unit string
		Metered         bool
		Total           usageAmounts
		Buckets         []struct {
			At time.Time `json:"at"`
			usageAmounts
		}
	} `json:"dimensions"`
}

type usageAmounts struct {
	Used, Sent, Accepted float64
	Statuses             []struct {
		Status   string
		Records  int64
		Quantity float64
	}
}

// byStatus is the quantity per record status.
func (a usageAmounts) byStatus() map[string]float64 {
	out := map[string]float64{}
	for _, s := range a.Statuses {
		out[s.Status] += s.Quantity
	}
	return out
}

// TestSubscriptionUsageReport: the usage report over HTTP, on SQLite and
// Postgres: every hour of the period is there (idle ones at zero), hours
// and days add up to the same figures, the CSV holds the same numbers, and
// a customer admin reaches only their organisation's subscriptions.
func TestSubscriptionUsageReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 6, 1, 0, 20, 0, 0, time.UTC)
		st.Now = func() time.Time { return clock }
		m := &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Owner: "test"}
		e := newEnvWith(t, st, func(d *api.Deps) { d.Meter, d.Now = m, st.Now })
		then := clock.Add(-72 * time.Hour)
		offer := store.Offer{Marketplace: "aws", Name: "Analytics", MarketplaceID: "prod-analytics", IdentityModel: "legacy", CreatedAt: then, UpdatedAt: then,
			Plans: []store.Plan{
				{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"call"},{"key":"storage_gb","name":"Storage","unit":"GB-hour"}]`,
					ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then},
				{PlanID: "flat", Name: "Flat", Dimensions: `[]`, ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
		st.TestingDB(t).Create(&offer)
		custs := []store.Customer{{Name: "Contoso", CreatedAt: then, UpdatedAt: then}, {Name: "Fabrikam", CreatedAt: then, UpdatedAt: then}}
		st.TestingDB(t).Create(&custs)
		mk := func(c store.Customer, ident string, plan int) store.Subscription {
			s := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: then, CustomerID: &c.ID, OfferID: &offer.ID, PlanID: &offer.Plans[plan].ID,
				AWSCustomerIdentifier: ident, AWSProductCode: "prod-analytics", Version: 1, CreatedAt: then, UpdatedAt: then}
			st.TestingDB(t).Create(&s)
			return s
		}
		mine, theirs, flat := mk(custs[0], "XCONTOSO", 0), mk(custs[1], "XFABRIKAM", 0), mk(custs[0], "XFLAT", 1)
		n := 0
		use := func(sub store.Subscription, dim string, q float64) {
			t.Helper()
			n++
			res, err := m.Ingest(ctx, nil, "test", []metering.Event{{ID: fmt.Sprintf("e%d", n), Subscription: strconv.FormatUint(uint64(sub.ID), 10),
				Dimension: dim, Quantity: q, Timestamp: clock}})
			if err != nil || res[0].Status != store.UsageAccepted {
				t.Fatalf("ingest: %v %+v", err, res)
			}
		}
		seal := func() {
			t.Helper()
			if _, err := m.Seal(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 00:00 holds 5 calls; 01:00 2 calls and 3 GB-hours; 02:00 is
		// idle; Fabrikam used 100 calls. The day after at 09:20, 4 calls
		// in the current hour (not sealed yet: no record).
		use(mine, "api_calls", 5)
		use(theirs, "api_calls", 100)
		clock = clock.Add(time.Hour)
		seal()
		use(mine, "api_calls", 2)
		use(mine, "storage_gb", 3)
		clock = clock.Add(2 * time.Hour)
		seal()
		clock = time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)
		use(mine, "api_calls", 4)
		// AWS accepted hour 00 and rejected hour 01.
		db := st.TestingDB(t)
		db.Model(&store.MeteringRecord{}).Where("subscription_id = ? AND dimension = ? AND hour = ?", mine.ID, "api_calls", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).
			Updates(map[string]any{"status": store.RecordAccepted})
		db.Model(&store.MeteringRecord{}).Where("subscription_id = ? AND dimension = ? AND hour = ?", mine.ID, "api_calls", time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)).
			Updates(map[string]any{"status": store.RecordRejected})

		e.user("op@example.com", store.RoleOperator, nil)
		op := e.login("op@example.com")
		url := func(id uint, q string) string { return fmt.Sprintf("/api/subscriptions/%d/usage%s", id, q) }
		var hourly, daily usageReport
		op.get(url(mine.ID, "")).json(t, &hourly)
		june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		if hourly.Granularity != "hour" || !hourly.From.Equal(june) || !hourly.To.Equal(june.AddDate(0, 1, 0)) || !hourly.Metered || len(hourly.Dimensions) != 2 {
			t.Fatalf("default period: %+v", hourly)
		}
		calls, storage := hourly.Dimensions[0], hourly.Dimensions[1]
		if calls.Key != "api_calls" || calls.Name != "API calls" || calls.Unit != "call" || storage.Key != "storage_gb" || storage.Unit != "GB-hour" {
			t.Fatalf("dimensions: %+v / %+v", calls, storage)
		}
		// Every hour from June 1st 00:00 up to the current one (June 2nd 09:00).
		if len(calls.Buckets) != 34 || len(storage.Buckets) != 34 {
			t.Fatalf("buckets: %d, %d", len(calls.Buckets), len(storage.Buckets))
		}
		for i, b := range calls.Buckets {
			if !b.At.Equal(june.Add(time.Duration(i) * time.Hour)) {
				t.Fatalf("bucket %d at %s", i, b.At)
			}
		}
		b0, b1, b2, last := calls.Buckets[0], calls.Buckets[1], calls.Buckets[2], calls.Buckets[33]
		if b0.Used != 5 || b0.Sent != 5 || b0.Accepted != 5 || b0.byStatus()["accepted"] != 5 ||
			b1.Used != 2 || b1.Sent != 2 || b1.Accepted != 0 || b1.byStatus()["rejected"] != 2 ||
			b2.Used != 0 || b2.Sent != 0 || len(b2.Statuses) != 1 || b2.Statuses[0].Status != "pending" || b2.Statuses[0].Records != 1 ||
			calls.Buckets[10].Used != 0 || len(calls.Buckets[10].Statuses) != 0 ||
			last.Used != 4 || last.Sent != 0 || len(last.Statuses) != 0 {
			t.Fatalf("hours: %+v %+v %+v %+v", b0, b1, b2, last)
		}
		if calls.Total.Used != 11 || calls.Total.Sent != 7 || calls.Total.Accepted != 5 || storage.Total.Used != 3 || storage.Buckets[1].byStatus()["pending"] != 3 {
			t.Fatalf("totals: %+v / %+v", calls.Total, storage.Total)
		}

		// Days add up to the hours.
		op.get(url(mine.ID, "?granularity=day")).json(t, &daily)
		if daily.Granularity != "day" || len(daily.Dimensions) != 2 || len(daily.Dimensions[0].Buckets) != 2 {
			t.Fatalf("daily: %+v", daily)
		}
		for d := range hourly.Dimensions {
			hd, dd := hourly.Dimensions[d], daily.Dimensions[d]
			for day, db := range dd.Buckets {
				var sum usageAmounts
				by := map[string]float64{}
				for _, hb := range hd.Buckets {
					if hb.At.Truncate(24 * time.Hour).Equal(db.At) {
						sum.Used, sum.Sent, sum.Accepted = sum.Used+hb.Used, sum.Sent+hb.Sent, sum.Accepted+hb.Accepted
						for k, v := range hb.byStatus() {
							by[k] += v
						}
					}
				}
				if !db.At.Equal(june.AddDate(0, 0, day)) || db.Used != sum.Used || db.Sent != sum.Sent || db.Accepted != sum.Accepted || fmt.Sprint(db.byStatus()) != fmt.Sprint(by) {
					t.Fatalf("%s day %d: %+v, hours add up to %+v %v", hd.Key, day, db, sum, by)
				}
			}
			if dd.Total.Used != hd.Total.Used || fmt.Sprint(dd.Total.byStatus()) != fmt.Sprint(hd.Total.byStatus()) {
				t.Fatalf("%s totals: %+v vs %+v", hd.Key, dd.Total, hd.Total)
			}
		}

		// A chosen period, widened to whole buckets; a past month is all there, at zero.
		var part usageReport
		op.get(url(mine.ID, "?from=2026-06-01T00:30:00Z&to=2026-06-01T02:10:00Z")).json(t, &part)
		if len(part.Dimensions[0].Buckets) != 3 || part.Dimensions[0].Total.Used != 7 || !part.To.Equal(june.Add(3*time.Hour)) {
			t.Fatalf("part: %+v", part)
		}
		var may usageReport
		op.get(url(mine.ID, "?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z")).json(t, &may)
		if len(may.Dimensions[0].Buckets) != 31*24 || may.Dimensions[0].Total.Used != 0 {
			t.Fatalf("may: %d buckets, %+v", len(may.Dimensions[0].Buckets), may.Dimensions[0].Total)
		}
		for _, q := range []string{"?granularity=week", "?from=yesterday", "?format=xml",
			"?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z"} {
			op.get(url(mine.ID, q)).errCode(t, 400, "invalid_input")
		}
		op.get(url(mine.ID, "?from=2026-05-01T00:00:00Z&to=2026-06-01T01:00:00Z")).errCode(t, 400, "period_too_long")
		op.get(url(mine.ID, "?granularity=day&from=2025-05-01T00:00:00Z&to=2026-06-06T00:00:00Z")).errCode(t, 400, "period_too_long")
		var long usageReport
		op.get(url(mine.ID, "?granularity=day&from=2025-05-01T00:00:00Z&to=2026-06-05T00:00:00Z")).json(t, &long)
		if long.Dimensions[0].Total.Used != 11 {
			t.Fatalf("400 days: %+v", long.Dimensions[0].Total)
		}
		op.get(url(99999, "")).errCode(t, 404, "not_found")

		// A plan that meters nothing: said so, no dimensions.
		var none usageReport
		op.get(url(flat.ID, "")).json(t, &none)
		if none.Metered || len(none.Dimensions) != 0 {
			t.Fatalf("flat plan: %+v", none)
		}

		// The CSV holds the same numbers.
		checkUsageCSV(t, op.get(url(mine.ID, "?format=csv")), hourly)
		checkUsageCSV(t, op.get(url(mine.ID, "?granularity=day&format=csv")), daily)

		// A customer admin sees their own subscription, the same, and
		// nothing of another organisation's, in JSON or CSV.
		e.user("it@contoso.example", store.RoleCustomerAdmin, &custs[0].ID)
		ca := e.login("it@contoso.example")
		var own usageReport
		ca.get(url(mine.ID, "")).json(t, &own)
		if own.Dimensions[0].Total.Used != 11 || len(own.Dimensions[0].Buckets) != 34 {
			t.Fatalf("customer admin's own: %+v", own.Dimensions[0].Total)
		}
		checkUsageCSV(t, ca.get(url(mine.ID, "?granularity=day&format=csv")), daily)
		for _, q := range []string{"", "?granularity=day", "?format=csv", "?granularity=day&format=csv"} {
			r := ca.get(url(theirs.ID, q))
			r.errCode(t, 404, "not_found")
			if strings.Contains(string(r.body), "api_calls") {
				t.Fatalf("another customer's usage leaked: %s", r.body)
			}
		}
		// The seller sees Fabrikam's.
		var fab usageReport
		op.get(url(theirs.ID, "")).json(t, &fab)
		if fab.Dimensions[0].Total.Used != 100 {
			t.Fatalf("fabrikam: %+v", fab.Dimensions[0].Total)
		}
	})
}

// checkUsageCSV checks a CSV export against the JSON report of the same selection.
func checkUsageCSV(t *testing.T, r resp, want usageReport) {
	t.Helper()
	if r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/csv") || !strings.Contains(r.hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", r.code, r.hdr)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	i := 1
	for _, d := range want.Dimensions {
		for _, b := range d.Buckets {
			row := rows[i]
			i++
			num := func(name string) float64 {
				f, err := strconv.ParseFloat(row[col[name]], 64)
				if err != nil {
					t.Fatalf("row %v column %s: %v", row, name, err)
				}
				return f
			}
			if row[col["dimension"]] != d.Key || row[col["unit"]] != d.Unit || row[col["granularity"]] != want.Granularity ||
				row[col["start_utc"]] != b.At.UTC().Format(time.RFC3339) || num("used") != b.Used || num("sent") != b.Sent || num("accepted") != b.Accepted {
				t.Fatalf("csv row %v, want %s %+v", row, d.Key, b)
			}
			for _, st := range store.RecordStatuses {
				if num("records_"+st) != b.byStatus()[st] {
					t.Fatalf("csv row %v: %s", row, st)
				}
			}
		}
	}
	if i != len(rows) {
		t.Fatalf("csv has %d rows, want %d", len(rows), i)
	}
}
