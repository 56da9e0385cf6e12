package metering_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// world is Marketgate's metering against both simulated marketplaces, with
// the real AWS SDK client and the real Microsoft client, on one clock.
type world struct {
	t     *testing.T
	st    *store.Store
	m     *metering.Meter
	clk   *clock
	aws   *awsfake.Metering
	ms    *azurefake.Marketplace
	legA  store.Subscription // AWS legacy, active
	caB   store.Subscription // AWS concurrent agreements, active
	msC   store.Subscription // Microsoft, active
	ended store.Subscription // AWS legacy, ended
}

var (
	legacyID = awsfake.Identity{CustomerIdentifier: "XLEGACY", ProductCode: "prod-legacy"}
	caID     = awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-1", ProductCode: "prod-ca"}
)

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	w := &world{t: t, st: st, clk: &clock{t: time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)}}
	st.Now = w.clk.now
	ctx := context.Background()
	w.aws = awsfake.NewMetering(w.clk.now)
	asrv := httptest.NewServer(w.aws)
	t.Cleanup(asrv.Close)
	ac, err := awsmp.New(ctx, awsmp.Config{MeteringEndpoint: asrv.URL, StaticKeys: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	esrv := httptest.NewUnstartedServer(nil)
	esrv.StartTLS()
	t.Cleanup(esrv.Close)
	entra := azurefake.NewEntra(esrv.URL, nil)
	entra.RegisterApp("tenant", "client", "secret")
	esrv.Config.Handler = entra
	msrv := httptest.NewServer(nil)
	t.Cleanup(msrv.Close)
	w.ms = azurefake.NewMarketplace(azurefake.Options{Now: w.clk.now, Base: msrv.URL, Entra: entra,
		Offers: []azurefake.Offer{{OfferID: "saas", Plans: []azurefake.Plan{{PlanID: "silver", Dimensions: []string{"api_calls"}}}}}})
	msrv.Config.Handler = w.ms
	mc, err := azuremp.New(azuremp.Config{TenantID: "tenant", ClientID: "client", ClientSecret: "secret", APIURL: msrv.URL,
		LoginURL: esrv.URL, TokenHTTP: esrv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	w.m = &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AWS: ac, Azure: mc, Owner: "test"}

	// The catalog and four subscriptions.
	now := w.clk.now().Add(-48 * time.Hour)
	dims := `[{"key":"api_calls","name":"API calls","unit":"call"},{"key":"storage_gb","name":"Storage","unit":"GB"}]`
	mk := func(mp, name, code, ident string, plan string, planDims string) (store.Offer, store.Plan) {
		o := store.Offer{Marketplace: mp, Name: name, MarketplaceID: code, IdentityModel: ident, CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&o).Error; err != nil {
			t.Fatal(err)
		}
		p := store.Plan{OfferID: o.ID, PlanID: plan, Name: plan, Dimensions: planDims, ActivationPolicy: store.ActivateAutomatic, CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		return o, p
	}
	lo, lp := mk("aws", "Legacy", "prod-legacy", "legacy", "standard", dims)
	co, cp := mk("aws", "CA", "prod-ca", "concurrent_agreements", "standard", dims)
	mo, mp := mk("azure", "SaaS", "saas", "", "silver", `[{"key":"api_calls","name":"API calls","unit":"call"}]`)
	sub := func(o store.Offer, p store.Plan, state string, f func(*store.Subscription)) store.Subscription {
		s := store.Subscription{Marketplace: o.Marketplace, State: state, StateChangedAt: now, OfferID: &o.ID, PlanID: &p.ID, Version: 1,
			CreatedAt: now, UpdatedAt: now}
		f(&s)
		if err := st.TestingDB(t).Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.legA = sub(lo, lp, "active", func(s *store.Subscription) {
		s.AWSCustomerIdentifier, s.AWSProductCode = legacyID.CustomerIdentifier, legacyID.ProductCode
	})
	w.caB = sub(co, cp, "active", func(s *store.Subscription) {
		s.AWSCustomerAccountID, s.AWSLicenseArn, s.AWSProductCode = caID.CustomerAWSAccountID, caID.LicenseArn, caID.ProductCode
	})
	w.ended = sub(lo, lp, "ended", func(s *store.Subscription) { s.AWSCustomerIdentifier, s.AWSProductCode = "XENDED", "prod-legacy" })
	w.aws.Subscribe(legacyID)
	w.aws.Subscribe(caID)
	buyer := azurefake.Party{EmailID: "it@contoso.example", ObjectID: "o1", TenantID: "t1"}
	msID, _, err := w.ms.Purchase("saas", "silver", 0, buyer, buyer, "Contoso")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ms.SetStatusSilently(msID, "Subscribed"); err != nil {
		t.Fatal(err)
	}
	w.msC = sub(mo, mp, "active", func(s *store.Subscription) { s.AzureSubscriptionID = msID })
	return w
}

func (w *world) ingest(evs ...metering.Event) []metering.Result {
	w.t.Helper()
	res, err := w.m.Ingest(context.Background(), nil, "api", evs)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func (w *world) records(where string, args ...any) []store.MeteringRecord {
	var recs []store.MeteringRecord
	q := w.st.TestingReadDB(w.t).Order("hour, subscription_id, dimension")
	if where != "" {
		q = q.Where(where, args...)
	}
	q.Find(&recs)
	return recs
}

func TestIngestResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		now := w.clk.now()
		ev := func(id, customer, dim string, q float64, at time.Time) metering.Event {
			return metering.Event{ID: id, Customer: customer, Dimension: dim, Quantity: q, Timestamp: at}
		}
		res := w.ingest(
			ev("e1", "XLEGACY", "api_calls", 10, now.Add(-time.Minute)),
			ev("e2", "nobody", "api_calls", 1, now),
			ev("e3", "XLEGACY", "gpu_hours", 1, now),
			ev("e4", "XENDED", "api_calls", 1, now),
			ev("e5", "XLEGACY", "api_calls", 0, now),
			ev("e6", "XLEGACY", "api_calls", 1, now.Add(time.Hour)),
			ev("e7", "XLEGACY", "api_calls", 1, now.Add(-25*time.Hour)),
			ev("e8", "XLEGACY", "api_calls", 1.5, now),
			ev("e1", "XLEGACY", "api_calls", 10, now.Add(-time.Minute)), // a repeat within the batch
			ev("e9", "9999", "api_calls", 2.5, now),
			ev("", "XLEGACY", "api_calls", 1, now),
		)
		want := []struct{ status, reason string }{
			{"accepted", ""}, {"rejected", "unknown customer"}, {"rejected", "not metered"}, {"rejected", "not active"},
			{"rejected", "positive"}, {"rejected", "future"}, {"rejected", "older than the open window"}, {"rejected", "whole numbers"},
			{"duplicate", ""}, {"rejected", "unknown customer"}, {"rejected", "id is required"},
		}
		for i, wnt := range want {
			if res[i].Status != wnt.status || !contains(res[i].Reason, wnt.reason) {
				t.Errorf("event %d (%s): %+v, want %s %q", i, res[i].ID, res[i], wnt.status, wnt.reason)
			}
		}
		// The repeat within the batch gets the first one's answer.
		if r := res[8]; r.OriginalStatus != "accepted" || r.Hour == nil || res[0].Hour == nil || !r.Hour.Equal(*res[0].Hour) || r.SubscriptionID == nil {
			t.Errorf("the repeat within the batch: %+v, the first: %+v", r, res[0])
		}
		// A repeated id in a later batch returns the original result and counts once.
		again := w.ingest(ev("e1", "XLEGACY", "api_calls", 10, now.Add(-time.Minute)), ev("e2", "nobody", "api_calls", 1, now))
		if again[0].Status != "duplicate" || again[0].OriginalStatus != "accepted" || again[1].OriginalStatus != "rejected" {
			t.Fatalf("repeats: %+v", again)
		}
		var hours []struct {
			Quantity float64
			Events   int
		}
		st.TestingReadDB(t).Table("usage_hours").Where("subscription_id = ?", w.legA.ID).Scan(&hours)
		if len(hours) != 1 || hours[0].Quantity != 10 || hours[0].Events != 1 {
			t.Fatalf("counted: %+v", hours)
		}
		// By Microsoft subscription id, fractional quantities are fine.
		if r := w.ingest(metering.Event{ID: "m1", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 2.5, Timestamp: now}); r[0].Status != "accepted" {
			t.Fatalf("microsoft: %+v", r)
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestSealAndDispatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		if err := st.SetSetting(ctx, "metering.sealed_through", h8.Add(-time.Hour).Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		at := func(min int) time.Time { return h8.Add(time.Duration(min) * time.Minute) }
		w.ingest(
			metering.Event{ID: "a1", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 10, Timestamp: at(10)},
			metering.Event{ID: "a2", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 5, Timestamp: at(50)},
			metering.Event{ID: "b1", Customer: caID.LicenseArn, Dimension: "storage_gb", Quantity: 7, Timestamp: at(30)},
			metering.Event{ID: "c1", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 2.5, Timestamp: at(5)},
		)
		n, err := w.m.Seal(ctx)
		if err != nil || n != 5 {
			t.Fatalf("sealed %d records, %v; want 5 (2 AWS legacy, 2 AWS license, 1 Microsoft)", n, err)
		}
		got := map[string]float64{}
		for _, r := range w.records("hour = ?", h8) {
			got[fmt.Sprintf("%d/%s", r.SubscriptionID, r.Dimension)] = r.Quantity
			if r.Status != store.RecordPending {
				t.Fatalf("record %+v", r)
			}
		}
		want := map[string]float64{fmt.Sprintf("%d/api_calls", w.legA.ID): 15, fmt.Sprintf("%d/storage_gb", w.legA.ID): 0,
			fmt.Sprintf("%d/api_calls", w.caB.ID): 0, fmt.Sprintf("%d/storage_gb", w.caB.ID): 7, fmt.Sprintf("%d/api_calls", w.msC.ID): 2.5}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("records %v, want %v", got, want)
		}
		// Usage for the sealed hour counts, late, in the current one.
		late := w.ingest(metering.Event{ID: "a3", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 4, Timestamp: at(40)})
		if !late[0].Late || !late[0].Hour.Equal(h8.Add(time.Hour)) {
			t.Fatalf("late: %+v", late[0])
		}
		if n, _ := w.m.Seal(ctx); n != 0 {
			t.Fatalf("sealing again made %d records", n)
		}

		// Dispatch: every record accepted, with the marketplace's id.
		if n, err := w.m.Dispatch(ctx); err != nil || n != 5 {
			t.Fatalf("dispatched %d, %v", n, err)
		}
		for _, r := range w.records("hour = ?", h8) {
			if r.Status != store.RecordAccepted || r.MarketplaceRecordID == "" || r.Attempts != 1 {
				t.Fatalf("after dispatch: %+v", r)
			}
		}
		if m := w.aws.Metered(); len(m) != 4 {
			t.Fatalf("AWS billed %d records, want 4 (zeros included)", len(m))
		}
		if u := w.ms.Usage(); len(u) != 1 || u[0].Quantity != 2.5 {
			t.Fatalf("Microsoft holds %+v", u)
		}

		// A crash after sending, before storing: the records are sent again,
		// identically, and both marketplaces' answers count as accepted.
		before := map[uint]string{}
		for _, r := range w.records("hour = ?", h8) {
			before[r.ID] = r.MarketplaceRecordID
		}
		st.TestingDB(t).Model(&store.MeteringRecord{}).Where("hour = ?", h8).Updates(map[string]any{"status": store.RecordPending, "marketplace_record_id": "", "settled_at": nil})
		if _, err := w.m.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		for _, r := range w.records("hour = ?", h8) {
			if r.Status != store.RecordAccepted || r.MarketplaceRecordID != before[r.ID] {
				t.Fatalf("resend: %+v (id before %s)", r, before[r.ID])
			}
		}
		if len(w.aws.Metered()) != 4 || len(w.ms.Usage()) != 1 {
			t.Fatal("the resend was billed again")
		}
		// Another quantity for a settled hour (another writer, a bug): duplicate / conflict, never billed.
		st.TestingDB(t).Model(&store.MeteringRecord{}).Where("hour = ? AND quantity > 0", h8).Updates(map[string]any{"status": store.RecordPending, "quantity": 99})
		w.m.Dispatch(ctx)
		for _, r := range w.records("hour = ? AND quantity = 99", h8) {
			if (r.Marketplace == "aws" && r.Status != store.RecordDuplicate) || (r.Marketplace == "azure" && r.Status != store.RecordConflict) {
				t.Fatalf("changed quantity: %+v", r)
			}
		}

		// The next hour: throttled, then sent; Microsoft's idle hour is kept here.
		w.clk.set(time.Date(2026, 6, 2, 10, 10, 0, 0, time.UTC))
		if n, _ := w.m.Seal(ctx); n != 5 {
			t.Fatalf("09:00 sealed %d", n)
		}
		h9 := h8.Add(time.Hour)
		for _, r := range w.records("hour = ?", h9) {
			if r.Marketplace == "azure" && (r.Status != store.RecordNotSentZero || r.Quantity != 0) {
				t.Fatalf("idle Microsoft hour: %+v", r)
			}
			if r.SubscriptionID == w.legA.ID && r.Dimension == "api_calls" && r.Quantity != 4 {
				t.Fatalf("late usage not in 09:00: %+v", r)
			}
		}
		w.aws.FailNext("BatchMeterUsage", "ThrottlingException", 2)
		w.m.Dispatch(ctx)
		for _, r := range w.records("hour = ? AND marketplace = ?", h9, "aws") {
			if r.Status != store.RecordPending || r.Attempts != 1 || r.NextAttemptAt == nil || r.LeaseOwner != "" {
				t.Fatalf("throttled: %+v", r)
			}
		}
		w.m.Dispatch(ctx) // not due yet: nothing sent
		if c := w.aws.Calls("BatchMeterUsage"); c != 2+3+2 {
			t.Logf("BatchMeterUsage calls so far: %d", c)
		}
		w.clk.set(w.clk.now().Add(2 * time.Minute))
		w.aws.UnprocessNext(1)
		w.m.Dispatch(ctx)
		pending := w.records("hour = ? AND status = ?", h9, store.RecordPending)
		if len(pending) != 1 || pending[0].Reason != "AWS left it unprocessed" {
			t.Fatalf("unprocessed: %+v", pending)
		}
		// Never sent within 24 hours: expired, with its quantity kept.
		w.clk.set(h9.Add(25 * time.Hour))
		w.m.Dispatch(ctx)
		if r := w.records("id = ?", pending[0].ID)[0]; r.Status != store.RecordExpired || r.Quantity != pending[0].Quantity {
			t.Fatalf("expired: %+v", r)
		}
	})
}

// A full batch runs the prepared multi-row statements (on both databases).
func TestIngestLargeBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		now := w.clk.now()
		for round := 0; round < 2; round++ {
			evs := make([]metering.Event, 1000)
			for i := range evs {
				evs[i] = metering.Event{ID: fmt.Sprintf("big-%d-%d", round, i), Customer: "XLEGACY", Dimension: []string{"api_calls", "storage_gb"}[i%2],
					Quantity: 1, Timestamp: now.Add(-time.Duration(i%3) * time.Hour)}
			}
			for i, r := range w.ingest(evs...) {
				if r.Status != "accepted" {
					t.Fatalf("event %d: %+v", i, r)
				}
			}
		}
		var total float64
		st.TestingReadDB(t).Table("usage_hours").Where("subscription_id = ?", w.legA.ID).Select("SUM(quantity)").Row().Scan(&total)
		var n int64
		st.TestingReadDB(t).Model(&store.UsageEvent{}).Count(&n)
		if total != 2000 || n != 2000 {
			t.Fatalf("counted %g in hours, %d events stored", total, n)
		}
	})
}

