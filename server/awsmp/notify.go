package awsmp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
)

// Notification is an AWS Marketplace notification as Marketgate reads it,
// from any of the three body shapes an SQS message can have.
type Notification struct {
	DedupKey string // SNS MessageId, EventBridge id, or the SQS MessageId for raw SNS messages
	Shape    string // sns, sns-raw, eventbridge
	Action   string // the SNS action, or the EventBridge detail-type without its role suffix
	Kind     lifecycle.Kind
	Ignore   string // why a known-shape message changes nothing (stored as ignored)
	Refresh  bool   // entitlement-updated: read the entitlements again
	Ref      subscriptions.Ref
	At       time.Time // when AWS sent it (zero: unknown)

	ProductCode     string
	OfferIdentifier string
	FreeTrial       bool

	// Agreement is what an EventBridge event said about the purchase
	// agreement (License Updated and every Purchase Agreement event).
	Agreement *Agreement

	// Note is set for a message that changes no state but is shown on the
	// subscription's timeline: the agreement events that are not lifecycle
	// events, and unknown detail types and SNS actions (kept and shown).
	Note *EventNote
	// Money is what a refund, cancellation or payment request event said
	// of the request (agreement_money.go).
	Money *MoneyEvent
}

// Agreement is the agreement part of an EventBridge event. Enum values are
// kept verbatim: AWS documents only some of them.
type Agreement struct {
	ID, Intent, Status, PreviousID string
	AccountID, OfferID             string
	StartsAt, EndsAt               time.Time
	DaysBeforeEnd                  *int
	AutoRenewal                    string // "true", "false" or ""
}

// Agreement event kinds (the detail-type without its role suffix).
const (
	AgreementCreated = "Purchase Agreement Created"
	AgreementAmended = "Purchase Agreement Amended"
	AgreementEnded   = "Purchase Agreement Ended"
	AgreementEnding  = "Purchase Agreement Ending"
)

// Agreement end statuses that revoke access, and those that mean another
// agreement took over (renewal, replacement): no revocation.
var (
	revokingEnd   = map[string]bool{"CANCELLED": true, "EXPIRED": true, "TERMINATED": true, "ROLLED_BACK": true}
	supersededEnd = map[string]bool{"RENEWED": true, "REPLACED": true, "SUPERSEDED": true, "ARCHIVED": true}
)

// RevokesAccess reports whether an ended agreement's status takes access
// away, and whether the status is one Marketgate knows at all.
func RevokesAccess(status string) (revoke, known bool) {
	s := strings.ToUpper(strings.TrimSpace(status))
	return revokingEnd[s], revokingEnd[s] || supersededEnd[s]
}

// ErrUnreadable marks a body that is none of the known shapes.
var ErrUnreadable = errors.New("not an AWS Marketplace notification")

var snsActions = map[string]lifecycle.Kind{
	"subscribe-success":   lifecycle.AWSSubscribeSuccess,
	"subscribe-fail":      lifecycle.AWSSubscribeFail,
	"unsubscribe-pending": lifecycle.AWSUnsubscribePending,
	"unsubscribe-success": lifecycle.AWSUnsubscribeSuccess,
}

// ParseNotification reads an SQS message body. sqsMessageID is the dedup
// key for raw SNS messages, which carry no id of their own.
func ParseNotification(body, sqsMessageID string) (Notification, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		return Notification{}, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	switch {
	case str(top["Type"]) == "Notification" && top["Message"] != nil:
		n, err := parseSNSMessage(top["Message"])
		if err != nil {
			return n, err
		}
		n.Shape = "sns"
		n.DedupKey = "sns:" + str(top["MessageId"])
		if str(top["MessageId"]) == "" {
			return n, fmt.Errorf("%w: SNS envelope without MessageId", ErrUnreadable)
		}
		n.At = parseTime(str(top["Timestamp"]))
		return n, nil
	case top["action"] != nil:
		n, err := parseSNSMessage(json.RawMessage(body))
		if err != nil {
			return n, err
		}
		if sqsMessageID == "" {
			return n, fmt.Errorf("%w: raw SNS message without an SQS message id", ErrUnreadable)
		}
		n.Shape, n.DedupKey = "sns-raw", "sqs:"+sqsMessageID
		return n, nil
	case str(top["source"]) == "aws.agreement-marketplace":
		return parseEvent(top)
	}
	return Notification{}, fmt.Errorf("%w: neither an SNS envelope, an SNS message nor an EventBridge event", ErrUnreadable)
}

