package awsfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SQSAccount is the account id in the simulated queues' ARNs when their
// URL names none.
const SQSAccount = "000000000000"

// SetPolicy sets a queue's access policy (the JSON document SNS topics or
// EventBridge rules need to be allowed to send to it); false when there is
// no such queue.
func (q *SQS) SetPolicy(url, policy string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, ok := q.queues[url]
	if ok {
		qu.policy = policy
	}
	return ok
}

// QueueARN is the ARN of the queue at url: arn:aws:sqs:REGION:ACCOUNT:NAME,
// the account being the URL's path segment before the name
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME).
func QueueARN(url, region string) string {
	parts := strings.Split(strings.TrimRight(url, "/"), "/")
	name, account := parts[len(parts)-1], SQSAccount
	if len(parts) >= 2 {
		if a := parts[len(parts)-2]; len(a) == 12 {
			if _, err := strconv.ParseUint(a, 10, 64); err == nil {
				account = a
			}
		}
	}
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// getQueueAttributes answers GetQueueAttributes as the SQS API reference
// documents it: the attributes named in AttributeNames ("All" for every
// one), a missing queue being QueueDoesNotExist. Policy is left out when
// the queue has none, as SQS does.
func (q *SQS) getQueueAttributes(w http.ResponseWriter, in sqsRequest) {
	q.mu.Lock()
	qu, ok := q.queues[in.QueueURL]
	var attrs map[string]string
	if ok {
		visible := 0
		now := q.now()
		for _, m := range qu.msgs {
			if !m.visibleAt.After(now) {
				visible++
			}
		}
		attrs = map[string]string{
			"QueueArn":                              QueueARN(in.QueueURL, "us-east-1"),
			"ApproximateNumberOfMessages":           strconv.Itoa(visible),
			"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(len(qu.msgs) - visible),
			"VisibilityTimeout":                     "30",
			"ReceiveMessageWaitTimeSeconds":         "0",
			"MessageRetentionPeriod":                "345600",
		}
		if qu.policy != "" {
			attrs["Policy"] = qu.policy
		}
	}
	q.mu.Unlock()
	if !ok {
		sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist.")
		return
	}
	if !slices.Contains(in.AttributeNames, "All") {
		for k := range attrs {
			if !slices.Contains(in.AttributeNames, k) {
				delete(attrs, k)
			}
		}
	}
	sqsJSON(w, map[string]any{"Attributes": attrs})
}
