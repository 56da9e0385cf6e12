package awsmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	mmtypes "github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"
)

// MaxBatch is the most records one BatchMeterUsage call may carry.
const MaxBatch = 25

// UsageRecord is one hour of one dimension for one customer: a
// concurrent-agreements identity (CustomerAWSAccountID + LicenseArn) or a
// legacy one (CustomerIdentifier, with the call's product code).
type UsageRecord struct {
	CustomerAWSAccountID string
	LicenseArn           string
	CustomerIdentifier   string
	Dimension            string
	Quantity             int32
	Hour                 time.Time // the start of the UTC hour; sent as the record's Timestamp
}

// Usage statuses: AWS's own, and two for records AWS did not settle.
const (
	UsageSuccess               = "Success"
	UsageCustomerNotSubscribed = "CustomerNotSubscribed"
	UsageDuplicateRecord       = "DuplicateRecord"
	UsageUnprocessed           = "Unprocessed" // in UnprocessedRecords: not billed, resend unchanged
	UsagePending               = "Pending"     // in neither list: not known to be billed, resend unchanged
)

// UsageResult is what AWS said of one record.
type UsageResult struct {
	Record           UsageRecord
	Status           string
	MeteringRecordID string
}

// MeterError is a BatchMeterUsage call that failed as a whole: nothing in it
// was billed.
type MeterError struct {
	Code      string // the AWS error code, or "network"
	Retryable bool   // throttling, 5xx, timeouts: resend the same records later
	Err       error
}

func (e *MeterError) Error() string { return "BatchMeterUsage: " + e.Code + ": " + e.Err.Error() }
func (e *MeterError) Unwrap() error { return e.Err }

// BatchMeterUsage sends up to 25 records of one product and matches every
// result to its record by the echoed identity, dimension and timestamp,
// never by position. productCode is sent only for legacy records.
func (c *Client) BatchMeterUsage(ctx context.Context, productCode string, records []UsageRecord) ([]UsageResult, error) {
	if len(records) == 0 {
		return nil, nil
	}
	if len(records) > MaxBatch {
		return nil, fmt.Errorf("BatchMeterUsage takes at most %d records, not %d", MaxBatch, len(records))
	}
	in, err := meterInput(productCode, records)
	if err != nil {
		return nil, err
	}
	out, err := c.Metering.BatchMeterUsage(ctx, in)
	if err != nil {
		return nil, meterError(err)
	}
	return matchResults(records, out), nil
}

// meterInput is the BatchMeterUsage request for records, all of one
// identity model: productCode and CustomerIdentifier for legacy records,
// CustomerAWSAccountId and LicenseArn otherwise.
func meterInput(productCode string, records []UsageRecord) (*mm.BatchMeterUsageInput, error) {
	in := &mm.BatchMeterUsageInput{}
	legacy := records[0].LicenseArn == ""
	if legacy {
		in.ProductCode = aws.String(productCode)
	}
	for _, r := range records {
		if (r.LicenseArn == "") != legacy {
			return nil, errors.New("BatchMeterUsage: one call carries either license or legacy records, not both")
		}
		if r.LicenseArn != "" && r.CustomerIdentifier != "" {
			// AWS: CustomerIdentifier and CustomerAWSAccountId are mutually
			// exclusive in one UsageRecord; the model is chosen at sealing.
			return nil, errors.New("BatchMeterUsage: a record names a CustomerIdentifier and a LicenseArn; it must carry one identity model")
		}
		u := mmtypes.UsageRecord{Dimension: aws.String(r.Dimension), Quantity: aws.Int32(r.Quantity), Timestamp: aws.Time(r.Hour.UTC())}
		if legacy {
			u.CustomerIdentifier = aws.String(r.CustomerIdentifier)
		} else {
			u.CustomerAWSAccountId, u.LicenseArn = aws.String(r.CustomerAWSAccountID), aws.String(r.LicenseArn)
		}
		in.UsageRecords = append(in.UsageRecords, u)
	}
	return in, nil
}

// matchResults matches AWS's results and unprocessed records to the
// records sent by the echoed identity, dimension and timestamp, never by
// position; a record AWS does not mention stays pending.
func matchResults(records []UsageRecord, out *mm.BatchMeterUsageOutput) []UsageResult {
	key := func(acct, lic, cust, dim string, t time.Time) string {
		return acct + "|" + lic + "|" + cust + "|" + dim + "|" + t.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	res := make([]UsageResult, len(records))
	index := map[string]int{}
	for i, r := range records {
		res[i] = UsageResult{Record: r, Status: UsagePending}
		index[key(r.CustomerAWSAccountID, r.LicenseArn, r.CustomerIdentifier, r.Dimension, r.Hour)] = i
	}
	find := func(u *mmtypes.UsageRecord) (int, bool) {
		if u == nil {
			return 0, false
		}
		i, ok := index[key(aws.ToString(u.CustomerAWSAccountId), aws.ToString(u.LicenseArn), aws.ToString(u.CustomerIdentifier),
			aws.ToString(u.Dimension), aws.ToTime(u.Timestamp))]
		return i, ok
	}
	for _, r := range out.Results {
		if i, ok := find(r.UsageRecord); ok {
			res[i].Status = string(r.Status)
			res[i].MeteringRecordID = aws.ToString(r.MeteringRecordId)
		}
	}
	for _, u := range out.UnprocessedRecords {
		if i, ok := find(&u); ok {
			res[i].Status = UsageUnprocessed
		}
	}
	return res
}

func meterError(err error) error {
	var api smithy.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &api):
		code := api.ErrorCode()
		retry := api.ErrorFault() == smithy.FaultServer || code == "ThrottlingException" || code == "InternalServiceErrorException"
		return &MeterError{Code: code, Retryable: retry, Err: err}
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return &MeterError{Code: "network", Retryable: true, Err: err}
	}
	return &MeterError{Code: "unknown", Retryable: true, Err: err}
}
