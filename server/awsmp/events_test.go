package awsmp_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// drain sends the bodies through the real SQS client to the fake queue
// and runs the real poller until the queue is empty.
func drain(t *testing.T, p *awsmp.Processor, bodies ...string) {
	t.Helper()
	fake := awsfake.NewSQS(nil)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	queue := srv.URL + "/000000000000/notifications"
	fake.CreateQueue(queue)
	client := sqsClient(srv.URL)
	for _, b := range bodies {
		if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&awsmp.Poller{SQS: client, QueueURL: queue, Processor: p, Log: p.Log, Wait: 1}).Run(ctx)
		close(done)
	}()
	waitFor(t, "the queue to drain", func() bool { return fake.Len(queue) == 0 })
	cancel()
	<-done
}

// TestEveryAgreementEventIsStoredAndShown: AWS documents 17 agreement-related
// detail types (source aws.agreement-marketplace, " - Manufacturer" and
// " - Proposer" variants). The reference (§6.1) says "Unknown actions or
// detail types are stored, marked ignored, and deleted. NEVER fail on
// them"; the issue adds that each is shown on the right subscription's
// timeline and that ending soon, renewal upcoming, advisory issued and
// disbursement paused become alerts and webhook events.
func TestEveryAgreementEventIsStoredAndShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		st.TestingDB(t).Create(&store.WebhookEndpoint{URL: "https://hooks.example/in", Secret: webhooks.NewSecret(), EventTypes: "*", Enabled: true, CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		drain(t, p, event("lic-1", "License Updated - Manufacturer", at, caLicense("111122223333", "1", "agmt-1", "prod-ca")))
		var sub store.Subscription
		if err := st.TestingReadDB(t).Where("aws_license_arn = ?", "arn:aws:license-manager::111122223333:license:l-1").First(&sub).Error; err != nil || sub.State != "active" {
			t.Fatalf("subscription: %+v %v", sub, err)
		}

		detail := func(extra map[string]any) map[string]any {
			d := map[string]any{"agreement": map[string]any{"id": "agmt-1", "daysBeforeEndTime": 30, "endTime": "2027-01-01T00:00:00Z",
				"autoRenewalEnabled": true}, "acceptor": map[string]any{"accountId": "111122223333"}, "product": map[string]any{"code": "prod-ca"}}
			for k, v := range extra {
				d[k] = v
			}
			return d
		}
		acr := func(status string) map[string]any {
			return detail(map[string]any{"agreementCancellationRequest": map[string]any{"id": "acr-1", "reasonCode": "INCORRECT_TERMS_ACCEPTED",
				"statusCode": status}})
		}
		bar := func(status string) map[string]any {
			return detail(map[string]any{"billingAdjustmentRequest": map[string]any{"billingAdjustmentRequestId": "ba-1", "adjustmentAmount": "100.00",
				"currencyCode": "USD", "originalInvoiceId": "inv-1", "status": status, "statusMessage": "invoice already refunded"}})
		}
		cases := []struct {
			id, detailType string
			detail         map[string]any
			kind, summary  string
			status         string
			webhook, alert string
		}{
			{"ev-amended", "Purchase Agreement Amended - Proposer", detail(map[string]any{"agreement": map[string]any{"id": "agmt-1", "intent": "AMEND", "status": "ACTIVE"}}),
				"aws.agreement_amended", "agmt-1 amended (AMEND)", store.InboxProcessed, "", ""},
			{"ev-ending", "Purchase Agreement Ending - Manufacturer", detail(nil), awsmp.KindAgreementEnding,
				"agreement agmt-1 ends in 30 days (on 2027-01-01) (auto-renewal on)", store.InboxProcessed, webhooks.AgreementEnding, alerts.AgreementEnding},
			{"ev-renewal", "Purchase Agreement Renewal Upcoming - Proposer", detail(nil), awsmp.KindRenewalUpcoming,
				"agreement agmt-1 renews in 30 days", store.InboxProcessed, webhooks.AgreementRenewalUpcoming, alerts.RenewalUpcoming},
			{"ev-terms", "Purchase Agreement Renewal Terms Finalized - Proposer", detail(nil), awsmp.KindRenewalTerms,
				"renewal's terms are final", store.InboxProcessed, "", ""},
			{"ev-acr-pending", "Agreement Cancellation Request Pending Approval - Proposer", acr("PENDING_APPROVAL"), awsmp.KindCancellationRequest,
				"cancellation request acr-1 for agreement agmt-1 is waiting for the buyer, who has 7 days", store.InboxProcessed, "", ""},
			{"ev-acr-approved", "Agreement Cancellation Request Approved - Proposer", acr("APPROVED"), awsmp.KindCancellationRequest,
				"acr-1 for agreement agmt-1 was approved", store.InboxProcessed, "", ""},
			{"ev-acr-rejected", "Agreement Cancellation Request Rejected - Proposer", acr("REJECTED"), awsmp.KindCancellationRequest,
				"was rejected by the buyer", store.InboxProcessed, "", ""},
			{"ev-acr-cancelled", "Agreement Cancellation Request Cancelled - Proposer", acr("CANCELLED"), awsmp.KindCancellationRequest,
				"was withdrawn by the seller", store.InboxProcessed, "", ""},
			{"ev-ba-done", "Purchase Agreement Billing Adjustment Completed - Proposer", bar("COMPLETED"), awsmp.KindBillingAdjustment,
				"billing adjustment ba-1 for agreement agmt-1 completed: 100.00 USD against invoice inv-1 refunded", store.InboxProcessed, "", ""},
			{"ev-ba-failed", "Purchase Agreement Billing Adjustment Failed - Proposer", bar("VALIDATION_FAILED"), awsmp.KindBillingAdjustment,
				"failed: invoice already refunded; VALIDATION_FAILED", store.InboxProcessed, "", ""},
			{"ev-adv-issued", "Purchase Agreement Advisory Issued - Manufacturer", detail(map[string]any{"advisory": map[string]any{"type": "PAYMENT_OVERDUE"}}),
				awsmp.KindAdvisoryIssued, "AWS issued an advisory on agreement agmt-1: PAYMENT_OVERDUE", store.InboxProcessed, webhooks.AgreementAdvisoryIssued, alerts.AgreementAdvisory},
			{"ev-adv-resolved", "Purchase Agreement Advisory Resolved - Manufacturer", detail(nil), awsmp.KindAdvisoryResolved,
				"AWS resolved the advisory on agreement agmt-1", store.InboxProcessed, "", ""},
			{"ev-disb", "Purchase Agreement Disbursement Paused - Manufacturer", detail(map[string]any{"disbursement": map[string]any{"reason": "TAX_INFORMATION_MISSING"}}),
				awsmp.KindDisbursementPaused, "AWS paused disbursements for agreement agmt-1: TAX_INFORMATION_MISSING", store.InboxProcessed,
				webhooks.AgreementDisbursementPaused, alerts.DisbursementPaused},
			// A detail type AWS adds tomorrow: kept, shown, never failed.
			{"ev-unknown", "Purchase Agreement Teleported - Proposer", detail(nil), awsmp.KindUnknownEvent,
				`AWS sent "Purchase Agreement Teleported" about agreement agmt-1, an event Marketgate does not know`, store.InboxIgnored, "", ""},
		}
		var bodies []string
		for _, c := range cases {
			bodies = append(bodies, event(c.id, c.detailType, at.Add(time.Minute), c.detail))
		}
		// The other role's variant of the same event: its own id, applied once.
		bodies = append(bodies, event("ev-ending-2", "Purchase Agreement Ending - Proposer", at.Add(time.Minute), detail(nil)))
		drain(t, p, bodies...)

		tl, err := st.Timeline(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		count := func(kind, text string) int {
			n := 0
			for _, e := range tl {
				if e.Kind == kind && strings.Contains(e.Summary, text) {
					n++
				}
			}
			return n
		}
		for _, c := range cases {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("dedup_key = ?", "event:"+c.id).First(&m)
			if m.Status != c.status || m.SubscriptionID == nil || *m.SubscriptionID != sub.ID {
				t.Errorf("%s: inbox %s (%s) subscription %v, want %s on %d", c.detailType, m.Status, m.Error, m.SubscriptionID, c.status, sub.ID)
			}
			if n := count(c.kind, c.summary); n != 1 {
				t.Errorf("%s: %d timeline notes %s containing %q, want 1", c.detailType, n, c.kind, c.summary)
			}
			if c.webhook != "" {
				var evs []store.Event
				st.TestingReadDB(t).Where("type = ? AND subscription_id = ?", c.webhook, sub.ID).Find(&evs)
				if len(evs) != 1 || !strings.Contains(evs[0].Data, `"agmt-1"`) {
					t.Errorf("%s: %d %s webhook events, want 1 naming the agreement", c.detailType, len(evs), c.webhook)
				}
			}
		}
		var second store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "event:ev-ending-2").First(&second)
		if second.Status != store.InboxProcessed {
			t.Fatalf("second variant: %+v", second)
		}

		svc := &alerts.Service{Store: st, Log: p.Log}
		if err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if c.alert == "" {
				continue
			}
			var a store.Alert
			st.TestingReadDB(t).Where("type = ? AND key = ?", c.alert, c.alert+":"+itoa(sub.ID)).First(&a)
			if a.ID == 0 || !strings.Contains(a.Detail, c.summary) || a.Link != "/subscriptions/"+itoa(sub.ID) {
				t.Errorf("%s: alert %+v", c.detailType, a)
			}
		}
		if sub2 := reload(t, st, sub.ID); sub2.State != "active" {
			t.Fatalf("notes changed the state: %s", sub2.State)
		}
	})
}

