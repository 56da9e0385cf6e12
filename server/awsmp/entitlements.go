package awsmp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	me "github.com/aws/aws-sdk-go-v2/service/marketplaceentitlementservice"
	metypes "github.com/aws/aws-sdk-go-v2/service/marketplaceentitlementservice/types"
)

// EntitlementAPI is the part of the entitlement client Marketgate uses.
type EntitlementAPI interface {
	GetEntitlements(ctx context.Context, in *me.GetEntitlementsInput, opts ...func(*me.Options)) (*me.GetEntitlementsOutput, error)
}

// Entitlement is one contract dimension a customer holds.
type Entitlement struct {
	Dimension  string
	Kind       string // integer, double, boolean, string
	Value      string // the value as text, whatever its kind
	Integer    int64  // the value when Kind is integer
	Expiration time.Time
}

// Current reports whether the entitlement is valid at t.
func (e Entitlement) Current(t time.Time) bool { return e.Expiration.IsZero() || e.Expiration.After(t) }

// EntitlementQuery names whose entitlements to read: a license (concurrent
// agreements) or a legacy customer identifier.
type EntitlementQuery struct {
	ProductCode        string
	LicenseArn         string
	CustomerIdentifier string
}

// GetEntitlements reads every entitlement page, following NextToken even
// after an empty page, and stopping on a repeated token.
func (c *Client) GetEntitlements(ctx context.Context, q EntitlementQuery) ([]Entitlement, error) {
	if c.Entitlement == nil {
		return nil, errors.New("the entitlement client is not configured")
	}
	filter := map[string][]string{}
	switch {
	case q.LicenseArn != "":
		filter["LICENSE_ARN"] = []string{q.LicenseArn} // no SDK constant in v1.25.7
	case q.CustomerIdentifier != "":
		filter[string(metypes.GetEntitlementFilterNameCustomerIdentifier)] = []string{q.CustomerIdentifier}
	default:
		return nil, errors.New("an entitlement query needs a license ARN or a customer identifier")
	}
	var out []Entitlement
	seen := map[string]bool{}
	var token *string
	for page := 0; page < 1000; page++ {
		res, err := c.Entitlement.GetEntitlements(ctx, &me.GetEntitlementsInput{ProductCode: aws.String(q.ProductCode),
			Filter: filter, NextToken: token, MaxResults: aws.Int32(25)})
		if err != nil {
			return nil, fmt.Errorf("%w: GetEntitlements: %v", ErrUnavailable, err)
		}
		for _, e := range res.Entitlements {
			out = append(out, convert(e))
		}
		if res.NextToken == nil || *res.NextToken == "" {
			return out, nil
		}
		if seen[*res.NextToken] {
			return out, nil // a repeated token would loop forever
		}
		seen[*res.NextToken] = true
		token = res.NextToken
	}
	return nil, errors.New("GetEntitlements: too many pages")
}

func convert(e metypes.Entitlement) Entitlement {
	out := Entitlement{Dimension: aws.ToString(e.Dimension)}
	if e.ExpirationDate != nil {
		out.Expiration = e.ExpirationDate.UTC()
	}
	if v := e.Value; v != nil {
		switch {
		case v.IntegerValue != nil:
			out.Kind, out.Integer, out.Value = "integer", int64(*v.IntegerValue), fmt.Sprint(*v.IntegerValue)
		case v.DoubleValue != nil:
			out.Kind, out.Value = "double", fmt.Sprint(*v.DoubleValue)
		case v.BooleanValue != nil:
			out.Kind, out.Value = "boolean", fmt.Sprint(*v.BooleanValue)
		case v.StringValue != nil:
			out.Kind, out.Value = "string", *v.StringValue
		}
	}
	return out
}
