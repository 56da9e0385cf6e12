package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/store"
)

// The buyer's side of Microsoft's marketplace: the landing page (Entra
// sign-in, then the purchase resolved and stored by azuremp), the welcome
// page and the buyer's "Activate subscription" button. The flows live in
// server/azuremp; these handlers translate HTTP.

// AzureSignIn is the buyer's Entra sign-in on the landing page: OpenID
// Connect code flow (response_mode=query), multi-tenant, basic profile.
type AzureSignIn struct {
	OAuth    *oauth2.Config
	IDTokens *azuremp.IDTokenVerifier
	HTTP     *http.Client // for the code exchange (nil: the default client)
	// Mail sends a plain-text e-mail: the invitation of a beneficiary whose
	// purchaser cannot administer the subscription (nil: no e-mail set up;
	// the seller invites them from the portal).
	Mail func(ctx context.Context, to, subject, text string) error
	// SimulatedEntra, outside the sandbox (--azure-simulated-entra), is
	// the simulated Entra ID the buyer's browser signs in with, served
	// under /sandbox/azure/entra.
	SimulatedEntra http.Handler
	// GraphURL is Microsoft Graph (v1.0) for the organisation's name
	// ("": https://graph.microsoft.com/v1.0); it is called with HTTP.
	GraphURL string
}

// LandingScopes are all the landing page's sign-in asks for: the
// marketplace requires that it opens with User.Read alone, so the buyer
// is signed in without any admin-consent prompt before activation; extra
// permissions are asked after activation (consent.go).
var LandingScopes = []string{"openid", "profile", "email", "User.Read"}

// Session keys of a purchaser who signed in on the landing page but does
// not administer the subscription (another tenant): they may see that
// purchase's welcome page, and activate it when the plan lets the buyer.
const (
	azureLandedKey   = "azure_landed"
	azureLandedByKey = "azure_landed_by"
)

// azureSignInLifetime bounds every Entra sign-in (landing and portal).
const azureSignInLifetime = azuremp.SignInLifetime

// maxPurchaseToken bounds the landing page's token kept meanwhile (Microsoft's
// are well under 2 KB).
const maxPurchaseToken = 8 << 10

func hashState(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// azureLanding receives the buyer from Microsoft with the purchase token
// and sends them to sign in; the token waits in the database, never in a
// URL or a cookie.
func (s *Server) azureLanding(c *gin.Context) {
	if s.Azure == nil || s.AzureSignIn == nil {
		s.problem(c, http.StatusServiceUnavailable, "Not set up yet", "This seller has not connected Microsoft's marketplace yet. Please try again later.", "", "")
		return
	}
	if !s.allowAnonymous(c, "azure-landing", landingLimit) {
		return
	}
	token := c.Query("token")
	if strings.TrimSpace(token) == "" || len(token) > maxPurchaseToken {
		s.problem(c, http.StatusBadRequest, "We couldn't identify this purchase",
			"The link has no purchase token. Reopen the SaaS subscription in the Azure portal or the Microsoft 365 admin center and choose “Configure account” again.",
			"https://portal.azure.com/#blade/HubsExtension/BrowseResourceBlade/resourceType/Microsoft.SaaS%2Fresources", "Open the Azure portal")
		return
	}
	state, nonce, err := s.Azure.StartLanding(c.Request.Context(), token, s.Now().UTC())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, s.AzureSignIn.OAuth.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account"),
		oauth2.SetAuthURLParam("scope", strings.Join(LandingScopes, " "))))
}

