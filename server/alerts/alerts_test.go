package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/smtptest"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// hook is a Slack- or Teams-style incoming webhook.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
	status int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	_ = json.NewDecoder(r.Body).Decode(&b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status != 0 {
		w.WriteHeader(h.status)
		_, _ = io.WriteString(w, "invalid_token")
		return
	}
	h.bodies = append(h.bodies, b)
}

func (h *hook) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

func channel(t *testing.T, st *store.Store, kind, target, types string) *store.AlertChannel {
	t.Helper()
	now := time.Now().UTC()
	ch := &store.AlertChannel{Kind: kind, Target: target, AlertTypes: types, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := st.TestingDB(t).Create(ch).Error; err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestCoalescing: the same alert raised again and again reaches a channel
// once at first, then at most once per window with the count.
func TestCoalescing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Now().UTC()
		st.Now = func() time.Time { return clock }
		slack, teams := &hook{}, &hook{}
		ss, ts := httptest.NewServer(slack), httptest.NewServer(teams)
		defer ss.Close()
		defer ts.Close()
		mail := smtptest.Start(t)
		svc := &alerts.Service{Store: st, Policy: localOnly, BaseURL: "https://portal.example", Window: time.Hour,
			SMTP: &alerts.SMTP{Addr: mail.Addr, From: "Marketgate <alerts@seller.example>"}}
		channel(t, st, "slack", ss.URL, "*")
		channel(t, st, "teams", ts.URL, alerts.InboxFailed)
		channel(t, st, "email", "ops@seller.example", "*")
		channel(t, st, "slack", ss.URL+"/metering-only", alerts.MeteringRejected)

		raise := func(n int) {
			for i := 0; i < n; i++ {
				if err := svc.Raise(ctx, alerts.InboxFailed, "inbox:sqs", "Inbound sqs messages failed to apply", "boom", "/notifications", 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		notify := func() int {
			n, err := svc.Notify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		raise(20)
		if n := notify(); n != 3 {
			t.Fatalf("first notice: %d messages, want 3 (slack, teams, e-mail; not the metering-only channel)", n)
		}
		raise(50)
		clock = clock.Add(30 * time.Minute)
		if n := notify(); n != 0 {
			t.Fatalf("within the window: %d messages", n)
		}
		clock = clock.Add(31 * time.Minute)
		if n := notify(); n != 3 {
			t.Fatalf("after the window: %d messages, want one summary per channel", n)
		}
		if n := notify(); n != 0 {
			t.Fatalf("nothing new: %d messages", n)
		}
		sl := slack.got()
		if len(sl) != 2 || !strings.Contains(sl[0]["text"].(string), "Seen 20 times") || !strings.Contains(sl[1]["text"].(string), "Seen 50 more times") ||
			!strings.Contains(sl[0]["text"].(string), "https://portal.example/notifications") {
			t.Fatalf("slack: %v", sl)
		}
		tm := teams.got()
		if len(tm) != 2 || tm[0]["@type"] != "MessageCard" || tm[0]["title"] != "[Marketgate] Inbound sqs messages failed to apply" {
			t.Fatalf("teams: %v", tm)
		}
		msgs := mail.Messages()
		if len(msgs) != 2 || !strings.Contains(msgs[0], "Subject: [Marketgate] Inbound sqs messages failed to apply") ||
			!strings.Contains(msgs[0], "To: <ops@seller.example>") {
			t.Fatalf("e-mail: %q", msgs)
		}
	})
}

// TestFailingChannelBacksOff: a channel that refuses is retried later, not
// hammered, and its error is visible.
func TestFailingChannelBacksOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Now().UTC()
		st.Now = func() time.Time { return clock }
		h := &hook{status: 403}
		srv := httptest.NewServer(h)
		defer srv.Close()
		svc := &alerts.Service{Store: st, Policy: localOnly}
		ch := channel(t, st, "slack", srv.URL, "*")
		must(t, svc.Raise(ctx, alerts.WebhookDisabled, "webhook:1", "A webhook endpoint was disabled", "", "", 1))
		if n, _ := svc.Notify(ctx); n != 0 {
			t.Fatalf("sent %d through a refusing channel", n)
		}
		var got store.AlertChannel
		st.TestingReadDB(t).First(&got, ch.ID)
		if !strings.Contains(got.LastError, "HTTP 403") {
			t.Fatalf("channel error: %q", got.LastError)
		}
		h.mu.Lock()
		h.status = 0
		h.mu.Unlock()
		if n, _ := svc.Notify(ctx); n != 0 {
			t.Fatal("retried at once")
		}
		clock = clock.Add(3 * time.Minute)
		if n, _ := svc.Notify(ctx); n != 1 {
			t.Fatal("not retried after the backoff")
		}
		if err := svc.SendTest(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if err := (&alerts.Service{Store: st}).SendTest(ctx, &store.AlertChannel{Kind: "email", Target: "a@b.example"}); err != alerts.ErrNoSMTP {
			t.Fatalf("e-mail without SMTP: %v", err)
		}
	})
}

// TestSweep raises alerts from what is stored: failed inbound messages,
// refused metering records, approvals waiting; a second sweep repeats none.
func TestSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		db := st.TestingDB(t)
		must(t, db.Create(&store.InboxMessage{Marketplace: "aws", Source: "sqs", DedupKey: "m1", Status: store.InboxFailed, Error: "unknown product",
			Body: "{}", ReceivedAt: now.Add(-time.Minute)}).Error)
		o := store.Offer{Marketplace: "azure", Name: "O", MarketplaceID: "o", CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{{PlanID: "p", Name: "P", Dimensions: "[]", ActivationPolicy: store.ActivateSellerApproves, CreatedAt: now, UpdatedAt: now}}}
		must(t, db.Create(&o).Error)
		sub := store.Subscription{Marketplace: "azure", State: "pending", StateChangedAt: now, Name: "Contoso seats", OfferID: &o.ID,
			PlanID: &o.Plans[0].ID, AzureSubscriptionID: "x", Version: 1, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&sub).Error)
		must(t, db.Create(&store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "azure", Dimension: "d", Hour: now.Truncate(time.Hour).Add(-2 * time.Hour),
			Status: store.RecordRejected, Reason: "Microsoft: ResourceNotFound", SettledAt: &now, CreatedAt: now, UpdatedAt: now}).Error)
		svc := &alerts.Service{Store: st}
		st.Now = func() time.Time { return now.Add(time.Second) }
		must(t, svc.Sweep(ctx))
		var as []store.Alert
		st.TestingReadDB(t).Order("type").Find(&as)
		types := []string{}
		for _, a := range as {
			types = append(types, a.Type+"="+a.Detail[:min(len(a.Detail), 12)])
		}
		if len(as) != 3 || as[0].Type != alerts.ApprovalWaiting || as[1].Type != alerts.InboxFailed || as[2].Type != alerts.MeteringRejected {
			t.Fatalf("alerts: %v", types)
		}
		st.Now = func() time.Time { return now.Add(time.Minute) }
		must(t, svc.Sweep(ctx))
		var again []store.Alert
		st.TestingReadDB(t).Order("type").Find(&again)
		for i := range again {
			if again[i].Count != as[i].Count {
				t.Fatalf("a second sweep counted %s again", again[i].Type)
			}
		}
	})
}

