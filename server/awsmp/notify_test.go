package awsmp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func snsEnvelope(id string, at time.Time, msg map[string]any) string {
	inner, _ := json.Marshal(msg)
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": id,
		"TopicArn": "arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-legacy",
		"Message":  string(inner), "Timestamp": at.Format(time.RFC3339Nano)})
	return string(b)
}

func event(id, detailType string, at time.Time, detail map[string]any) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": detailType, "source": "aws.agreement-marketplace",
		"time": at.Format(time.RFC3339), "detail": detail})
	return string(b)
}

func legacyMsg(action string) map[string]any {
	return map[string]any{"action": action, "customer-identifier": " X01EXAMPLEX", "product-code": "prod-legacy",
		"offer-identifier": "offer-1", "isFreeTrialTermPresent": "true"}
}

func TestParseNotification(t *testing.T) {
	at := time.Date(2026, 6, 2, 9, 14, 3, 0, time.UTC)
	license := map[string]any{"license": map[string]any{"arn": "arn:aws:license-manager::845735284135:license:l-1"},
		"acceptor": map[string]any{"accountId": "845735284135"}, "product": map[string]any{"code": "prod-ca"}}
	objectMessage, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "m-obj", "Message": legacyMsg("subscribe-fail")})
	rawSNS, _ := json.Marshal(legacyMsg("unsubscribe-pending"))
	cases := []struct {
		name, body string
		kind       lifecycle.Kind
		dedup      string
		ignored    bool
		bad        bool
	}{
		{"sns subscribe-success", snsEnvelope("m-1", at, legacyMsg("subscribe-success")), lifecycle.AWSSubscribeSuccess, "sns:m-1", false, false},
		{"sns message as object", string(objectMessage), lifecycle.AWSSubscribeFail, "sns:m-obj", false, false},
		{"raw sns", string(rawSNS), lifecycle.AWSUnsubscribePending, "sqs:sqs-1", false, false},
		{"sns unsubscribe-success", snsEnvelope("m-2", at, legacyMsg("unsubscribe-success")), lifecycle.AWSUnsubscribeSuccess, "sns:m-2", false, false},
		{"entitlement-updated", snsEnvelope("m-3", at, map[string]any{"action": "entitlement-updated", "customer-identifier": "X", "product-code": "p"}), "", "sns:m-3", false, false},
		{"unknown action", snsEnvelope("m-4", at, map[string]any{"action": "subscribe-maybe"}), "", "sns:m-4", true, false},
		{"license updated", event("e-1", "License Updated - Manufacturer", at, license), lifecycle.AWSSubscribeSuccess, "event:e-1", false, false},
		{"license deprovisioned", event("e-2", "License Deprovisioned - Manufacturer", at, license), lifecycle.AWSUnsubscribePending, "event:e-2", false, false},
		{"agreement created", event("e-3", "Purchase Agreement Created - Proposer", at, agreementDetail("agmt-1", "NEW", "ACTIVE")), "", "event:e-3", false, false},
		{"agreement ended", event("e-6", "Purchase Agreement Ended - Manufacturer", at, agreementDetail("agmt-1", "", "EXPIRED")), "", "event:e-6", false, false},
		{"agreement ending", event("e-7", "Purchase Agreement Ending - Manufacturer", at, agreementDetail("agmt-1", "", "ACTIVE")), "", "event:e-7", false, false},
		{"agreement renewal terms", event("e-8", "Purchase Agreement Renewal Terms Finalized - Proposer", at, agreementDetail("agmt-1", "", "")), "", "event:e-8", false, false},
		{"agreement created without id", event("e-9", "Purchase Agreement Created - Proposer", at, map[string]any{}), "", "", false, true},
		{"agreement ended without status", event("e-10", "Purchase Agreement Ended - Proposer", at, agreementDetail("agmt-1", "", "")), "", "", false, true},
		{"advisory", event("e-4", "Some Advisory", at, nil), "", "event:e-4", true, false},
		{"not json", "hello", "", "", false, true},
		{"json but unknown", `{"hello":"world"}`, "", "", false, true},
		{"sns without customer", snsEnvelope("m-5", at, map[string]any{"action": "subscribe-success"}), "", "", false, true},
		{"license updated without arn", event("e-5", "License Updated", at, map[string]any{}), "", "", false, true},
		{"sns message not json", `{"Type":"Notification","MessageId":"m-6","Message":"nope"}`, "", "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := awsmp.ParseNotification(c.body, "sqs-1")
			if c.bad {
				if err == nil {
					t.Fatalf("no error for %s", c.body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != c.kind || n.DedupKey != c.dedup || (n.Ignore != "") != c.ignored {
				t.Fatalf("got %+v", n)
			}
		})
	}
	n, _ := awsmp.ParseNotification(snsEnvelope("m-1", at, legacyMsg("subscribe-success")), "")
	if n.Ref.AWSCustomerIdentifier != "X01EXAMPLEX" || !n.FreeTrial || !n.At.Equal(at) || n.OfferIdentifier != "offer-1" {
		t.Fatalf("fields: %+v", n)
	}
}

func agreementDetail(id, intent, status string) map[string]any {
	return map[string]any{"agreement": map[string]any{"id": id, "intent": intent, "status": status,
		"startTime": "2026-06-01T00:00:00Z", "endTime": "2027-06-01T00:00:00Z", "daysBeforeEndTime": 30, "autoRenewalEnabled": false},
		"acceptor": map[string]any{"accountId": "845735284135"}, "product": map[string]any{"code": "prod-ca"},
		"offer": map[string]any{"id": "offer-9"}}
}

func TestParseAgreementFields(t *testing.T) {
	at := time.Date(2026, 6, 2, 9, 14, 3, 0, time.UTC)
	d := agreementDetail("agmt-7", "RENEW", "ACTIVE")
	d["previousAgreementId"] = "agmt-6"
	n, err := awsmp.ParseNotification(event("e-1", "Purchase Agreement Created - Manufacturer", at, d), "")
	if err != nil {
		t.Fatal(err)
	}
	a := n.Agreement
	if a == nil || a.ID != "agmt-7" || a.Intent != "RENEW" || a.Status != "ACTIVE" || a.PreviousID != "agmt-6" ||
		a.AccountID != "845735284135" || a.OfferID != "offer-9" || a.AutoRenewal != "false" ||
		a.DaysBeforeEnd == nil || *a.DaysBeforeEnd != 30 ||
		!a.StartsAt.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) || !a.EndsAt.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("agreement: %+v", a)
	}
	// Epoch-second times at the detail level are read too.
	d = map[string]any{"agreement": map[string]any{"id": "agmt-8"}, "startTime": 1780390800.0}
	n, _ = awsmp.ParseNotification(event("e-2", "Purchase Agreement Amended", at, d), "")
	if n.Agreement == nil || n.Agreement.StartsAt.Unix() != 1780390800 {
		t.Fatalf("epoch start: %+v", n.Agreement)
	}
	for _, c := range []struct {
		status        string
		revoke, known bool
	}{{"CANCELLED", true, true}, {"expired", true, true}, {"TERMINATED", true, true}, {"RENEWED", false, true},
		{"REPLACED", false, true}, {"SOMETHING_NEW", false, false}} {
		if r, k := awsmp.RevokesAccess(c.status); r != c.revoke || k != c.known {
			t.Errorf("RevokesAccess(%q) = %v, %v", c.status, r, k)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	at := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	f.Add(snsEnvelope("m-1", at, legacyMsg("subscribe-success")))
	f.Add(event("e-1", "License Updated - Manufacturer", at, map[string]any{"license": map[string]any{"arn": "a"}, "acceptor": map[string]any{"accountId": "1"}}))
	f.Add(`{"action":"unsubscribe-success","customer-identifier":"X","product-code":"p"}`)
	f.Add(`{"Type":"Notification","Message":{"action":1}}`)
	f.Add(`[]`)
	f.Add(event("e-2", "Purchase Agreement Ended - Proposer", at, agreementDetail("agmt-1", "", "CANCELLED")))
	f.Add(`{"source":"aws.agreement-marketplace","id":"x","detail-type":"Purchase Agreement Ending","detail":{"agreement":{"id":"a","daysBeforeEndTime":"x","startTime":{}}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		n, err := awsmp.ParseNotification(body, "sqs-id")
		if err == nil && n.Kind == "" && n.Ignore == "" && !n.Refresh && n.Agreement == nil && n.Note == nil {
			t.Fatalf("accepted without a kind or a reason to ignore: %q", body)
		}
		if err == nil && n.Kind != "" && n.Ref == (subscriptions.Ref{}) {
			t.Fatalf("an event to apply without a subscription key: %q", body)
		}
	})
}

func processor(st *store.Store) *awsmp.Processor {
	return &awsmp.Processor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestProcessNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		offer := store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", CreatedAt: now, UpdatedAt: now}
		st.TestingDB(t).Create(&offer)
		p := processor(st)
		at := now.Add(-time.Hour)

		// A notification about a customer never seen creates the record.
		body := snsEnvelope("m-1", at, legacyMsg("subscribe-success"))
		if err := p.Receive(ctx, body, "sqs-1"); err != nil {
			t.Fatal(err)
		}
		var sub store.Subscription
		st.TestingReadDB(t).Where("aws_customer_identifier = ?", "X01EXAMPLEX").First(&sub)
		if sub.State != "active" || sub.OfferID == nil || *sub.OfferID != offer.ID || !sub.FreeTrial || sub.AWSOfferID != "offer-1" {
			t.Fatalf("created: %+v", sub)
		}
		// The same message again (SQS redelivery) changes nothing.
		for i := 0; i < 5; i++ {
			if err := p.Receive(ctx, body, fmt.Sprint("sqs-redelivery-", i)); err != nil {
				t.Fatal(err)
			}
		}
		var again store.Subscription
		st.TestingReadDB(t).First(&again, sub.ID)
		tl, _ := st.Timeline(ctx, sub.ID)
		if again.Version != sub.Version || len(tl) != 1 {
			t.Fatalf("redelivery changed the subscription: version %d→%d, timeline %d", sub.Version, again.Version, len(tl))
		}
		// An upgrade: subscribe-success again with the new offer; an older
		// message naming the old offer, delivered late, does not undo it.
		upgrade := legacyMsg("subscribe-success")
		upgrade["offer-identifier"] = "offer-2"
		p.Receive(ctx, snsEnvelope("m-up", at.Add(30*time.Second), upgrade), "sqs-up")
		late := legacyMsg("subscribe-success")
		p.Receive(ctx, snsEnvelope("m-late", at.Add(10*time.Second), late), "sqs-late")
		st.TestingReadDB(t).First(&again, sub.ID)
		if again.AWSOfferID != "offer-2" || again.State != "active" {
			t.Fatalf("offer after upgrade and a late message: %q %s", again.AWSOfferID, again.State)
		}
		// Out of order: unsubscribe-success (newer) then unsubscribe-pending (older).
		p.Receive(ctx, snsEnvelope("m-3", at.Add(2*time.Minute), legacyMsg("unsubscribe-success")), "sqs-3")
		p.Receive(ctx, snsEnvelope("m-2", at.Add(time.Minute), legacyMsg("unsubscribe-pending")), "sqs-2")
		st.TestingReadDB(t).First(&again, sub.ID)
		if again.State != "ended" {
			t.Fatalf("state %s after out-of-order unsubscribe", again.State)
		}
		// Unknown actions and garbage are stored, never thrown.
		p.Receive(ctx, snsEnvelope("m-4", at, map[string]any{"action": "subscribe-maybe"}), "sqs-4")
		p.Receive(ctx, "not json at all", "sqs-5")
		var msgs []store.InboxMessage
		st.TestingReadDB(t).Order("id").Find(&msgs)
		statuses := map[string]string{}
		for _, m := range msgs {
			statuses[m.DedupKey] = m.Status
		}
		want := map[string]string{"sns:m-1": "processed", "sns:m-2": "processed", "sns:m-3": "processed", "sns:m-4": "ignored", "sqs:sqs-5": "failed",
			"sns:m-up": "processed", "sns:m-late": "processed"}
		for k, v := range want {
			if statuses[k] != v {
				t.Fatalf("inbox %s = %q, want %q (all: %v)", k, statuses[k], v, statuses)
			}
		}
		if len(msgs) != 7 {
			t.Fatalf("%d inbox rows", len(msgs))
		}
		// EventBridge: a license for a new customer; its cancellation asks
		// for the final metering records at once.
		var finals []uint
		p.Final = func(_ context.Context, id uint) { finals = append(finals, id) }
		lic := map[string]any{"license": map[string]any{"arn": "arn:aws:license-manager::845735284135:license:l-9"},
			"acceptor": map[string]any{"accountId": "845735284135"}, "product": map[string]any{"code": "prod-ca"}}
		p.Receive(ctx, event("e-1", "License Updated - Manufacturer", at, lic), "sqs-6")
		p.Receive(ctx, event("e-2", "License Deprovisioned - Manufacturer", at.Add(time.Minute), map[string]any{
			"license": map[string]any{"arn": "arn:aws:license-manager::845735284135:license:l-9"}}), "sqs-7")
		var ca store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn = ?", "arn:aws:license-manager::845735284135:license:l-9").First(&ca)
		if ca.State != "unsubscribe_pending" || ca.AWSCustomerAccountID != "845735284135" {
			t.Fatalf("eventbridge: %+v", ca)
		}
		if len(finals) != 1 || finals[0] != ca.ID {
			t.Fatalf("final metering asked for %v, want [%d]", finals, ca.ID)
		}
	})
}

func TestContractEntitlements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		offers := []store.Offer{
			{Marketplace: "aws", Name: "Contracts", MarketplaceID: "prod-contract", Contract: true, CreatedAt: now, UpdatedAt: now,
				Plans: []store.Plan{{PlanID: "per-seat", Name: "Per seat", SeatBased: true, ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now,
					Dimensions: `[{"key":"seats","name":"Seats","unit":"user"},{"key":"calls","name":"Calls","unit":"call","metered":true}]`}}},
			{Marketplace: "aws", Name: "Contracts CA", MarketplaceID: "prod-contract-ca", Contract: true, IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now},
		}
		st.TestingDB(t).Create(&offers)
		fake := awsfake.NewEntitlements()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		client, _ := awsmp.New(ctx, awsmp.Config{EntitlementEndpoint: srv.URL, StaticKeys: true, MaxAttempts: 1})
		p := processor(st)
		p.AWS = client

		legacy := awsfake.Identity{CustomerIdentifier: "XCONTRACT", ProductCode: "prod-contract"}
		fake.Set(legacy, awsfake.Entitlement{Dimension: "seats", Value: 25, Expiration: now.Add(365 * 24 * time.Hour)})
		updated := func(id string) string {
			return snsEnvelope(id, now, map[string]any{"action": "entitlement-updated", "customer-identifier": "XCONTRACT", "product-code": "prod-contract"})
		}
		// The seller's system listens to entitlement changes.
		st.TestingDB(t).Create(&store.WebhookEndpoint{URL: "http://127.0.0.1:1/hook", Secret: "whsec_AAAA", EventTypes: "entitlement.changed", Enabled: true,
			CreatedAt: now, UpdatedAt: now})
		changes := func() int64 {
			var n int64
			st.TestingReadDB(t).Model(&store.Event{}).Where("type = ?", "entitlement.changed").Count(&n)
			return n
		}
		if err := p.Receive(ctx, updated("m-1"), "q-1"); err != nil {
			t.Fatal(err)
		}
		// The same entitlements read again (another notification) change nothing.
		p.Receive(ctx, updated("m-1b"), "q-1b")
		if n := changes(); n != 1 {
			t.Fatalf("entitlement events after a first read and an identical one: %d", n)
		}
		var sub store.Subscription
		st.TestingReadDB(t).Preload("Plan").Where("aws_customer_identifier = ?", "XCONTRACT").First(&sub)
		var ents []store.Entitlement
		st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Find(&ents)
		if sub.State != "active" || sub.TermEnd == nil || len(ents) != 1 || *ents[0].IntegerValue != 25 || ents[0].Dimension != "seats" {
			t.Fatalf("after entitlement-updated: %+v %+v", sub, ents)
		}
		// The seat plan and its seats come from the entitlement.
		if sub.Plan == nil || sub.Plan.PlanID != "per-seat" || sub.Quantity != 25 {
			t.Fatalf("seats from the entitlement: plan %+v, quantity %d", sub.Plan, sub.Quantity)
		}
		// The contract expires: the next entitlement-updated ends the subscription.
		fake.Set(legacy, awsfake.Entitlement{Dimension: "seats", Value: 25, Expiration: now.Add(-time.Minute)})
		p.Receive(ctx, updated("m-2"), "q-2")
		st.TestingReadDB(t).First(&sub, sub.ID)
		if sub.State != "ended" {
			t.Fatalf("expired contract: %s", sub.State)
		}
		// An upgrade (new entitlement) makes it active again.
		fake.Set(legacy, awsfake.Entitlement{Dimension: "seats", Value: 50, Expiration: now.Add(24 * time.Hour)})
		p.Receive(ctx, updated("m-3"), "q-3")
		st.TestingReadDB(t).First(&sub, sub.ID)
		st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Find(&ents)
		if sub.State != "active" || len(ents) != 1 || *ents[0].IntegerValue != 50 || sub.Quantity != 50 {
			t.Fatalf("upgrade: %s %d %+v", sub.State, sub.Quantity, ents)
		}
		if n := changes(); n != 3 { // first read, expiry, upgrade
			t.Fatalf("entitlement events: %d, want 3", n)
		}

		// Concurrent agreements: License Updated reads the license's entitlements.
		ca := awsfake.Identity{CustomerAWSAccountID: "444455556666", LicenseArn: "arn:l-contract", ProductCode: "prod-contract-ca"}
		fake.Set(ca, awsfake.Entitlement{Dimension: "users", Value: 5, Expiration: now.Add(time.Hour)})
		p.Receive(ctx, event("e-9", "License Updated - Manufacturer", now, map[string]any{
			"license": map[string]any{"arn": ca.LicenseArn}, "acceptor": map[string]any{"accountId": ca.CustomerAWSAccountID},
			"product": map[string]any{"code": ca.ProductCode}}), "q-4")
		var caSub store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn = ?", ca.LicenseArn).First(&caSub)
		st.TestingReadDB(t).Where("subscription_id = ?", caSub.ID).Find(&ents)
		if caSub.State != "active" || len(ents) != 1 || ents[0].Dimension != "users" {
			t.Fatalf("license updated: %+v %+v", caSub, ents)
		}
		// AWS unavailable: the message is kept, failed, with a retry time.
		fake.FailNext("InternalServiceErrorException", 1)
		p.Receive(ctx, updated("m-4"), "q-5")
		var m store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "sns:m-4").First(&m)
		if m.Status != store.InboxFailed || m.NextAttemptAt == nil {
			t.Fatalf("throttled refresh: %+v", m)
		}
	})
}
