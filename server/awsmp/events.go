package awsmp

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
)

// The agreement-related EventBridge detail types AWS documents (source
// aws.agreement-marketplace, the " - Manufacturer" / " - Proposer" suffix
// stripped), besides the four Purchase Agreement lifecycle events and the
// two license events, which change a subscription's state. These do not:
// each is stored, written on the matching subscription's timeline, and the
// ones a seller must act on become alerts and outbound webhook events.
const (
	RenewalUpcoming              = "Purchase Agreement Renewal Upcoming"
	RenewalTermsFinalized        = "Purchase Agreement Renewal Terms Finalized"
	CancellationRequestPending   = "Agreement Cancellation Request Pending Approval"
	CancellationRequestApproved  = "Agreement Cancellation Request Approved"
	CancellationRequestRejected  = "Agreement Cancellation Request Rejected"
	CancellationRequestCancelled = "Agreement Cancellation Request Cancelled"
	BillingAdjustmentCompleted   = "Purchase Agreement Billing Adjustment Completed"
	BillingAdjustmentFailed      = "Purchase Agreement Billing Adjustment Failed"
	AdvisoryIssued               = "Purchase Agreement Advisory Issued"
	AdvisoryResolved             = "Purchase Agreement Advisory Resolved"
	DisbursementPaused           = "Purchase Agreement Disbursement Paused"
	LicenseUpdated               = "License Updated"
	LicenseDeprovisioned         = "License Deprovisioned"
)

// Timeline kinds of the agreement notes (the seller-facing ones are also
// alert and webhook triggers).
const (
	KindAgreementEnding     = "aws.agreement_ending"
	KindRenewalUpcoming     = "aws.renewal_upcoming"
	KindRenewalTerms        = "aws.renewal_terms_finalized"
	KindCancellationRequest = "aws.cancellation_request"
	KindBillingAdjustment   = "aws.billing_adjustment"
	KindAdvisoryIssued      = "aws.advisory_issued"
	KindAdvisoryResolved    = "aws.advisory_resolved"
	KindDisbursementPaused  = "aws.disbursement_paused"
	KindUnknownEvent        = "aws.unknown_event" // a detail type or SNS action Marketgate does not know: kept and shown
)

// AgreementEventTypes lists every agreement-related detail type Marketgate
// handles, in AWS's order, with what it does (the README and the portal's
// help repeat it).
var AgreementEventTypes = []struct{ DetailType, Does string }{
	{AgreementCreated, "records the agreement; a linked subscription becomes active (a free product may send nothing else)"},
	{AgreementAmended, "a timeline note; contracts read their entitlements again"},
	{AgreementEnded, "ends the subscription when the status revokes access and no other agreement covers it; unknown statuses are kept and change nothing"},
	{AgreementEnding, "a timeline note with the days left, an alert and the agreement.ending webhook event"},
	{RenewalUpcoming, "a timeline note, an alert and the agreement.renewal_upcoming webhook event"},
	{RenewalTermsFinalized, "a timeline note"},
	{CancellationRequestPending, "a timeline note: the buyer has 7 days to answer the seller's cancellation request"},
	{CancellationRequestApproved, "a timeline note (Purchase Agreement Ended follows and ends the agreement)"},
	{CancellationRequestRejected, "a timeline note"},
	{CancellationRequestCancelled, "a timeline note (the seller withdrew the request)"},
	{BillingAdjustmentCompleted, "a timeline note with the refund"},
	{BillingAdjustmentFailed, "a timeline note with AWS's reason"},
	{AdvisoryIssued, "a timeline note, an alert and the agreement.advisory_issued webhook event"},
	{AdvisoryResolved, "a timeline note"},
	{DisbursementPaused, "a timeline note, an alert and the agreement.disbursement_paused webhook event"},
	{LicenseUpdated, "links the license to the agreement and the customer's account; the subscription becomes active"},
	{LicenseDeprovisioned, "unsubscribe pending: the last usage is sent at once"},
}

// noteSpec says how a non-lifecycle event is shown.
type noteSpec struct {
	base string // canonical detail type
	kind string // timeline kind
}

// noteEvents maps a detail type, normalised by noteKey, to its spec.
// AWS's pages name some of these with and without "Purchase Agreement"
// (the buyer's guide says "Agreement Cancellation Request …", "Purchase
// Agreement Billing Adjustment …"), so the key drops that prefix; both
// spellings of the pending cancellation request are accepted.
var noteEvents = map[string]noteSpec{}

