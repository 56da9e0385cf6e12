package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
)

// E-mail verification (issue 15, finding 9): when mail is configured, the
// AWS onboarding form does not create the account at once; it sends a link
// to the address, and the account is created when its owner opens the
// link and confirms (a POST: mail scanners that fetch links create
// nothing). The form's answer is the same whether or not the address has
// an account, so it tells nobody which addresses exist. The flow lives in
// server/awsmp (RequestVerification, PendingVerification, UseVerification).

var checkInboxPage = page("check_inbox_title", `<h1>{{.L.T "check_inbox_heading"}}</h1>
<p>{{.L.T "check_inbox_text" "Email" .Email "Product" .Brand.Name}}</p>
<p class="muted">{{.L.T "check_inbox_none"}}</p>`)

var confirmEmailPage = page("confirm_email_title", `<h1>{{.L.T "confirm_email_heading"}}</h1>
<p>{{.L.T "confirm_email_text" "Email" .Email "Company" .Company}}</p>
<form method="post" action="/marketplace/aws/verify">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit">{{.L.T "confirm_email_submit"}}</button>
</form>`)

func (s *Server) sendOnboardingVerification(c *gin.Context, t *store.OnboardingTicket, company, name, email, hash string) {
	ctx := c.Request.Context()
	sub, _, err := s.onboardingContext(ctx, t.SubscriptionID)
	if err != nil {
		s.fail(c, err)
		return
	}
	token, err := awsmp.RequestVerification(ctx, s.Store, s.Now().UTC(), t,
		awsmp.Onboarding{Company: company, Name: name, Email: email, PasswordHash: hash})
	if err != nil {
		s.fail(c, err)
		return
	}
	l := requestLang(c.Request)
	brand := brandOf(sub.Offer, l.T("your_product"))
	link := s.baseURL(c) + "/marketplace/aws/verify?token=" + url.QueryEscape(token)
	text := l.T("mail_verify_body", "Name", name, "Product", brand.Name, "Company", company, "Link", link)
	if err := s.Mail.SendMail(ctx, email, l.T("mail_verify_subject", "Product", brand.Name), text); err != nil {
		s.Log.Error("verification e-mail not sent", "request_id", requestID(c), "err", err)
		s.showProblem(c, http.StatusServiceUnavailable, "mail_not_sent", "", "")
		return
	}
	s.renderPage(c, http.StatusOK, checkInboxPage, map[string]any{"L": l, "Email": email, "Brand": brand,
		"Next": "/marketplace/aws/onboarding?ticket=" + url.QueryEscape(c.PostForm("ticket"))})
}

// verification loads a usable verification link.
func (s *Server) verification(c *gin.Context, token string) (*awsmp.PendingOnboarding, bool) {
	p, err := awsmp.PendingVerification(c.Request.Context(), s.Store, s.Now(), token)
	switch {
	case errors.Is(err, awsmp.ErrVerificationExpired):
		s.showProblem(c, http.StatusGone, "verify_expired", awsMarketplaceURL, "link_back_aws")
		return nil, false
	case errors.Is(err, awsmp.ErrVerificationUsed):
		s.showProblem(c, http.StatusGone, "ticket_used", "/login", "link_sign_in")
		return nil, false
	case err != nil:
		s.fail(c, err)
		return nil, false
	}
	return p, true
}

// awsVerify shows the confirmation button (a GET changes nothing).
func (s *Server) awsVerify(c *gin.Context) {
	token := c.Query("token")
	p, ok := s.verification(c, token)
	if !ok {
		return
	}
	s.renderPage(c, http.StatusOK, confirmEmailPage, map[string]any{"Email": p.Email, "Company": p.Company, "Token": token})
}

// awsVerifySubmit creates the account the link was sent for.
func (s *Server) awsVerifySubmit(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.showProblem(c, http.StatusForbidden, "cross_origin", "", "")
		return
	}
	ctx := c.Request.Context()
	p, ok := s.verification(c, c.PostForm("token"))
	if !ok {
		return
	}
	t, err := awsmp.VerificationTicket(ctx, s.Store, p)
	if err != nil {
		s.ticketProblem(c, err)
		return
	}
	if _, ok := s.onboardingOpen(c, t.SubscriptionID); !ok {
		return
	}
	switch err := awsmp.UseVerification(ctx, s.Store, s.Now().UTC(), p); {
	case errors.Is(err, store.ErrTicketUsed):
		s.ticketProblem(c, err)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.finishOnboarding(c, t, p.Company, p.Name, p.Email, p.PasswordHash, func(string) {
		// Only the mailbox's owner gets here, so saying so reveals nothing.
		s.showProblem(c, http.StatusConflict, "verify_account_exists", "/login", "link_sign_in")
	})
}
