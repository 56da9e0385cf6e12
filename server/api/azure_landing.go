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
		s.showProblem(c, http.StatusServiceUnavailable, "azure_not_set_up", "", "")
		return
	}
	if !s.allowAnonymous(c, "azure-landing", landingLimit) {
		return
	}
	token := c.Query("token")
	if strings.TrimSpace(token) == "" || len(token) > maxPurchaseToken {
		s.showProblem(c, http.StatusBadRequest, "azure_no_token",
			"https://portal.azure.com/#blade/HubsExtension/BrowseResourceBlade/resourceType/Microsoft.SaaS%2Fresources", "link_azure_portal")
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
		s.showProblem(c, http.StatusServiceUnavailable, "azure_not_set_up", "", "")
		return
	}
	if e := c.Query("error"); e != "" {
		s.azureSignInRefused(c, e)
		return
	}
	now := s.Now().UTC()
	si, err := s.Azure.UseSignIn(ctx, c.Query("state"), now)
	if errors.Is(err, azuremp.ErrSignInUnusable) {
		s.showProblem(c, http.StatusBadRequest, "azure_sign_in_expired", "", "")
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
		loginFailed(c, "login_microsoft_unconfirmed")
		return
	}
	if portal {
		s.finishMicrosoftSignIn(c, si, who)
		return
	}
	if err != nil {
		s.Log.Warn("entra sign-in failed", "request_id", requestID(c), "err", err)
		s.showProblem(c, http.StatusUnauthorized, "azure_sign_in_unconfirmed", "", "")
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
		loginFailed(c, "login_microsoft_refused", "Error", truncate(e, 64))
		return
	}
	s.showProblem(c, http.StatusUnauthorized, "azure_sign_in_refused", "", "", "Error", truncate(e, 64))
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
		s.showProblem(c, http.StatusBadRequest, "azure_unknown_purchase", "", "")
		return
	}
	s.showProblem(c, http.StatusBadGateway, "azure_unavailable", "", "")
}

// startLandedSession renews the session for the landed buyer: signed in as
// the customer admin, or as the purchaser of this one subscription.
//
// A seller staff session in the browser is kept as it is (welcome.go).
func (s *Server) startLandedSession(c *gin.Context, landed *azuremp.Landed, who azuremp.Identity) error {
	if keep, err := s.keepSellerSession(c); err != nil || keep {
		return err
	}
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

var azureWelcomePage = page("welcome_title", `<h1>{{if eq .State "active"}}{{.L.T "welcome_heading" "Product" .Brand.Name}}{{else}}{{.L.T "azure_welcome_heading_pending" "Product" .Brand.Name}}{{end}}</h1>
{{if .NeedsReview}}<p class="muted">{{.L.T "azure_welcome_needs_review"}}</p>{{end}}
<dl><dt>{{.L.T "label_subscription"}}</dt><dd>{{.Name}}</dd><dt>{{.L.T "label_offer"}}</dt><dd>{{.Brand.Name}}</dd><dt>{{.L.T "label_plan"}}</dt><dd>{{.Plan}}</dd>
{{if .Seats}}<dt>{{.L.T "label_seats"}}</dt><dd>{{.Seats}}</dd>{{end}}
{{if .Term}}<dt>{{.L.T "label_term"}}</dt><dd>{{.Term}}</dd>{{end}}
<dt>{{.L.T "label_purchaser"}}</dt><dd>{{.Purchaser}}</dd><dt>{{.L.T "label_beneficiary"}}</dt><dd>{{.Beneficiary}}</dd><dt>{{.L.T "label_status"}}</dt><dd>{{.StateText}}</dd>
<dt>{{.L.T "label_administered_by"}}</dt><dd>{{.Admin}}</dd></dl>
{{if .AdminNote}}<p>{{.AdminNote}}</p>{{end}}
{{if eq .State "pending"}}
 {{if eq .Policy "buyer_confirms"}}{{if .CanAct}}<form method="post" action="/marketplace/azure/activate">
 <input type="hidden" name="subscription" value="{{.ID}}"><p>{{.L.T "azure_welcome_check_activate"}}</p>
 <button type="submit">{{.L.T "azure_welcome_activate"}}</button></form>{{else}}<p>{{.L.T "azure_welcome_admin_must_activate"}}</p>{{end}}
 {{else if eq .Policy "seller_approves"}}<p>{{.L.T "azure_welcome_seller_reviews"}}</p>
 {{else}}<p>{{.L.T "azure_welcome_activating"}}</p>{{end}}
 {{template "welcome_portal" .}}
{{else if eq .State "active"}}
{{template "welcome_portal" .}}
{{if eq .Viewer ""}}<p>{{.L.T "azure_welcome_other_admin" "Admin" .Admin}}</p>{{end}}
<h2>{{.L.T "welcome_getting_started"}}</h2>
{{template "welcome_links" .}}
<ol>{{if .Seats}}<li>{{.L.T "azure_welcome_step_seats" "Seats" .Seats}}</li>{{end}}
<li>{{.L.T "azure_welcome_step_change"}}</li></ol>
{{else}}<p>{{.L.T "azure_welcome_other_state" "State" .StateText}}</p>{{template "welcome_portal" .}}{{end}}
{{template "welcome_support" .}}`+welcomeCommon)

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
		s.showProblem(c, http.StatusNotFound, "azure_welcome_not_found", "", "")
		return
	}
	u, _, ok, err := s.welcomeViewer(c, sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok {
		s.showProblem(c, http.StatusForbidden, "azure_welcome_sign_in", "", "")
		return
	}
	s.renderPage(c, http.StatusOK, azureWelcomePage, s.azureWelcomeData(c, sub, u))
}

