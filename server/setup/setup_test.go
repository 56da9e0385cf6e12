package setup_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/setup"
	"github.com/marketgate/marketgate/server/setup/setuptest"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func find(t *testing.T, r setup.SetupReport, id, subject string) setup.SetupCheck {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id && (subject == "" || c.Subject == subject) {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", id, r.Checks)
	return setup.SetupCheck{}
}

// Against healthy simulated services every check passes, and each says
// what it found.
func TestEveryCheckPasses(t *testing.T) {
	env := setuptest.New(t)
	r := setup.New(env.Config()).Run(context.Background())
	if !r.OK {
		t.Fatalf("failed: %+v", r.Failed())
	}
	for _, c := range r.Checks {
		if c.Status != setup.OK {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Message)
		}
	}
	if c := find(t, r, setup.AWSCredentials, ""); !strings.Contains(c.Message, setuptest.Account) || !strings.Contains(c.Message, "user/marketgate") {
		t.Errorf("credentials: %s", c.Message)
	}
	if c := find(t, r, setup.AWSFulfillment, ""); len(c.Values) != 1 || c.Values[0].Value != setuptest.BaseURL+"/marketplace/aws/register" {
		t.Errorf("fulfillment URL: %+v", c.Values)
	}
	if c := find(t, r, setup.AzureURLs, ""); len(c.Values) != 2 || c.Values[1].Value != setuptest.BaseURL+"/marketplace/azure/webhook" {
		t.Errorf("partner center URLs: %+v", c.Values)
	}
	if r.AzureSecretExpiresAt == nil || r.AzureSecretExpiresAt.Before(env.Now.AddDate(0, 11, 0)) {
		t.Errorf("secret expiry %v", r.AzureSecretExpiresAt)
	}
	if len(r.Checks) != 13 {
		t.Errorf("%d checks", len(r.Checks))
	}
}