func parseSNSMessage(raw json.RawMessage) (Notification, error) {
	// Message is a JSON string holding JSON (double-encoded); accept an object too.
	var inner string
	if err := json.Unmarshal(raw, &inner); err == nil {
		raw = json.RawMessage(inner)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return Notification{}, fmt.Errorf("%w: SNS Message is not JSON: %v", ErrUnreadable, err)
	}
	get := func(k string) string { s, _ := m[k].(string); return strings.TrimSpace(s) }
	n := Notification{Action: get("action"), ProductCode: get("product-code"), OfferIdentifier: get("offer-identifier")}
	switch v := m["isFreeTrialTermPresent"].(type) {
	case string:
		n.FreeTrial = strings.EqualFold(strings.TrimSpace(v), "true")
	case bool:
		n.FreeTrial = v
	}
	n.Ref = subscriptions.Ref{AWSProductCode: n.ProductCode, AWSCustomerIdentifier: get("customer-identifier")}
	if n.Action == "entitlement-updated" {
		if n.Ref.AWSCustomerIdentifier == "" || n.ProductCode == "" {
			return n, fmt.Errorf("%w: entitlement-updated without customer-identifier or product-code", ErrUnreadable)
		}
		n.Refresh = true
		return n, nil
	}
	kind, ok := snsActions[n.Action]
	if !ok {
		n.Ignore = fmt.Sprintf("unknown action %q: kept and shown, nothing changed", n.Action)
		unknownAction(&n)
		return n, nil
	}
	if n.Ref.AWSCustomerIdentifier == "" || n.ProductCode == "" {
		return n, fmt.Errorf("%w: %s without customer-identifier or product-code", ErrUnreadable, n.Action)
	}
	n.Kind = kind
	return n, nil
}

var roleSuffixes = []string{" - Manufacturer", " - Proposer", " - Acceptor"}

// eventTimes are the start and end an EventBridge detail (or its
// agreement) may carry.
type eventTimes struct {
	StartTime any `json:"startTime"`
	EndTime   any `json:"endTime"`
}

// eventBridgeDetail is the part of an EventBridge event's detail parseEvent
// reads; agreement fields may sit in the agreement object or beside it.
type eventBridgeDetail struct {
	eventTimes
	Agreement struct {
		eventTimes
		ID                  string `json:"id"`
		Intent              string `json:"intent"`
		Status              string `json:"status"`
		PreviousAgreementID string `json:"previousAgreementId"`
		DaysBeforeEndTime   any    `json:"daysBeforeEndTime"`
		AutoRenewalEnabled  any    `json:"autoRenewalEnabled"`
	} `json:"agreement"`
	PreviousAgreementID string `json:"previousAgreementId"`
	DaysBeforeEndTime   any    `json:"daysBeforeEndTime"`
	AutoRenewalEnabled  any    `json:"autoRenewalEnabled"`
	Product             struct {
		Code string `json:"code"`
	} `json:"product"`
	License struct {
		Arn string `json:"arn"`
	} `json:"license"`
	Acceptor struct {
		AccountID string `json:"accountId"`
	} `json:"acceptor"`
	Offer struct {
		ID string `json:"id"`
	} `json:"offer"`
}