// azureCallback finishes the sign-in, resolves the purchase and shows the
// welcome page (activating at once when the plan says so).
func (s *Server) azureCallback(c *gin.Context) {
	ctx := c.Request.Context()
	if s.Azure == nil || s.AzureSignIn == nil {
		s.problem(c, http.StatusServiceUnavailable, "Not set up yet", "This seller has not connected Microsoft's marketplace yet.", "", "")
		return
	}
	if e := c.Query("error"); e != "" {
		s.azureSignInRefused(c, e)
		return
	}
	now := s.Now().UTC()
	si, err := s.Azure.UseSignIn(ctx, c.Query("state"), now)
	if errors.Is(err, azuremp.ErrSignInUnusable) {
		s.problem(c, http.StatusBadRequest, "This sign-in link has expired",
			"Sign-in must finish within 15 minutes and works once. Open the subscription in the Azure portal and choose “Configure account” again.", "", "")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// The purchase token is not needed after this request.
	defer func() { _ = s.Azure.ForgetPurchaseToken(context.WithoutCancel(ctx), si.ID) }()
	who, err := s.azureIdentity(ctx, c.Query("code"), si.Nonce)
	portal := si.Purpose == "login" || si.Purpose == "invite"
	if err != nil && portal {
		s.Log.Warn("entra portal sign-in failed", "request_id", requestID(c), "err", err)
		loginFailed(c, "We could not confirm your Microsoft sign-in. Please try again.")
		return
	}
	if portal {
		s.finishMicrosoftSignIn(c, si, who)
		return
	}
	if err != nil {
		s.Log.Warn("entra sign-in failed", "request_id", requestID(c), "err", err)
		s.problem(c, http.StatusUnauthorized, "Sign-in did not complete",
			"We could not confirm your Microsoft sign-in. Open the subscription in the Azure portal and choose “Configure account” to try again.", "", "")
		return
	}
	landed, err := s.Azure.Land(ctx, si.PurchaseToken, who)
	if err != nil {
		s.azureLandingFailed(c, err)
		return
	}
	if err := s.startLandedSession(c, landed, who); err != nil {
		s.fail(c, err)
		return
	}
	s.greetLanded(c, landed, now)
	sub := landed.Subscription
	if err := s.Azure.ActivateOnLanding(ctx, landed, cmp.Or(who.Email, "buyer")); err != nil {
		s.Log.Error("azure activate", "request_id", requestID(c), "subscription", sub.ID, "err", err)
	}
	c.Redirect(http.StatusSeeOther, "/marketplace/azure/welcome?subscription="+strconv.FormatUint(uint64(sub.ID), 10))
}

// azureSignInRefused answers Entra's refusal to sign the buyer in (the
// callback's error parameter e): a portal sign-in goes back to the login
// page, a landing gets the problem page.
func (s *Server) azureSignInRefused(c *gin.Context, e string) {
	s.Log.Info("entra sign-in refused", "request_id", requestID(c), "error", e)
	if p := s.Azure.SignInPurpose(c.Request.Context(), c.Query("state")); p != "" && p != "landing" {
		loginFailed(c, "Microsoft did not sign you in ("+e+").")
		return
	}
	s.problem(c, http.StatusUnauthorized, "Sign-in did not complete",
		"Microsoft did not sign you in ("+e+"). Open the subscription in the Azure portal and choose “Configure account” to try again.", "", "")
}

// azureIdentity exchanges the authorization code and verifies the ID
// token it brings against the sign-in's nonce.
func (s *Server) azureIdentity(ctx context.Context, code, nonce string) (azuremp.Identity, error) {
	xctx := ctx
	if s.AzureSignIn.HTTP != nil {
		xctx = context.WithValue(ctx, oauth2.HTTPClient, s.AzureSignIn.HTTP)
	}
	tok, err := s.AzureSignIn.OAuth.Exchange(xctx, code)
	if err != nil {
		return azuremp.Identity{}, err
	}
	raw, _ := tok.Extra("id_token").(string)
	who, err := s.AzureSignIn.IDTokens.Verify(ctx, raw, nonce)
	if err != nil {
		return who, err
	}
	// The organisation's name, as Microsoft Graph gives it to User.Read
	// (the landing page's one permission); without it the customer keeps
	// a name derived from the e-mail, and says so.
	g := azuremp.Graph{URL: s.AzureSignIn.GraphURL, HTTP: s.AzureSignIn.HTTP}
	if org, gerr := g.OrganizationName(ctx, tok.AccessToken); gerr != nil {
		s.Log.Warn("microsoft graph: the organisation's name", "tenant", who.TenantID, "err", gerr)
	} else {
		who.Organization = org
	}
	return who, nil
}

// azureLandingFailed answers a purchase Microsoft did not resolve: one it
// does not know (400/404), or Microsoft not answering.
func (s *Server) azureLandingFailed(c *gin.Context, err error) {
	s.Log.Warn("azure resolve failed", "request_id", requestID(c), "err", err)
	if st := azuremp.StatusOf(err); st == http.StatusBadRequest || st == http.StatusNotFound {
		s.problem(c, http.StatusBadRequest, "We couldn't identify this purchase",
			"We couldn't identify this purchase. Reopen the SaaS subscription in the Azure portal or Microsoft 365 admin center and choose “Configure account” or “Manage account” again.", "", "")
		return
	}
	s.problem(c, http.StatusBadGateway, "Microsoft is not answering right now",
		"Your purchase is safe. Please try again in a few minutes from the Azure portal (“Configure account”).", "", "")
}

// startLandedSession renews the session for the landed buyer: signed in as
// the customer admin, or as the purchaser of this one subscription.
func (s *Server) startLandedSession(c *gin.Context, landed *azuremp.Landed, who azuremp.Identity) error {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return err
	}
	if err := s.Sessions.Renew(c.Request.Context(), sess); err != nil {
		return err
	}
	if landed.User != nil {
		sess.Values = map[any]any{auth.UserIDKey: landed.User.ID}
	} else {
		// Signed in with Microsoft for this purchase, but not its administrator.
		sess.Values = map[any]any{azureLandedKey: landed.Subscription.ID, azureLandedByKey: cmp.Or(who.Email, who.ObjectID)}
	}
	return sess.Save(c.Request, c.Writer)
}

