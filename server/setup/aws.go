package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	mmtypes "github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// AWSConfig is AWS Marketplace's side of the checks (nil in Config: not
// configured; every AWS check is skipped).
type AWSConfig struct {
	Region           string // the metering region (default us-east-1)
	MeteringEndpoint string // "" = the SDK's (or AWS_ENDPOINT_URL_MARKETPLACE_METERING)
	SQSEndpoint      string // "" = the SDK's (or AWS_ENDPOINT_URL_SQS)
	STSEndpoint      string // "" = the SDK's (or AWS_ENDPOINT_URL_STS)
	// Credentials: nil is the SDK's default chain (environment, shared
	// files, the instance's or task's role).
	Credentials aws.CredentialsProvider
	Queues      []string // the notification queues' URLs
	TopicARNs   []string // --aws-sns-topic-arns (the policy names them when set)
	// ProductCodes of the AWS offers, for the SNS topic ARNs in the queue
	// policy to paste (none: a placeholder).
	ProductCodes []string
}

// awsClients are the SDK clients the checks call: one attempt each (a
// check reports, it does not retry).
type awsClients struct {
	cfg      aws.Config
	metering *mm.Client
	sqs      *sqs.Client
	sts      *sts.Client
}

func (a *AWSConfig) clients(ctx context.Context) (*awsClients, error) {
	region := a.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithRetryMaxAttempts(1), config.WithLogger(logging.Nop{})}
	if a.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(a.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	// An endpoint setting wins; without one the SDK's (and AWS_ENDPOINT_URL_*) stays.
	endpoint := func(e string, base **string) {
		if e != "" {
			*base = aws.String(e)
		}
	}
	return &awsClients{cfg: cfg,
		metering: mm.NewFromConfig(cfg, func(o *mm.Options) { endpoint(a.MeteringEndpoint, &o.BaseEndpoint) }),
		sqs:      sqs.NewFromConfig(cfg, func(o *sqs.Options) { endpoint(a.SQSEndpoint, &o.BaseEndpoint) }),
		sts:      sts.NewFromConfig(cfg, func(o *sts.Options) { endpoint(a.STSEndpoint, &o.BaseEndpoint) }),
	}, nil
}

func (a *AWSConfig) region() string {
	if a.Region == "" {
		return "us-east-1"
	}
	return a.Region
}

// Check ids of AWS.
const (
	AWSConfigured    = "aws.configured"
	AWSCredentials   = "aws.credentials"
	AWSResolve       = "aws.resolve_customer"
	AWSMeter         = "aws.batch_meter_usage"
	AWSQueueReadable = "aws.queue.readable"
	AWSQueueSubscr   = "aws.queue.subscribed"
	AWSFulfillment   = "aws.fulfillment_url"
)

func awsCheck(id, title string) SetupCheck { return SetupCheck{ID: id, Marketplace: AWS, Title: title} }