// Each failure injected into the simulated services fails its check, and
// the check says the fix.
func TestFailuresAreReportedWithTheFix(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*setuptest.Env, *setup.Config)
		id      string
		status  setup.Status
		message string // in the message
		fix     string // in the fix
	}{
		{"unknown access key", func(_ *setuptest.Env, c *setup.Config) { c.AWS.Credentials = setuptest.Keys(setuptest.UnknownKey) },
			setup.AWSCredentials, setup.Fail, "InvalidClientTokenId", "AWS_ACCESS_KEY_ID"},
		{"no credentials", func(_ *setuptest.Env, c *setup.Config) {
			c.AWS.Credentials = aws.AnonymousCredentials{}
		}, setup.AWSCredentials, setup.Fail, "", "IAM role"},
		{"access denied to ResolveCustomer", func(_ *setuptest.Env, c *setup.Config) { c.AWS.Credentials = setuptest.Keys(setuptest.DeniedKey) },
			setup.AWSResolve, setup.Fail, "AccessDeniedException", "aws-marketplace:ResolveCustomer"},
		{"access denied to BatchMeterUsage", func(_ *setuptest.Env, c *setup.Config) { c.AWS.Credentials = setuptest.Keys(setuptest.DeniedKey) },
			setup.AWSMeter, setup.Fail, "AccessDenied", "aws-marketplace:BatchMeterUsage"},
		{"access denied to the queue", func(_ *setuptest.Env, c *setup.Config) { c.AWS.Credentials = setuptest.Keys(setuptest.DeniedKey) },
			setup.AWSQueueReadable, setup.Fail, "AccessDenied", "sqs:GetQueueAttributes"},
		{"missing queue", func(e *setuptest.Env, c *setup.Config) { c.AWS.Queues = []string{e.AWSURL + "/sqs/111122223333/gone"} },
			setup.AWSQueueReadable, setup.Fail, "does not exist", "--aws-sqs-queue-urls"},
		{"no queue configured", func(_ *setuptest.Env, c *setup.Config) { c.AWS.Queues = nil },
			setup.AWSQueueReadable, setup.Fail, "No SQS queue", "--aws-sqs-queue-urls"},
		{"queue not subscribed", func(e *setuptest.Env, c *setup.Config) { e.SQS.SetPolicy(e.Queue, "") },
			setup.AWSQueueSubscr, setup.Fail, "no access policy", "Access policy"},
		{"queue policy for another topic", func(e *setuptest.Env, c *setup.Config) {
			c.AWS.TopicARNs = []string{"arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-other"}
		}, setup.AWSQueueSubscr, setup.Fail, "aws-mp-subscription-notification-other", "Access policy"},
		{"http base URL", func(_ *setuptest.Env, c *setup.Config) { c.BaseURL = "http://marketgate.example.com" },
			setup.AWSFulfillment, setup.Fail, "not https", "--base-url"},
		{"wrong client secret", func(_ *setuptest.Env, c *setup.Config) { c.Azure.ClientSecret = "wrong-secret" },
			setup.AzureToken, setup.Fail, "AADSTS7000215", "Certificates & secrets"},
		{"wrong tenant", func(_ *setuptest.Env, c *setup.Config) { c.Azure.TenantID = "0b9f6c1e-9999-4a2b-8c3d-000000000009" },
			setup.AzureToken, setup.Fail, "AADSTS700016", "--azure-tenant-id"},
		{"fulfillment API refuses another app", func(e *setuptest.Env, c *setup.Config) {
			e.Entra.RegisterApp(setuptest.Tenant, "someone-else", "s3cret")
			c.Azure.ClientID, c.Azure.ClientSecret = "someone-else", "s3cret"
		}, setup.AzureFulfillment, setup.Fail, "HTTP 403", "Technical configuration"},
		{"single-tenant app", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.SignInAudience = "AzureADMyOrg" })
		}, setup.AzureMultiTenant, setup.Fail, "AzureADMyOrg", "Multitenant"},
		{"redirect URI missing", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.RedirectURIs = []string{"https://old.example.com/callback"} })
		}, setup.AzureRedirect, setup.Fail, "lack", "/marketplace/azure/callback"},
		{"secret expiring in 5 days", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.Passwords[0].End = e.Now.Add(5*24*time.Hour + time.Hour) })
		}, setup.AzureSecret, setup.Warn, "in 5 day(s)", "new client secret"},
		{"secret expired", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.Passwords[0].End = e.Now.Add(-time.Hour) })
		}, setup.AzureSecret, setup.Fail, "expired", "new client secret"},
		{"graph denied: multi-tenant unknown", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.GraphRoles = nil })
		}, setup.AzureMultiTenant, setup.Skip, "Application.Read.All", "Supported account types"},
		{"graph denied: expiry unknown", func(e *setuptest.Env, _ *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.GraphRoles = nil })
		}, setup.AzureSecret, setup.Fail, "Application.Read.All", "--azure-client-secret-expires"},
		{"graph denied: expiry from the setting", func(e *setuptest.Env, c *setup.Config) {
			e.SetApplication(func(a *azurefake.Application) { a.GraphRoles = nil })
			end := e.Now.AddDate(0, 6, 0)
			c.Azure.SecretExpires = &end
		}, setup.AzureSecret, setup.OK, "--azure-client-secret-expires", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := setuptest.New(t)
			cfg := env.Config()
			tc.change(env, &cfg)
			r := setup.New(cfg).Run(context.Background())
			c := find(t, r, tc.id, "")
			if c.Status != tc.status || !strings.Contains(c.Message, tc.message) || !strings.Contains(c.Fix, tc.fix) {
				t.Fatalf("%s: %s\nmessage: %s\nfix: %s", c.ID, c.Status, c.Message, c.Fix)
			}
			if tc.status == setup.Fail && r.OK {
				t.Errorf("report ok %v with %s", r.OK, tc.status)
			}
		})
	}
}