// TestAgreementEventsFindTheirSubscription: an event names the agreement,
// and sometimes the license or only the buyer's account. The note goes to
// the subscription the agreement is linked to, else the license's, else
// the only running subscription of that account and product; never to a
// guess among several.
func TestAgreementEventsFindTheirSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		drain(t, p,
			event("l-a", "License Updated - Manufacturer", at, caLicense("111111111111", "a", "agmt-a", "prod-ca")),
			event("l-b1", "License Updated - Manufacturer", at, caLicense("222222222222", "b1", "agmt-b1", "prod-ca")),
			event("l-b2", "License Updated - Manufacturer", at, caLicense("222222222222", "b2", "agmt-b2", "prod-ca")))
		subOf := func(n string) uint {
			var s store.Subscription
			st.TestingReadDB(t).Where("aws_license_arn LIKE ?", "%:license:l-"+n).First(&s)
			return s.ID
		}
		adv := func(id, agreement string, extra map[string]any) string {
			d := map[string]any{"agreement": map[string]any{"id": agreement}, "product": map[string]any{"code": "prod-ca"}}
			for k, v := range extra {
				d[k] = v
			}
			return event(id, "Purchase Agreement Advisory Issued - Manufacturer", at.Add(time.Minute), d)
		}
		drain(t, p,
			// Unlinked agreement, the license named: the license's subscription.
			adv("by-license", "agmt-x", map[string]any{"license": map[string]any{"arn": "arn:aws:license-manager::222222222222:license:l-b2"}}),
			// Unlinked agreement, only the account: its one subscription.
			adv("by-account", "agmt-y", map[string]any{"acceptor": map[string]any{"accountId": "111111111111"}}),
			// The account holds two running subscriptions: no guess.
			adv("ambiguous", "agmt-z", map[string]any{"acceptor": map[string]any{"accountId": "222222222222"}}),
			// The linked agreement wins over the account.
			adv("by-agreement", "agmt-b1", map[string]any{"acceptor": map[string]any{"accountId": "222222222222"}}))
		want := map[string]uint{"by-license": subOf("b2"), "by-account": subOf("a"), "ambiguous": 0, "by-agreement": subOf("b1")}
		for key, sub := range want {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("dedup_key = ?", "event:"+key).First(&m)
			if m.Status != store.InboxProcessed {
				t.Errorf("%s: status %s (%s)", key, m.Status, m.Error)
			}
			got := uint(0)
			if m.SubscriptionID != nil {
				got = *m.SubscriptionID
			}
			if got != sub {
				t.Errorf("%s: on subscription %d, want %d", key, got, sub)
			}
		}
		var m store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "event:ambiguous").First(&m)
		if !strings.Contains(m.Error, "no subscription matches") {
			t.Fatalf("unmatched event's reason: %q", m.Error)
		}
		// The unmatched advisory is still an alert, pointing at the log.
		svc := &alerts.Service{Store: st, Log: p.Log}
		if err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var a store.Alert
		st.TestingReadDB(t).Where("key = ?", alerts.AgreementAdvisory+":unmatched").First(&a)
		if a.Count != 1 || !strings.Contains(a.Link, "/notifications") {
			t.Fatalf("unmatched alert: %+v", a)
		}
	})
}