func parseEvent(top map[string]json.RawMessage) (Notification, error) {
	n := Notification{Shape: "eventbridge", DedupKey: "event:" + str(top["id"]), At: parseTime(str(top["time"]))}
	if str(top["id"]) == "" {
		return n, fmt.Errorf("%w: EventBridge event without id", ErrUnreadable)
	}
	n.Action = str(top["detail-type"])
	for _, s := range roleSuffixes {
		n.Action = strings.TrimSuffix(n.Action, s)
	}
	var d eventBridgeDetail
	if raw := top["detail"]; raw != nil {
		if err := json.Unmarshal(raw, &d); err != nil {
			return n, fmt.Errorf("%w: EventBridge detail: %v", ErrUnreadable, err)
		}
	}
	n.Agreement = d.agreement()
	n.ProductCode, n.OfferIdentifier = d.Product.Code, d.Offer.ID
	n.Ref = subscriptions.Ref{AWSCustomerAccountID: d.Acceptor.AccountID, AWSLicenseArn: d.License.Arn}
	err := classifyEvent(&n, d, top["detail"])
	return n, err
}

// agreement is the agreement the detail names, nil when it names none.
func (d *eventBridgeDetail) agreement() *Agreement {
	id := strings.TrimSpace(d.Agreement.ID)
	if id == "" {
		return nil
	}
	a := &Agreement{ID: id, Intent: strings.TrimSpace(d.Agreement.Intent), Status: strings.TrimSpace(d.Agreement.Status),
		PreviousID: strings.TrimSpace(cmp.Or(d.Agreement.PreviousAgreementID, d.PreviousAgreementID)),
		AccountID:  strings.TrimSpace(d.Acceptor.AccountID), OfferID: strings.TrimSpace(d.Offer.ID),
		StartsAt: anyTime(cmp.Or(d.Agreement.StartTime, d.StartTime)), EndsAt: anyTime(cmp.Or(d.Agreement.EndTime, d.EndTime)),
		AutoRenewal: anyBool(cmp.Or(d.Agreement.AutoRenewalEnabled, d.AutoRenewalEnabled))}
	if v, ok := anyInt(cmp.Or(d.Agreement.DaysBeforeEndTime, d.DaysBeforeEndTime)); ok {
		a.DaysBeforeEnd = &v
	}
	return a
}

// classifyEvent sets the lifecycle kind of a license event, checks that an
// agreement event names its agreement, and makes any other event a note.
func classifyEvent(n *Notification, d eventBridgeDetail, detail json.RawMessage) error {
	switch n.Action {
	case "License Updated":
		if d.License.Arn == "" || d.Acceptor.AccountID == "" {
			return fmt.Errorf("%w: License Updated without license.arn or acceptor.accountId", ErrUnreadable)
		}
		n.Kind = lifecycle.AWSSubscribeSuccess
	case "License Deprovisioned":
		if d.License.Arn == "" {
			return fmt.Errorf("%w: License Deprovisioned without license.arn", ErrUnreadable)
		}
		n.Kind = lifecycle.AWSUnsubscribePending
	case AgreementCreated, AgreementAmended, AgreementEnded, AgreementEnding:
		if n.Agreement == nil {
			return fmt.Errorf("%w: %s without agreement.id", ErrUnreadable, n.Action)
		}
		if n.Action == AgreementEnded && n.Agreement.Status == "" {
			return fmt.Errorf("%w: %s without agreement.status", ErrUnreadable, n.Action)
		}
	default:
		classifyNote(n, detail)
	}
	return nil
}

func str(raw json.RawMessage) string {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// anyTime reads an event time: an RFC 3339 string or epoch seconds.
func anyTime(v any) time.Time {
	switch t := v.(type) {
	case string:
		return parseTime(strings.TrimSpace(t))
	case float64:
		sec := int64(t)
		return time.Unix(sec, int64((t-float64(sec))*1e9)).UTC()
	}
	return time.Time{}
}

func anyBool(v any) string {
	switch b := v.(type) {
	case bool:
		return fmt.Sprint(b)
	case string:
		if s := strings.ToLower(strings.TrimSpace(b)); s == "true" || s == "false" {
			return s
		}
	}
	return ""
}

func anyInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x >= 0 && x < 1e6 && x == float64(int(x)) {
			return int(x), true
		}
	case string:
		var i int
		if _, err := fmt.Sscanf(strings.TrimSpace(x), "%d", &i); err == nil && i >= 0 && i < 1e6 {
			return i, true
		}
	}
	return 0, false
}
