package metering

import (
	"fmt"
	"math"
	"time"

	"github.com/marketgate/marketgate/store"
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
// the 1st of the next month (R4: "a record for 31 March 23:00 can be sent
// until 1 April 05:59:59 UTC"), whichever comes first.
//
// It is the one rule for a record's deadline: acceptance (placeHours), the
// check right before a send (guarded), expiry, the portal's retry and the
// expiry warning all use it, the last three through its SQL form
// deadlineBy, which a test holds to the same answers on both databases.
func sendDeadline(marketplace string, hour time.Time) time.Time {
	h := hour.UTC()
	d := h.Add(usageWindow)
	if marketplace == "aws" {
		if next := monthStart(h).AddDate(0, 1, 0).Add(awsMonthClose); next.Before(d) {
			d = next
		}
	}
	return d
}

// monthStart is the start of t's month in UTC, whatever t's location.
func monthStart(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// windowBy and monthCutoffBy are sendDeadline as selections of
// metering_records (the store writes their SQL): the record's deadline is
// at or before t, by the 24-hour window (hour + 24 h <= t) or by AWS's
// month-end cutoff (the 06:00 UTC on the 1st after the record's month is
// at or before t, that is, the hour lies before the month in which t - 6 h
// falls).
func windowBy(t time.Time) store.RecordDeadline {
	return store.RecordDeadline{WindowEnd: t.UTC().Add(-usageWindow)}
}

func monthCutoffBy(t time.Time) store.RecordDeadline {
	return store.RecordDeadline{AWSMonthStart: monthStart(t.UTC().Add(-awsMonthClose))}
}

// deadlineAt: the record's sendDeadline is at or before t.
func deadlineAt(t time.Time) store.RecordDeadline {
	return store.RecordDeadline{WindowEnd: windowBy(t).WindowEnd, AWSMonthStart: monthCutoffBy(t).AWSMonthStart}
}

// deadlineBy is deadlineAt as an SQL condition on metering_records.
func deadlineBy(t time.Time) (string, []any) { return deadlineAt(t).SQL() }

// ExpiryWarning is how long before its deadline (sendDeadline) a record
// still pending is announced as expiring: 20 hours after its hour for the
// 24-hour window, earlier for the last hours of a month on AWS.
const ExpiryWarning = usageWindow - ExpiringSoon

// expiringAt selects the records whose deadline is at most ExpiryWarning
// away at now (or already passed).
func expiringAt(now time.Time) store.RecordDeadline { return deadlineAt(now.Add(ExpiryWarning)) }

// ExpiringBy is the SQL condition, on metering_records, of the pending
// records to warn about at now: their deadline is at most ExpiryWarning
// away (or already passed).
func ExpiringBy(now time.Time) (string, []any) {
	c, a := expiringAt(now).SQL()
	return "status = ? AND " + c, append([]any{store.RecordPending}, a...)
}

// Expiring tells whether a pending record of this hour is to be warned
// about at now: ExpiringBy for one record.
func Expiring(marketplace string, hour, now time.Time) bool {
	return !now.Add(ExpiryWarning).Before(sendDeadline(marketplace, hour))
}

func deadlinePassedReason(marketplace string, hour time.Time) string {
	return fmt.Sprintf("%s: %s takes the record of the hour %s only until %s; not sent",
		reasonPastDeadline, marketplaceName(marketplace), hour.UTC().Format(stamp), sendDeadline(marketplace, hour).Format(stamp))
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
	reasonPastDeadline = "past the marketplace's deadline"
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
	closed := monthStart(t).AddDate(0, 1, 0).Add(awsMonthClose)
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
