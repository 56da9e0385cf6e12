// Package awsmp talks to AWS Marketplace through aws-sdk-go-v2: building
// the clients (each with its own endpoint) and classifying their errors.
package awsmp

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	me "github.com/aws/aws-sdk-go-v2/service/marketplaceentitlementservice"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	mmtypes "github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/marketgate/marketgate/server/telemetry"
)

// Config says where the AWS services are.
type Config struct {
	Region           string // metering region (default us-east-1)
	MeteringEndpoint string // empty: the SDK's default (or AWS_ENDPOINT_URL_MARKETPLACE_METERING)
	SQSEndpoint      string // empty: the SDK's default (or AWS_ENDPOINT_URL_SQS)
	// EntitlementEndpoint: empty is the SDK's default (or
	// AWS_ENDPOINT_URL_MARKETPLACE_ENTITLEMENT_SERVICE); the service lives in us-east-1 only.
	EntitlementEndpoint string
	StaticKeys          bool // sign with dummy keys (sandbox fakes); otherwise the default credential chain
	MaxAttempts         int  // SDK attempts per call (0: the SDK default, 3)

	// Partition is the AWS partition Marketgate sells in: "aws" (the
	// default, the commercial regions) or "aws-eusc" (the AWS European
	// Sovereign Cloud). The Agreement Service (GetAgreementTerms, hence
	// free-trial terms) exists only in "aws"; elsewhere it is not called
	// unless AgreementEndpoint names one, and free trials show as unknown.
	Partition string
	// AgreementEndpoint: empty is the SDK's default (or
	// AWS_ENDPOINT_URL_MARKETPLACE_AGREEMENT); AgreementRegion defaults to us-east-1.
	AgreementEndpoint string
	AgreementRegion   string

	// Metrics records every call (nil: none).
	Metrics *telemetry.Metrics
}

// Partitions Marketgate knows.
const (
	PartitionAWS  = "aws"
	PartitionEUSC = "aws-eusc"
)

// CheckPartition validates a partition setting.
func CheckPartition(p string) error {
	switch p {
	case "", PartitionAWS, PartitionEUSC:
		return nil
	}
	return fmt.Errorf("unknown AWS partition %q: use %q or %q (European Sovereign Cloud)", p, PartitionAWS, PartitionEUSC)
}

// MeteringAPI is the part of the metering client Marketgate uses.
type MeteringAPI interface {
	ResolveCustomer(ctx context.Context, in *mm.ResolveCustomerInput, opts ...func(*mm.Options)) (*mm.ResolveCustomerOutput, error)
	BatchMeterUsage(ctx context.Context, in *mm.BatchMeterUsageInput, opts ...func(*mm.Options)) (*mm.BatchMeterUsageOutput, error)
}

// Client wraps the AWS clients.
type Client struct {
	Metering    MeteringAPI
	SQS         SQSAPI
	Entitlement EntitlementAPI
	// Agreement is nil where the partition has no Agreement Service.
	Agreement AgreementAPI
	Partition string
}

// New builds the clients.
func New(ctx context.Context, c Config) (*Client, error) {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.Region)}
	if c.StaticKeys {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("sandbox", "sandbox", "")))
	}
	if c.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(c.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	if c.Metrics != nil {
		cfg.APIOptions = append(cfg.APIOptions, callMetrics(c.Metrics))
	}
	metering := mm.NewFromConfig(cfg, func(o *mm.Options) {
		if c.MeteringEndpoint != "" {
			o.BaseEndpoint = aws.String(c.MeteringEndpoint)
		}
	})
	queue := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SQSEndpoint)
		}
	})
	entitlement := me.NewFromConfig(cfg, func(o *me.Options) {
		// In the commercial partition the service lives in us-east-1 only;
		// elsewhere (the European Sovereign Cloud) in the partition's region.
		o.Region = "us-east-1"
		if c.Partition != "" && c.Partition != PartitionAWS {
			o.Region = c.Region
		}
		if c.EntitlementEndpoint != "" {
			o.BaseEndpoint = aws.String(c.EntitlementEndpoint)
		}
	})
	out := &Client{Metering: metering, SQS: queue, Entitlement: entitlement, Partition: cmp.Or(c.Partition, PartitionAWS)}
	if out.Partition == PartitionAWS || c.AgreementEndpoint != "" {
		out.Agreement = ma.NewFromConfig(cfg, func(o *ma.Options) {
			o.Region = cmp.Or(c.AgreementRegion, "us-east-1")
			if c.AgreementEndpoint != "" {
				o.BaseEndpoint = aws.String(c.AgreementEndpoint)
			}
		})
	}
	return out, nil
}

// Resolution errors, each with its own page for the buyer.
var (
	ErrInvalidToken = errors.New("the registration token is not valid")
	ErrExpiredToken = errors.New("the registration token has expired")
	ErrUnavailable  = errors.New("AWS Marketplace is not answering right now")
	ErrDisabled     = errors.New("the AWS Marketplace metering API is disabled for this account or region")
)

// Customer is what a registration token resolves to.
type Customer struct {
	CustomerAWSAccountID string
	LicenseArn           string
	ProductCode          string
	CustomerIdentifier   string
}

// ResolveCustomer resolves a registration token. The SDK retries
// throttling and 5xx; what is left is classified for the buyer's page.
func (c *Client) ResolveCustomer(ctx context.Context, token string) (Customer, error) {
	if token == "" {
		return Customer{}, ErrInvalidToken
	}
	out, err := c.Metering.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
	if err != nil {
		return Customer{}, classify(err)
	}
	return Customer{
		CustomerAWSAccountID: aws.ToString(out.CustomerAWSAccountId),
		LicenseArn:           aws.ToString(out.LicenseArn),
		ProductCode:          aws.ToString(out.ProductCode),
		CustomerIdentifier:   aws.ToString(out.CustomerIdentifier),
	}, nil
}

func classify(err error) error {
	var invalid *mmtypes.InvalidTokenException
	var expired *mmtypes.ExpiredTokenException
	var disabled *mmtypes.DisabledApiException
	var api smithy.APIError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	case errors.As(err, &expired):
		return fmt.Errorf("%w: %v", ErrExpiredToken, err)
	case errors.As(err, &disabled):
		return fmt.Errorf("%w: %v", ErrDisabled, err)
	case errors.As(err, &api) && api.ErrorCode() == "InvalidTokenException":
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