// A cancelled customer's usage, current hour included, is sealed and sent at once.
func TestFinalRecordsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		now := w.clk.now()
		w.ingest(metering.Event{ID: "f1", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 6, Timestamp: now.Add(-time.Minute)})
		st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", w.legA.ID).Update("state", "unsubscribe_pending")
		if err := w.m.SealFinal(ctx, w.legA.ID); err != nil {
			t.Fatal(err)
		}
		cur := now.Truncate(time.Hour)
		recs := w.records("subscription_id = ? AND hour = ? AND dimension = ?", w.legA.ID, cur, "api_calls")
		if len(recs) != 1 || !recs[0].Final || recs[0].Quantity != 6 || recs[0].Status != store.RecordAccepted {
			t.Fatalf("final record: %+v", recs)
		}
		// Later usage for that hour is refused: its final usage was already sent.
		r := w.ingest(metering.Event{ID: "f2", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 1, Timestamp: now})
		if r[0].Status != "rejected" || !strings.Contains(r[0].Reason, "final usage") {
			t.Fatalf("after the final records: %+v", r[0])
		}
		// Other subscriptions are untouched.
		if n := len(w.records("subscription_id <> ?", w.legA.ID)); n != 0 {
			t.Fatalf("%d records of other subscriptions", n)
		}
	})
}

