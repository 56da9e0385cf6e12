package awsmp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
)

// BatchMeterUsage with the real SDK client against the wire-level fake,
// which enforces AWS's rules (reference §4).
func TestBatchMeterUsage(t *testing.T) {
	ctx := context.Background()
	c, fake, clk := setup(t, 1)
	ca := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-1", ProductCode: "prod-ca"}
	ca2 := awsfake.Identity{CustomerAWSAccountID: "444455556666", LicenseArn: "arn:aws:license-manager::444455556666:license:l-2", ProductCode: "prod-ca"}
	legacy := awsfake.Identity{CustomerIdentifier: "X01EXAMPLEX", ProductCode: "prod-legacy"}
	fake.Subscribe(ca)
	fake.Subscribe(ca2)
	fake.Subscribe(legacy)
	hour := clk.now().Truncate(time.Hour).Add(-time.Hour)
	rec := func(id awsfake.Identity, dim string, q int32, h time.Time) awsmp.UsageRecord {
		return awsmp.UsageRecord{CustomerAWSAccountID: id.CustomerAWSAccountID, LicenseArn: id.LicenseArn,
			CustomerIdentifier: id.CustomerIdentifier, Dimension: dim, Quantity: q, Hour: h}
	}
	code := func(err error) string {
		var me *awsmp.MeterError
		if errors.As(err, &me) {
			return me.Code
		}
		return fmt.Sprint(err)
	}

	// Accepted, each with its own record id; zero is a valid quantity.
	first := []awsmp.UsageRecord{rec(ca, "api_calls", 1200, hour), rec(ca2, "api_calls", 0, hour), rec(ca, "storage_gb", 7, hour)}
	res, err := c.BatchMeterUsage(ctx, "", first)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, r := range res {
		if r.Status != awsmp.UsageSuccess || r.MeteringRecordID == "" || r.Record != first[i] {
			t.Fatalf("record %d: %+v", i, r)
		}
		ids[r.MeteringRecordID] = true
	}
	if len(ids) != 3 || len(fake.Metered()) != 3 {
		t.Fatalf("ids %v, billed %d", ids, len(fake.Metered()))
	}
	// An identical resend (in another order, as a subset) succeeds with the same ids and bills nothing more.
	again, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{first[2], first[0]})
	if err != nil || again[0].MeteringRecordID != res[2].MeteringRecordID || again[1].MeteringRecordID != res[0].MeteringRecordID {
		t.Fatalf("identical resend: %+v %v", again, err)
	}
	// Another quantity for a metered hour is a duplicate: the first write wins.
	dup, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "api_calls", 1300, hour.Add(30*time.Minute).Truncate(time.Hour))})
	if err != nil || dup[0].Status != awsmp.UsageDuplicateRecord {
		t.Fatalf("different quantity: %+v %v", dup, err)
	}
	if m := fake.Metered(); len(m) != 3 || m[0].Quantity != 1200 {
		t.Fatalf("billed after duplicate: %+v", m)
	}
	// Legacy records carry the product code at the request level.
	leg, err := c.BatchMeterUsage(ctx, "prod-legacy", []awsmp.UsageRecord{rec(legacy, "api_calls", 5, hour)})
	if err != nil || leg[0].Status != awsmp.UsageSuccess {
		t.Fatalf("legacy: %+v %v", leg, err)
	}
	// An unknown or unsubscribed customer: CustomerNotSubscribed for that record only.
	fake.Unsubscribe(ca2)
	stranger := awsfake.Identity{CustomerAWSAccountID: "999999999999", LicenseArn: "arn:aws:license-manager::999999999999:license:l-x"}
	mixed, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca2, "api_calls", 1, hour.Add(-time.Hour)),
		rec(stranger, "api_calls", 1, hour), rec(ca, "api_calls", 9, hour.Add(-time.Hour))})
	if err != nil || mixed[0].Status != awsmp.UsageCustomerNotSubscribed || mixed[1].Status != awsmp.UsageCustomerNotSubscribed ||
		mixed[2].Status != awsmp.UsageSuccess {
		t.Fatalf("not subscribed: %+v %v", mixed, err)
	}
	// One record older than 24 hours fails the whole batch; nothing in it is billed.
	billed := len(fake.Metered())
	_, err = c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "api_calls", 1, hour.Add(-2*time.Hour)), rec(ca, "api_calls", 1, hour.Add(-25*time.Hour))})
	if code(err) != "TimestampOutOfBoundsException" || len(fake.Metered()) != billed {
		t.Fatalf("out of bounds: %v, billed %d → %d", err, billed, len(fake.Metered()))
	}
	var me *awsmp.MeterError
	if errors.As(err, &me) && me.Retryable {
		t.Fatal("an out-of-bounds batch is not retryable as is")
	}
	// A future hour is out of bounds too.
	if _, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "api_calls", 1, hour.Add(3*time.Hour))}); code(err) != "TimestampOutOfBoundsException" {
		t.Fatalf("future: %v", err)
	}
	// Records AWS leaves unprocessed or does not mention stay unbilled, and say so.
	fake.UnprocessNext(1)
	fake.DropNext(1)
	part, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "d1", 1, hour), rec(ca, "d2", 2, hour), rec(ca, "d3", 3, hour)})
	if err != nil || part[0].Status != awsmp.UsagePending || part[1].Status != awsmp.UsageUnprocessed || part[2].Status != awsmp.UsageSuccess {
		t.Fatalf("unprocessed and dropped: %+v %v", part, err)
	}
	// Licenses of two products in one call fail the call.
	other := awsfake.Identity{CustomerAWSAccountID: "777788889999", LicenseArn: "arn:aws:license-manager::777788889999:license:l-o", ProductCode: "prod-other"}
	fake.Subscribe(other)
	if _, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "api_calls", 1, hour.Add(-3*time.Hour)), rec(other, "api_calls", 1, hour)}); code(err) != "InvalidLicenseException" {
		t.Fatalf("two products: %v", err)
	}
	// An unknown dimension fails the call.
	fake.SetDimensions("prod-ca", "api_calls", "storage_gb")
	if _, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{rec(ca, "API_CALLS", 1, hour)}); code(err) != "InvalidUsageDimensionException" {
		t.Fatalf("dimension: %v", err)
	}
	// More than 25 records are refused before anything is sent.
	calls := fake.Calls("BatchMeterUsage")
	many := make([]awsmp.UsageRecord, 26)
	for i := range many {
		many[i] = rec(ca, "api_calls", 1, hour.Add(-time.Duration(i)*time.Hour))
	}
	if _, err := c.BatchMeterUsage(ctx, "", many); err == nil || fake.Calls("BatchMeterUsage") != calls {
		t.Fatalf("26 records: %v", err)
	}
	if _, err := c.BatchMeterUsage(ctx, "prod-legacy", []awsmp.UsageRecord{rec(ca, "a", 1, hour), rec(legacy, "a", 1, hour)}); err == nil {
		t.Fatal("license and legacy records in one call were sent")
	}
}