func (s *Server) azureWelcomeData(c *gin.Context, sub *store.Subscription, u *store.User) map[string]any {
	ctx := c.Request.Context()
	data := s.welcomeBase(c, sub, u)
	l := data["L"].(*Lang)
	isAdmin := u != nil && u.Role == store.RoleCustomerAdmin
	data["Name"], data["Purchaser"], data["Beneficiary"], data["Policy"] = sub.Name, "—", "—", ""
	data["Admin"], data["AdminNote"], data["NeedsReview"] = "—", "", false
	if sub.Plan != nil {
		data["Policy"], data["NeedsReview"] = sub.Plan.ActivationPolicy, sub.Plan.NeedsReview
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
		data["Admin"], data["AdminNote"] = welcomeAdmin(l, sub, u, isAdmin, facts, beneficiaryEmail)
	}
	return data
}

// welcomeAdmin says who administers a customer's subscription on its
// welcome page, with a note on what happens next when nobody does yet.
func welcomeAdmin(l *Lang, sub *store.Subscription, u *store.User, isAdmin bool, facts azuremp.WelcomeFacts, beneficiaryEmail string) (admin, note string) {
	org := l.T("the_beneficiary_organisation")
	if sub.Customer != nil && sub.Customer.Name != "" {
		org = sub.Customer.Name
	}
	admins, invited := facts.Admins, facts.Invited
	sep := l.T("list_separator")
	switch {
	case isAdmin:
		return l.T("admin_you", "Email", u.Email), ""
	case len(admins) > 0:
		return l.T("admin_of", "Who", strings.Join(admins, sep), "Org", org), ""
	case len(invited) > 0:
		who := strings.Join(invited, sep)
		return l.T("admin_of", "Who", who, "Org", org), l.T("admin_note_invited", "Who", who)
	case beneficiaryEmail != "":
		return l.T("admin_of", "Who", beneficiaryEmail, "Org", org), l.T("admin_note_will_invite", "Who", beneficiaryEmail)
	default:
		return org, l.T("admin_note_will_invite_org", "Org", org)
	}
}

// azureActivateBuyer is the buyer's "Activate subscription" button: the
// customer admin, or the purchaser who signed in for this purchase, when
// the plan lets the buyer activate.
func (s *Server) azureActivateBuyer(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.showProblem(c, http.StatusForbidden, "cross_origin", "", "")
		return
	}
	ctx := c.Request.Context()
	id, _ := strconv.ParseUint(c.PostForm("subscription"), 10, 32)
	sub, err := s.azureReads().StoredSubscription(ctx, uint(id))
	if err != nil {
		s.showProblem(c, http.StatusForbidden, "azure_activate_not_allowed", "", "")
		return
	}
	u, by, ok, err := s.welcomeViewer(c, sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok || (u != nil && u.Role != store.RoleCustomerAdmin) {
		s.showProblem(c, http.StatusForbidden, "azure_activate_not_allowed", "", "")
		return
	}
	back := "/marketplace/azure/welcome?subscription=" + strconv.FormatUint(id, 10)
	_, err = s.Azure.Activate(ctx, sub.ID, by, azuremp.SourceLanding)
	switch {
	case err == nil || errors.Is(err, azuremp.ErrNotPending):
	case errors.Is(err, azuremp.ErrNeedsSellerApproval):
		s.showProblem(c, http.StatusForbidden, "azure_seller_activates", back, "link_back")
		return
	default:
		s.Log.Error("azure activate", "request_id", requestID(c), "subscription", sub.ID, "err", err)
		s.showProblem(c, http.StatusBadGateway, "azure_activation_failed", back, "link_back", "Reason", marketplaceMessage(c, err))
		return
	}
	c.Redirect(http.StatusSeeOther, back)
}

// marketplaceMessage is Microsoft's own message for the buyer.
func marketplaceMessage(c *gin.Context, err error) string {
	var ae *azuremp.APIError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return requestLang(c.Request).T("microsoft_not_answering")
}
