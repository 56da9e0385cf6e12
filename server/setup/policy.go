package setup

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// AWS Marketplace's SNS topics are published from this account (AWS's
// SaaS integration sample; the product's setup e-mail names the exact ARNs).
const marketplaceSNSAccount = "287250355862"

// EventBridgeRuleName is the rule the policy to paste names (the seller's
// default event bus in us-east-1, pattern {"source":["aws.agreement-marketplace"]}).
const EventBridgeRuleName = "marketgate-aws-marketplace"

// queueARNOf derives a queue's ARN from its URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME).
func queueARNOf(url, region string) string {
	parts := strings.Split(strings.TrimRight(url, "/"), "/")
	if len(parts) < 2 {
		return "arn:aws:sqs:" + region + ":ACCOUNT_ID:" + url
	}
	return "arn:aws:sqs:" + region + ":" + parts[len(parts)-2] + ":" + parts[len(parts)-1]
}

// accountOf is the account of an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:…).
func accountOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) < 6 {
		return "ACCOUNT_ID"
	}
	return p[4]
}

// topicARNs are the SNS topics the queue policy should allow: the
// configured ones, else the product codes' topics.
func (a *AWSConfig) topicARNs() []string {
	if len(a.TopicARNs) > 0 {
		return a.TopicARNs
	}
	return MarketplaceTopics(a.ProductCodes)
}

// MarketplaceTopics are AWS Marketplace's subscription and entitlement SNS
// topics of products (a PRODUCT_CODE placeholder to fill in when none).
func MarketplaceTopics(codes []string) []string {
	if len(codes) == 0 {
		codes = []string{"PRODUCT_CODE"}
	}
	var out []string
	for _, c := range codes {
		for _, t := range []string{"subscription", "entitlement"} {
			out = append(out, "arn:aws:sns:us-east-1:"+marketplaceSNSAccount+":aws-mp-"+t+"-notification-"+c)
		}
	}
	return out
}

type policyDoc struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// QueuePolicy is the access policy to paste on the queue: AWS
// Marketplace's SNS topics and an EventBridge rule of the queue's account
// may send to it, each limited by aws:SourceArn (the queue policy is the
// trust boundary).
func QueuePolicy(queueARN string, topicARNs []string) string {
	rule := "arn:aws:events:us-east-1:" + accountOf(queueARN) + ":rule/" + EventBridgeRuleName
	doc := policyDoc{Version: "2012-10-17", Statement: []policyStatement{
		{Sid: "AWSMarketplaceSNS", Effect: "Allow", Principal: map[string]string{"Service": "sns.amazonaws.com"}, Action: "sqs:SendMessage",
			Resource: queueARN, Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicARNs}}},
		{Sid: "AWSMarketplaceEventBridge", Effect: "Allow", Principal: map[string]string{"Service": "events.amazonaws.com"}, Action: "sqs:SendMessage",
			Resource: queueARN, Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule}}},
	}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// IAMPolicy is the identity policy Marketgate's IAM user or role needs.
