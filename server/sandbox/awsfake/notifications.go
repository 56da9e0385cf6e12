package awsfake

import (
	"encoding/json"
	"time"
)

// SNSNotification is the SQS body AWS delivers for a subscription-topic
// action (SNS envelope, Message double-encoded), for a legacy identity.
func SNSNotification(action string, id Identity, freeTrial bool, at time.Time) string {
	inner := map[string]string{"action": action, "customer-identifier": id.CustomerIdentifier, "product-code": id.ProductCode}
	if action == "subscribe-success" || action == "subscribe-fail" {
		inner["isFreeTrialTermPresent"] = map[bool]string{true: "true", false: "false"}[freeTrial]
	}
	topic := "arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-" + id.ProductCode
	if action == "entitlement-updated" {
		delete(inner, "isFreeTrialTermPresent")
		topic = "arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-" + id.ProductCode
	}
	msg, _ := json.Marshal(inner)
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": newID(), "TopicArn": topic,
		"Message": string(msg), "Timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1"})
	return string(b)
}

// LicenseEvent is the SQS body of an EventBridge license event ("License
// Updated", "License Deprovisioned") for a concurrent-agreements identity,
// naming the agreement the license belongs to.
func LicenseEvent(detailType string, id Identity, agreementID string, at time.Time) string {
	return eventBody(detailType+" - Manufacturer", at, map[string]any{"requestId": newID(), "catalog": "AWSMarketplace",
		"agreement": map[string]string{"id": agreementID},
		"product":   map[string]string{"code": id.ProductCode}, "license": map[string]string{"arn": id.LicenseArn},
		"acceptor": map[string]string{"accountId": id.CustomerAWSAccountID}})
}

// AgreementEvent is the SQS body of an EventBridge purchase-agreement event
// ("Purchase Agreement Created", "Amended", "Ended", "Ending").
type AgreementEvent struct {
	DetailType    string // without the role suffix
	Identity      Identity
	AgreementID   string
	Intent        string // NEW, RENEW, AMEND, ...
	Status        string // ACTIVE, CANCELLED, EXPIRED, ...
	Start, End    time.Time
	DaysBeforeEnd int // Ending only
	OfferID       string
	PreviousID    string // RENEW: the agreement this one renews
}

// Body renders the event as AWS puts it on the queue (Proposer variant).
func (e AgreementEvent) Body(at time.Time) string {
	ag := map[string]any{"id": e.AgreementID, "status": e.Status}
	if e.Intent != "" {
		ag["intent"] = e.Intent
	}
	if !e.Start.IsZero() {
		ag["startTime"] = e.Start.UTC().Format(time.RFC3339)
	}
	if !e.End.IsZero() {
		ag["endTime"] = e.End.UTC().Format(time.RFC3339)
	}
	if e.PreviousID != "" {
		ag["previousAgreementId"] = e.PreviousID
	}
	if e.DaysBeforeEnd > 0 {
		ag["daysBeforeEndTime"] = e.DaysBeforeEnd
	}
	return eventBody(e.DetailType+" - Proposer", at, map[string]any{"requestId": newID(), "catalog": "AWSMarketplace",
		"agreement": ag, "product": map[string]string{"code": e.Identity.ProductCode},
		"acceptor": map[string]string{"accountId": e.Identity.CustomerAWSAccountID},
		"proposer": map[string]string{"accountId": "000000000000"}, "offer": map[string]string{"id": e.OfferID}})
}

func eventBody(detailType string, at time.Time, detail map[string]any) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": newID(), "detail-type": detailType,
		"source": "aws.agreement-marketplace", "account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1",
		"detail": detail})
	return string(b)
}