func (c *Checker) awsSteps() []step {
	a := c.cfg.AWS
	if a == nil {
		ch := awsCheck(AWSConfigured, "AWS Marketplace configured")
		ch.Status, ch.Message = Skip, "AWS Marketplace is not configured (no notification queue is set)."
		ch.Fix = "To sell on AWS Marketplace, set --aws-sqs-queue-urls (MARKETGATE_AWS_SQS_QUEUE_URLS) and the AWS credentials of the seller account."
		return []step{{ids: []SetupCheck{ch}, run: func(context.Context) []SetupCheck { return []SetupCheck{ch} }}}
	}
	one := func(ch SetupCheck, f func(context.Context, *awsClients, SetupCheck) SetupCheck) step {
		return step{ids: []SetupCheck{ch}, run: func(ctx context.Context) []SetupCheck {
			cl, err := a.clients(ctx)
			if err != nil {
				ch.Status, ch.Message = Fail, "The AWS configuration cannot be read: "+errText(err)
				ch.Fix = "Correct the AWS settings named in the message (AWS_PROFILE, AWS_CONFIG_FILE, AWS_REGION …)."
				return []SetupCheck{ch}
			}
			return []SetupCheck{f(ctx, cl, ch)}
		}}
	}
	steps := []step{
		one(awsCheck(AWSCredentials, "AWS credentials"), a.checkCredentials),
		one(awsCheck(AWSResolve, "ResolveCustomer reachable in "+a.region()), a.checkResolve),
		one(awsCheck(AWSMeter, "BatchMeterUsage reachable in "+a.region()), a.checkMeter),
		{ids: []SetupCheck{awsCheck(AWSFulfillment, "Fulfillment URL")}, run: func(context.Context) []SetupCheck {
			return []SetupCheck{c.publicURL(awsCheck(AWSFulfillment, "Fulfillment URL"), "the AWS Marketplace Management Portal (your SaaS product's fulfillment URL)",
				SetupValue{Label: "Fulfillment URL", Value: c.cfg.BaseURL + "/marketplace/aws/register"})}
		}},
	}
	if len(a.Queues) == 0 {
		ch := awsCheck(AWSQueueReadable, "Notification queue")
		ch.Status, ch.Message = Fail, "No SQS queue is configured: AWS's subscription notifications would never reach Marketgate."
		ch.Fix = "Create an SQS queue in the seller account, subscribe it to the product's notifications, and set --aws-sqs-queue-urls (MARKETGATE_AWS_SQS_QUEUE_URLS) to its URL."
		steps = append(steps, step{ids: []SetupCheck{ch}, run: func(context.Context) []SetupCheck { return []SetupCheck{ch} }})
	}
	for _, q := range a.Queues {
		ids := []SetupCheck{awsCheck(AWSQueueReadable, "Queue readable"), awsCheck(AWSQueueSubscr, "Queue subscribed to the product's notifications")}
		for i := range ids {
			ids[i].Subject = q
		}
		steps = append(steps, step{ids: ids, run: func(ctx context.Context) []SetupCheck {
			cl, err := a.clients(ctx)
			if err != nil {
				ids[0].Status, ids[0].Message = Fail, "The AWS configuration cannot be read: "+errText(err)
				ids[1].Status, ids[1].Message = Skip, "Not checked: the queue could not be read."
				return ids
			}
			return a.checkQueue(ctx, cl, q, ids[0], ids[1])
		}})
	}
	return steps
}

// awsCode is an AWS error's code ("" for another error).
func awsCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// credentialCodes are the codes AWS answers for unknown or malformed credentials.
var credentialCodes = map[string]bool{"UnrecognizedClientException": true, "InvalidClientTokenId": true, "SignatureDoesNotMatch": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "IncompleteSignature": true, "MissingAuthenticationToken": true}

// noCredentials tells whether the SDK found no credentials to sign with.
func noCredentials(err error) bool {
	return strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "failed to retrieve credentials")
}

const credentialsFix = "Give Marketgate credentials of the AWS seller account that publishes the product: " +
	"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run it with an IAM role (EC2 instance profile, ECS task role, EKS pod identity)."

// checkCredentials: credentials found (the SDK's chain) and whose they are
// (STS GetCallerIdentity, which needs no permission).
func (a *AWSConfig) checkCredentials(ctx context.Context, cl *awsClients, ch SetupCheck) SetupCheck {
	creds, err := cl.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		ch.Status, ch.Message, ch.Fix = Fail, "No AWS credentials were found: "+errText(err), credentialsFix
		return ch
	}
	out, err := cl.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		ch.Status = Fail
		if credentialCodes[awsCode(err)] {
			ch.Message = fmt.Sprintf("AWS refused the credentials (access key %s): %s", maskKey(creds.AccessKeyID), errText(err))
			ch.Fix = "The access key is unknown, wrong or expired. " + credentialsFix
		} else {
			ch.Message = "AWS STS did not answer GetCallerIdentity: " + errText(err)
			ch.Fix = "Check that this server reaches sts." + a.region() + ".amazonaws.com (proxy, firewall, VPC endpoint)."
		}
		return ch
	}
	ch.Status = OK
	ch.Message = fmt.Sprintf("Credentials of account %s (%s), from %s. It must be the seller account that publishes the product.",
		aws.ToString(out.Account), aws.ToString(out.Arn), creds.Source)
	ch.Values = []SetupValue{{Label: "Account", Value: aws.ToString(out.Account)}, {Label: "Identity", Value: aws.ToString(out.Arn)}}
	return ch
}

func maskKey(k string) string {
	if len(k) <= 4 {
		return "****"
	}
	return k[:4] + strings.Repeat("*", 4) + k[len(k)-4:]
}