// The fake refuses more than 25 records itself (a client other than ours).
func TestBatchMeterUsageFakeLimits(t *testing.T) {
	fake := awsfake.NewMetering(nil)
	var recs []string
	for i := 0; i < 26; i++ {
		recs = append(recs, fmt.Sprintf(`{"CustomerIdentifier":"X","Dimension":"d","Quantity":1,"Timestamp":%d}`, time.Now().Unix()))
	}
	body := `{"ProductCode":"p","UsageRecords":[` + strings.Join(recs, ",") + `]}`
	req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSMPMeteringService.BatchMeterUsage")
	w := httptest.NewRecorder()
	fake.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "ValidationException") {
		t.Fatalf("26 records: %d %s", w.Code, w.Body.String())
	}
}

// The fake enforces UsageRecord.Quantity's documented range, "Type:
// Integer, Valid Range: Minimum value of 0. Maximum value of 2147483647"
// (AWS Marketplace Metering API Reference, UsageRecord), for any client:
// 2147483648 fails the call with ValidationException (nothing billed),
// 2147483647 is billed. Our client cannot even express more (an int32),
// which is why ingestion keeps every hour within the range.
func TestBatchMeterUsageFakeQuantityRange(t *testing.T) {
	now := time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)
	fake := awsfake.NewMetering(func() time.Time { return now })
	fake.Subscribe(awsfake.Identity{CustomerIdentifier: "X", ProductCode: "p"})
	call := func(q string) *httptest.ResponseRecorder {
		body := fmt.Sprintf(`{"ProductCode":"p","UsageRecords":[{"CustomerIdentifier":"X","Dimension":"d","Quantity":%s,"Timestamp":%d}]}`,
			q, now.Truncate(time.Hour).Add(-time.Hour).Unix())
		req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSMPMeteringService.BatchMeterUsage")
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		return w
	}
	for _, q := range []string{"2147483648", "-1", "-2147483648", "1.5"} {
		if w := call(q); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "ValidationException") ||
			!strings.Contains(w.Body.String(), "0 to 2147483647") {
			t.Fatalf("Quantity %s: %d %s", q, w.Code, w.Body.String())
		}
	}
	if len(fake.Metered()) != 0 {
		t.Fatal("an out-of-range quantity was billed")
	}
	if w := call("2147483647"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"Success"`) ||
		len(fake.Metered()) != 1 || fake.Metered()[0].Quantity != 2147483647 {
		t.Fatalf("Quantity 2147483647: %d %s", w.Code, w.Body.String())
	}
}

// Month-end cutoff (R4): last month's usage is accepted until 06:00 UTC on the 1st.
func TestBatchMeterUsageMonthEnd(t *testing.T) {
	ctx := context.Background()
	c, fake, clk := setup(t, 1)
	id := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:l-1", ProductCode: "p"}
	fake.Subscribe(id)
	lastHour := time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)
	r := awsmp.UsageRecord{CustomerAWSAccountID: id.CustomerAWSAccountID, LicenseArn: id.LicenseArn, Dimension: "d", Quantity: 3, Hour: lastHour}
	clk.t = time.Date(2026, 4, 1, 5, 59, 0, 0, time.UTC)
	if res, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{r}); err != nil || res[0].Status != awsmp.UsageSuccess {
		t.Fatalf("before the cutoff: %+v %v", res, err)
	}
	clk.t = time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC)
	r.Dimension = "e"
	if _, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{r}); err == nil || !strings.Contains(err.Error(), "TimestampOutOfBounds") {
		t.Fatalf("after the cutoff: %v", err)
	}
}

// Throttling, then success: the SDK retries, the record is billed once.
func TestBatchMeterUsageThrottling(t *testing.T) {
	ctx := context.Background()
	c, fake, clk := setup(t, 3)
	id := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:l-1", ProductCode: "p"}
	fake.Subscribe(id)
	r := awsmp.UsageRecord{CustomerAWSAccountID: id.CustomerAWSAccountID, LicenseArn: id.LicenseArn, Dimension: "d", Quantity: 3,
		Hour: clk.now().Truncate(time.Hour)}
	fake.FailNext("BatchMeterUsage", "ThrottlingException", 2)
	res, err := c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{r})
	if err != nil || res[0].Status != awsmp.UsageSuccess || fake.Calls("BatchMeterUsage") != 3 || len(fake.Metered()) != 1 {
		t.Fatalf("throttled then success: %+v %v, calls %d", res, err, fake.Calls("BatchMeterUsage"))
	}
	// Throttled past the SDK's attempts: a retryable error, nothing billed.
	fake.FailNext("BatchMeterUsage", "ThrottlingException", 3)
	r.Dimension = "e"
	_, err = c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{r})
	var me *awsmp.MeterError
	if !errors.As(err, &me) || me.Code != "ThrottlingException" || !me.Retryable || len(fake.Metered()) != 1 {
		t.Fatalf("throttled out: %v", err)
	}
	fake.FailNext("BatchMeterUsage", "InternalServiceErrorException", 3)
	_, err = c.BatchMeterUsage(ctx, "", []awsmp.UsageRecord{r})
	if !errors.As(err, &me) || !me.Retryable {
		t.Fatalf("5xx: %v", err)
	}
}
