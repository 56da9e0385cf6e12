package awsmp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// The real SDK client against the wire-level fake.
func setup(t *testing.T, attempts int) (*awsmp.Client, *awsfake.Metering, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)}
	fake := awsfake.NewMetering(clk.now)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: srv.URL, StaticKeys: true, MaxAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake, clk
}

func TestResolveCustomer(t *testing.T) {
	ctx := context.Background()
	c, fake, clk := setup(t, 1)
	ca := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-0123", ProductCode: "prod-1"}
	legacy := awsfake.Identity{CustomerIdentifier: "X01EXAMPLEX", ProductCode: "prod-legacy"}
	tokCA, tokLegacy := fake.IssueToken(ca), fake.IssueToken(legacy)

	got, err := c.ResolveCustomer(ctx, tokCA)
	if err != nil || got.CustomerAWSAccountID != ca.CustomerAWSAccountID || got.LicenseArn != ca.LicenseArn || got.CustomerIdentifier != "" {
		t.Fatalf("concurrent agreements: %+v %v", got, err)
	}
	got, err = c.ResolveCustomer(ctx, tokLegacy)
	if err != nil || got.CustomerIdentifier != legacy.CustomerIdentifier || got.ProductCode != legacy.ProductCode {
		t.Fatalf("legacy: %+v %v", got, err)
	}
	// A token resolves again, identically, within its lifetime (refresh, double submit).
	again, err := c.ResolveCustomer(ctx, tokLegacy)
	if err != nil || again != got {
		t.Fatalf("second resolve: %+v %v", again, err)
	}
	if _, err := c.ResolveCustomer(ctx, "not-a-token"); !errors.Is(err, awsmp.ErrInvalidToken) {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := c.ResolveCustomer(ctx, ""); !errors.Is(err, awsmp.ErrInvalidToken) {
		t.Fatalf("empty token: %v", err)
	}
	clk.add(awsfake.TokenLifetime + time.Minute)
	if _, err := c.ResolveCustomer(ctx, tokCA); !errors.Is(err, awsmp.ErrExpiredToken) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestResolveCustomerRetriesThrottlingAndServerErrors(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := setup(t, 3)
	tok := fake.IssueToken(awsfake.Identity{CustomerIdentifier: "X1", ProductCode: "p"})
	fake.FailNext("ResolveCustomer", "ThrottlingException", 1)
	fake.FailNext("ResolveCustomer", "InternalServiceErrorException", 1)
	if _, err := c.ResolveCustomer(ctx, tok); err != nil {
		t.Fatalf("after a throttle and a 500: %v", err)
	}
	if n := fake.Calls("ResolveCustomer"); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	// An invalid token is not retried.
	before := fake.Calls("ResolveCustomer")
	if _, err := c.ResolveCustomer(ctx, "bogus"); !errors.Is(err, awsmp.ErrInvalidToken) {
		t.Fatal(err)
	}
	if n := fake.Calls("ResolveCustomer") - before; n != 1 {
		t.Fatalf("invalid token tried %d times", n)
	}
	// Throttled beyond the attempts: unavailable.
	fake.FailNext("ResolveCustomer", "ThrottlingException", 3)
	if _, err := c.ResolveCustomer(ctx, tok); !errors.Is(err, awsmp.ErrUnavailable) {
		t.Fatalf("persistent throttling: %v", err)
	}
	fake.FailNext("ResolveCustomer", "DisabledApiException", 1)
	if _, err := c.ResolveCustomer(ctx, tok); !errors.Is(err, awsmp.ErrDisabled) {
		t.Fatalf("disabled API: %v", err)
	}
}
