package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/marketgate/marketgate/server/jobs"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/setup"
	"github.com/marketgate/marketgate/store"
)

// jobSecretExpiry raises the Microsoft client secret's expiry alerts.
const jobSecretExpiry = "setup.secret_expiry"

// setupConfig is what the setup checks check, from the settings alone
// (marketgate doctor): AWS when a queue or a metering endpoint is set,
// Microsoft when its app is.
func setupConfig(c *Config) setup.Config {
	out := setup.Config{BaseURL: c.BaseURL, Sandbox: c.Sandbox}
	if a := c.AWS; len(a.SQSQueueURLs) > 0 || a.MeteringEndpoint != "" {
		out.AWS = &setup.AWSConfig{Region: a.Region, MeteringEndpoint: a.MeteringEndpoint, SQSEndpoint: a.SQSEndpoint,
			Queues: a.SQSQueueURLs, TopicARNs: a.SNSTopicARNs}
	}
	if z := c.Azure; countSet(z.TenantID, z.ClientID, z.ClientSecret) > 0 {
		out.Azure = &setup.AzureConfig{TenantID: z.TenantID, ClientID: z.ClientID, ClientSecret: z.ClientSecret, APIURL: z.APIURL,
			LoginURL: z.LoginURL, SecretExpires: z.SecretExpires}
	}
	return out
}

// setupChecks: the setup checks of the running server (the Setup page and
// the secret-expiry job), pointed at the simulated marketplaces in the
// sandbox, which are made to pass them.
func (w *wiring) setupChecks(ctx context.Context) error {
	sc := setupConfig(w.cfg)
	codes, err := awsProductCodes(ctx, w.st)
	if err != nil {
		return err
	}
	if sc.AWS != nil {
		sc.AWS.ProductCodes = codes
	}
	if w.sb != nil {
		w.sandboxAWSSetup(&sc, codes)
	}
	if az := w.az; az != nil {
		cc := az.proc.Client.Config()
		sc.Azure = &setup.AzureConfig{TenantID: cc.TenantID, ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, APIURL: cc.APIURL,
			LoginURL: cc.TokenAuthority, GraphURL: az.signIn.GraphURL, HTTP: cc.TokenHTTP, SecretExpires: w.cfg.Azure.SecretExpires}
		if w.entra != nil {
			w.entra.entra.SetApplication(cc.TenantID, cc.ClientID, sandboxApplication(w.cfg.BaseURL, cc.ClientSecret))
		}
	}
	w.checker = setup.New(sc)
	return nil
}

// sandboxAWSSetup points the AWS checks at the simulated AWS (its STS
// answers for the sandbox's keys) and gives the sandbox's queue the policy
// the checks look for.
func (w *wiring) sandboxAWSSetup(sc *setup.Config, codes []string) {
	iam := awsfake.NewIAM()
	iam.AddKey("sandbox", awsfake.Principal{Account: awsfake.SQSAccount, ARN: "arn:aws:iam::" + awsfake.SQSAccount + ":user/sandbox", UserID: "AIDASANDBOXSELLER0001"})
	w.sb.console.AWSSTS = awsfake.NewSTS(iam)
	sc.AWS = &setup.AWSConfig{Region: "us-east-1", MeteringEndpoint: w.awsCfg.MeteringEndpoint, SQSEndpoint: w.awsCfg.SQSEndpoint,
		STSEndpoint: w.local + "/sandbox/aws/sts", Credentials: credentials.NewStaticCredentialsProvider("sandbox", "sandbox", ""),
		Queues: w.queues, ProductCodes: codes}
	for _, q := range w.queues {
		w.sb.console.AWSSQS.SetPolicy(q, setup.QueuePolicy(awsfake.QueueARN(q, "us-east-1"), setup.MarketplaceTopics(codes)))
	}
}

// sandboxApplication is the sandbox publisher's app registration as
// Microsoft Graph shows it: multi-tenant, the landing page's redirect URI,
// a secret valid for six more months, allowed to read its registration.
func sandboxApplication(baseURL, secret string) azurefake.Application {
	now := time.Now().UTC().Truncate(24 * time.Hour)
	hint := secret
	if len(hint) > 3 {
		hint = hint[:3]
	}
	return azurefake.Application{DisplayName: "Marketgate (sandbox)", SignInAudience: "AzureADMultipleOrgs",
		RedirectURIs: []string{baseURL + "/marketplace/azure/callback"}, GraphRoles: []string{setup.GraphPermission},
		Passwords: []azurefake.PasswordCredential{{KeyID: "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", DisplayName: "marketgate", Hint: hint,
			Start: now.AddDate(0, -18, 0), End: now.AddDate(0, 6, 0)}}}
}

// awsProductCodes are the AWS offers' product codes.
func awsProductCodes(ctx context.Context, st *store.Store) ([]string, error) {
	offers, err := st.ListOffers(ctx)
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, o := range offers {
		if o.Marketplace == "aws" && o.MarketplaceID != "" {
			codes = append(codes, o.MarketplaceID)
		}
	}
	return codes, nil
}

// setupJobs: the daily check of the Microsoft client secret's expiry,
// raising its alert 30, 7 and 1 days before (each once).
func (w *wiring) setupJobs() []jobs.Job {
	if w.checker == nil || w.az == nil {
		return nil
	}
	checker, st, log := w.checker, w.st, w.log
	return []jobs.Job{{Name: jobSecretExpiry, Every: 24 * time.Hour, Delay: time.Minute, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
		t, err := checker.AlertSecretExpiry(ctx, st)
		if err != nil {
			return fmt.Errorf("microsoft client secret: %w", err)
		}
		if t >= 0 {
			log.Warn("microsoft client secret expiring: alert raised", "days", t)
		}
		return nil
	}}}
}
