package alerts

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/marketgate/marketgate/store"
)

const sweptKey = "alerts_swept_at"

// Sweep raises the alerts the stored state calls for since the last sweep:
// inbound messages that failed to apply, metering records rejected or
// nearing the end of their window, records the marketplaces keep refusing
// with transient errors, and subscriptions waiting for the seller's
// approval. It reads what is stored, so a crash loses nothing: the next
// sweep (on any replica) sees the same rows. Callers hold a lease.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.Store.Now()
	since, err := s.lastSwept(ctx, now)
	if err != nil {
		return err
	}
	if err := s.sweepInbox(ctx, since, now); err != nil {
		return err
	}
	if err := s.sweepMetering(ctx, since, now); err != nil {
		return err
	}
	if err := s.sweepApprovals(ctx, since, now); err != nil {
		return err
	}
	if err := s.sweepAgreements(ctx, since, now); err != nil {
		return err
	}
	return s.Store.SetSetting(ctx, sweptKey, now.Format(time.RFC3339Nano))
}

// lastSwept is when the last sweep ran; the first sweep looks back an hour.
func (s *Service) lastSwept(ctx context.Context, now time.Time) (time.Time, error) {
	since := now.Add(-time.Hour)
	v, ok, err := s.Store.GetSetting(ctx, sweptKey)
	if err != nil || !ok {
		return since, err
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		since = t
	}
	return since, nil
}

// sweepInbox raises an alert per source for inbound messages that failed
// to apply.
func (s *Service) sweepInbox(ctx context.Context, since, now time.Time) error {
	failed, err := s.Store.FailedInboxBetween(ctx, since, now)
	if err != nil {
		return err
	}
	for _, f := range failed {
		if err := s.Raise(ctx, InboxFailed, "inbox:"+f.Source, fmt.Sprintf("Inbound %s messages failed to apply", f.Source),
			fmt.Sprintf("%d new since the last check; for example: %s", f.N, short(f.Err)), "/notifications?status=failed", f.N); err != nil {
			return err
		}
	}
	return nil
}

// sweepMetering raises the alerts for metering records refused for good,
// records near the window's end, and transient failures that keep coming
// back (the marketplace is not answering).
func (s *Service) sweepMetering(ctx context.Context, since, now time.Time) error {
	refused, err := s.Store.RefusedMeteringBetween(ctx, since, now)
	if err != nil {
		return err
	}
	for _, r := range refused {
		if err := s.Raise(ctx, MeteringRejected, "metering:rejected:"+r.Marketplace, fmt.Sprintf("%s refused metering records", name(r.Marketplace)),
			fmt.Sprintf("%d records refused or in conflict; for example: %s", r.N, short(r.Reason)), "/metering?status=rejected,duplicate,conflict", r.N); err != nil {
			return err
		}
	}
	expiring, err := s.Store.ExpiryWarnedBetween(ctx, since, now)
	if err != nil {
		return err
	}
	if err := s.Raise(ctx, MeteringExpiring, "metering:expiring", "Metering records are about to expire",
		fmt.Sprintf("%d records are still not accepted 4 hours before the marketplace stops taking them (24 hours after their hour; on AWS 06:00 UTC on the 1st for a past month).", expiring),
		"/metering?status=pending", expiring); err != nil {
		return err
	}
	failing, err := s.Store.FailingMeteringBetween(ctx, 5, since, now)
	if err != nil {
		return err
	}
	for _, f := range failing {
		if err := s.Raise(ctx, MarketplaceFailing, "marketplace:"+f.Marketplace, fmt.Sprintf("Calls to %s keep failing", name(f.Marketplace)),
			fmt.Sprintf("%d metering records failed five times or more; the last answer: %s", f.N, short(f.Reason)), "/metering?status=pending", f.N); err != nil {
			return err
		}
	}
	return nil
}

// sweepApprovals raises an alert per subscription waiting for the seller's
// approval.
func (s *Service) sweepApprovals(ctx context.Context, since, now time.Time) error {
	waiting, err := s.Store.AwaitingApprovalBetween(ctx, since, now)
	if err != nil {
		return err
	}
	for _, w := range waiting {
		if err := s.Raise(ctx, ApprovalWaiting, fmt.Sprintf("approval:%d", w.ID), "A subscription waits for your approval",
			fmt.Sprintf("%q was purchased with a plan the seller approves; it is not active (nor billed) until someone approves it.", w.Name),
			fmt.Sprintf("/subscriptions/%d", w.ID), 1); err != nil {
			return err
		}
	}
	return nil
}

// agreementAlerts are the AWS agreement events a seller must act on: the
// timeline kind the SQS processor writes for each (server/awsmp), the
// detail type it stores in the inbox, the alert type and its title.
var agreementAlerts = []struct{ kind, detailType, typ, title string }{
	{"aws.agreement_ending", "Purchase Agreement Ending", AgreementEnding, "An AWS agreement is ending"},
	{"aws.renewal_upcoming", "Purchase Agreement Renewal Upcoming", RenewalUpcoming, "An AWS agreement renews soon"},
	{"aws.advisory_issued", "Purchase Agreement Advisory Issued", AgreementAdvisory, "AWS issued an advisory on an agreement"},
	{"aws.disbursement_paused", "Purchase Agreement Disbursement Paused", DisbursementPaused, "AWS paused disbursements for an agreement"},
	{"aws.auto_renewal_off", "", AutoRenewalOff, "Auto-renewal of an AWS agreement was turned off"},

	{"aws.agreement_request", "Agreement request outcome", AgreementRequest, "An AWS refund, cancellation or payment request has an outcome"},
}

