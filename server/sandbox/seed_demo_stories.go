package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// demoStory is one thing that happens in the demo's month, at its time.
type demoStory struct {
	at time.Time
	do func(ctx context.Context) error
}

// stories are the month's mishaps, in time order (day, hour after the
// month's first hour).
func (w *demoWorld) stories() []demoStory {
	at := func(day, hour int) time.Time {
		return w.start.Add(time.Duration(day*24+hour) * time.Hour)
	}
	// Outages: AWS's BatchMeterUsage answers 500 for 27 hours, Microsoft's
	// batchUsageEvent 503 for 26: the records of the first hours are still
	// unsent when the marketplaces' 24-hour window closes (expired), the
	// others go out once the marketplace is back.
	// AWS takes a month's usage only until 06:00 UTC on the 1st (R4): an
	// outage over that hour would expire the month's last records by the
	// cutoff instead of by the window, so it comes three days earlier then.
	awsFrom, awsTo := at(24, 2), at(25, 5)
	if monthCutoffWithin(awsFrom, awsTo.Add(3*time.Hour)) {
		awsFrom, awsTo = awsFrom.AddDate(0, 0, -3), awsTo.AddDate(0, 0, -3)
	}
	w.meter.FailBetween("BatchMeterUsage", "InternalServiceErrorException", awsFrom, awsTo)
	w.mk.FailBetween("batchUsageEvent", http.StatusServiceUnavailable, `{"message":"The service is temporarily unavailable."}`, at(26, 1), at(27, 3))
	out := []demoStory{
		{at(8, 10), w.forgedSNS},
		{at(10, 6), w.throttledChange},
		{at(10, 8), w.replayFailed},
		{at(12, 0), w.endpoint("Billing system: metering refusals and expiries", ReceiverAccepting)},
		{at(27, 0), w.endpoint("Legacy CRM (decommissioning)", ReceiverFailing)},
		{at(28, 2), w.suspendAtMicrosoft},
		{at(28, 5), w.retry},
		{at(28, 8), w.retry},
		{at(28, 9), w.suspendArrives},
		{at(29, 4), w.suspendAtAWS},
		{at(29, 7), w.retry},
		{at(29, 10), w.retry},
		{at(29, 11), w.cancelAtAWS(false)},
		{at(29, 12), w.cancelAtAWS(true)},
	}
	// The other writers meter three hours of their users' working day
	// (01:00-04:00 UTC, see quantity), whatever the hour the demo starts
	// at: in the quiet hours an hour is often idle or 1, the other
	// writer's own quantity, which Microsoft takes as the same event (no
	// conflict); a demo started at 11:00-15:00 UTC showed none.
	workday := func(day, hour int) time.Time {
		return at(day, 0).Truncate(24 * time.Hour).Add(time.Duration(hour) * time.Hour)
	}
	for i := 0; i < 3; i++ {
		h := workday(14, 1+i)
		out = append(out, demoStory{h.Add(70 * time.Minute), w.otherAWSWriter(h)})
		h = workday(15, 1+i)
		out = append(out, demoStory{h.Add(70 * time.Minute), w.otherAzureWriter(h)})
	}
	// While a marketplace is down the meter keeps retrying (every two
	// hours here): the records fail again and again (the "keeps failing"
	// alert), and are warned of before they expire.
	for h := awsFrom.Add(time.Hour); h.Before(awsTo.Add(3 * time.Hour)); h = h.Add(2 * time.Hour) {
		out = append(out, demoStory{h, w.retry})
	}
	for h := at(26, 2); h.Before(at(27, 6)); h = h.Add(2 * time.Hour) {
		out = append(out, demoStory{h, w.retry})
	}
	// AWS takes a month's usage only until 06:00 UTC on the 1st (R4): the
	// server's regular rounds send the month's last hours in time.
	end := at(demoDays, 0)
	for m := time.Date(w.start.Year(), w.start.Month()+1, 1, 1, 10, 0, 0, time.UTC); m.Before(end); m = m.AddDate(0, 1, 0) {
		out = append(out, demoStory{m, w.retry})
	}
	out = append(out, w.deskStories(at)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// monthCutoffWithin reports whether AWS's month-end cutoff (06:00 UTC on
// a month's 1st) falls between from and to (less than a month apart).
func monthCutoffWithin(from, to time.Time) bool {
	to = to.UTC()
	c := time.Date(to.Year(), to.Month(), 1, 6, 0, 0, 0, time.UTC)
	return !c.Before(from) && !c.After(to)
}

// retry is a round of the meter between the world's steps: finished hours
// sealed, due records sent again.
func (w *demoWorld) retry(ctx context.Context) error {
	if _, err := w.m.Seal(ctx); err != nil {
		return err
	}
	if _, err := w.m.WarnExpiring(ctx); err != nil {
		return err
	}
	_, err := w.m.Dispatch(ctx)
	return err
}

// forgedSNS: a message on the queue that claims to be AWS's SNS
// cancelling the big customer, without a signature; the seller verified
// SNS signatures then (--aws-sns-verify), so it is refused and kept as
// failed, never applied (reference §6.1).
func (w *demoWorld) forgedSNS(ctx context.Context) error {
	p := *w.proc
	p.SNS = &awsmp.SNSVerifier{Now: func() time.Time { return w.clock }}
	body := awsfake.SNSNotification("unsubscribe-pending", w.ids["aws-big"], false, w.clock)
	return p.Receive(ctx, body, fmt.Sprintf("forged-%d", w.clock.Unix()))
}

// throttledChange: the contract customer buys 10 more seats; reading
// their entitlements answers ThrottlingException, so the notification
// fails to apply (kept with its error and a retry time). GetEntitlements
// answers ThrottlingException twice, whichever event reads first.
func (w *demoWorld) throttledChange(ctx context.Context) error {
	id := w.ids["aws-contract"]
	grants := w.ents.Of(id)
	for i := range grants {
		grants[i].Value += 10
	}
	w.ents.Set(id, grants...)
	w.ents.FailNext("ThrottlingException", 2)
	agreement := w.agreements["aws-contract"]
	return w.deliver(ctx, w.clock, append(awsfake.ContractChanged(id, agreement, w.clock),
		awsfake.LicenseEvent("License Updated", id, agreement, w.clock)))
}

// replayFailed: the seller replays the failed notifications from the
// Notifications page (the replay applies them with the processor, as
// POST /api/inbox/{id}/replay does); this time AWS answers.
func (w *demoWorld) replayFailed(ctx context.Context) error {
	page, err := w.st.ListInbox(ctx, store.InboxFilter{Status: store.InboxFailed, Source: awsmp.SourceSQS, Limit: 50})
	if err != nil {
		return err
	}
	failed := page.Items
	for i := range failed {
		if failed[i].NextAttemptAt == nil { // refused for good (the forged one): not replayable
			continue
		}
		m, err := w.st.GetInbox(ctx, failed[i].ID) // with its body (a list leaves it out)
		if err != nil {
			return err
		}
		if err := w.proc.Apply(ctx, m); err != nil {
			return err
		}
		after, err := w.st.GetInbox(ctx, m.ID)
		if err != nil {
			return err
		}
		if err := w.audit(ctx, demoAdmin, "inbox.replayed", "inbox_message", m.ID, map[string]any{"status": m.Status, "error": m.Error},
			map[string]any{"status": after.Status, "error": after.Error}); err != nil {
			return err
		}
	}
	return nil
}

// endpoint: the seller adds an outbound webhook endpoint for metering
// refusals and expiries, and sends it a test event.
func (w *demoWorld) endpoint(desc, url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ep := store.WebhookEndpoint{URL: url, Description: desc, Secret: webhooks.NewSecret(), Enabled: true, CreatedBy: "admin@example.com",
			EventTypes: webhooks.MeteringRecordRejected + "," + webhooks.MeteringRecordExpiring + "," + webhooks.MeteringRecordExpired,
			CreatedAt:  w.clock, UpdatedAt: w.clock}
		if err := w.st.CreateWebhookEndpoint(ctx, &ep); err != nil {
			return err
		}
		if err := w.audit(ctx, demoAdmin, "webhook.create", "webhook", ep.ID, nil, map[string]any{"url": ep.URL, "event_types": strings.Split(ep.EventTypes, ",")}); err != nil {
			return err
		}
		_, err := webhooks.SendTest(ctx, &w.st, w.clock, ep.ID, "admin@example.com")
		return err
	}
}

// otherAWSWriter: another system of the seller's (an old cron job) meters
// an hour of a customer before Marketgate sends it, with another
// quantity: AWS keeps the first (R8), Marketgate's record is a
// DuplicateRecord.
func (w *demoWorld) otherAWSWriter(hour time.Time) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s := w.subs["aws-other-writer"]
		id := awsmp.MeteringIdentityFor(awsmp.OfferModel(s), s)
		_, err := w.aws.BatchMeterUsage(ctx, s.AWSProductCode, []awsmp.UsageRecord{{CustomerAWSAccountID: id.CustomerAWSAccountID,
			LicenseArn: id.LicenseArn, CustomerIdentifier: id.CustomerIdentifier, Dimension: "api_calls", Quantity: 1, Hour: hour}})
		return err
	}
}

