package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
		s.showProblem(c, http.StatusBadRequest, "aws_register_unreadable", awsMarketplaceURL, "link_back_aws")
		return
	}
	form, _ := url.ParseQuery(string(raw))
	token := strings.TrimSpace(form.Get("x-amzn-marketplace-token"))
	offerType := form.Get("x-amzn-marketplace-offer-type")
	// Without a token (or with something no token looks like) nothing is
	// stored: only a registration AWS could have sent is worth keeping.
	if token == "" || len(token) > maxRegisterToken || hasUnsafeByte(token) {
		s.Log.Info("aws registration without a usable token", "request_id", requestID(c), "ip", ClientIP(c), "bytes", len(raw))
		s.showProblem(c, http.StatusBadRequest, "aws_register_no_token", awsMarketplaceURL, "link_go_aws")
		return
	}

	reg := awsmp.Registration{Store: s.Store, Log: s.Log.With("request_id", requestID(c)), Resolver: s.AWS,
		Entitlements: s.AWSEvents, Now: s.Now}
	ticket, err := reg.Register(ctx, awsmp.RegistrationForm{Token: token, OfferType: offerType,
		ContentType: c.ContentType(), Headers: inboxHeaders(c.Request)})
	switch {
	case errors.Is(err, awsmp.ErrRegistrationNotStored):
		s.showProblem(c, http.StatusServiceUnavailable, "aws_register_not_stored", "", "")
	case errors.Is(err, awsmp.ErrRegistrationNotConfigured):
		s.showProblem(c, http.StatusServiceUnavailable, "aws_register_not_configured", "", "")
	case errors.Is(err, awsmp.ErrExpiredToken):
		s.showProblem(c, http.StatusBadRequest, "aws_register_expired", awsMarketplaceURL, "link_back_aws")
	case errors.Is(err, awsmp.ErrInvalidToken):
		s.showProblem(c, http.StatusBadRequest, "aws_register_invalid", awsMarketplaceURL, "link_back_aws")
	case errors.Is(err, awsmp.ErrResolveUnavailable):
		s.showProblem(c, http.StatusServiceUnavailable, "aws_register_unavailable", "", "")
	case errors.Is(err, awsmp.ErrRegistrationNotRecorded):
		s.showProblem(c, http.StatusServiceUnavailable, "aws_register_not_recorded", "", "")
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/marketplace/aws/onboarding?ticket="+url.QueryEscape(ticket))
	}
}

var onboardingPage = page("onboarding_title", `<h1>{{.L.T "onboarding_heading" "Product" .Brand.Name}}</h1>
<p>{{.L.T "onboarding_intro"}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/marketplace/aws/onboarding">
<input type="hidden" name="ticket" value="{{.Ticket}}">
<label for="company">{{.L.T "field_company"}}</label><input id="company" name="company" value="{{.Company}}" required maxlength="200" autocomplete="organization">
<label for="name">{{.L.T "field_your_name"}}</label><input id="name" name="name" value="{{.Name}}" required maxlength="200" autocomplete="name">
<label for="email">{{.L.T "field_work_email"}}</label><input id="email" name="email" type="email" value="{{.Email}}" required maxlength="320" autocomplete="email">
<label for="password">{{.L.T "field_password"}}</label><input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
<button type="submit">{{.L.T "onboarding_submit"}}</button>
</form>`)

var accountExistsPage = page("account_exists_title", `<h1>{{.L.T "account_exists_heading"}}</h1>
<p>{{if .Company}}{{.L.T "account_exists_text" "Company" .Company "Product" .Brand.Name}}{{else}}{{.L.T "account_exists_text_anonymous" "Product" .Brand.Name}}{{end}}</p>
<p><a class="button" href="/login">{{.L.T "link_sign_in"}}</a></p>`)

var welcomePage = page("welcome_title", `<h1>{{.L.T "welcome_heading" "Product" .Brand.Name}}</h1>
<dl><dt>{{.L.T "label_organisation"}}</dt><dd>{{.Company}}</dd><dt>{{.L.T "label_offer"}}</dt><dd>{{.Brand.Name}}</dd>
<dt>{{.L.T "label_plan"}}</dt><dd>{{.Plan}}</dd>{{if .Seats}}<dt>{{.L.T "label_seats"}}</dt><dd>{{.Seats}}</dd>{{end}}
{{if .Term}}<dt>{{.L.T "label_term"}}</dt><dd>{{.Term}}</dd>{{end}}<dt>{{.L.T "label_status"}}</dt><dd>{{.StateText}}</dd></dl>
{{if eq .State "pending"}}<p>{{.L.T "aws_welcome_pending"}}</p>{{end}}
{{if eq .State "failed"}}<p class="error">{{.L.T "aws_welcome_failed"}}</p>{{end}}
{{template "welcome_portal" .}}
<h2>{{.L.T "welcome_getting_started"}}</h2>
{{template "welcome_links" .}}
<ol><li>{{.L.T "aws_welcome_step_portal"}}</li>
<li>{{.L.T "aws_welcome_step_change"}} <a href="https://console.aws.amazon.com/marketplace/home#/subscriptions" rel="noopener noreferrer">{{.L.T "aws_welcome_your_software"}}</a></li></ol>
{{template "welcome_support" .}}`+welcomeCommon)

func (s *Server) ticketProblem(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrTicketUsed):
		s.showProblem(c, http.StatusGone, "ticket_used", "/login", "link_sign_in")
	case errors.Is(err, store.ErrTicketExpired), errors.Is(err, store.ErrNotFound):
		s.showProblem(c, http.StatusGone, "ticket_expired", awsMarketplaceURL, "link_back_aws")
	default:
		s.fail(c, err)
	}
}

