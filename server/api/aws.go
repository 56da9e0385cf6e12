package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
)

// AWSResolver resolves AWS registration tokens; *awsmp.Client is one.
type AWSResolver = awsmp.Resolver

// AWSEvents processes AWS notifications and reads contract entitlements;
// *awsmp.Processor is one.
type AWSEvents interface {
	awsmp.EntitlementRefresher
	Apply(ctx context.Context, m *store.InboxMessage) error
}

// Registration POSTs come from anyone's browser: bounded and rate-limited.
const (
	maxRegisterBody  = 16 << 10 // the form has two short fields
	maxRegisterToken = 4096
)

// awsRegister answers the registration POST from AWS Marketplace (the
// product's fulfillment URL). The token authenticates the buyer; it is
// stored with the raw request in the inbox, never put in a URL or a log.
func (s *Server) awsRegister(c *gin.Context) {
	ctx := c.Request.Context()
	if !s.allowAnonymous(c, "aws-register", registerLimit) {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, maxRegisterBody+1))
	if err != nil || len(raw) > maxRegisterBody {
		s.problem(c, http.StatusBadRequest, "We could not read your registration",
			"The request from AWS Marketplace was too large or cut off. Return to AWS Marketplace and choose “Set up your account” again.",
			awsMarketplaceURL, "Back to AWS Marketplace")
		return
	}
	form, _ := url.ParseQuery(string(raw))
	token := strings.TrimSpace(form.Get("x-amzn-marketplace-token"))
	offerType := form.Get("x-amzn-marketplace-offer-type")
	// Without a token (or with something no token looks like) nothing is
	// stored: only a registration AWS could have sent is worth keeping.
	if token == "" || len(token) > maxRegisterToken || hasUnsafeByte(token) {
		s.Log.Info("aws registration without a usable token", "request_id", requestID(c), "ip", ClientIP(c), "bytes", len(raw))
		s.problem(c, http.StatusBadRequest, "This page is opened from AWS Marketplace",
			"We did not receive a registration token. Open the product in AWS Marketplace and choose “Set up your account”.",
			awsMarketplaceURL, "Go to AWS Marketplace")
		return
	}

	reg := awsmp.Registration{Store: s.Store, Log: s.Log.With("request_id", requestID(c)), Resolver: s.AWS,
		Entitlements: s.AWSEvents, Now: s.Now}
	ticket, err := reg.Register(ctx, awsmp.RegistrationForm{Token: token, OfferType: offerType,
		ContentType: c.ContentType(), Headers: inboxHeaders(c.Request)})
	switch {
	case errors.Is(err, awsmp.ErrRegistrationNotStored):
		s.problem(c, http.StatusServiceUnavailable, "We could not complete your registration",
			"Something went wrong on our side. Please try again in a minute.", "", "")
	case errors.Is(err, awsmp.ErrRegistrationNotConfigured):
		s.problem(c, http.StatusServiceUnavailable, "Registration is not available yet",
			"This seller has not connected AWS Marketplace yet. Your subscription is safe at AWS; please contact the seller.", "", "")
	case errors.Is(err, awsmp.ErrExpiredToken):
		s.problem(c, http.StatusBadRequest, "Your registration link has expired",
			"Registration links from AWS Marketplace work for a few hours. Return to AWS Marketplace and choose “Set up your account” again — you do not need to subscribe again.",
			awsMarketplaceURL, "Back to AWS Marketplace")
	case errors.Is(err, awsmp.ErrInvalidToken):
		s.problem(c, http.StatusBadRequest, "We could not verify your registration",
			"AWS Marketplace did not recognise this registration. Return to AWS Marketplace and choose “Set up your account” again.",
			awsMarketplaceURL, "Back to AWS Marketplace")
	case errors.Is(err, awsmp.ErrResolveUnavailable):
		s.problem(c, http.StatusServiceUnavailable, "AWS Marketplace is not answering right now",
			"Your subscription is safe. Please go back and try again in a few minutes.", "", "")
	case errors.Is(err, awsmp.ErrRegistrationNotRecorded):
		s.problem(c, http.StatusServiceUnavailable, "We could not complete your registration",
			"Something went wrong on our side. Please try again in a minute; your subscription at AWS is safe.", "", "")
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/marketplace/aws/onboarding?ticket="+url.QueryEscape(ticket))
	}
}

