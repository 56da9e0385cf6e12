package awsmp

import (
	"context"
	"errors"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/marketgate/marketgate/server/telemetry"
)

// callMetrics is an SDK middleware recording every AWS call (service and
// operation, outcome, latency with the SDK's retries) in the metrics. It
// sits at the end of the Initialize step, after the SDK has put the
// service and operation names in the context.
func callMetrics(m *telemetry.Metrics) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("MarketgateCallMetrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				api := awsmiddleware.GetServiceID(ctx) + " " + awsmiddleware.GetOperationName(ctx)
				m.Call("aws", api, callOutcome(err), time.Since(start))
				return out, md, err
			}), middleware.After)
	}
}

// callOutcome classifies an AWS call's error: throttled by its code (AWS
// throttles with 400 ThrottlingException as well as 429), else by the
// HTTP status; no status is a network failure.
func callOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if strings.Contains(code, "Throttl") || code == "TooManyRequestsException" || code == "RequestLimitExceeded" {
			return "throttled"
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return telemetry.OutcomeOfStatus(re.HTTPStatusCode())
	}
	return "network_error"
}