// meteringFailure fills a failed metering check from the error.
func (a *AWSConfig) meteringFailure(ch SetupCheck, action string, err error) SetupCheck {
	code := awsCode(err)
	ch.Status = Fail
	switch {
	case credentialCodes[code] || noCredentials(err):
		ch.Message, ch.Fix = "AWS refused the credentials: "+errText(err), credentialsFix
	case strings.HasPrefix(code, "AccessDenied"):
		ch.Message = "The credentials may not call " + action + ": " + errText(err)
		ch.Fix = "Attach this policy to the IAM user or role Marketgate runs as:\n" + IAMPolicy(a.Queues, a.region())
	case code == "DisabledApiException":
		ch.Message = "The metering API is disabled for this account or region (" + a.region() + "): " + errText(err)
		ch.Fix = "Set --aws-region (MARKETGATE_AWS_REGION) to the region you meter in (us-east-1 unless AWS told you otherwise)."
	default:
		ch.Message = "The AWS Marketplace Metering Service in " + a.region() + " did not answer: " + errText(err)
		ch.Fix = "Check that this server reaches metering.marketplace." + a.region() + ".amazonaws.com (proxy, firewall, VPC endpoint) and that --aws-region is right."
	}
	return ch
}

// checkResolve calls ResolveCustomer with a made-up token. AWS checks who
// calls before it reads the request, so a refusal of the credentials
// comes back as AccessDeniedException (or a credential error), while an
// authorised caller gets InvalidTokenException, documented for a token
// AWS did not issue ("Registration token is invalid"); nothing is
// resolved and nothing is billed.
func (a *AWSConfig) checkResolve(ctx context.Context, cl *awsClients, ch SetupCheck) SetupCheck {
	_, err := cl.metering.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("marketgate-setup-check")})
	var invalid *mmtypes.InvalidTokenException
	if err == nil || errors.As(err, &invalid) || awsCode(err) == "InvalidTokenException" {
		ch.Status = OK
		ch.Message = "ResolveCustomer answered in " + a.region() + " (InvalidTokenException for a made-up token, as AWS documents: the call is authorised and reachable)."
		return ch
	}
	return a.meteringFailure(ch, "aws-marketplace:ResolveCustomer", err)
}

// checkMeter calls BatchMeterUsage with no usage record: nothing can be
// billed. An authorised caller gets an answer about the request itself
// (an empty result, or a ValidationException for the empty list); a
// refused one AccessDeniedException.
func (a *AWSConfig) checkMeter(ctx context.Context, cl *awsClients, ch SetupCheck) SetupCheck {
	in := &mm.BatchMeterUsageInput{UsageRecords: []mmtypes.UsageRecord{}}
	if len(a.ProductCodes) > 0 {
		in.ProductCode = aws.String(a.ProductCodes[0])
	}
	_, err := cl.metering.BatchMeterUsage(ctx, in)
	switch code := awsCode(err); {
	case err == nil, code == "ValidationException", code == "InvalidProductCodeException", code == "InvalidCustomerIdentifierException":
		ch.Status = OK
		ch.Message = "BatchMeterUsage answered in " + a.region() + " for an empty batch (nothing billed)."
		return ch
	}
	return a.meteringFailure(ch, "aws-marketplace:BatchMeterUsage", err)
}

// checkQueue reads the queue's attributes: readable, and its policy lets
// the product's SNS topics or an EventBridge rule send to it.
func (a *AWSConfig) checkQueue(ctx context.Context, cl *awsClients, url string, readable, subscribed SetupCheck) []SetupCheck {
	out, err := cl.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		readable.Status = Fail
		code := awsCode(err)
		var missing *sqstypes.QueueDoesNotExist
		switch {
		case errors.As(err, &missing) || code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue":
			readable.Message = "The queue does not exist: " + url
			readable.Fix = "Create it in the seller account (region " + a.region() + "), or correct --aws-sqs-queue-urls (MARKETGATE_AWS_SQS_QUEUE_URLS)."
		case credentialCodes[code] || noCredentials(err):
			readable.Message, readable.Fix = "AWS refused the credentials: "+errText(err), credentialsFix
		case strings.HasPrefix(code, "AccessDenied"):
			readable.Message = "The credentials may not read the queue: " + errText(err)
			readable.Fix = "Attach this policy to the IAM user or role Marketgate runs as:\n" + IAMPolicy(a.Queues, a.region())
		default:
			readable.Message = "SQS did not answer: " + errText(err)
			readable.Fix = "Check the queue URL and that this server reaches SQS in " + a.region() + "."
		}
		subscribed.Status, subscribed.Message = Skip, "Not checked: the queue could not be read."
		return []SetupCheck{readable, subscribed}
	}
	attrs := out.Attributes
	readable.Status = OK
	readable.Message = fmt.Sprintf("Readable: %s message(s) waiting, %s in flight.", attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"])
	return []SetupCheck{readable, a.subscription(subscribed, attrs["QueueArn"], attrs["Policy"])}
}