var onboardingPage = page("Set up your account", `<h1>Set up your {{.Product}} account</h1>
<p>Thank you for subscribing through AWS Marketplace. Create the administrator account for your organisation; you can invite colleagues later.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/marketplace/aws/onboarding">
<input type="hidden" name="ticket" value="{{.Ticket}}">
<label for="company">Company</label><input id="company" name="company" value="{{.Company}}" required maxlength="200">
<label for="name">Your name</label><input id="name" name="name" value="{{.Name}}" required maxlength="200">
<label for="email">Work e-mail</label><input id="email" name="email" type="email" value="{{.Email}}" required maxlength="320">
<label for="password">Password (at least 10 characters)</label><input id="password" name="password" type="password" required minlength="10">
<button type="submit">Create account</button>
</form>`)

var accountExistsPage = page("Account exists", `<h1>Your organisation already has an account</h1>
<p>{{.Company}} is already set up{{if .Product}} for {{.Product}}{{end}}. Sign in with your account; if you cannot, ask your administrator to invite you.</p>
<p><a class="button" href="/login">Sign in</a></p>`)

var welcomePage = page("Welcome", `<h1>Welcome to {{.Product}}</h1>
<dl><dt>Organisation</dt><dd>{{.Company}}</dd><dt>Plan</dt><dd>{{.Plan}}</dd><dt>Status</dt><dd>{{.State}}</dd></dl>
{{if eq .State "pending"}}<p>AWS Marketplace is confirming your subscription; this usually takes a few minutes. You can sign in now — the product opens for use as soon as AWS confirms.</p>{{end}}
{{if eq .State "failed"}}<p class="error">AWS Marketplace reported a problem with your subscription (for example the payment). Check your subscription in AWS Marketplace.</p>{{end}}
<h2>Getting started</h2>
<ol><li>Sign in to the portal with the e-mail and password you just chose.</li>
<li>See your subscription, its plan and its state under <em>Subscriptions</em>.</li>
<li>To change or cancel the subscription, use <a href="https://console.aws.amazon.com/marketplace/home#/subscriptions">Your Marketplace Software</a> in the AWS console.</li></ol>
<p><a class="button" href="/subscriptions">Open the portal</a></p>`)

func (s *Server) ticketProblem(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrTicketUsed):
		s.problem(c, http.StatusGone, "This link was already used",
			"Your account was created with this link. Sign in to continue.", "/login", "Sign in")
	case errors.Is(err, store.ErrTicketExpired), errors.Is(err, store.ErrNotFound):
		s.problem(c, http.StatusGone, "This setup link has expired",
			"Setup links work for one hour. Return to AWS Marketplace and choose “Set up your account” again — you do not need to subscribe again.",
			awsMarketplaceURL, "Back to AWS Marketplace")
	default:
		s.fail(c, err)
	}
}

// onboardingContext loads what the onboarding pages show.
func (s *Server) onboardingContext(ctx context.Context, subID uint) (*store.Subscription, bool, error) {
	return awsmp.OnboardingState(ctx, s.Store, subID)
}

func productName(sub *store.Subscription) string {
	if sub.Offer != nil && sub.Offer.Name != "" {
		return sub.Offer.Name
	}
	return "your product"
}

func (s *Server) awsOnboarding(c *gin.Context) {
	token := c.Query("ticket")
	t, err := s.Store.Ticket(c.Request.Context(), token)
	if err != nil {
		s.ticketProblem(c, err)
		return
	}
	sub, hasAdmin, err := s.onboardingContext(c.Request.Context(), t.SubscriptionID)
	if err != nil {
		s.fail(c, err)
		return
	}
	company := ""
	if sub.Customer != nil {
		company = sub.Customer.Name
	}
	if hasAdmin {
		s.renderPage(c, http.StatusOK, accountExistsPage, map[string]any{"Company": company, "Product": productName(sub)})
		return
	}
	s.renderPage(c, http.StatusOK, onboardingPage, map[string]any{"Ticket": token, "Product": productName(sub), "Company": company})
}