// Microsoft's per-item refusals settle the record as rejected, with the reason.
func TestMicrosoftRejections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		st.SetSetting(ctx, "metering.sealed_through", h8.Add(-time.Hour).Format(time.RFC3339))
		// A subscription Microsoft does not know, and one it has suspended while we still think it active.
		ghost := w.msC
		ghost.ID, ghost.AzureSubscriptionID, ghost.CreatedAt = 0, "00000000-0000-4000-8000-000000000000", w.msC.CreatedAt
		if err := st.TestingDB(t).Create(&ghost).Error; err != nil {
			t.Fatal(err)
		}
		if err := w.ms.SetStatusSilently(w.msC.AzureSubscriptionID, "Suspended"); err != nil {
			t.Fatal(err)
		}
		for i, s := range []store.Subscription{ghost, w.msC} {
			w.ingest(metering.Event{ID: fmt.Sprintf("r%d", i), Subscription: s.AzureSubscriptionID, Dimension: "api_calls", Quantity: 3, Timestamp: h8.Add(10 * time.Minute)})
		}
		w.m.Seal(ctx)
		w.m.Dispatch(ctx)
		for _, c := range []struct {
			sub    uint
			reason string
		}{{ghost.ID, "ResourceNotFound"}, {w.msC.ID, "ResourceNotActive"}} {
			r := w.records("subscription_id = ? AND hour = ?", c.sub, h8)
			if len(r) != 1 || r[0].Status != store.RecordRejected || !strings.Contains(r[0].Reason, c.reason) || strings.HasSuffix(r[0].Reason, ": ") {
				t.Fatalf("%s: %+v", c.reason, r)
			}
		}
	})
}

