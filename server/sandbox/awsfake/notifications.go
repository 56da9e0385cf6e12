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
	msg, _ := json.Marshal(inner)
	topic := "arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-" + id.ProductCode
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": newID(), "TopicArn": topic,
		"Message": string(msg), "Timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1"})
	return string(b)
}

// LicenseEvent is the SQS body of an EventBridge license event ("License
// Updated", "License Deprovisioned") for a concurrent-agreements identity.
func LicenseEvent(detailType string, id Identity, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": newID(), "detail-type": detailType + " - Manufacturer",
		"source": "aws.agreement-marketplace", "account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1",
		"detail": map[string]any{"requestId": newID(), "catalog": "AWSMarketplace",
			"product": map[string]string{"code": id.ProductCode}, "license": map[string]string{"arn": id.LicenseArn},
			"acceptor": map[string]string{"accountId": id.CustomerAWSAccountID}}})
	return string(b)
}