// sweepAgreements raises an alert per subscription for each such event
// written on a timeline since the last sweep (repeats, such as Ending at
// 90 then 60 days, add to its count), and one per type for those no
// subscription matched (they wait in the notification log).
func (s *Service) sweepAgreements(ctx context.Context, since, now time.Time) error {
	kinds := make([]string, 0, len(agreementAlerts))
	for _, a := range agreementAlerts {
		kinds = append(kinds, a.kind)
	}
	notes, err := s.Store.TimelineNotesBetween(ctx, kinds, since, now)
	if err != nil {
		return err
	}
	for _, a := range agreementAlerts {
		for _, n := range notes {
			if n.Kind != a.kind {
				continue
			}
			if err := s.Raise(ctx, a.typ, fmt.Sprintf("%s:%d", a.typ, n.SubscriptionID), a.title,
				fmt.Sprintf("%s: %s", n.Name, n.Summary), fmt.Sprintf("/subscriptions/%d", n.SubscriptionID), 1); err != nil {
				return err
			}
		}
		if a.detailType == "" {
			continue // derived from other events: always on a subscription
		}
		unmatched, err := s.Store.UnmatchedInboxBetween(ctx, "aws_sqs", a.detailType, since, now)
		if err != nil {
			return err
		}
		if err := s.Raise(ctx, a.typ, a.typ+":unmatched", a.title,
			fmt.Sprintf("%d %s events match no subscription yet (no License Updated linked their agreement); see the notification log.", unmatched, a.detailType),
			"/notifications?source=aws_sqs&action="+url.QueryEscape(a.detailType), unmatched); err != nil {
			return err
		}
	}
	return nil
}

func name(mp string) string {
	switch mp {
	case "aws":
		return "AWS Marketplace"
	case "azure":
		return "Microsoft's marketplace"
	}
	return mp
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	if s == "" {
		return "(no message)"
	}
	return s
}

// EndpointDisabled raises the alert for a webhook endpoint that was disabled.
func (s *Service) EndpointDisabled(ctx context.Context, ep *store.WebhookEndpoint) {
	if err := s.Raise(ctx, WebhookDisabled, fmt.Sprintf("webhook:%d", ep.ID), "A webhook endpoint was disabled",
		fmt.Sprintf("%s: %s. Fix the receiver, then enable the endpoint again; its waiting deliveries resume.", ep.URL, ep.DisabledReason),
		fmt.Sprintf("/webhooks/%d", ep.ID), 1); err != nil && s.Log != nil {
		s.Log.Error("alert", "err", err)
	}
}

// Calls follows calls to a marketplace made in this process (SQS polling,
// Microsoft reconciliation) and raises marketplace_failing when one keeps
// failing: at Threshold failures in a row, and again at every further
// Threshold (coalescing keeps that from becoming a storm).
type Calls struct {
	Alerts    *Service
	Threshold int            // default 5
	For       map[string]int // thresholds of particular calls (rare calls deserve a lower one)

	mu     sync.Mutex
	streak map[string]int
	conns  map[string]*Connection
}

// Connection is how calls to one marketplace went lately (this process).
type Connection struct {
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	LastError     string     `json:"last_error"`
	LastCall      string     `json:"last_call"`
}

// Snapshot returns each marketplace's connection state.
func (c *Calls) Snapshot() map[string]Connection {
	out := map[string]Connection{}
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.conns {
		out[k] = *v
	}
	return out
}

// Observe records a call's outcome (err nil: it worked).
func (c *Calls) Observe(marketplace, call string, err error) {
	if c == nil {
		return
	}
	th := c.Threshold
	if v, ok := c.For[call]; ok {
		th = v
	}
	if th <= 0 {
		th = 5
	}
	key := marketplace + ":" + call
	now := time.Now().UTC()
	c.mu.Lock()
	if c.streak == nil {
		c.streak, c.conns = map[string]int{}, map[string]*Connection{}
	}
	conn := c.conns[marketplace]
	if conn == nil {
		conn = &Connection{}
		c.conns[marketplace] = conn
	}
	conn.LastCall = call
	if err == nil {
		conn.LastSuccessAt = &now
	} else {
		conn.LastErrorAt, conn.LastError = &now, short(err.Error())
	}
	if err == nil {
		delete(c.streak, key)
		c.mu.Unlock()
		return
	}
	c.streak[key]++
	n := c.streak[key]
	c.mu.Unlock()
	if n%th != 0 || c.Alerts == nil {
		return
	}
	if rerr := c.Alerts.Raise(context.Background(), MarketplaceFailing, "marketplace:"+key, fmt.Sprintf("Calls to %s keep failing", name(marketplace)),
		fmt.Sprintf("%s failed %d times in a row; the last error: %s", call, n, short(err.Error())), "/settings", 1); rerr != nil && c.Alerts.Log != nil {
		c.Alerts.Log.Error("alert", "err", rerr)
	}
}
