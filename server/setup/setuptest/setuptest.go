// Package setuptest runs the simulated AWS and Microsoft services the setup
// checks call (the sandbox's fakes over HTTP) with a publisher that passes
// every check, and the switches to make each check fail.
package setuptest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/setup"
)

// The publisher's identities in the fakes.
const (
	Account     = "111122223333"
	AccessKey   = "AKIASETUPGOOD0000001"
	DeniedKey   = "AKIASETUPDENIED00002"
	UnknownKey  = "AKIASETUPUNKNOWN0003"
	Tenant      = "0b9f6c1e-1111-4a2b-8c3d-000000000001"
	Client      = "7a1c2b3d-2222-4e5f-9a0b-000000000002"
	Secret      = "SeCrEt~sandbox-client-secret-value"
	BaseURL     = "https://marketgate.example.com"
	ProductCode = "prodcode123"
)

// Env is the simulated services.
type Env struct {
	IAM   *awsfake.IAM
	SQS   *awsfake.SQS
	Entra *azurefake.Entra
	Now   time.Time

	AWSURL string // /metering, /sqs, /sts
	Queue  string // a queue subscribed (its policy lets the topics send)

	entraURL, apiURL string
	entraHTTP        *http.Client
}

// New starts the services; they stop when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	e := &Env{IAM: awsfake.NewIAM(), SQS: awsfake.NewSQS(nil), Now: time.Now()}
	e.IAM.AddKey(AccessKey, awsfake.Principal{Account: Account, ARN: "arn:aws:iam::" + Account + ":user/marketgate", UserID: "AIDASETUPMARKETGATE01"})
	e.IAM.AddKey(DeniedKey, awsfake.Principal{Account: Account, ARN: "arn:aws:iam::" + Account + ":user/intern", UserID: "AIDASETUPINTERN000002",
		Deny: []string{"aws-marketplace:ResolveCustomer", "aws-marketplace:BatchMeterUsage", "sqs:GetQueueAttributes"}})
	mux := http.NewServeMux()
	mux.Handle("/metering", e.IAM.Guard(awsfake.NewMetering(nil)))
	mux.Handle("/sqs", e.IAM.Guard(e.SQS))
	mux.Handle("/sqs/", e.IAM.Guard(e.SQS))
	mux.Handle("/sts", awsfake.NewSTS(e.IAM))
	aws := httptest.NewServer(mux)
	t.Cleanup(aws.Close)
	e.AWSURL = aws.URL
	e.Queue = aws.URL + "/sqs/" + Account + "/marketplace-notifications"
	e.SQS.CreateQueue(e.Queue)
	e.SQS.SetPolicy(e.Queue, setup.QueuePolicy(awsfake.QueueARN(e.Queue, "us-east-1"), e.Topics()))

	esrv := httptest.NewUnstartedServer(nil)
	esrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short when a test ends
	esrv.StartTLS()
	t.Cleanup(esrv.Close)
	e.Entra = azurefake.NewEntra(esrv.URL, func() time.Time { return e.Now })
	esrv.Config.Handler = e.Entra
	e.entraURL, e.entraHTTP = esrv.URL, esrv.Client()
	e.Entra.RegisterApp(Tenant, Client, Secret)
	e.SetApplication(func(a *azurefake.Application) {})
	msrv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(msrv.Close)
	msrv.Config.Handler = azurefake.NewMarketplace(azurefake.Options{Base: msrv.URL, Entra: e.Entra, PublisherID: "acme",
		WebhookAudience: Client, WebhookTenant: Tenant})
	e.apiURL = msrv.URL
	return e
}

// Topics are the product's SNS topics.
func (e *Env) Topics() []string {
	return []string{"arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-" + ProductCode,
		"arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-" + ProductCode}
}

// Application is the healthy app registration: multi-tenant, the landing
// page's redirect URI, a secret expiring in a year, Application.Read.All.
func (e *Env) Application() azurefake.Application {
	return azurefake.Application{DisplayName: "Marketgate", SignInAudience: "AzureADMultipleOrgs",
		RedirectURIs: []string{BaseURL + "/marketplace/azure/callback"}, GraphRoles: []string{"Application.Read.All"},
		Passwords: []azurefake.PasswordCredential{{KeyID: "5d2c6f4e-0000-4000-8000-000000000001", DisplayName: "marketgate", Hint: Secret[:3],
			Start: e.Now.AddDate(0, -1, 0), End: e.Now.AddDate(1, 0, 0)}}}
}

// SetApplication changes the app registration from the healthy one.
func (e *Env) SetApplication(change func(*azurefake.Application)) {
	a := e.Application()
	change(&a)
	e.Entra.SetApplication(Tenant, Client, a)
}

// Config is a configuration that passes every check; change it to inject
// a failure.
func (e *Env) Config() setup.Config {
	return setup.Config{BaseURL: BaseURL, Timeout: 10 * time.Second, Now: func() time.Time { return e.Now },
		AWS: &setup.AWSConfig{Region: "us-east-1", MeteringEndpoint: e.AWSURL + "/metering", SQSEndpoint: e.AWSURL + "/sqs",
			STSEndpoint: e.AWSURL + "/sts", Credentials: Keys(AccessKey), Queues: []string{e.Queue}, ProductCodes: []string{ProductCode}},
		Azure: &setup.AzureConfig{TenantID: Tenant, ClientID: Client, ClientSecret: Secret, APIURL: e.apiURL, LoginURL: e.entraURL,
			GraphURL: e.entraURL + "/graph/v1.0", HTTP: e.entraHTTP},
	}
}

// Keys are static credentials with an access key id.
func Keys(id string) credentials.StaticCredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, "secret", "")
}