// The fix of a queue that is not subscribed is the policy to paste, built
// from the queue's ARN and account; pasting it makes the check pass.
func TestQueuePolicyToPaste(t *testing.T) {
	env := setuptest.New(t)
	env.SQS.SetPolicy(env.Queue, "")
	r := setup.New(env.Config()).Run(context.Background())
	c := find(t, r, setup.AWSQueueSubscr, env.Queue)
	if len(c.Values) == 0 || c.Values[0].Label != "Queue access policy" {
		t.Fatalf("values %+v", c.Values)
	}
	policy := c.Values[0].Value
	for _, want := range []string{`"sns.amazonaws.com"`, `"events.amazonaws.com"`, "arn:aws:sqs:us-east-1:" + setuptest.Account + ":marketplace-notifications",
		"arn:aws:events:us-east-1:" + setuptest.Account + ":rule/" + setup.EventBridgeRuleName, env.Topics()[0], env.Topics()[1]} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy lacks %s:\n%s", want, policy)
		}
	}
	env.SQS.SetPolicy(env.Queue, policy)
	if c := find(t, setup.New(env.Config()).Run(context.Background()), setup.AWSQueueSubscr, ""); c.Status != setup.OK {
		t.Fatalf("after pasting: %s %s", c.Status, c.Message)
	}
}

// Nothing configured: every check is skipped with how to configure it.
func TestNothingConfigured(t *testing.T) {
	r := setup.New(setup.Config{BaseURL: "http://localhost:8080"}).Run(context.Background())
	if !r.OK || len(r.Checks) != 2 || r.Checks[0].Status != setup.Skip || r.Checks[1].Status != setup.Skip {
		t.Fatalf("%+v", r)
	}
}

// A check that does not answer in time fails, and the others still answer.
func TestTimeout(t *testing.T) {
	env := setuptest.New(t)
	cfg := env.Config()
	cfg.Timeout = time.Millisecond
	r := setup.New(cfg).Run(context.Background())
	c := find(t, r, setup.AzureToken, "")
	if c.Status != setup.Fail || !strings.Contains(c.Message, "no answer within") {
		t.Fatalf("%+v", c)
	}
	if len(r.Checks) != 13 || r.OK {
		t.Fatalf("every check answers, the report fails: %d checks, ok %v", len(r.Checks), r.OK)
	}
}

// A secret expiring in 5 days raises the 7-day alert once, however often
// the daily job runs; the 1-day alert comes once when a day is left, and
// the expired one after the end.
func TestSecretExpiryAlertsOncePerThreshold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { secretExpiryAlerts(t, st) })
}

func secretExpiryAlerts(t *testing.T, st *store.Store) {
	ctx := context.Background()
	env := setuptest.New(t)
	end := env.Now.Add(5*24*time.Hour + time.Hour)
	env.SetApplication(func(a *azurefake.Application) { a.Passwords[0].End = end })
	c := setup.New(env.Config())
	expect := func(want int) {
		t.Helper()
		got, err := c.AlertSecretExpiry(ctx, st)
		if err != nil || got != want {
			t.Fatalf("raised %d, %v; want %d", got, err, want)
		}
	}
	expect(7)
	expect(-1) // the same day again
	env.Now = env.Now.Add(24 * time.Hour)
	expect(-1) // the next day: still the 7-day threshold
	env.Now = end.Add(-12 * time.Hour)
	expect(1)
	expect(-1)
	env.Now = end.Add(time.Hour)
	expect(0)
	expect(-1)
	list, err := st.ListAlerts(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range list {
		if a.Type == alerts.SecretExpiring {
			n++
			if a.Count != 1 {
				t.Errorf("alert %s raised %d times", a.Key, a.Count)
			}
		}
	}
	if n != 3 {
		t.Fatalf("%d secret alerts: %+v", n, list)
	}
	// A new secret (another expiry date) starts again from 30 days.
	env.SetApplication(func(a *azurefake.Application) { a.Passwords[0].End = env.Now.Add(20 * 24 * time.Hour) })
	expect(30)
}

// The thresholds: 30, 7 and 1 days, and 0 once expired.
func TestThresholds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { thresholds(t, st) })
}

func thresholds(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		left time.Duration
		want int
	}{{40 * 24 * time.Hour, -1}, {30 * 24 * time.Hour, 30}, {8 * 24 * time.Hour, 30}, {7 * 24 * time.Hour, 7}, {36 * time.Hour, 7}, {24 * time.Hour, 1}, {time.Minute, 1}, {0, 0}} {
		got, err := setup.SecretExpiryAlert(ctx, st, "app-"+tc.left.String(), now.Add(tc.left), now)
		if err != nil || got != tc.want {
			t.Errorf("%s left: %d %v, want %d", tc.left, got, err, tc.want)
		}
	}
}