// otherAzureWriter: the same on Microsoft's side: its record is in
// conflict (Duplicate, another quantity, M1).
func (w *demoWorld) otherAzureWriter(hour time.Time) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s := w.subs["azure-other-writer"]
		_, err := w.az.BatchUsage(ctx, []azuremp.UsageEvent{{ResourceID: s.AzureSubscriptionID, PlanID: s.Plan.PlanID, Dimension: "api_calls",
			Quantity: 1, Hour: hour}})
		return err
	}
}

// suspendAtMicrosoft: Microsoft suspends a subscription (the customer's
// payment failed); the seller's server does not answer its webhook (it
// is late), so the hours sent meanwhile are refused as ResourceNotActive.
func (w *demoWorld) suspendAtMicrosoft(context.Context) error {
	w.holdAzure = true
	defer func() { w.holdAzure = false }()
	op, err := w.mk.Suspend(w.subs["azure-suspended"].AzureSubscriptionID)
	w.suspendOp = op
	return err
}

// suspendArrives: Microsoft delivers the Suspend webhook again (its
// retries, reference §6.3) while its Get Operation answers 503 once: the
// call is stored and fails to be confirmed (kept with its error and a
// retry time), and the server's next round confirms and applies it.
func (w *demoWorld) suspendArrives(ctx context.Context) error {
	w.mk.FailNext("operation", http.StatusServiceUnavailable, `{"message":"The service is temporarily unavailable."}`)
	status, err := w.mk.RedeliverWebhook(w.subs["azure-suspended"].AzureSubscriptionID, w.suspendOp)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("the Suspend webhook was answered %d", status)
	}
	return err
}

// suspendAtAWS: AWS suspends a buyer's account; it sends no notification,
// and BatchMeterUsage answers CustomerNotSubscribed for them from now on.
func (w *demoWorld) suspendAtAWS(context.Context) error {
	w.meter.Unsubscribe(w.ids["aws-cancels"])
	return nil
}

// cancelAtAWS: that buyer then cancels (unsubscribe pending), and an hour
// later the cancellation completes (ended).
func (w *demoWorld) cancelAtAWS(done bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		id, agreement := w.ids["aws-cancels"], w.agreements["aws-cancels"]
		if !done {
			return w.deliver(ctx, w.clock, awsfake.CancelRequested(id, agreement, w.clock))
		}
		return w.deliver(ctx, w.clock, awsfake.CancelCompleted(id, false, agreement, w.clock))
	}
}