// greetLanded notes the customer admin's sign-in, or, when the buyer is
// not the administrator, invites the beneficiary's administrator.
func (s *Server) greetLanded(c *gin.Context, landed *azuremp.Landed, now time.Time) {
	ctx := c.Request.Context()
	if landed.User != nil {
		_ = s.Store.TouchLogin(ctx, landed.User.ID, now)
		return
	}
	s.Azure.InviteBeneficiary(ctx, landed, azuremp.Invitation{Mail: s.AzureSignIn.Mail, Invitations: azureInvitations{s}, Now: now,
		URL: func(token string) string { return s.baseURL(c) + "/invite?token=" + url.QueryEscape(token) },
		Log: s.Log.With("request_id", requestID(c))})
}

var azureWelcomePage = page("Welcome", `<h1>{{if eq .State "active"}}Welcome to {{.Product}}{{else}}Your {{.Product}} subscription{{end}}</h1>
{{if .NeedsReview}}<p class="muted">This plan is new to the seller; they may contact you about it.</p>{{end}}
<dl><dt>Subscription</dt><dd>{{.Name}}</dd><dt>Offer</dt><dd>{{.Product}}</dd><dt>Plan</dt><dd>{{.Plan}}</dd>
{{if .Quantity}}<dt>Seats</dt><dd>{{.Quantity}}</dd>{{end}}
{{if .Term}}<dt>Term</dt><dd>{{.Term}}</dd>{{end}}
<dt>Purchaser</dt><dd>{{.Purchaser}}</dd><dt>Beneficiary</dt><dd>{{.Beneficiary}}</dd><dt>Status</dt><dd>{{.State}}</dd>
<dt>Administered by</dt><dd>{{.Admin}}</dd></dl>
{{if .AdminNote}}<p>{{.AdminNote}}</p>{{end}}
{{if eq .State "pending"}}
 {{if eq .Policy "buyer_confirms"}}{{if .CanAct}}<form method="post" action="/marketplace/azure/activate">
 <input type="hidden" name="subscription" value="{{.ID}}"><p>Check the details above, then activate. Billing starts when you activate.</p>
 <button type="submit">Activate subscription</button></form>{{else}}<p>An administrator of the beneficiary organisation must sign in to activate this subscription.</p>{{end}}
 {{else if eq .Policy "seller_approves"}}<p>Thank you. The seller reviews new subscriptions and activates yours shortly; billing starts then. You can close this page.</p>
 {{else}}<p>We are activating your subscription. Reload this page in a moment.</p>{{end}}
{{else if eq .State "active"}}
<h2>Getting started</h2>
{{if .IsAdmin}}<ol><li>Open the portal and sign in with your Microsoft account (you are signed in now).</li>
<li>Assign seats to your colleagues under <em>Seats</em>{{if .Quantity}} — your plan has {{.Quantity}}{{end}}.</li>
<li>Change the plan or the number of seats in the Azure portal or the Microsoft 365 admin center.</li></ol>
<p><a class="button" href="/subscriptions/{{.ID}}">Open the portal</a></p>
{{else}}<p>The subscription is active. {{.Admin}} administers it: they sign in to the portal with their Microsoft account to assign seats{{if .Quantity}} ({{.Quantity}} on this plan){{end}}.</p>{{end}}
<p>Need help? Contact the seller's support{{if .Support}} at <a href="mailto:{{.Support}}">{{.Support}}</a>{{end}}.</p>
{{else}}<p>This subscription is {{.State}} at Microsoft. Manage it in the Azure portal.</p>{{end}}`)