// TestUnknownValuesAreKeptNotFailed: the reference (§6.5, note 1) says
// "Verify them against the first real events, and store unknown values
// verbatim". An unknown SNS action is kept and shown on the customer's
// timeline; an unknown intent or a status longer than its column is stored
// (cut to the column) and the message never fails, on either database.
func TestUnknownValuesAreKeptNotFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", CreatedAt: now, UpdatedAt: now})
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		long := "SUSPENDED_PENDING_A_VERY_LONG_REVIEW_BY_AWS_TRUST_AND_SAFETY"
		drain(t, p,
			snsEnvelope("m-1", at, legacyMsg("subscribe-success")),
			event("l-1", "License Updated - Manufacturer", at, caLicense("111122223333", "1", "agmt-1", "prod-ca")))
		drain(t, p,
			snsEnvelope("m-2", at.Add(time.Minute), map[string]any{"action": "subscribe-paused", "customer-identifier": "X01EXAMPLEX", "product-code": "prod-legacy"}),
			agreementEvent("c-1", "Purchase Agreement Created - Proposer", at.Add(time.Minute), "agmt-1", "MIGRATE", long, "", "prod-ca"),
			agreementEvent("e-1", "Purchase Agreement Ended - Proposer", at.Add(2*time.Minute), "agmt-1", "", long, "", "prod-ca"))

		var legacy store.Subscription
		st.TestingReadDB(t).Where("aws_customer_identifier = ?", "X01EXAMPLEX").First(&legacy)
		var m store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "sns:m-2").First(&m)
		if m.Status != store.InboxIgnored || m.SubscriptionID == nil || *m.SubscriptionID != legacy.ID || !strings.Contains(m.Error, "subscribe-paused") {
			t.Fatalf("unknown SNS action: %+v", m)
		}
		tl, _ := st.Timeline(ctx, legacy.ID)
		if !hasNote(tl, awsmp.KindUnknownEvent, `SNS action "subscribe-paused"`) || legacy.State != "active" {
			t.Fatalf("unknown action not shown, or state changed: %s", legacy.State)
		}

		var a store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-1").First(&a)
		if a.Intent != "MIGRATE" || a.Status != long[:32] || a.EndedAt == nil {
			t.Fatalf("agreement: %+v", a)
		}
		for _, key := range []string{"event:c-1", "event:e-1"} {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("dedup_key = ?", key).First(&m)
			if m.Status == store.InboxFailed || m.Status == store.InboxReceived {
				t.Fatalf("%s: %s %s", key, m.Status, m.Error)
			}
		}
		var ca store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn LIKE ?", "%l-1").First(&ca)
		if ca.State != "active" {
			t.Fatalf("an unknown end status revoked access: %s", ca.State)
		}
	})
}