// onboardingContext loads what the onboarding pages show.
func (s *Server) onboardingContext(ctx context.Context, subID uint) (*store.Subscription, bool, error) {
	return awsmp.OnboardingState(ctx, s.Store, subID)
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
	brand := brandOf(sub.Offer, requestLang(c.Request).T("your_product"))
	if hasAdmin {
		s.renderPage(c, http.StatusOK, accountExistsPage, map[string]any{"Company": company, "Brand": brand})
		return
	}
	s.renderPage(c, http.StatusOK, onboardingPage, map[string]any{"Ticket": token, "Brand": brand, "Company": company})
}

func (s *Server) awsOnboardingSubmit(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.showProblem(c, http.StatusForbidden, "cross_origin", "", "")
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
	l := requestLang(c.Request)
	o, problem := awsmp.CheckOnboarding(c.PostForm("company"), c.PostForm("name"), c.PostForm("email"), c.PostForm("password"))
	bad := func(msg string) {
		s.renderPage(c, http.StatusBadRequest, onboardingPage, map[string]any{"L": l, "Ticket": token, "Brand": brandOf(sub.Offer, l.T("your_product")),
			"Company": o.Company, "Name": o.Name, "Email": o.Email, "Error": msg,
			"Next": "/marketplace/aws/onboarding?ticket=" + url.QueryEscape(token)})
	}
	if problem != "" {
		bad(l.T(formProblemID(problem), "Min", auth.MinPasswordLength))
		return
	}
	if s.Mail != nil { // the address is verified before it becomes the account's identity (emailverify.go)
		s.sendOnboardingVerification(c, t, o.Company, o.Name, o.Email, o.PasswordHash)
		return
	}
	s.finishOnboarding(c, t, o.Company, o.Name, o.Email, o.PasswordHash, bad)
}

// formProblemID is the message id of a problem awsmp.CheckOnboarding or
// auth.CheckPasswordRules found (their words are English only).
func formProblemID(problem string) string {
	switch {
	case strings.Contains(problem, "at least"):
		return "form_password_short"
	case strings.Contains(problem, "bytes"):
		return "form_password_long"
	case strings.Contains(problem, "too common"):
		return "form_password_common"
	case strings.Contains(problem, "password") && strings.Contains(problem, "control"):
		return "form_password_control"
	case strings.Contains(problem, "fill in"):
		return "form_fill_in"
	case strings.Contains(problem, "at most"):
		return "form_too_long"
	case strings.Contains(problem, "control"):
		return "form_control"
	case strings.Contains(problem, "e-mail"):
		return "form_email"
	default:
		return "form_invalid"
	}
}

// finishOnboarding creates the buyer's organisation and first admin from
// the onboarding form (at once, or once the e-mail address is verified),
// using the ticket, and signs them in — unless the browser carries a
// seller staff session, which is kept (welcome.go).
func (s *Server) finishOnboarding(c *gin.Context, t *store.OnboardingTicket, company, name, email, hash string, bad func(string)) {
	ctx := c.Request.Context()
	keep, err := s.keepSellerSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	user, err := awsmp.Onboard(ctx, s.Store, s.Now().UTC(), t, awsmp.Onboarding{Company: company, Name: name, Email: email, PasswordHash: hash})
	switch {
	case errors.Is(err, store.ErrTicketUsed):
		s.ticketProblem(c, err)
		return
	case errors.Is(err, awsmp.ErrAccountExists):
		bad(requestLang(c.Request).T("form_account_exists"))
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if !keep {
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
	}
	s.audit(c, user, "customer.onboarded", "subscription", t.SubscriptionID, nil, map[string]any{"company": company, "signed_in": !keep})
	c.Redirect(http.StatusSeeOther, "/marketplace/aws/welcome?subscription="+strconv.FormatUint(uint64(t.SubscriptionID), 10))
}

// awsWelcome is the first-use page after onboarding: the subscription
// named (its customer admin, or seller staff), else the customer admin's
// latest AWS subscription.
func (s *Server) awsWelcome(c *gin.Context) {
	u, err := s.sessionUser(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	sub, err := s.awsWelcomeSubscription(c, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	if sub == nil {
		s.showProblem(c, http.StatusNotFound, "welcome_not_found", "/login", "link_sign_in")
		return
	}
	s.renderPage(c, http.StatusOK, welcomePage, s.welcomeBase(c, sub, u))
}

// awsWelcomeSubscription is the AWS subscription u's welcome page shows
// (nil: none u may see).
func (s *Server) awsWelcomeSubscription(c *gin.Context, u *store.User) (*store.Subscription, error) {
	ctx := c.Request.Context()
	id, _ := strconv.ParseUint(c.Query("subscription"), 10, 32)
	if id == 0 && u.CustomerID != nil {
		page, err := s.Store.ListSubscriptions(ctx, store.SubscriptionFilter{CustomerID: *u.CustomerID,
			Marketplaces: []string{"aws"}, Limit: 1, NoTotal: true, Sort: []store.SortField{{Field: "updated_at", Desc: true}}})
		if err != nil {
			return nil, err
		}
		if len(page.Items) == 1 {
			id = uint64(page.Items[0].ID)
		}
	}
	if id == 0 {
		return nil, nil
	}
	sub, err := s.Store.GetSubscription(ctx, uint(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	mine := u.Role != store.RoleCustomerAdmin || (u.CustomerID != nil && sub.CustomerID != nil && *u.CustomerID == *sub.CustomerID)
	if sub.Marketplace != "aws" || !mine {
		return nil, nil
	}
	return sub, nil
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
		s.renderPage(c, http.StatusOK, accountExistsPage, map[string]any{"Brand": brandOf(sub.Offer, requestLang(c.Request).T("your_product"))})
		return nil, false
	}
	return sub, true
}