func IAMPolicy(queues []string, region string) string {
	arns := make([]string, 0, len(queues))
	for _, q := range queues {
		arns = append(arns, queueARNOf(q, region))
	}
	if len(arns) == 0 {
		arns = []string{"arn:aws:sqs:" + region + ":ACCOUNT_ID:QUEUE_NAME"}
	}
	doc := policyDoc{Version: "2012-10-17", Statement: []policyStatement{
		{Sid: "MarketgateMarketplace", Effect: "Allow", Action: []string{"aws-marketplace:ResolveCustomer", "aws-marketplace:BatchMeterUsage",
			"aws-marketplace:GetEntitlements", "aws-marketplace:GetAgreementTerms"}, Resource: "*"},
		{Sid: "MarketgateQueue", Effect: "Allow", Action: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
			Resource: arns},
	}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// strs reads a policy value that is a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// rawStatement is a statement as a queue policy may hold it (one
// statement or a list; strings or lists everywhere).
type rawStatement struct {
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal"`
	Action    any                       `json:"Action"`
	Condition map[string]map[string]any `json:"Condition"`
}

// parsePolicy reads a queue policy's statements.
func parsePolicy(doc string) []rawStatement {
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return nil
	}
	var list []rawStatement
	if json.Unmarshal(p.Statement, &list) != nil {
		var one rawStatement
		if json.Unmarshal(p.Statement, &one) != nil {
			return nil
		}
		list = []rawStatement{one}
	}
	return list
}

// allowsFrom tells whether the statement lets service send messages, and
// the source ARNs it limits them to (nil: any source).
func (s rawStatement) allowsFrom(service string) (bool, []string) {
	if !strings.EqualFold(s.Effect, "Allow") {
		return false, nil
	}
	sendOK := slices.ContainsFunc(strs(s.Action), func(a string) bool {
		return strings.EqualFold(a, "sqs:SendMessage") || a == "sqs:*" || a == "*"
	})
	principalOK := false
	switch p := s.Principal.(type) {
	case string:
		principalOK = p == "*"
	case map[string]any:
		principalOK = slices.Contains(strs(p["Service"]), service) || slices.Contains(strs(p["AWS"]), "*")
	}
	if !sendOK || !principalOK {
		return false, nil
	}
	var sources []string
	for _, cond := range s.Condition {
		for k, v := range cond {
			if strings.EqualFold(k, "aws:SourceArn") {
				sources = append(sources, strs(v)...)
			}
		}
	}
	return true, sources
}

// allowed tells whether an ARN is allowed by sources (nil: any).
func allowed(sources []string, arn string) bool {
	if sources == nil {
		return true
	}
	return slices.ContainsFunc(sources, func(p string) bool {
		ok, _ := path.Match(p, arn)
		return ok || p == arn
	})
}

// policyAllows reports which of the SNS topics the policy lets send, and
// whether it lets an EventBridge rule send (and AWS Marketplace topics
// when no topic is configured: any aws-mp- topic).
func policyAllows(doc string, topics []string) (okTopics []string, snsMarketplace, eventBridge bool) {
	for _, s := range parsePolicy(doc) {
		if ok, sources := s.allowsFrom("sns.amazonaws.com"); ok {
			for _, t := range topics {
				if allowed(sources, t) && !slices.Contains(okTopics, t) {
					okTopics = append(okTopics, t)
				}
			}
			snsMarketplace = snsMarketplace || sources == nil || slices.ContainsFunc(sources, func(a string) bool { return strings.Contains(a, ":aws-mp-") })
		}
		if ok, _ := s.allowsFrom("events.amazonaws.com"); ok {
			eventBridge = true
		}
	}
	return okTopics, snsMarketplace, eventBridge
}

// subscription checks the queue policy: with --aws-sns-topic-arns every
// topic must be allowed; otherwise AWS Marketplace's topics or an
// EventBridge rule. The fix is the policy to paste.
func (a *AWSConfig) subscription(ch SetupCheck, queueARN, policy string) SetupCheck {
	if queueARN == "" {
		queueARN = queueARNOf(ch.Subject, a.region())
	}
	topics := a.topicARNs()
	paste := QueuePolicy(queueARN, topics)
	okTopics, snsMP, eb := policyAllows(policy, topics)
	fix := "Paste this access policy on the queue (SQS console → the queue → Access policy), subscribe the queue to the topics named in it " +
		"(the product's setup e-mail or the AWS Marketplace Management Portal gives them), and for EventBridge create the rule " +
		EventBridgeRuleName + " on the default event bus in us-east-1 with the pattern {\"source\":[\"aws.agreement-marketplace\"]} and this queue as its target."
	switch {
	case policy == "":
		ch.Status, ch.Message = Fail, "The queue has no access policy: neither AWS Marketplace's SNS topics nor an EventBridge rule can send to it."
	case len(a.TopicARNs) > 0 && len(okTopics) < len(topics):
		var missing []string
		for _, t := range topics {
			if !slices.Contains(okTopics, t) {
				missing = append(missing, t)
			}
		}
		ch.Status, ch.Message = Fail, "The queue policy does not let these topics send to the queue: "+strings.Join(missing, ", ")
	case len(a.TopicARNs) > 0 || snsMP || eb:
		var from []string
		if snsMP || len(okTopics) > 0 {
			from = append(from, "AWS Marketplace's SNS topics")
		}
		if eb {
			from = append(from, "an EventBridge rule")
		}
		ch.Status = OK
		ch.Message = "The queue policy lets " + strings.Join(from, " and ") + " send to the queue."
		ch.Values = []SetupValue{{Label: "Queue ARN", Value: queueARN}}
		return ch
	default:
		ch.Status, ch.Message = Fail, "The queue policy lets neither AWS Marketplace's SNS topics nor an EventBridge rule send to the queue."
	}
	ch.Fix = fix
	ch.Values = []SetupValue{{Label: "Queue access policy", Value: paste}, {Label: "Queue ARN", Value: queueARN}}
	return ch
}