func init() {
	for _, s := range []noteSpec{
		{RenewalUpcoming, KindRenewalUpcoming},
		{RenewalTermsFinalized, KindRenewalTerms},
		{CancellationRequestPending, KindCancellationRequest},
		{"Agreement Cancellation Request Created", KindCancellationRequest},
		{CancellationRequestApproved, KindCancellationRequest},
		{CancellationRequestRejected, KindCancellationRequest},
		{CancellationRequestCancelled, KindCancellationRequest},
		{BillingAdjustmentCompleted, KindBillingAdjustment},
		{BillingAdjustmentFailed, KindBillingAdjustment},
		{AdvisoryIssued, KindAdvisoryIssued},
		{AdvisoryResolved, KindAdvisoryResolved},
		{DisbursementPaused, KindDisbursementPaused},
	} {
		base := s.base
		if base == "Agreement Cancellation Request Created" {
			s.base = CancellationRequestPending
		}
		noteEvents[noteKey(base)] = s
	}
}

func noteKey(detailType string) string {
	k := strings.ToLower(strings.Join(strings.Fields(detailType), " "))
	k = strings.TrimPrefix(k, "purchase ")
	return strings.TrimPrefix(k, "agreement ")
}

// EventNote is what a non-lifecycle agreement event (or an unknown one)
// said, for its timeline note.
type EventNote struct {
	DetailType string // canonical (or, for an unknown event, as sent without its role suffix)
	Kind       string // timeline kind
	Known      bool
	Summary    string
}

// eventDetail is the part of an event's detail the notes read. AWS
// documents the cancellation and billing-adjustment objects; for the
// others only the common agreement fields are certain, so the rest is
// read when present and never required.
type eventDetail struct {
	Cancellation struct {
		ID, ReasonCode, StatusCode, StatusMessage string
	} `json:"agreementCancellationRequest"`
	Billing struct {
		ID                string `json:"id"`
		BillingID         string `json:"billingAdjustmentRequestId"`
		Amount            any    `json:"adjustmentAmount"`
		Currency          string `json:"currencyCode"`
		Status            string `json:"status"`
		StatusMessage     string `json:"statusMessage"`
		OriginalInvoiceID string `json:"originalInvoiceId"`
		ReasonCode        string `json:"adjustmentReasonCode"`
	} `json:"billingAdjustmentRequest"`
	Advisory     map[string]any `json:"advisory"`
	Disbursement map[string]any `json:"disbursement"`
	Renewal      map[string]any `json:"renewalSummary"`
	Reason       string         `json:"reason"`
	Message      string         `json:"message"`
}

// describe builds the timeline summary of a note event.
func describe(spec noteSpec, agreementID string, a *Agreement, raw json.RawMessage) string {
	var d eventDetail
	if raw != nil {
		_ = json.Unmarshal(raw, &d) // the fields are optional; a shape AWS changes leaves them empty
	}
	what := "agreement"
	if agreementID != "" {
		what = "agreement " + agreementID
	}
	c := d.Cancellation
	req := cancellationLabel(d)
	b := d.Billing
	adj := billingLabel(d)
	switch spec.base {
	case RenewalUpcoming:
		return renewalUpcomingText(what, a, d)
	case RenewalTermsFinalized:
		return what + ": the renewal's terms are final (the price uplift the buyer will pay is fixed)"
	case CancellationRequestPending:
		return fmt.Sprintf("%s for %s is waiting for the buyer, who has 7 days to approve or reject it (no answer approves it)%s",
			req, what, noteWhy(reasonText(c.ReasonCode)))
	case CancellationRequestApproved:
		return fmt.Sprintf("%s for %s was approved: AWS ends the agreement", req, what)
	case CancellationRequestRejected:
		return fmt.Sprintf("%s for %s was rejected by the buyer: the agreement continues%s", req, what, noteWhy(c.StatusMessage))
	case CancellationRequestCancelled:
		return fmt.Sprintf("%s for %s was withdrawn by the seller: the agreement continues", req, what)
	case BillingAdjustmentCompleted:
		return fmt.Sprintf("%s for %s completed%s", adj, what, noteWhy(refundText(adjustmentAmount(d))))
	case BillingAdjustmentFailed:
		return fmt.Sprintf("%s for %s failed%s", adj, what, noteWhy(b.StatusMessage, b.Status, d.Reason, d.Message))
	case AdvisoryIssued:
		return fmt.Sprintf("AWS issued an advisory on %s%s — check the agreement in AWS Marketplace", what,
			noteWhy(cmpAny(d.Advisory["type"]), cmpAny(d.Advisory["description"]), cmpAny(d.Advisory["message"]), d.Message))
	case AdvisoryResolved:
		return fmt.Sprintf("AWS resolved the advisory on %s%s", what, noteWhy(cmpAny(d.Advisory["type"])))
	case DisbursementPaused:
		return fmt.Sprintf("AWS paused disbursements for %s%s — payments to the seller wait until it is resolved", what,
			noteWhy(cmpAny(d.Disbursement["reason"]), cmpAny(d.Disbursement["reasonCode"]), d.Reason, d.Message))
	}
	return what + ": " + spec.base
}