// TestRecordEventsForWebhooks: records refused by the marketplace, close
// to the end of their window, or expired reach the seller's endpoints as
// events written with the change, each once, carrying the record and the
// subscription.
func TestRecordEventsForWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		ep := store.WebhookEndpoint{URL: "http://127.0.0.1:1/hook", Secret: "whsec_AAAA", EventTypes: "metering.record_rejected,metering.record_expiring,metering.record_expired",
			Enabled: true, CreatedAt: w.clk.now(), UpdatedAt: w.clk.now()}
		if err := st.TestingDB(t).Create(&ep).Error; err != nil {
			t.Fatal(err)
		}
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		st.SetSetting(ctx, "metering.sealed_through", h8.Add(-time.Hour).Format(time.RFC3339))
		if err := w.ms.SetStatusSilently(w.msC.AzureSubscriptionID, "Suspended"); err != nil {
			t.Fatal(err)
		}
		w.ingest(metering.Event{ID: "x1", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 3, Timestamp: h8.Add(10 * time.Minute)})
		w.m.Seal(ctx)
		w.m.Dispatch(ctx)
		events := func(typ string) []store.Event {
			var evs []store.Event
			st.TestingReadDB(t).Where("type = ?", typ).Order("id").Find(&evs)
			return evs
		}
		rej := events("metering.record_rejected")
		if len(rej) != 1 || !strings.Contains(rej[0].Data, "ResourceNotActive") || !strings.Contains(rej[0].Data, `"subscription":{`) ||
			rej[0].SubscriptionID == nil || *rej[0].SubscriptionID != w.msC.ID {
			t.Fatalf("rejected: %+v", rej)
		}
		var n int64
		st.TestingReadDB(t).Model(&store.WebhookDelivery{}).Where("endpoint_id = ?", ep.ID).Count(&n)
		if n != 1 {
			t.Fatalf("%d deliveries for one event", n)
		}
		// 21 hours later the AWS records still pending (the fake refuses nothing;
		// make AWS unreachable) are close to the end of the window: warned once.
		w.m.AWS = nil
		w.ingest(metering.Event{ID: "x2", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 2, Timestamp: w.clk.now().Add(-5 * time.Minute)})
		w.clk.set(w.clk.now().Add(2 * time.Hour))
		w.m.Seal(ctx)
		w.m.Dispatch(ctx)
		w.clk.set(w.clk.now().Add(21 * time.Hour))
		if k, err := w.m.WarnExpiring(ctx); err != nil || k == 0 {
			t.Fatalf("warned %d: %v", k, err)
		}
		if k, _ := w.m.WarnExpiring(ctx); k != 0 {
			t.Fatalf("warned again: %d", k)
		}
		if len(events("metering.record_expiring")) == 0 {
			t.Fatal("no expiring events")
		}
		// Past 24 hours they expire, with an event each.
		w.clk.set(w.clk.now().Add(4 * time.Hour))
		w.m.Dispatch(ctx)
		if exp := events("metering.record_expired"); len(exp) == 0 || !strings.Contains(exp[0].Data, `"status":"expired"`) {
			t.Fatalf("expired: %+v", exp)
		}
	})
}