// welcomeViewer says who is looking at a Microsoft subscription's welcome
// page: its customer admin or seller staff (a user), or the purchaser who
// signed in for it on the landing page (by, the e-mail they signed in with).
func (s *Server) welcomeViewer(c *gin.Context, sub *store.Subscription) (u *store.User, by string, ok bool, err error) {
	u, err = s.sessionUser(c)
	if err != nil {
		return nil, "", false, err
	}
	if u != nil && (u.Role != store.RoleCustomerAdmin || (u.CustomerID != nil && sub.CustomerID != nil && *u.CustomerID == *sub.CustomerID)) {
		return u, u.Email, true, nil
	}
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return nil, "", false, err
	}
	if id, _ := sess.Values[azureLandedKey].(uint); id != 0 && id == sub.ID {
		by, _ := sess.Values[azureLandedByKey].(string)
		return nil, cmp.Or(by, "buyer"), true, nil
	}
	return nil, "", false, nil
}

// azureReads is Microsoft's processor for the pages that only read what
// is stored: a stored Microsoft subscription's welcome page still opens
// when the marketplace is not (or no longer) configured.
func (s *Server) azureReads() *azuremp.Processor {
	if s.Azure != nil {
		return s.Azure
	}
	return &azuremp.Processor{Store: s.Store, Log: s.Log}
}