func (s *Server) awsOnboardingSubmit(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	ctx := c.Request.Context()
	token := c.PostForm("ticket")
	t, err := s.Store.Ticket(ctx, token)
	if err != nil {
		s.ticketProblem(c, err)
		return
	}
	sub, ok := s.onboardingOpen(c, t.SubscriptionID)
	if !ok {
		return
	}
	o, problem := awsmp.CheckOnboarding(c.PostForm("company"), c.PostForm("name"), c.PostForm("email"), c.PostForm("password"))
	bad := func(msg string) {
		s.renderPage(c, http.StatusBadRequest, onboardingPage, map[string]any{"Ticket": token, "Product": productName(sub),
			"Company": o.Company, "Name": o.Name, "Email": o.Email, "Error": msg})
	}
	if problem != "" {
		bad(problem)
		return
	}
	if s.Mail != nil { // the address is verified before it becomes the account's identity (emailverify.go)
		s.sendOnboardingVerification(c, t, o.Company, o.Name, o.Email, o.PasswordHash)
		return
	}
	s.finishOnboarding(c, t, o.Company, o.Name, o.Email, o.PasswordHash, bad)
}

// finishOnboarding creates the buyer's organisation and first admin from
// the onboarding form (at once, or once the e-mail address is verified),
// using the ticket, and signs them in.
func (s *Server) finishOnboarding(c *gin.Context, t *store.OnboardingTicket, company, name, email, hash string, bad func(string)) {
	ctx := c.Request.Context()
	user, err := awsmp.Onboard(ctx, s.Store, s.Now().UTC(), t, awsmp.Onboarding{Company: company, Name: name, Email: email, PasswordHash: hash})
	switch {
	case errors.Is(err, store.ErrTicketUsed):
		s.ticketProblem(c, err)
		return
	case errors.Is(err, awsmp.ErrAccountExists):
		bad("An account with this e-mail address already exists. Sign in instead, or use another address.")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err == nil {
		err = s.Sessions.Renew(ctx, sess)
	}
	if err == nil {
		sess.Values = map[any]any{auth.UserIDKey: user.ID}
		err = sess.Save(c.Request, c.Writer)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, user, "customer.onboarded", "subscription", t.SubscriptionID, nil, map[string]any{"company": company})
	c.Redirect(http.StatusSeeOther, "/marketplace/aws/welcome")
}

// awsWelcome is the first-use page after onboarding.
func (s *Server) awsWelcome(c *gin.Context) {
	u, err := s.sessionUser(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u == nil || u.CustomerID == nil {
		c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	page, err := s.Store.ListSubscriptions(c.Request.Context(), store.SubscriptionFilter{CustomerID: *u.CustomerID,
		Marketplaces: []string{"aws"}, Limit: 1, Sort: []store.SortField{{Field: "updated_at", Desc: true}}})
	if err != nil {
		s.fail(c, err)
		return
	}
	data := map[string]any{"Product": "your product", "Company": "", "Plan": "—", "State": ""}
	if len(page.Items) == 1 {
		r := page.Items[0]
		data["Company"], data["State"] = r.CustomerName, r.State
		if r.OfferName != "" {
			data["Product"] = r.OfferName
		}
		if r.PlanName != "" {
			data["Plan"] = r.PlanName
		}
	}
	s.renderPage(c, http.StatusOK, welcomePage, data)
}

// onboardingOpen loads what the onboarding form is for and answers the
// "account exists" page (false) when the organisation already has an
// admin: the form and its e-mail confirmation end there alike.
func (s *Server) onboardingOpen(c *gin.Context, subscriptionID uint) (*store.Subscription, bool) {
	sub, hasAdmin, err := s.onboardingContext(c.Request.Context(), subscriptionID)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	if hasAdmin {
		s.renderPage(c, http.StatusOK, accountExistsPage, map[string]any{"Product": productName(sub)})
		return nil, false
	}
	return sub, true
}
