package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/telemetry"
	"github.com/marketgate/marketgate/store"
)

// SecretPrefix starts every signing secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// NewSecret returns a new signing secret: whsec_ and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header value for a message: "v1,"
// and the base64 HMAC-SHA256 of "id.timestamp.body" keyed with the
// secret's decoded bytes.
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Body is what an endpoint receives.
type Body struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// BodyOf builds the body of an event's delivery.
func BodyOf(ev *store.Event) ([]byte, error) {
	data := json.RawMessage(ev.Data)
	if !json.Valid(data) {
		data = json.RawMessage("null")
	}
	return json.Marshal(Body{ID: ev.EventID, Type: ev.Type, Timestamp: ev.OccurredAt.UTC(), Data: data})
}

// Dispatcher delivers what the outbox holds.
type Dispatcher struct {
	Store *store.Store
	Log   *slog.Logger
	HTTP  *http.Client // nil: Policy's client, 10 s timeout, no redirects
	// Policy says which addresses endpoints may have (default: public ones only).
	Policy netguard.Policy
	Owner  string // this process, for leases

	// GiveUpAfter: a delivery not accepted this long after its event is
	// marked failed (default 26 h: more than a day of retries).
	GiveUpAfter time.Duration
	// DisableAfter: an endpoint whose every attempt failed for this long is
	// disabled (default 24 h).
	DisableAfter time.Duration
	// OnDisabled is told when an endpoint is disabled (alerts).
	OnDisabled func(ctx context.Context, ep *store.WebhookEndpoint)
	// Metrics counts the attempts by outcome (nil: none).
	Metrics *telemetry.Metrics
	// Backoff overrides the retry delay after n failed attempts (tests).
	Backoff func(n int) time.Duration

	once sync.Once
}

const (
	leaseFor   = 60 * time.Second
	claimBatch = 50
	inFlight   = 8
	// excerptBytes of an endpoint's answer are kept in the delivery log:
	// enough for a status message, too little to read a page through it.
	excerptBytes = 256
)

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.HTTP == nil {
			d.HTTP = d.Policy.Client(10 * time.Second)
		}
		if d.GiveUpAfter == 0 {
			d.GiveUpAfter = 26 * time.Hour
		}
		if d.DisableAfter == 0 {
			d.DisableAfter = 24 * time.Hour
		}
		if d.Log == nil {
			d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
		if d.Owner == "" {
			d.Owner = NewEventID()
		}
	})
}

// backoff is 5 s doubling up to an hour: about 24 attempts in a day.
func (d *Dispatcher) backoff(n int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(n)
	}
	sec := 5 * math.Pow(2, float64(max(n-1, 0)))
	return time.Duration(min(sec, 3600) * float64(time.Second))
}

// Run delivers until ctx ends, checking every interval.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	d.init()
	t := time.NewTicker(interval)
	defer t.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if err := d.Prune(ctx, 30*24*time.Hour); err != nil && ctx.Err() == nil {
				d.Log.Error("webhook prune", "err", err)
			}
		}
		for {
			n, err := d.Once(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Error("webhook delivery", "err", err)
			}
			if n < claimBatch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type claimed = store.ClaimedDelivery

// Once claims the deliveries that are due and whose endpoint is enabled —
// only the oldest waiting one of each subscription per endpoint, so that
// an endpoint sees one subscription's events in order — sends them, and
// stores the results. It returns how many it attempted.
func (d *Dispatcher) Once(ctx context.Context) (int, error) {
	d.init()
	mine, err := d.Store.ClaimDeliveries(ctx, d.Owner, d.Store.Now(), leaseFor, claimBatch)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range mine {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *claimed) {
			defer func() { <-sem; wg.Done() }()
			d.deliver(ctx, c)
		}(&mine[i])
	}
	wg.Wait()
	return len(mine), nil
}

// Attempt is what one attempt sent and got.
type Attempt struct {
	Headers  map[string]string
	Body     []byte
	Status   int
	Excerpt  string
	Err      string
	Accepted bool
}

// Send posts an event to a URL, signed with secret.
func (d *Dispatcher) Send(ctx context.Context, url, secret string, ev *store.Event) Attempt {
	d.init()
	body, err := BodyOf(ev)
	if err != nil {
		return Attempt{Err: err.Error()}
	}
	ts := d.Store.Now().Unix()
	sig, err := Sign(secret, ev.EventID, ts, body)
	if err != nil {
		return Attempt{Err: err.Error(), Body: body}
	}
	a := Attempt{Body: body, Headers: map[string]string{"content-type": "application/json", "webhook-id": ev.EventID,
		"webhook-timestamp": strconv.FormatInt(ts, 10), "webhook-signature": sig, "user-agent": "Marketgate-Webhooks/1"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.Err = err.Error()
		return a
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	res, err := d.HTTP.Do(req)
	if err != nil {
		a.Err = err.Error()
		if netguard.Refused(err) {
			a.Err = "refused: the endpoint's address is not allowed (" + refusedWhy(err) + ")"
		}
		return a
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, excerptBytes))
	for !utf8.Valid(raw) && len(raw) > 0 {
		raw = raw[:len(raw)-1]
	}
	a.Status, a.Excerpt = res.StatusCode, string(raw)
	a.Accepted = res.StatusCode >= 200 && res.StatusCode < 300
	if !a.Accepted {
		a.Err = "HTTP " + strconv.Itoa(res.StatusCode)
	}
	return a
}

func (d *Dispatcher) deliver(ctx context.Context, c *claimed) {
	ev, err := d.Store.OutboxEvent(ctx, c.EventID)
	if err != nil {
		d.Log.Error("webhook event", "delivery", c.ID, "err", err)
		return
	}
	a := d.Send(ctx, c.URL, c.Secret, ev)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the delivery is tried again
	}
	if err := d.record(context.WithoutCancel(ctx), c, ev, a); err != nil {
		d.Log.Error("webhook delivery result", "delivery", c.ID, "err", err)
	}
}