// A sealing run with no hour due (most runs: it runs every 30 s) still
// seals a cancelled customer's final hours, and nothing for the others.
func TestSealBetweenHoursSealsFinalHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		now := w.clk.now()
		w.ingest(metering.Event{ID: "f1", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 6, Timestamp: now.Add(-time.Minute)})
		if _, err := w.m.Seal(ctx); err != nil { // the last finished hour, for every metered subscription
			t.Fatal(err)
		}
		before := len(w.records("subscription_id <> ?", w.legA.ID))
		st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", w.legA.ID).Update("state", "unsubscribe_pending")
		if _, err := w.m.Seal(ctx); err != nil { // no hour due
			t.Fatal(err)
		}
		recs := w.records("subscription_id = ? AND hour = ? AND dimension = ?", w.legA.ID, now.Truncate(time.Hour), "api_calls")
		if len(recs) != 1 || !recs[0].Final || recs[0].Quantity != 6 {
			t.Fatalf("final record: %+v", recs)
		}
		if after := len(w.records("subscription_id <> ?", w.legA.ID)); after != before {
			t.Fatalf("records of other subscriptions: %d, then %d", before, after)
		}
	})
}

// Ingestion resolves a customer from memory while nothing it was read
// from changed (see cacheTTL), with two replicas on one database (one
// SQLite file; one Postgres): a subscription ended on the other replica
// is refused within store.GrantRecheck, never later; one changed on this
// replica is seen by the very next event, with no time passing.
func TestIngestSeesSubscriptionChanges(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			cfg := storetest.Migrated(t, d)
			a, b := storetest.OpenOn(t, cfg), storetest.OpenOn(t, cfg)
			w := newWorld(t, a)
			n := 0
			send := func() metering.Result {
				t.Helper()
				n++
				return w.ingest(metering.Event{ID: fmt.Sprintf("c%d", n), Customer: "XLEGACY", Dimension: "api_calls", Quantity: 1, Timestamp: w.clk.now()})[0]
			}
			setState := func(st *store.Store, state string) {
				t.Helper()
				if err := st.TestingDB(t).Exec("UPDATE subscriptions SET state = ?, version = version + 1 WHERE id = ?", state, w.legA.ID).Error; err != nil {
					t.Fatal(err)
				}
			}
			if r := send(); r.Status != store.UsageAccepted {
				t.Fatalf("active: %+v", r)
			}
			// The other replica ends it: within the bound this replica may
			// still count from what it read …
			setState(b, "ended")
			if r := send(); r.Status != store.UsageAccepted {
				t.Fatalf("the cache was not used (the subscription was read again): %+v", r)
			}
			// … and never past it.
			w.clk.set(w.clk.now().Add(store.GrantRecheck))
			if r := send(); r.Status != store.UsageRejected || !contains(r.Reason, "not active") {
				t.Fatalf("ended on the other replica, %s later: %+v", store.GrantRecheck, r)
			}
			// Changes made on this replica are seen by the next event.
			setState(a, "active")
			if r := send(); r.Status != store.UsageAccepted {
				t.Fatalf("reactivated here, still refused: %+v", r)
			}
			setState(a, "suspended")
			if r := send(); r.Status != store.UsageRejected || !contains(r.Reason, "not active") {
				t.Fatalf("suspended here, still counted: %+v", r)
			}
		})
	}
}