// TestRepeatedCallFailures: a marketplace call failing again and again
// raises one alert (at the threshold and every threshold after); a success
// starts the count again.
func TestRepeatedCallFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		calls := &alerts.Calls{Alerts: &alerts.Service{Store: st}, Threshold: 3}
		boom := errors.New("connection refused")
		for i := 0; i < 2; i++ {
			calls.Observe("aws", "SQS ReceiveMessage", boom)
		}
		calls.Observe("aws", "SQS ReceiveMessage", nil)
		for i := 0; i < 7; i++ {
			calls.Observe("aws", "SQS ReceiveMessage", boom)
		}
		var as []store.Alert
		st.TestingReadDB(t).Find(&as)
		if len(as) != 1 || as[0].Type != alerts.MarketplaceFailing || as[0].Count != 2 || !strings.Contains(as[0].Detail, "6 times in a row") {
			t.Fatalf("alerts: %+v", as)
		}
		// The Settings page's view: last success, last error.
		calls.Observe("azure", "batchUsageEvent", nil)
		snap := calls.Snapshot()
		if a := snap["aws"]; a.LastSuccessAt == nil || a.LastErrorAt == nil || a.LastError != "connection refused" || !a.LastErrorAt.After(*a.LastSuccessAt) {
			t.Fatalf("aws connection: %+v", a)
		}
		if z := snap["azure"]; z.LastSuccessAt == nil || z.LastErrorAt != nil {
			t.Fatalf("azure connection: %+v", z)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// localOnly lets the tests reach their local endpoints, as an operator
// with --outbound-allow-private would.
var localOnly = netguard.Policy{AllowPrivate: true}
