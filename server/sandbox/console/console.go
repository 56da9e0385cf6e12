// Package console is the sandbox's HTTP side: the simulated AWS
// Marketplace and Microsoft marketplace APIs the real SDK clients call
// (under /sandbox/aws and /sandbox/azure/api), the simulated Entra ID's
// sign-in pages (/sandbox/azure/entra), and the buyer pages where a person
// acts as a marketplace's customer (/sandbox/aws, /sandbox/azure).
//
// server/app mounts it beside the API in sandbox mode (Console.Mount as
// api.Deps.Sandbox), so its routes get the API's middleware and pages; the
// API itself knows nothing of the fakes.
package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
)

// Console is the sandbox's simulated marketplaces and buyer pages.
type Console struct {
	Store *store.Store
	Now   func() time.Time // nil: time.Now

	AWSMetering     *awsfake.Metering         // under /sandbox/aws/metering
	AWSSQS          *awsfake.SQS              // under /sandbox/aws/sqs
	AWSEntitlements *awsfake.Entitlements     // under /sandbox/aws/entitlement
	AWSAgreements   *awsfake.AgreementService // under /sandbox/aws/agreement (GetAgreementTerms); nil: none
	AWSSTS          *awsfake.STS              // under /sandbox/aws/sts (GetCallerIdentity, for the setup checks); nil: none
	AWSQueueURL     string                    // the queue AWS's notifications go to

	// Latency is added to every call of the simulated marketplace APIs
	// (metering, fulfillment, SQS), to measure and test under realistic delays.
	Latency time.Duration

	AzureEntra       *azurefake.Entra       // under /sandbox/azure/entra (the buyer's sign-in page); nil: no Microsoft
	AzureMarketplace *azurefake.Marketplace // under /sandbox/azure/api

	// Mail, when the sandbox has no mail server, keeps the e-mails
	// Marketgate sent, for the Microsoft buyer page.
	Mail *Mail

	pages api.Pages
}

// Mount adds the sandbox's routes to r (the server's /sandbox group); p is
// the server's pages. It is an api.Mount.
func (s *Console) Mount(r *gin.RouterGroup, p api.Pages) {
	s.pages = p
	metering, queues, ents := s.slow(gin.WrapH(s.AWSMetering)), gin.WrapH(s.AWSSQS), s.slow(gin.WrapH(s.AWSEntitlements))
	r.POST("/aws/entitlement", ents)
	r.POST("/aws/entitlement/*rest", ents)
	if s.AWSAgreements != nil {
		agreements := s.slow(gin.WrapH(s.AWSAgreements))
		r.POST("/aws/agreement", agreements)
		r.POST("/aws/agreement/*rest", agreements)
		// The buyer's side of the seller's requests (aws_money.go).
		s.AWSAgreements.Notify = s.agreementNotice
		r.GET("/aws/agreement-requests", s.sandboxAWSRequests)
		r.POST("/aws/agreement-requests", s.sandboxAWSRequestAnswer)
	}
	if s.AWSSTS != nil {
		r.POST("/aws/sts", gin.WrapH(s.AWSSTS))
	}
	r.POST("/aws/metering", metering)
	r.POST("/aws/metering/*rest", metering)
	r.POST("/aws/sqs", queues)
	r.POST("/aws/sqs/*rest", queues)
	r.GET("/aws", s.sandboxAWS)
	r.POST("/aws/subscribe", s.sandboxAWSSubscribe)
	r.POST("/aws/notify", s.sandboxAWSNotify)
	if s.AzureMarketplace != nil {
		msAPI := s.slow(gin.WrapH(http.StripPrefix("/sandbox/azure/api", s.AzureMarketplace)))
		entra := gin.WrapH(http.StripPrefix("/sandbox/azure/entra", s.AzureEntra))
		r.Any("/azure/api/*rest", msAPI)
		r.Any("/azure/entra/*rest", entra)
		r.GET("/azure", s.sandboxAzure)
		r.POST("/azure/purchase", s.sandboxAzurePurchase)
		r.POST("/azure/act", s.sandboxAzureAct)
	}
}

func (s *Console) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// slow adds the sandbox's configured latency to a simulated API.
func (s *Console) slow(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if d := s.Latency; d > 0 {
			select {
			case <-time.After(d):
			case <-c.Request.Context().Done():
				return
			}
		}
		h(c)
	}
}