// TestSealReadsSubscriptionsPageByPage: sealing reads the metered
// subscriptions a page at a time (here one), and every one still gets a
// record for each due hour, zero when idle, with its usage; the ended
// subscription gets none; sealing again makes nothing.
func TestSealReadsSubscriptionsPageByPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		metering.SetSealPage(t, 1)
		w := newWorld(t, st)
		ctx := context.Background()
		h8 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
		h7 := h8.Add(-time.Hour)
		if err := st.SetSetting(ctx, "metering.sealed_through", h7.Add(-time.Hour).Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		w.ingest(
			metering.Event{ID: "a1", Customer: "XLEGACY", Dimension: "api_calls", Quantity: 10, Timestamp: h7.Add(10 * time.Minute)},
			metering.Event{ID: "b1", Customer: caID.LicenseArn, Dimension: "storage_gb", Quantity: 7, Timestamp: h8.Add(30 * time.Minute)},
			metering.Event{ID: "c1", Subscription: w.msC.AzureSubscriptionID, Dimension: "api_calls", Quantity: 2.5, Timestamp: h8.Add(5 * time.Minute)},
		)
		n, err := w.m.Seal(ctx)
		if err != nil || n != 10 {
			t.Fatalf("sealed %d records, %v; want 10 (5 series × 2 hours)", n, err)
		}
		got := map[string]float64{}
		for _, r := range w.records("") {
			got[fmt.Sprintf("%s %d/%s", r.Hour.UTC().Format("15h"), r.SubscriptionID, r.Dimension)] = r.Quantity
		}
		want := map[string]float64{}
		for _, h := range []string{"07h", "08h"} {
			want[fmt.Sprintf("%s %d/api_calls", h, w.legA.ID)] = 0
			want[fmt.Sprintf("%s %d/storage_gb", h, w.legA.ID)] = 0
			want[fmt.Sprintf("%s %d/api_calls", h, w.caB.ID)] = 0
			want[fmt.Sprintf("%s %d/storage_gb", h, w.caB.ID)] = 0
			want[fmt.Sprintf("%s %d/api_calls", h, w.msC.ID)] = 0
		}
		want[fmt.Sprintf("07h %d/api_calls", w.legA.ID)] = 10
		want[fmt.Sprintf("08h %d/storage_gb", w.caB.ID)] = 7
		want[fmt.Sprintf("08h %d/api_calls", w.msC.ID)] = 2.5
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("records %v\nwant %v", got, want)
		}
		if n, err := w.m.Seal(ctx); err != nil || n != 0 {
			t.Fatalf("sealing again made %d records, %v", n, err)
		}
		// A crash after the pages were sealed and before the hours were
		// marked sealed: the next run seals both hours again, which makes
		// no record twice and changes none.
		if err := st.SetSetting(ctx, "metering.sealed_through", h7.Add(-time.Hour).Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		if n, err := w.m.Seal(ctx); err != nil || n != 0 {
			t.Fatalf("sealing after a crash made %d records, %v", n, err)
		}
		again := map[string]float64{}
		for _, r := range w.records("") {
			again[fmt.Sprintf("%s %d/%s", r.Hour.UTC().Format("15h"), r.SubscriptionID, r.Dimension)] = r.Quantity
		}
		if fmt.Sprint(again) != fmt.Sprint(want) {
			t.Fatalf("records after a crash %v\nwant %v", again, want)
		}
	})
}