func hasNote(tl []store.TimelineEvent, kind, text string) bool {
	for _, e := range tl {
		if e.Kind == kind && strings.Contains(e.Summary, text) {
			return true
		}
	}
	return false
}

func reload(t testing.TB, st *store.Store, id uint) store.Subscription {
	t.Helper()
	var s store.Subscription
	st.TestingReadDB(t).First(&s, id)
	return s
}

func itoa(v uint) string { return strconv.FormatUint(uint64(v), 10) }

// TestSeventeenAgreementDetailTypesAreKnown: every detail type AWS
// documents for agreements is classified (a lifecycle kind or a known
// note), in both role variants, and the notes also without their
// "Purchase" prefix (AWS's pages name some both ways); none is unknown.
func TestSeventeenAgreementDetailTypesAreKnown(t *testing.T) {
	if len(awsmp.AgreementEventTypes) != 17 {
		t.Fatalf("%d agreement detail types listed, AWS documents 17", len(awsmp.AgreementEventTypes))
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	d := caLicense("111122223333", "1", "agmt-1", "prod-ca")
	d["agreement"] = map[string]any{"id": "agmt-1", "status": "EXPIRED"}
	for _, et := range awsmp.AgreementEventTypes {
		names := []string{et.DetailType + " - Manufacturer", et.DetailType + " - Proposer"}
		lifecycle := et.DetailType == awsmp.AgreementCreated || et.DetailType == awsmp.AgreementAmended ||
			et.DetailType == awsmp.AgreementEnded || et.DetailType == awsmp.AgreementEnding
		if short := strings.TrimPrefix(et.DetailType, "Purchase "); short != et.DetailType && !lifecycle {
			names = append(names, short+" - Proposer")
		}
		for _, name := range names {
			n, err := awsmp.ParseNotification(event("e-"+name, name, at, d), "")
			known := err == nil && (n.Kind != "" || (n.Note == nil && n.Agreement != nil && n.Ignore == "") || (n.Note != nil && n.Note.Known))
			if !known {
				t.Errorf("%q: not classified (%+v, %v)", name, n.Note, err)
			}
		}
	}
}