// azureWelcome shows a Microsoft subscription to whoever signed in for it
// on the landing page (its customer admin, or a purchaser of another
// tenant) or to seller staff: the welcome page while pending, the
// first-use page once active.
func (s *Server) azureWelcome(c *gin.Context) {
	ctx := c.Request.Context()
	id, _ := strconv.ParseUint(c.Query("subscription"), 10, 32)
	sub, err := s.azureReads().StoredSubscription(ctx, uint(id))
	if err != nil {
		s.problem(c, http.StatusNotFound, "Subscription not found", "Open the subscription from the Azure portal (“Configure account”).", "", "")
		return
	}
	u, _, ok, err := s.welcomeViewer(c, sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok {
		s.problem(c, http.StatusForbidden, "Sign in first", "Open the subscription from the Azure portal (“Configure account”) to sign in with your Microsoft account.", "", "")
		return
	}
	s.renderPage(c, http.StatusOK, azureWelcomePage, s.azureWelcomeData(ctx, sub, u))
}

// termUnits names Microsoft's term units; any other value is shown as sent.
var termUnits = map[string]string{"P1M": "1 month", "P1Y": "1 year", "P2Y": "2 years", "P3Y": "3 years", "P4Y": "4 years", "P5Y": "5 years",
	"PAY": "pay as you go"}

// termText describes a subscription's term: its unit and dates.
func termText(sub *store.Subscription) string {
	var parts []string
	if sub.TermUnit != "" {
		parts = append(parts, cmp.Or(termUnits[strings.ToUpper(sub.TermUnit)], sub.TermUnit))
	}
	if sub.TermStart != nil && sub.TermEnd != nil {
		parts = append(parts, sub.TermStart.UTC().Format("2006-01-02")+" – "+sub.TermEnd.UTC().Format("2006-01-02"))
	}
	return strings.Join(parts, ", ")
}

func (s *Server) azureWelcomeData(ctx context.Context, sub *store.Subscription, u *store.User) map[string]any {
	isAdmin := u != nil && u.Role == store.RoleCustomerAdmin
	data := map[string]any{"ID": sub.ID, "Name": sub.Name, "State": sub.State, "Product": "the product", "Plan": "—", "Quantity": sub.Quantity,
		"Purchaser": "—", "Beneficiary": "—", "Policy": "", "IsAdmin": isAdmin, "Support": s.Info.SupportEmail, "Term": termText(sub),
		"Admin": "—", "AdminNote": "", "NeedsReview": false}
	if sub.Offer != nil {
		data["Product"] = sub.Offer.Name
	}
	if sub.Plan != nil {
		data["Plan"], data["Policy"] = cmp.Or(sub.Plan.Name, sub.Plan.PlanID), sub.Plan.ActivationPolicy
		data["NeedsReview"] = sub.Plan.NeedsReview
		if !sub.Plan.SeatBased {
			data["Quantity"] = 0
		}
	}
	// The buyer (customer admin or purchaser) may activate when the plan lets the buyer; seller staff use the portal.
	data["CanAct"] = (u == nil || isAdmin) && azuremp.MayActivate(sub.Plan, azuremp.SourceLanding)
	if sub.Customer != nil {
		data["Beneficiary"] = sub.Customer.Name
	}
	facts := s.azureReads().Welcome(ctx, sub, azureInvitations{s})
	// Purchaser and beneficiary as Microsoft reported them at the landing.
	beneficiaryEmail := ""
	if rs := facts.Resolved; rs != nil {
		data["Purchaser"] = cmp.Or(rs.Purchaser.EmailID, rs.Purchaser.TenantID, "—")
		data["Beneficiary"] = cmp.Or(rs.Beneficiary.EmailID, rs.Beneficiary.TenantID, "—")
		beneficiaryEmail = rs.Beneficiary.EmailID
	}
	// Who administers it: the organisation's customer admins, or who was invited.
	if sub.CustomerID != nil {
		data["Admin"], data["AdminNote"] = welcomeAdmin(sub, u, isAdmin, facts, beneficiaryEmail)
	}
	return data
}

// welcomeAdmin says who administers a customer's subscription on its
// welcome page, with a note on what happens next when nobody does yet.
func welcomeAdmin(sub *store.Subscription, u *store.User, isAdmin bool, facts azuremp.WelcomeFacts, beneficiaryEmail string) (admin, note string) {
	org := "the beneficiary's organisation"
	if sub.Customer != nil && sub.Customer.Name != "" {
		org = sub.Customer.Name
	}
	admins, invited := facts.Admins, facts.Invited
	switch {
	case isAdmin:
		return u.Email + " (you)", ""
	case len(admins) > 0:
		return strings.Join(admins, ", ") + " (" + org + ")", ""
	case len(invited) > 0:
		return strings.Join(invited, ", ") + " (" + org + ")",
			"We sent " + strings.Join(invited, ", ") + " an invitation to administer this subscription: they accept it, then assign seats to their colleagues."
	case beneficiaryEmail != "":
		return beneficiaryEmail + " (" + org + ")", "The seller will invite " + beneficiaryEmail + " to administer this subscription."
	default:
		return org, "The seller will invite an administrator of " + org + "."
	}
}

// azureActivateBuyer is the buyer's "Activate subscription" button: the
// customer admin, or the purchaser who signed in for this purchase, when
// the plan lets the buyer activate.
func (s *Server) azureActivateBuyer(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	ctx := c.Request.Context()
	id, _ := strconv.ParseUint(c.PostForm("subscription"), 10, 32)
	sub, err := s.azureReads().StoredSubscription(ctx, uint(id))
	if err != nil {
		s.problem(c, http.StatusForbidden, "Not allowed", "Only the buyer who opened this purchase from Microsoft can activate it.", "", "")
		return
	}
	u, by, ok, err := s.welcomeViewer(c, sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok || (u != nil && u.Role != store.RoleCustomerAdmin) {
		s.problem(c, http.StatusForbidden, "Not allowed", "Only the buyer who opened this purchase from Microsoft can activate it.", "", "")
		return
	}
	back := "/marketplace/azure/welcome?subscription=" + strconv.FormatUint(id, 10)
	_, err = s.Azure.Activate(ctx, sub.ID, by, azuremp.SourceLanding)
	switch {
	case err == nil || errors.Is(err, azuremp.ErrNotPending):
	case errors.Is(err, azuremp.ErrNeedsSellerApproval):
		s.problem(c, http.StatusForbidden, "The seller activates this subscription",
			"The seller reviews new subscriptions of this plan and activates them; billing starts then. You can close this page.", back, "Back")
		return
	default:
		s.Log.Error("azure activate", "request_id", requestID(c), "subscription", sub.ID, "err", err)
		s.problem(c, http.StatusBadGateway, "Activation did not go through", "Microsoft did not confirm the activation: "+marketplaceMessage(err)+". Please try again in a moment.",
			back, "Back")
		return
	}
	c.Redirect(http.StatusSeeOther, back)
}

// marketplaceMessage is Microsoft's own message for the seller or buyer.
func marketplaceMessage(err error) string {
	var ae *azuremp.APIError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return "Microsoft is not answering"
}