// AgreementNotice is the SQS body of one of the agreement events that
// change no state (renewal, cancellation request, billing adjustment,
// advisory, disbursement): the detail type without its role suffix, and
// the event's own object (agreementCancellationRequest,
// billingAdjustmentRequest, …) beside the agreement, product and acceptor.
func AgreementNotice(detailType string, id Identity, agreementID string, extra map[string]any, at time.Time) string {
	d := map[string]any{"requestId": newID(), "catalog": "AWSMarketplace",
		"agreement": map[string]any{"id": agreementID}, "product": map[string]string{"code": id.ProductCode},
		"acceptor": map[string]string{"accountId": id.CustomerAWSAccountID}, "proposer": map[string]string{"accountId": "000000000000"}}
	for k, v := range extra {
		d[k] = v
	}
	return eventBody(detailType+" - Proposer", at, d)
}

// Notice is one agreement event the sandbox can send: its detail type
// (without the role suffix) and its own detail objects.
type Notice struct {
	DetailType string
	Extra      func(agreementID string, at time.Time) map[string]any // nil: the agreement only
}

// SandboxNotices are the agreement events the sandbox's buyer page can
// send for a concurrent-agreements subscription, with a plausible detail.
var SandboxNotices = []Notice{
	{"Purchase Agreement Ending", func(a string, at time.Time) map[string]any {
		return map[string]any{"agreement": map[string]any{"id": a, "daysBeforeEndTime": 30, "endTime": at.AddDate(0, 0, 30).UTC().Format(time.RFC3339),
			"autoRenewalEnabled": false}}
	}},
	{"Purchase Agreement Renewal Upcoming", func(a string, at time.Time) map[string]any {
		return map[string]any{"agreement": map[string]any{"id": a, "daysBeforeEndTime": 30, "endTime": at.AddDate(0, 0, 30).UTC().Format(time.RFC3339),
			"autoRenewalEnabled": true}, "renewalSummary": map[string]any{"lockoutStartTime": at.AddDate(0, 0, 23).UTC().Format(time.RFC3339), "lockoutReached": false}}
	}},
	{"Purchase Agreement Renewal Terms Finalized", nil},
	{"Agreement Cancellation Request Pending Approval", cancellation("PENDING_APPROVAL")},
	{"Agreement Cancellation Request Approved", cancellation("APPROVED")},
	{"Agreement Cancellation Request Rejected", cancellation("REJECTED")},
	{"Agreement Cancellation Request Cancelled", cancellation("CANCELLED")},
	{"Purchase Agreement Billing Adjustment Completed", adjustment("COMPLETED", "")},
	{"Purchase Agreement Billing Adjustment Failed", adjustment("VALIDATION_FAILED", "the invoice was already refunded")},
	{"Purchase Agreement Advisory Issued", func(string, time.Time) map[string]any {
		return map[string]any{"advisory": map[string]any{"type": "PAYMENT_OVERDUE", "description": "the buyer's payment is overdue"}}
	}},
	{"Purchase Agreement Advisory Resolved", func(string, time.Time) map[string]any {
		return map[string]any{"advisory": map[string]any{"type": "PAYMENT_OVERDUE"}}
	}},
	{"Purchase Agreement Disbursement Paused", func(string, time.Time) map[string]any {
		return map[string]any{"disbursement": map[string]any{"reason": "the seller's tax information is incomplete"}}
	}},
}

func cancellation(status string) func(string, time.Time) map[string]any {
	return func(_ string, at time.Time) map[string]any {
		return map[string]any{"agreementCancellationRequest": map[string]any{"id": "acr-sandbox", "reasonCode": "INCORRECT_TERMS_ACCEPTED",
			"statusCode": status, "createdAt": at.UTC().Format(time.RFC3339), "updatedAt": at.UTC().Format(time.RFC3339)}}
	}
}

func adjustment(status, message string) func(string, time.Time) map[string]any {
	return func(a string, at time.Time) map[string]any {
		return map[string]any{"billingAdjustmentRequest": map[string]any{"billingAdjustmentRequestId": "ba-sandbox", "agreementId": a,
			"adjustmentAmount": "100.00", "currencyCode": "USD", "originalInvoiceId": "inv-sandbox", "status": status, "statusMessage": message}}
	}
}
