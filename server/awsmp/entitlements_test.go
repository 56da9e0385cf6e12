package awsmp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
)

func TestGetEntitlementsFollowsEveryPage(t *testing.T) {
	fake := awsfake.NewEntitlements()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := awsmp.New(context.Background(), awsmp.Config{EntitlementEndpoint: srv.URL, StaticKeys: true, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	lic := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:l-1", ProductCode: "prod-ca"}
	other := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:l-2", ProductCode: "prod-ca"}
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var ents []awsfake.Entitlement
	for i := 0; i < 5; i++ {
		ents = append(ents, awsfake.Entitlement{Dimension: fmt.Sprintf("dim_%d", i), Value: int32(10 * (i + 1)), Expiration: exp})
	}
	fake.Set(lic, ents...)
	fake.Set(other, awsfake.Entitlement{Dimension: "seats", Value: 1, Expiration: exp})

	got, err := c.GetEntitlements(context.Background(), awsmp.EntitlementQuery{ProductCode: "prod-ca", LicenseArn: "arn:l-1"})
	if err != nil {
		t.Fatal(err)
	}
	// 5 entitlements over pages of 2 with empty pages between them.
	if len(got) != 5 || got[4].Dimension != "dim_4" || got[4].Integer != 50 || got[4].Kind != "integer" || !got[4].Expiration.Equal(exp) {
		t.Fatalf("got %+v", got)
	}
	if !got[0].Current(exp.Add(-time.Hour)) || got[0].Current(exp) {
		t.Fatal("Current is wrong around the expiration")
	}
	none, err := c.GetEntitlements(context.Background(), awsmp.EntitlementQuery{ProductCode: "prod-ca", LicenseArn: "arn:l-none"})
	if err != nil || len(none) != 0 {
		t.Fatalf("no entitlements: %+v %v", none, err)
	}
	fake.FailNext("ThrottlingException", 1)
	if got, err := c.GetEntitlements(context.Background(), awsmp.EntitlementQuery{ProductCode: "prod-ca", LicenseArn: "arn:l-2"}); err != nil || len(got) != 1 {
		t.Fatalf("after a throttle: %+v %v", got, err)
	}
	fake.FailNext("InvalidParameterException", 1)
	if _, err := c.GetEntitlements(context.Background(), awsmp.EntitlementQuery{ProductCode: "prod-ca", LicenseArn: "arn:l-2"}); !errors.Is(err, awsmp.ErrUnavailable) {
		t.Fatalf("invalid parameter: %v", err)
	}
	if _, err := c.GetEntitlements(context.Background(), awsmp.EntitlementQuery{ProductCode: "prod-ca"}); err == nil {
		t.Fatal("a query without a license or customer was sent")
	}
}
