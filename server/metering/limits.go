package metering

import (
	"fmt"
	"math"
	"time"
)

// What the marketplaces accept for one hour's record, so that an accepted
// event is always sendable.
const (
	// MaxHourAWS: BatchMeterUsage's UsageRecord.Quantity is "Type: Integer,
	// Valid Range: Minimum value of 0. Maximum value of 2147483647" (AWS
	// Marketplace Metering API Reference, UsageRecord; an int32 in the SDK).
	// One record per customer, dimension and hour (R6), so the excess of an
	// hour cannot be sent as a second record either.
	MaxHourAWS = math.MaxInt32
	// MaxHourAzure: Microsoft's quantity is a double (JSON number, > 0,
	// reference M3). Above 2^53 - 1 a double no longer tells n from n + 1,
	// so a larger hour's total would silently lose units.
	MaxHourAzure = 1<<53 - 1

	// awsMonthClose: AWS takes a month's usage until 06:00 UTC on the 1st
	// of the next month (R4).
	awsMonthClose = 6 * time.Hour
	// sendSlack is how long after an hour is sealed its record may take to
	// be sent: sealing runs every 30 s, dispatch every 5 s, and a few
	// retries with backoff fit in.
	sendSlack = 5 * time.Minute
)

// hourLimit is the largest total one hour's record may carry.
func hourLimit(marketplace string) float64 {
	if marketplace == "aws" {
		return MaxHourAWS
	}
	return MaxHourAzure
}

func marketplaceName(marketplace string) string {
	if marketplace == "aws" {
		return "AWS"
	}
	return "Microsoft"
}

// sendDeadline is when the marketplace stops taking the record of an hour
// (its Timestamp / effectiveStartTime is the hour's start): 24 hours after
// it (AWS R3: "up to 24 hours in the past"; Microsoft M2: "within the past
// 24 h"), and for AWS, for an hour of a month that has ended, 06:00 UTC on
// the 1st of the next month (R4), whichever comes first.
func sendDeadline(marketplace string, hour time.Time) time.Time {
	d := hour.Add(usageWindow)
	if marketplace == "aws" {
		h := hour.UTC()
		next := time.Date(h.Year(), h.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0).Add(awsMonthClose)
		if next.Before(d) {
			d = next
		}
	}
	return d
}

// Stable codes of the rejections that concern the marketplaces' limits.
const (
	CodeTooOld       = "usage_too_old"        // older than the 24-hour window
	CodeMonthClosed  = "usage_month_closed"   // AWS: the month's usage closed at 06:00 UTC on the 1st
	CodeHourClosed   = "usage_hour_closed"    // its hour could no longer be sealed and sent in time
	CodeHourTotalMax = "usage_hour_total_max" // the hour's total would pass what the marketplace accepts
	CodeFinalSent    = "usage_final_sent"     // the subscription's final usage was already sealed and sent
)

var reasonCodes = []struct{ prefix, code string }{
	{reasonTooOld, CodeTooOld},
	{reasonMonthClosed, CodeMonthClosed},
	{reasonHourClosed, CodeHourClosed},
	{reasonHourTotalMax, CodeHourTotalMax},
	{reasonFinalSent, CodeFinalSent},
}

// Reason texts start with these; the code is read from them, so a repeat
// of a rejected event gets the same code as the original.
const (
	reasonTooOld       = "timestamp is older than the open window (24 hours)"
	reasonMonthClosed  = "too late for the month"
	reasonHourClosed   = "too late for its hour"
	reasonHourTotalMax = "the hour's total would pass"
	reasonFinalSent    = "the subscription's final usage was already sealed and sent"
)

// reasonCode is the stable code of a rejection reason ("" when it has none).
func reasonCode(reason string) string {
	for _, c := range reasonCodes {
		if len(reason) >= len(c.prefix) && reason[:len(c.prefix)] == c.prefix {
			return c.code
		}
	}
	return ""
}

const stamp = "2006-01-02T15:04:05Z"

func tooOldReason(now time.Time) string {
	return fmt.Sprintf("%s: the marketplaces no longer accept usage from before %s", reasonTooOld, now.Add(-usageWindow).UTC().Format(stamp))
}

func monthClosedReason(ts time.Time) string {
	t := ts.UTC()
	closed := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0).Add(awsMonthClose)
	return fmt.Sprintf("%s: AWS takes usage of %s only until %s (06:00 UTC on the 1st of the next month)", reasonMonthClosed, t.Format("January 2006"), closed.Format(stamp))
}

func hourClosedReason(marketplace string, hour, deadline time.Time) string {
	return fmt.Sprintf("%s: %s takes the record of the hour %s only until %s, and this usage could not be sealed and sent before then",
		reasonHourClosed, marketplaceName(marketplace), hour.UTC().Format(stamp), deadline.UTC().Format(stamp))
}

func hourTotalReason(marketplace string, hour time.Time, total float64) string {
	return fmt.Sprintf("%s what %s accepts for one hour (%.0f): with this event the hour %s would hold %.0f",
		reasonHourTotalMax, marketplaceName(marketplace), hourLimit(marketplace), hour.UTC().Format(stamp), total)
}
