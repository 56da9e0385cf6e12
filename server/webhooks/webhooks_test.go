package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// receiver is the seller's endpoint: it checks every signature the
// Standard Webhooks way (written here from the specification, not with
// the sender's code) and records what it accepted, per subscription.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	fail   func(id string, n int) int // status to answer (0: 204)
	seen   map[string]int             // webhook-id → attempts
	bySub  map[uint][]string          // subscription → accepted event types, in order
	types  []string
	bad    []string
	// anyTime skips the timestamp tolerance (tests that move the clock).
	anyTime bool
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	r := &receiver{t: t, seen: map[string]int{}, bySub: map[uint][]string{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, ts, sig := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sec, _ := strconv.ParseInt(ts, 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	if sig != want || (!r.anyTime && time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute) {
		r.bad = append(r.bad, id)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.seen[id]++
	if r.fail != nil {
		if st := r.fail(id, r.seen[id]); st != 0 {
			w.WriteHeader(st)
			fmt.Fprintf(w, "receiver down (%d)", st)
			return
		}
	}
	var b struct {
		ID   string
		Type string
		Data struct {
			Subscription struct {
				ID    uint
				State string
			}
		}
	}
	if err := json.Unmarshal(body, &b); err != nil || b.ID != id {
		r.bad = append(r.bad, "body:"+id)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.types = append(r.types, b.Type)
	if b.Data.Subscription.ID != 0 {
		r.bySub[b.Data.Subscription.ID] = append(r.bySub[b.Data.Subscription.ID], b.Type+"@"+b.Data.Subscription.State)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) set(fn func(r *receiver)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r)
}

func (r *receiver) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.seen {
		n += k
	}
	return n
}

func endpoint(t *testing.T, st *store.Store, url, types string) *store.WebhookEndpoint {
	t.Helper()
	now := time.Now().UTC()
	ep := &store.WebhookEndpoint{URL: url, Secret: webhooks.NewSecret(), EventTypes: types, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := st.TestingDB(t).Create(ep).Error; err != nil {
		t.Fatal(err)
	}
	return ep
}

func drain(t *testing.T, d *webhooks.Dispatcher, rounds int) {
	t.Helper()
	for i := 0; i < rounds; i++ {
		if _, err := d.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func apply(t *testing.T, st *store.Store, ref subscriptions.Ref, at time.Time, kinds ...lifecycle.Kind) {
	t.Helper()
	for i, k := range kinds {
		if _, err := subscriptions.Apply(context.Background(), st, ref, lifecycle.Event{Kind: k, At: at.Add(time.Duration(i) * time.Second)},
			subscriptions.Meta{Source: "test"}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLifecycleEventsAreSignedAndOrdered: subscription changes reach the
// endpoint signed, carrying the current state, in order per subscription,
// even when the endpoint fails for a while.
func TestLifecycleEventsAreSignedAndOrdered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rec, srv := newReceiver(t)
		ep := endpoint(t, st, srv.URL, "*")
		rec.set(func(r *receiver) { r.secret = ep.Secret })
		// Nothing is written while no endpoint listens to a type.
		quiet := endpoint(t, st, srv.URL+"/quiet", webhooks.SeatAssigned)
		at := time.Now().UTC().Add(-time.Hour)
		a := subscriptions.Ref{AWSProductCode: "p", AWSCustomerIdentifier: "A"}
		b := subscriptions.Ref{AzureSubscriptionID: "b-1"}
		apply(t, st, a, at, lifecycle.AWSRegistered, lifecycle.AWSSubscribeSuccess, lifecycle.AWSUnsubscribePending, lifecycle.AWSUnsubscribeSuccess)
		apply(t, st, b, at, lifecycle.AzureResolved, lifecycle.AzureActivated, lifecycle.AzureSuspend, lifecycle.AzureReinstate)

		// The receiver refuses the first two attempts of every event.
		rec.set(func(r *receiver) {
			r.fail = func(_ string, n int) int {
				if n <= 2 {
					return 503
				}
				return 0
			}
		})
		d := &webhooks.Dispatcher{Store: st, Policy: localOnly, Backoff: func(int) time.Duration { return 0 }}
		drain(t, d, 40)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.bad) != 0 {
			t.Fatalf("bad signatures or bodies: %v", rec.bad)
		}
		var subA, subB store.Subscription
		st.TestingReadDB(t).Where("aws_customer_identifier = 'A'").First(&subA)
		st.TestingReadDB(t).Where("azure_subscription_id = 'b-1'").First(&subB)
		// The data is the subscription's state when the event was written.
		gotA, gotB := strings.Join(rec.bySub[subA.ID], ","), strings.Join(rec.bySub[subB.ID], ",")
		if gotA != "subscription.created@pending,subscription.activated@active,subscription.unsubscribe_pending@unsubscribe_pending,subscription.ended@ended" {
			t.Errorf("subscription A: %s", gotA)
		}
		if gotB != "subscription.created@pending,subscription.activated@active,subscription.suspended@suspended,subscription.reinstated@active" {
			t.Errorf("subscription B: %s", gotB)
		}
		var n int64
		st.TestingReadDB(t).Model(&store.WebhookDelivery{}).Where("endpoint_id = ?", quiet.ID).Count(&n)
		if n != 0 {
			t.Errorf("%d deliveries for an endpoint that listens to seats only", n)
		}
		for id, tries := range rec.seen {
			if tries != 3 {
				t.Errorf("%s: %d attempts, want 3 (two refusals, then accepted)", id, tries)
			}
		}
		var ds []store.WebhookDelivery
		st.TestingReadDB(t).Where("endpoint_id = ?", ep.ID).Find(&ds)
		for _, dl := range ds {
			if dl.Status != store.DeliverySucceeded || dl.Attempts != 3 || dl.ResponseStatus != 204 {
				t.Errorf("delivery %d: %s after %d attempts, HTTP %d", dl.ID, dl.Status, dl.Attempts, dl.ResponseStatus)
			}
		}
	})
}

// TestRetriesGiveUpAndDisable: a receiver that keeps failing is retried with
// backoff, its deliveries are given up after the retry period, and the
// endpoint is disabled with a reason; enabling it resumes what waits.
func TestRetriesGiveUpAndDisable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rec, srv := newReceiver(t)
		ep := endpoint(t, st, srv.URL, "*")
		rec.set(func(r *receiver) {
			r.secret, r.anyTime = ep.Secret, true
			r.fail = func(string, int) int { return 500 }
		})
		clock := time.Now().UTC()
		st.Now = func() time.Time { return clock }
		var disabled []string
		d := &webhooks.Dispatcher{Store: st, Policy: localOnly, GiveUpAfter: 3 * time.Hour, DisableAfter: 2 * time.Hour,
			OnDisabled: func(_ context.Context, e *store.WebhookEndpoint) { disabled = append(disabled, e.DisabledReason) }}
		apply(t, st, subscriptions.Ref{AWSProductCode: "p", AWSCustomerIdentifier: "X"}, clock.Add(-time.Minute), lifecycle.AWSSubscribeSuccess)
		var waits []time.Duration
		for i := 0; i < 6; i++ {
			drain(t, d, 1)
			var dl store.WebhookDelivery
			st.TestingReadDB(t).Order("id").First(&dl)
			waits = append(waits, dl.NextAttemptAt.Sub(clock))
			clock = dl.NextAttemptAt
		}
		for i := 1; i < len(waits); i++ {
			if waits[i] <= waits[i-1] {
				t.Fatalf("backoff does not grow: %v", waits)
			}
		}
		var got store.WebhookEndpoint
		// Keep failing past the disable threshold: disabled, with the reason.
		for i := 0; i < 40 && len(disabled) == 0; i++ {
			clock = clock.Add(10 * time.Minute)
			drain(t, d, 1)
		}
		st.TestingReadDB(t).First(&got, ep.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "HTTP 500") || len(disabled) != 1 {
			t.Fatalf("not disabled: %+v %v", got, disabled)
		}
		// Disabled: nothing is attempted.
		attempts := rec.attempts()
		clock = clock.Add(time.Hour)
		drain(t, d, 2)
		if rec.attempts() != attempts {
			t.Fatalf("a disabled endpoint was called")
		}
		// Past the retry period the delivery is given up, visibly.
		must(t, st.TestingDB(t).Model(&store.WebhookEndpoint{}).Where("id = ?", ep.ID).Updates(map[string]any{"enabled": true, "failing_since": nil}).Error)
		clock = clock.Add(3 * time.Hour)
		drain(t, d, 1)
		var dl store.WebhookDelivery
		st.TestingReadDB(t).Order("id").First(&dl)
		if dl.Status != store.DeliveryFailed || !strings.Contains(dl.Error, "gave up") {
			t.Fatalf("not given up: %+v", dl)
		}
		// Redeliver once the receiver works: delivered.
		rec.set(func(r *receiver) { r.fail = nil })
		must(t, webhooks.Redeliver(context.Background(), st, ep.ID, dl.ID))
		drain(t, d, 1)
		st.TestingReadDB(t).First(&dl, dl.ID)
		if dl.Status != store.DeliverySucceeded {
			t.Fatalf("redelivery: %+v", dl)
		}
		if err := webhooks.Redeliver(context.Background(), st, ep.ID+1, dl.ID); err != webhooks.ErrNotFound {
			t.Fatalf("redeliver on another endpoint: %v", err)
		}
	})
}

// TestEmitIsPartOfTheTransaction: a change that rolls back leaves no event.
func TestEmitIsPartOfTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		_, srv := newReceiver(t)
		endpoint(t, st, srv.URL, "*")
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			if err := webhooks.Emit(tx, time.Now(), webhooks.Event{Type: webhooks.SeatAssigned, Data: map[string]any{"x": 1}}); err != nil {
				return err
			}
			return fmt.Errorf("the change failed")
		})
		if err == nil {
			t.Fatal("no error")
		}
		var events, deliveries int64
		st.TestingReadDB(t).Model(&store.Event{}).Count(&events)
		st.TestingReadDB(t).Model(&store.WebhookDelivery{}).Count(&deliveries)
		if events != 0 || deliveries != 0 {
			t.Fatalf("a rolled-back change left %d events, %d deliveries", events, deliveries)
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
