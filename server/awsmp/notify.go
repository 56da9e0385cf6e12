package awsmp

import (
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
		n.Ignore = fmt.Sprintf("unknown action %q", n.Action)
		return n, nil
	}
	if n.Ref.AWSCustomerIdentifier == "" || n.ProductCode == "" {
		return n, fmt.Errorf("%w: %s without customer-identifier or product-code", ErrUnreadable, n.Action)
	}
	n.Kind = kind
	return n, nil
}

var roleSuffixes = []string{" - Manufacturer", " - Proposer", " - Acceptor"}

func parseEvent(top map[string]json.RawMessage) (Notification, error) {
	n := Notification{Shape: "eventbridge", DedupKey: "event:" + str(top["id"]), At: parseTime(str(top["time"]))}
	if str(top["id"]) == "" {
		return n, fmt.Errorf("%w: EventBridge event without id", ErrUnreadable)
	}
	n.Action = str(top["detail-type"])
	for _, s := range roleSuffixes {
		n.Action = strings.TrimSuffix(n.Action, s)
	}
	var d struct {
		Agreement struct {
			ID     string `json:"id"`
			Intent string `json:"intent"`
			Status string `json:"status"`
		} `json:"agreement"`
		Product struct {
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
	if raw := top["detail"]; raw != nil {
		if err := json.Unmarshal(raw, &d); err != nil {
			return n, fmt.Errorf("%w: EventBridge detail: %v", ErrUnreadable, err)
		}
	}
	n.ProductCode, n.OfferIdentifier = d.Product.Code, d.Offer.ID
	n.Ref = subscriptions.Ref{AWSCustomerAccountID: d.Acceptor.AccountID, AWSLicenseArn: d.License.Arn}
	switch n.Action {
	case "License Updated":
		if d.License.Arn == "" || d.Acceptor.AccountID == "" {
			return n, fmt.Errorf("%w: License Updated without license.arn or acceptor.accountId", ErrUnreadable)
		}
		n.Kind = lifecycle.AWSSubscribeSuccess
	case "License Deprovisioned":
		if d.License.Arn == "" {
			return n, fmt.Errorf("%w: License Deprovisioned without license.arn", ErrUnreadable)
		}
		n.Kind = lifecycle.AWSUnsubscribePending
	case "Purchase Agreement Created", "Purchase Agreement Amended", "Purchase Agreement Ended":
		n.Ignore = n.Action + " is recorded; agreements are applied through their License events until agreement tracking is built"
	default:
		n.Ignore = fmt.Sprintf("detail-type %q changes no subscription", n.Action)
	}
	return n, nil
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
