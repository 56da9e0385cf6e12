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

var checkInboxPage = page("Check your inbox", `<h1>Check your inbox</h1>
<p>We sent a link to <strong>{{.Email}}</strong>. Open it within 24 hours to confirm the address and finish setting up {{.Product}}.</p>
<p class="muted">No e-mail? Check the spam folder, or return to AWS Marketplace and set up your account again.</p>`)

var confirmEmailPage = page("Confirm your e-mail address", `<h1>Confirm your e-mail address</h1>
<p>Create the administrator account <strong>{{.Email}}</strong> for {{.Company}}?</p>
<form method="post" action="/marketplace/aws/verify">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit">Confirm and create my account</button>
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
	link := s.baseURL(c) + "/marketplace/aws/verify?token=" + url.QueryEscape(token)
	text := "Hello " + name + ",\n\nconfirm your e-mail address to finish setting up " + productName(sub) + " for " + company +
		":\n\n" + link + "\n\nThe link works for 24 hours. If you did not ask for this, ignore this e-mail: nothing is created without it.\n"
	if err := s.Mail.SendMail(ctx, email, "Confirm your e-mail address for "+productName(sub), text); err != nil {
		s.Log.Error("verification e-mail not sent", "request_id", requestID(c), "err", err)
		s.problem(c, http.StatusServiceUnavailable, "We could not send the e-mail",
			"Please try again in a few minutes. If it keeps failing, contact the seller's support.", "", "")
		return
	}
	s.renderPage(c, http.StatusOK, checkInboxPage, map[string]any{"Email": email, "Product": productName(sub)})
}

// verification loads a usable verification link.
func (s *Server) verification(c *gin.Context, token string) (*awsmp.PendingOnboarding, bool) {
	p, err := awsmp.PendingVerification(c.Request.Context(), s.Store, s.Now(), token)
	switch {
	case errors.Is(err, awsmp.ErrVerificationExpired):
		s.problem(c, http.StatusGone, "This link has expired",
			"Confirmation links work for 24 hours. Return to AWS Marketplace and choose “Set up your account” again.", awsMarketplaceURL, "Back to AWS Marketplace")
		return nil, false
	case errors.Is(err, awsmp.ErrVerificationUsed):
		s.problem(c, http.StatusGone, "This link was already used", "Your account was created with this link. Sign in to continue.", "/login", "Sign in")
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
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
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
		s.problem(c, http.StatusConflict, "This e-mail address already has an account",
			"Sign in with it, or set up your organisation with another address from AWS Marketplace.", "/login", "Sign in")
	})
}
