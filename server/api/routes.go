package api

import (
	"net/http"
	"strings"

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
//	customerAdminOnly  customer admins only (the customer portal, /api/my/...)
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
	p := &router{s: s, g: api, prefix: "/api", routes: &s.portalRoutes}
	api.GET("/openapi.json", s.portalOpenAPIJSON)
	handleBody(p, http.MethodPost, "/auth/login", public, s.login)
	handle(p, http.MethodPost, "/auth/logout", public, s.logout)
	handle(p, http.MethodGet, "/auth/me", signedIn, s.getMe)
	handleBody(p, http.MethodPost, "/auth/login/2fa", public, s.loginSecondFactor)
	handleBody(p, http.MethodPost, "/auth/2fa/setup", signedIn, s.twoFactorSetup)
	handleRaw(p, http.MethodGet, "/auth/2fa/qr.png", signedIn, "image/png", s.twoFactorQR)
	handleBody(p, http.MethodPost, "/auth/2fa/enable", signedIn, s.twoFactorEnable)
	handleBody(p, http.MethodPost, "/auth/2fa/disable", signedIn, s.twoFactorDisable)
	handleBody(p, http.MethodPost, "/auth/2fa/recovery-codes", signedIn, s.twoFactorRecoveryCodes)
	handle(p, http.MethodGet, "/security", adminOnly, s.getSecuritySettings)
	handleBody(p, http.MethodPut, "/security", adminOnly, s.putSecuritySettings)
	handle(p, http.MethodGet, "/auth/options", public, s.getAuthOptions)
	handleBody(p, http.MethodPost, "/auth/password", signedIn, s.changePassword)

	handle(p, http.MethodGet, "/system", anyUserRead, s.system)
	handle(p, http.MethodGet, "/dashboard", anyUserRead, s.dashboard)
	handle(p, http.MethodGet, "/setup", adminOnly, s.getSetup, summary("Runs every go-live check against the configured marketplaces now (in parallel, each with a timeout) and answers each one's outcome and fix."))
	handle(p, http.MethodGet, "/subscriptions", anyUserRead, s.listSubscriptions, query[subscriptionQuery](), summary("format=csv answers the whole filtered set as a CSV file (text/csv) instead."))
	handle(p, http.MethodGet, "/subscriptions/:id", anyUserRead, s.getSubscription)
	handle(p, http.MethodGet, "/subscriptions/:id/raw", sellerRead, s.subscriptionRaw)
	handle(p, http.MethodGet, "/subscriptions/:id/agreement", sellerRead, s.getSubscriptionAgreement, query[agreementQuery](),
		summary("An AWS subscription's current agreement as AWS's Agreement Service describes it (cached 15 minutes; refresh=true reads AWS again), with its renewal events."))
	handle(p, http.MethodGet, "/renewals", sellerRead, s.listRenewals, query[renewalsQuery](),
		summary("AWS agreements by end date, soonest first: auto-renewal on or off and who turned it off; window=days ahead (default 180), all=true for every one, auto_renew_off=true for those that will not renew."))
	handle(p, http.MethodGet, "/offers", anyUserRead, s.listOffers)
	handleBody(p, http.MethodPost, "/offers", adminOnly, s.createOffer, status(http.StatusCreated))
	handleBody(p, http.MethodPatch, "/offers/:id", adminOnly, s.updateOffer)
	handleBody(p, http.MethodPost, "/offers/:id/plans", adminOnly, s.createPlan, status(http.StatusCreated))
	handleBody(p, http.MethodPatch, "/plans/:id", adminOnly, s.updatePlan)
	handleBody(p, http.MethodPatch, "/plans/:id/seats", adminOnly, s.updatePlanSeats)
	handle(p, http.MethodGet, "/customers", sellerRead, s.listCustomers, query[customerQuery]())
	handle(p, http.MethodGet, "/customers/:id", sellerRead, s.getCustomer)
	handle(p, http.MethodGet, "/inbox", sellerRead, s.listInbox, query[inboxQuery]())
	handle(p, http.MethodGet, "/inbox/:id", sellerRead, s.getInbox)
	handle(p, http.MethodPost, "/inbox/:id/replay", sellerWrite, s.replayInbox)
	handle(p, http.MethodGet, "/users", adminOnly, s.listUsers)
	handleBody(p, http.MethodPost, "/users", adminOnly, s.createUser, status(http.StatusCreated))
	handle(p, http.MethodGet, "/users/invites", adminOnly, s.listStaffInvites)
	handleBody(p, http.MethodPost, "/users/invites", adminOnly, s.createStaffInvite, status(http.StatusCreated))
	handle(p, http.MethodPost, "/users/invites/:id/revoke", adminOnly, s.revokeStaffInvite)
	handleBody(p, http.MethodPatch, "/users/:id", adminOnly, s.updateUser)
	handle(p, http.MethodPost, "/users/:id/reset-password", adminOnly, s.resetPassword)
	handle(p, http.MethodPost, "/users/:id/reset-2fa", adminOnly, s.resetTwoFactor)
	handle(p, http.MethodGet, "/audit", adminOnly, s.listAudit, query[auditQuery](), summary("format=csv answers the matching entries as a CSV file (text/csv)"))
	handle(p, http.MethodGet, "/apikeys", adminOnly, s.listAPIKeys)
	handleBody(p, http.MethodPost, "/apikeys", adminOnly, s.createAPIKey, status(http.StatusCreated))
	handle(p, http.MethodPost, "/apikeys/:id/revoke", adminOnly, s.revokeAPIKey)
	handle(p, http.MethodGet, "/webhooks", adminOnly, s.listWebhooks)
	handleBody(p, http.MethodPost, "/webhooks", adminOnly, s.createWebhook, status(http.StatusCreated))
	handle(p, http.MethodGet, "/webhooks/:id", adminOnly, s.getWebhook)
	handleBody(p, http.MethodPatch, "/webhooks/:id", adminOnly, s.updateWebhook)
	handle(p, http.MethodDelete, "/webhooks/:id", adminOnly, s.deleteWebhook)
	handle(p, http.MethodPost, "/webhooks/:id/rotate-secret", adminOnly, s.rotateWebhookSecret)
	handle(p, http.MethodPost, "/webhooks/:id/test", adminOnly, s.testWebhook, status(http.StatusAccepted))
	handle(p, http.MethodGet, "/webhooks/:id/deliveries", adminOnly, s.listDeliveries, query[deliveriesQuery]())
	handle(p, http.MethodPost, "/webhooks/:id/deliveries/:delivery/redeliver", adminOnly, s.redeliver)
	handle(p, http.MethodGet, "/alerts", sellerRead, s.listAlerts, query[alertsQuery]())
	handle(p, http.MethodGet, "/alerts/channels", adminOnly, s.listAlertChannels)
	handleBody(p, http.MethodPost, "/alerts/channels", adminOnly, s.createAlertChannel, status(http.StatusCreated))
	handleBody(p, http.MethodPatch, "/alerts/channels/:id", adminOnly, s.updateAlertChannel)
	handle(p, http.MethodDelete, "/alerts/channels/:id", adminOnly, s.deleteAlertChannel)
	handle(p, http.MethodPost, "/alerts/channels/:id/test", adminOnly, s.testAlertChannel)
	handle(p, http.MethodGet, "/subscriptions/:id/azure/plans", sellerRead, s.azurePlans)
	handle(p, http.MethodPost, "/subscriptions/:id/azure/activate", sellerWrite, s.azureActivateSeller)
	handleBody(p, http.MethodPost, "/subscriptions/:id/azure/change", sellerWrite, s.azureChange, status(http.StatusAccepted))
	handle(p, http.MethodPost, "/azure/reconcile", sellerWrite, s.azureReconcile)
	handle(p, http.MethodGet, "/metering/health", sellerRead, s.meteringHealth)
	handle(p, http.MethodGet, "/metering/records", anyUserRead, s.listRecords, query[meteringRecordQuery](), summary("format=csv answers the whole selection as a CSV file (text/csv) instead."))
	handleBody(p, http.MethodPost, "/metering/records/retry", sellerWrite, s.retryRecords)
	handleBody(p, http.MethodPost, "/metering/usage", sellerWrite, s.manualUsage)
	handle(p, http.MethodGet, "/subscriptions/:id/usage", anyUserRead, s.usageSeries, query[usageSeriesQuery](), summary("Usage per dimension and hour or day of a period (default: the current calendar month, UTC), with what was sent to the marketplace by record status; format=csv answers the same as a CSV file (text/csv)."))
	handle(p, http.MethodGet, "/subscriptions/:id/seats", anyUserRead, s.listSeats, query[seatQuery]())
	handleRaw(p, http.MethodGet, "/subscriptions/:id/seats/export", anyUserRead, "text/csv", s.exportSeats)
	handleBody(p, http.MethodPost, "/subscriptions/:id/seats", manageSeats, s.assignSeat, status(http.StatusCreated))
	handle(p, http.MethodPost, "/subscriptions/:id/seats/import", manageSeats, s.importSeats, query[seatImportQuery](), summary("The body is the CSV file itself (text/csv); mode=add|replace, apply=true to apply, else a preview."))
	handleBody(p, http.MethodPost, "/subscriptions/:id/seats/release", manageSeats, s.releaseSeats)
	handle(p, http.MethodDelete, "/subscriptions/:id/seats/:seat", manageSeats, s.releaseSeat)
	handle(p, http.MethodGet, "/customer-admins", anyUserRead, s.listCustomerAdmins, query[customerAdminsQuery]())
	handleBody(p, http.MethodPost, "/customer-admins/invites", manageSeats, s.createInvite, status(http.StatusCreated))
	handle(p, http.MethodPost, "/customer-admins/invites/:id/revoke", manageSeats, s.revokeInvite)
	handle(p, http.MethodGet, "/my/subscriptions", customerAdminOnly, s.listMySubscriptions)
	handle(p, http.MethodGet, "/my/subscriptions/:id", customerAdminOnly, s.getMySubscription)
	handle(p, http.MethodGet, "/my/organisation", customerAdminOnly, s.getMyOrganisation)
	handleBody(p, http.MethodPut, "/my/organisation", customerAdminOnly, s.putMyOrganisation)
	// Customer-initiated changes (changes.go): the customer admin's side,
	// and the seller's queue of requests that need approval.
	handle(p, http.MethodGet, "/my/subscriptions/:id/changes", customerAdminOnly, s.myChanges)
	handleBody(p, http.MethodPost, "/my/subscriptions/:id/changes", customerAdminOnly, s.submitMyChange, status(http.StatusCreated), alsoStatus(http.StatusAccepted),
		summary("201: a request waiting for the seller; 202: performed now (Microsoft's operation); 403 change_not_allowed: refused. An Idempotency-Key header makes a retry answer the first submission."))
	handle(p, http.MethodGet, "/change-requests", sellerRead, s.listChangeRequests, query[changeRequestsQuery]())
	handleBody(p, http.MethodPost, "/change-requests/:id/approve", sellerWrite, s.approveChangeRequest)
	handleBody(p, http.MethodPost, "/change-requests/:id/decline", sellerWrite, s.declineChangeRequest)
	// AWS agreement money (agreement_money.go): staff read, admins act
	// (confirmed, audited); customer admins read their own.
	handle(p, http.MethodGet, "/subscriptions/:id/agreement/money", sellerRead, s.getAgreementMoney)
	handleBody(p, http.MethodPost, "/subscriptions/:id/agreement/refunds", adminOnly, s.createRefund, status(http.StatusCreated))
	handleBody(p, http.MethodPost, "/subscriptions/:id/agreement/cancellation-requests", adminOnly, s.createCancellationRequest, status(http.StatusCreated))
	handleBody(p, http.MethodPost, "/subscriptions/:id/agreement/payment-requests", adminOnly, s.createPaymentRequest, status(http.StatusCreated))
	handleBody(p, http.MethodPost, "/subscriptions/:id/agreement/requests/:request/withdraw", adminOnly, s.withdrawAgreementRequest)
	handle(p, http.MethodPost, "/subscriptions/:id/agreement/requests/:request/refresh", sellerWrite, s.refreshAgreementRequest)
	handle(p, http.MethodGet, "/my/subscriptions/:id/agreement", customerAdminOnly, s.getMyAgreement)
	// The customer portal: Entra admin consent for the app's extra permissions (consent.go).
	handle(p, http.MethodGet, "/my/subscriptions/:id/permissions", customerAdminOnly, s.myPermissions)
	handle(p, http.MethodPost, "/my/subscriptions/:id/permissions/grant", customerAdminOnly, s.grantPermissions)

	// The seller's application, authenticated by API key (no cookies, so
	// no cross-origin check).
	v1 := r.Group("/api/v1", noStore, s.apiKey)
	v1.GET("/access", s.scope("access"), s.accessCheck)
	v1.POST("/usage", s.scope("usage"), s.postUsage)
	v1.GET("/seats/check", s.scope("seats"), s.seatCheck)
	v1.GET("/subscriptions", s.scope("read"), s.v1ListSubscriptions)
	v1.GET("/subscriptions/:id", s.scope("read"), s.v1GetSubscription)
	v1.GET("/customers/:id", s.scope("read"), s.v1GetCustomer)
	v1.GET("/events", s.scope("read"), s.v1Events)
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
	// The buyer pages' language switch (a cookie; back to the page, same site only).
	r.GET("/lang", noStore, setLang)
	r.GET("/invite", noStore, s.invite)
	r.POST("/invite", noStore, s.acceptInvite)
	r.GET("/auth/microsoft", noStore, s.microsoftSignIn)
	// Entra's answer to an admin-consent request (consent.go): the state
	// is bound to the session that started it.
	r.GET(consentCallbackPath, noStore, s.adminConsentCallback)
	// Seller staff: single sign-on with the company's identity provider
	// (OpenID Connect; the state travels in a signed, encrypted cookie).
	r.GET("/auth/sso", noStore, s.ssoStart)
	r.GET("/auth/sso/callback", noStore, s.ssoCallback)

	// The simulated Entra ID alone (--azure-simulated-entra, without the sandbox).
	if s.AzureSignIn != nil && s.AzureSignIn.SimulatedEntra != nil && s.Sandbox == nil {
		r.Any("/sandbox/azure/entra/*rest", noStore, gin.WrapH(http.StripPrefix("/sandbox/azure/entra", s.AzureSignIn.SimulatedEntra)))
	}

	// Sandbox only: simulated marketplaces and buyer pages.
	if s.Sandbox != nil {
		s.Sandbox(r.Group("/sandbox", noStore), pages{s})
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