// record stores an attempt's result and the endpoint's health.
func (d *Dispatcher) record(ctx context.Context, c *claimed, ev *store.Event, a Attempt) error {
	now := d.Store.Now()
	var disabled *store.WebhookEndpoint
	err := d.Store.InTx(ctx, func(tx *store.Tx) error {
		hdrs, _ := json.Marshal(a.Headers)
		at := store.DeliveryAttempt{At: now, ResponseStatus: a.Status, Excerpt: a.Excerpt, Error: a.Err, RequestHeaders: string(hdrs)}
		if a.Accepted {
			at.Status = store.DeliverySucceeded
		} else if now.Sub(ev.CreatedAt) >= d.GiveUpAfter {
			at.Status = store.DeliveryFailed
			at.Error = a.Err + fmt.Sprintf(" — gave up after %s of retries", d.GiveUpAfter)
		} else {
			at.NextAttemptAt = now.Add(d.backoff(c.Attempts + 1))
		}
		if ok, err := tx.SettleDelivery(c.ID, d.Owner, at); err != nil || !ok {
			return err // the lease ran out and someone else took it
		}
		if a.Accepted {
			return tx.WebhookEndpointSucceeded(c.EndpointID, now)
		}
		ep, err := tx.WebhookEndpointByID(c.EndpointID)
		if err != nil {
			return err
		}
		since := now
		if ep.FailingSince != nil {
			since = *ep.FailingSince
		}
		reason := ""
		if ep.Enabled && now.Sub(since) >= d.DisableAfter {
			reason = fmt.Sprintf("every delivery failed for %s (%d attempts in a row); the last: %s", roundDur(now.Sub(since)),
				ep.ConsecutiveFailures+1, errText(a))
			ep.Enabled, ep.DisabledReason, ep.DisabledAt = false, reason, &now
			disabled = ep
		}
		return tx.WebhookEndpointFailed(ep.ID, ep.ConsecutiveFailures+1, since, now, reason)
	})
	if err == nil {
		d.Metrics.Delivery(deliveryOutcome(a, now.Sub(ev.CreatedAt) >= d.GiveUpAfter))
	}
	if err == nil && disabled != nil {
		d.Log.Warn("webhook endpoint disabled", "endpoint", disabled.ID, "url", disabled.URL, "reason", disabled.DisabledReason)
		if d.OnDisabled != nil {
			d.OnDisabled(ctx, disabled)
		}
	}
	return err
}

// deliveryOutcome names an attempt's outcome for the metrics: delivered,
// failed (retried later) or gave_up (no more retries).
func deliveryOutcome(a Attempt, tooOld bool) string {
	switch {
	case a.Accepted:
		return "delivered"
	case tooOld:
		return "gave_up"
	}
	return "failed"
}

func errText(a Attempt) string {
	if a.Status != 0 {
		ex := strings.TrimSpace(a.Excerpt)
		if len(ex) > 200 {
			ex = ex[:200] + "…"
		}
		if ex != "" {
			return fmt.Sprintf("HTTP %d: %s", a.Status, ex)
		}
		return fmt.Sprintf("HTTP %d", a.Status)
	}
	return a.Err
}

func roundDur(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Hour).String()
	}
	return d.Round(time.Second).String()
}

// ErrNotFound: no such delivery or endpoint.
var ErrNotFound = errors.New("not found")

// Redeliver makes a delivery due now again (same event, same webhook-id).
func Redeliver(ctx context.Context, st *store.Store, endpointID, deliveryID uint) error {
	err := st.RedeliverWebhook(ctx, endpointID, deliveryID, st.Now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Prune deletes finished deliveries, and events no delivery waits for,
// older than keep.
func (d *Dispatcher) Prune(ctx context.Context, keep time.Duration) error {
	return d.Store.PruneWebhookOutbox(ctx, d.Store.Now().Add(-keep))
}

// refusedWhy is the address part of a refusal, without Go's dial wrapping.
func refusedWhy(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, netguard.ErrRefused.Error()+": "); i >= 0 {
		return msg[i+len(netguard.ErrRefused.Error())+2:]
	}
	return netguard.ErrRefused.Error()
}
