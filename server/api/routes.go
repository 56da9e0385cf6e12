package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
)

// routes declares every route and who may call it.
//
//	public       anyone (health, metrics, sign-in, the portal's files)
//	signedIn     any signed-in user, even one who must change the password
//	anyUserRead  seller staff and customer admins (customer admins see only their customer)
//	sellerRead   admin, operator, viewer
//	sellerWrite  admin, operator
//	adminOnly    admin
//	manageSeats  admin, operator, customer admin (their own customer only)
func (s *Server) routes(r *gin.Engine) {
	r.Use(s.requestContext, s.securityHeaders)
	r.GET("/page-assets/:file", pageAsset)

	r.GET("/healthz", s.healthz)
	if !s.MetricsElsewhere {
		r.GET("/metrics", gin.WrapH(MetricsHandler(s.Registry, s.MetricsToken)))
	} else {
		r.GET("/metrics", func(c *gin.Context) {
			s.failCode(c, apperr.NotFound, "metrics are served on their own address (--metrics-addr)")
		})
	}

	api := r.Group("/api", s.crossOrigin, noStore)
	api.POST("/auth/login", s.login)
	api.POST("/auth/logout", s.logout)
	api.GET("/auth/me", s.allow(signedIn), s.getMe)
	api.POST("/auth/login/2fa", s.loginSecondFactor)
	api.POST("/auth/2fa/setup", s.allow(signedIn), s.twoFactorSetup)
	api.GET("/auth/2fa/qr.png", s.allow(signedIn), s.twoFactorQR)
	api.POST("/auth/2fa/enable", s.allow(signedIn), s.twoFactorEnable)
	api.POST("/auth/2fa/disable", s.allow(signedIn), s.twoFactorDisable)
	api.POST("/auth/2fa/recovery-codes", s.allow(signedIn), s.twoFactorRecoveryCodes)
	api.GET("/security", s.allow(adminOnly), s.getSecuritySettings)
	api.PUT("/security", s.allow(adminOnly), s.putSecuritySettings)
	api.GET("/auth/options", s.authOptions)
	api.POST("/auth/password", s.allow(signedIn), s.changePassword)

	api.GET("/system", s.allow(anyUserRead), s.system)
	api.GET("/dashboard", s.allow(anyUserRead), s.dashboard)
	api.GET("/subscriptions", s.allow(anyUserRead), s.listSubscriptions)
	api.GET("/subscriptions/:id", s.allow(anyUserRead), s.getSubscription)
	api.GET("/subscriptions/:id/raw", s.allow(sellerRead), s.subscriptionRaw)
	api.GET("/offers", s.allow(anyUserRead), s.listOffers)
	api.POST("/offers", s.allow(adminOnly), s.createOffer)
	api.PATCH("/offers/:id", s.allow(adminOnly), s.updateOffer)
	api.POST("/offers/:id/plans", s.allow(adminOnly), s.createPlan)
	api.PATCH("/plans/:id", s.allow(adminOnly), s.updatePlan)
	api.PATCH("/plans/:id/seats", s.allow(adminOnly), s.updatePlanSeats)
	api.GET("/customers", s.allow(sellerRead), s.listCustomers)
	api.GET("/customers/:id", s.allow(sellerRead), s.getCustomer)
	api.GET("/inbox", s.allow(sellerRead), s.listInbox)
	api.GET("/inbox/:id", s.allow(sellerRead), s.getInbox)
	api.POST("/inbox/:id/replay", s.allow(sellerWrite), s.replayInbox)
	api.GET("/users", s.allow(adminOnly), s.listUsers)
	api.POST("/users", s.allow(adminOnly), s.createUser)
	api.GET("/users/invites", s.allow(adminOnly), s.listStaffInvites)
	api.POST("/users/invites", s.allow(adminOnly), s.createStaffInvite)
	api.POST("/users/invites/:id/revoke", s.allow(adminOnly), s.revokeStaffInvite)
	api.PATCH("/users/:id", s.allow(adminOnly), s.updateUser)
	api.POST("/users/:id/reset-password", s.allow(adminOnly), s.resetPassword)
	api.POST("/users/:id/reset-2fa", s.allow(adminOnly), s.resetTwoFactor)
	api.GET("/audit", s.allow(adminOnly), s.listAudit)
	api.GET("/apikeys", s.allow(adminOnly), s.listAPIKeys)
	api.POST("/apikeys", s.allow(adminOnly), s.createAPIKey)
	api.POST("/apikeys/:id/revoke", s.allow(adminOnly), s.revokeAPIKey)
	api.GET("/webhooks", s.allow(adminOnly), s.listWebhooks)
	api.POST("/webhooks", s.allow(adminOnly), s.createWebhook)
	api.GET("/webhooks/:id", s.allow(adminOnly), s.getWebhook)
	api.PATCH("/webhooks/:id", s.allow(adminOnly), s.updateWebhook)
	api.DELETE("/webhooks/:id", s.allow(adminOnly), s.deleteWebhook)
	api.POST("/webhooks/:id/rotate-secret", s.allow(adminOnly), s.rotateWebhookSecret)
	api.POST("/webhooks/:id/test", s.allow(adminOnly), s.testWebhook)
	api.GET("/webhooks/:id/deliveries", s.allow(adminOnly), s.listDeliveries)
	api.POST("/webhooks/:id/deliveries/:delivery/redeliver", s.allow(adminOnly), s.redeliver)
	api.GET("/alerts", s.allow(sellerRead), s.listAlerts)
	api.GET("/alerts/channels", s.allow(adminOnly), s.listAlertChannels)
	api.POST("/alerts/channels", s.allow(adminOnly), s.createAlertChannel)
	api.PATCH("/alerts/channels/:id", s.allow(adminOnly), s.updateAlertChannel)
	api.DELETE("/alerts/channels/:id", s.allow(adminOnly), s.deleteAlertChannel)
	api.POST("/alerts/channels/:id/test", s.allow(adminOnly), s.testAlertChannel)
	api.GET("/subscriptions/:id/azure/plans", s.allow(sellerRead), s.azurePlans)
	api.POST("/subscriptions/:id/azure/activate", s.allow(sellerWrite), s.azureActivateSeller)
	api.POST("/subscriptions/:id/azure/change", s.allow(sellerWrite), s.azureChange)
	api.POST("/azure/reconcile", s.allow(sellerWrite), s.azureReconcile)
	api.GET("/metering/health", s.allow(sellerRead), s.meteringHealth)
	api.GET("/metering/records", s.allow(anyUserRead), s.listRecords)
	api.POST("/metering/records/retry", s.allow(sellerWrite), s.retryRecords)
	api.POST("/metering/usage", s.allow(sellerWrite), s.manualUsage)
	api.GET("/subscriptions/:id/usage", s.allow(anyUserRead), s.usageSeries)
	api.GET("/subscriptions/:id/seats", s.allow(anyUserRead), s.listSeats)
	api.GET("/subscriptions/:id/seats/export", s.allow(anyUserRead), s.exportSeats)
	api.POST("/subscriptions/:id/seats", s.allow(manageSeats), s.assignSeat)
	api.POST("/subscriptions/:id/seats/import", s.allow(manageSeats), s.importSeats)
	api.POST("/subscriptions/:id/seats/release", s.allow(manageSeats), s.releaseSeats)
	api.DELETE("/subscriptions/:id/seats/:seat", s.allow(manageSeats), s.releaseSeat)
	api.GET("/customer-admins", s.allow(anyUserRead), s.listCustomerAdmins)
	api.POST("/customer-admins/invites", s.allow(manageSeats), s.createInvite)
	api.POST("/customer-admins/invites/:id/revoke", s.allow(manageSeats), s.revokeInvite)

	// The seller's application, authenticated by API key (no cookies, so
	// no cross-origin check).
	v1 := r.Group("/api/v1", noStore, s.apiKey)
	v1.GET("/access", s.scope("access"), s.accessCheck)
	v1.POST("/usage", s.scope("usage"), s.postUsage)
	v1.GET("/seats/check", s.scope("seats"), s.seatCheck)
	// Its OpenAPI document is public: it describes the API and holds no data.
	r.GET("/api/v1/openapi.json", noStore, s.openAPIJSON)
	r.GET("/api/v1/openapi.yaml", noStore, s.openAPIYAML)

	// Marketplace callbacks authenticate the marketplace's way, never by
	// session: the AWS registration token resolves through ResolveCustomer.
	// The POST comes from an AWS page (cross-site), so it sits outside the
	// cross-origin check; the onboarding form checks it itself.
	mp := r.Group("/marketplace", noStore)
	mp.POST("/aws/register", s.awsRegister)
	mp.GET("/aws/onboarding", s.awsOnboarding)
	mp.POST("/aws/onboarding", s.awsOnboardingSubmit)
	mp.GET("/aws/welcome", s.awsWelcome)
	// The e-mail verification link (when mail is configured): the GET shows
	// a button, the same-origin POST creates the account.
	mp.GET("/aws/verify", s.awsVerify)
	mp.POST("/aws/verify", s.awsVerifySubmit)
	// Microsoft: the landing page signs the buyer in with Entra (code flow,
	// response_mode=query, so no cross-site POST); the webhook authenticates
	// by Entra bearer token; the buyer's activate button is a same-origin form.
	mp.GET("/azure/landing", s.azureLanding)
	mp.GET("/azure/callback", s.azureCallback)
	mp.GET("/azure/welcome", s.azureWelcome)
	mp.POST("/azure/activate", s.azureActivateBuyer)
	mp.POST("/azure/webhook", s.azureNotification)

	// Customer admins: accepting an invitation (the link is the credential;
	// the form checks its origin itself), and signing in with Microsoft
	// Entra (the same callback as the landing page).
	r.GET("/invite", noStore, s.invite)
	r.POST("/invite", noStore, s.acceptInvite)
	r.GET("/auth/microsoft", noStore, s.microsoftSignIn)
	// Seller staff: single sign-on with the company's identity provider
	// (OpenID Connect; the state travels in a signed, encrypted cookie).
	r.GET("/auth/sso", noStore, s.ssoStart)
	r.GET("/auth/sso/callback", noStore, s.ssoCallback)

	// The simulated Entra ID alone (--azure-simulated-entra, without the sandbox).
	if s.AzureSignIn != nil && s.AzureSignIn.SimulatedEntra != nil && (s.Sandbox == nil || s.Sandbox.AzureMarketplace == nil) {
		r.Any("/sandbox/azure/entra/*rest", noStore, gin.WrapH(http.StripPrefix("/sandbox/azure/entra", s.AzureSignIn.SimulatedEntra)))
	}

	// Sandbox only: simulated marketplaces and buyer pages.
	if s.Sandbox != nil {
		sb := r.Group("/sandbox", noStore)
		metering, queues, ents := s.slow(gin.WrapH(s.Sandbox.AWSMetering)), gin.WrapH(s.Sandbox.AWSSQS), s.slow(gin.WrapH(s.Sandbox.AWSEntitlements))
		sb.POST("/aws/entitlement", ents)
		sb.POST("/aws/entitlement/*rest", ents)
		if s.Sandbox.AWSAgreements != nil {
			agreements := s.slow(gin.WrapH(s.Sandbox.AWSAgreements))
			sb.POST("/aws/agreement", agreements)
			sb.POST("/aws/agreement/*rest", agreements)
		}
		sb.POST("/aws/metering", metering)
		sb.POST("/aws/metering/*rest", metering)
		sb.POST("/aws/sqs", queues)
		sb.POST("/aws/sqs/*rest", queues)
		sb.GET("/aws", s.sandboxAWS)
		sb.POST("/aws/subscribe", s.sandboxAWSSubscribe)
		sb.POST("/aws/notify", s.sandboxAWSNotify)
		if s.Sandbox.AzureMarketplace != nil {
			msAPI := s.slow(gin.WrapH(http.StripPrefix("/sandbox/azure/api", s.Sandbox.AzureMarketplace)))
			entra := gin.WrapH(http.StripPrefix("/sandbox/azure/entra", s.Sandbox.AzureEntra))
			sb.Any("/azure/api/*rest", msAPI)
			sb.Any("/azure/entra/*rest", entra)
			sb.GET("/azure", s.sandboxAzure)
			sb.POST("/azure/purchase", s.sandboxAzurePurchase)
			sb.POST("/azure/act", s.sandboxAzureAct)
		}
	}

	r.NoMethod(func(c *gin.Context) {
		s.failCode(c, apperr.MethodNotAllowed, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path)
	})
	r.NoRoute(func(c *gin.Context) {
		if c.Request.URL.Path == "/api" || strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.apiNotFound(c)
			return
		}
		s.portal(c)
	})
}

// slow adds the sandbox's configured latency to a simulated API.
func (s *Server) slow(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if d := s.Sandbox.Latency; d > 0 {
			select {
			case <-time.After(d):
			case <-c.Request.Context().Done():
				return
			}
		}
		h(c)
	}
}