// noteWhy joins the given (non-blank) reasons as ": a; b", "" for none.
func noteWhy(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return ": " + strings.Join(kept, "; ")
}

// cancellationLabel names the event's cancellation request (with its id
// when given).
func cancellationLabel(d eventDetail) string {
	req := "cancellation request"
	if d.Cancellation.ID != "" {
		req += " " + d.Cancellation.ID
	}
	return req
}

// billingLabel names the event's billing adjustment (with its id when given).
func billingLabel(d eventDetail) string {
	adj := "billing adjustment"
	if id := cmp.Or(d.Billing.BillingID, d.Billing.ID); id != "" {
		adj += " " + id
	}
	return adj
}

// adjustmentAmount is the billing adjustment's amount with its currency
// and the invoice it corrects, "" when no amount is given.
func adjustmentAmount(d eventDetail) string {
	b := d.Billing
	v := cmpAny(b.Amount)
	if v == "" {
		return ""
	}
	amount := strings.TrimSpace(v + " " + b.Currency)
	if b.OriginalInvoiceID != "" {
		amount += " against invoice " + b.OriginalInvoiceID
	}
	return amount
}

// renewalUpcomingText summarises a Renewal Upcoming event: when the
// agreement renews, until when the buyer can change auto-renewal, and
// whether it is on.
func renewalUpcomingText(what string, a *Agreement, d eventDetail) string {
	s := what + " renews soon"
	if a != nil && a.DaysBeforeEnd != nil {
		s = fmt.Sprintf("%s renews in %d days", what, *a.DaysBeforeEnd)
	}
	if a != nil && !a.EndsAt.IsZero() {
		s += " (on " + a.EndsAt.Format("2006-01-02") + ")"
	}
	if t := anyTime(d.Renewal["lockoutStartTime"]); !t.IsZero() {
		s += "; the buyer can change auto-renewal until " + t.Format("2006-01-02")
	}
	return s + autoRenewal(a)
}

func autoRenewal(a *Agreement) string {
	if a == nil {
		return ""
	}
	switch a.AutoRenewal {
	case "true":
		return " (auto-renewal on)"
	case "false":
		return " (auto-renewal off)"
	}
	return ""
}

func reasonText(code string) string {
	if code == "" {
		return ""
	}
	return "reason " + code
}

func refundText(amount string) string {
	if amount == "" {
		return ""
	}
	return amount + " refunded"
}

// cmpAny renders a JSON scalar, "" for anything else.
func cmpAny(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}

// classifyNote sets n.Note for a detail type that is not a lifecycle
// event: known ones get their summary, unknown ones are kept and shown.
func classifyNote(n *Notification, raw json.RawMessage) {
	id := ""
	if n.Agreement != nil {
		id = n.Agreement.ID
	}
	if spec, ok := noteEvents[noteKey(n.Action)]; ok {
		n.Action = spec.base
		n.Note = &EventNote{DetailType: spec.base, Kind: spec.kind, Known: true, Summary: describe(spec, id, n.Agreement, raw)}
		n.Money = moneyEventOf(raw)
		return
	}
	what := ""
	if id != "" {
		what = " about agreement " + id
	}
	n.Ignore = fmt.Sprintf("detail-type %q is not one Marketgate knows; kept and shown, nothing changed", n.Action)
	n.Note = &EventNote{DetailType: n.Action, Kind: KindUnknownEvent,
		Summary: fmt.Sprintf("AWS sent %q%s, an event Marketgate does not know: nothing changed (the message is kept in the notification log)", n.Action, what)}
}

// unknownAction is the note of an SNS action Marketgate does not know.
func unknownAction(n *Notification) {
	n.Note = &EventNote{DetailType: n.Action, Kind: KindUnknownEvent,
		Summary: fmt.Sprintf("AWS sent the SNS action %q, which Marketgate does not know: nothing changed (the message is kept in the notification log)", n.Action)}
}

// clip shortens s to at most n bytes on a rune boundary: an AWS value
// longer than its column is stored cut (the message keeps it whole)
// rather than failing the message on databases that enforce the width.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
