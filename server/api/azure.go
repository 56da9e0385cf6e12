package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

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
	// SandboxMail, in the sandbox without SMTP, keeps what Mail sent for
	// the sandbox's buyer page.
	SandboxMail *SandboxMail
}

// Session keys of a purchaser who signed in on the landing page but does
// not administer the subscription (another tenant): they may see that
// purchase's welcome page, and activate it when the plan lets the buyer.
const (
	azureLandedKey   = "azure_landed"
	azureLandedByKey = "azure_landed_by"
)

const azureSignInLifetime = 15 * time.Minute

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
	state, nonce := auth.RandomToken(24), auth.RandomToken(24)
	now := s.Now().UTC()
	if err := s.Store.W.WithContext(c.Request.Context()).Create(&store.AzureSignIn{StateHash: hashState(state), Nonce: nonce,
		PurchaseToken: token, ExpiresAt: now.Add(azureSignInLifetime), CreatedAt: now}).Error; err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, s.AzureSignIn.OAuth.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account")))
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
		s.Log.Info("entra sign-in refused", "request_id", requestID(c), "error", e)
		var prior store.AzureSignIn
		if s.Store.R.WithContext(ctx).Where("state_hash = ?", hashState(c.Query("state"))).Limit(1).Find(&prior).Error == nil &&
			prior.Purpose != "" && prior.Purpose != "landing" {
			loginFailed(c, "Microsoft did not sign you in ("+e+").")
			return
		}
		s.problem(c, http.StatusUnauthorized, "Sign-in did not complete",
			"Microsoft did not sign you in ("+e+"). Open the subscription in the Azure portal and choose “Configure account” to try again.", "", "")
		return
	}
	now := s.Now().UTC()
	var si store.AzureSignIn
	res := s.Store.W.WithContext(ctx).Model(&store.AzureSignIn{}).
		Where("state_hash = ? AND used_at IS NULL AND expires_at > ?", hashState(c.Query("state")), now).Update("used_at", now)
	if res.Error != nil {
		s.fail(c, res.Error)
		return
	}
	if res.RowsAffected != 1 || s.Store.W.WithContext(ctx).Where("state_hash = ?", hashState(c.Query("state"))).First(&si).Error != nil {
		s.problem(c, http.StatusBadRequest, "This sign-in link has expired",
			"Sign-in must finish within 15 minutes and works once. Open the subscription in the Azure portal and choose “Configure account” again.", "", "")
		return
	}
	// The purchase token is not needed after this request.
	defer s.Store.W.WithContext(context.WithoutCancel(ctx)).Model(&store.AzureSignIn{}).Where("id = ?", si.ID).Update("purchase_token", "")
	xctx := ctx
	if s.AzureSignIn.HTTP != nil {
		xctx = context.WithValue(ctx, oauth2.HTTPClient, s.AzureSignIn.HTTP)
	}
	tok, err := s.AzureSignIn.OAuth.Exchange(xctx, c.Query("code"))
	var who azuremp.Identity
	if err == nil {
		raw, _ := tok.Extra("id_token").(string)
		who, err = s.AzureSignIn.IDTokens.Verify(ctx, raw, si.Nonce)
	}
	portal := si.Purpose == "login" || si.Purpose == "invite"
	if err != nil && portal {
		s.Log.Warn("entra portal sign-in failed", "request_id", requestID(c), "err", err)
		loginFailed(c, "We could not confirm your Microsoft sign-in. Please try again.")
		return
	}
	if portal {
		s.finishMicrosoftSignIn(c, &si, who)
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
		s.Log.Warn("azure resolve failed", "request_id", requestID(c), "err", err)
		if st := azuremp.StatusOf(err); st == http.StatusBadRequest || st == http.StatusNotFound {
			s.problem(c, http.StatusBadRequest, "We couldn't identify this purchase",
				"We couldn't identify this purchase. Reopen the SaaS subscription in the Azure portal or Microsoft 365 admin center and choose “Configure account” or “Manage account” again.", "", "")
			return
		}
		s.problem(c, http.StatusBadGateway, "Microsoft is not answering right now",
			"Your purchase is safe. Please try again in a few minutes from the Azure portal (“Configure account”).", "", "")
		return
	}
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err == nil {
		err = s.Sessions.Renew(ctx, sess)
	}
	if err == nil {
		if landed.User != nil {
			sess.Values = map[any]any{auth.UserIDKey: landed.User.ID}
		} else {
			// Signed in with Microsoft for this purchase, but not its administrator.
			sess.Values = map[any]any{azureLandedKey: landed.Subscription.ID, azureLandedByKey: cmp.Or(who.Email, who.ObjectID)}
		}
		err = sess.Save(c.Request, c.Writer)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if landed.User != nil {
		_ = s.Store.TouchLogin(ctx, landed.User.ID, now)
	} else {
		s.inviteBeneficiary(c, landed)
	}
	sub := landed.Subscription
	if sub.State == string(lifecycle.Pending) && landed.Plan != nil && landed.Plan.ActivationPolicy == store.ActivateAutomatic &&
		azuremp.MayActivate(landed.Plan, azuremp.SourceLanding) {
		if _, err := s.Azure.Activate(ctx, sub.ID, cmp.Or(who.Email, "buyer"), azuremp.SourceLanding); err != nil {
			s.Log.Error("azure activate", "request_id", requestID(c), "subscription", sub.ID, "err", err)
		}
	}
	c.Redirect(http.StatusSeeOther, "/marketplace/azure/welcome?subscription="+strconv.FormatUint(uint64(sub.ID), 10))
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

// azureWelcome shows a Microsoft subscription to whoever signed in for it
// on the landing page (its customer admin, or a purchaser of another
// tenant) or to seller staff: the welcome page while pending, the
// first-use page once active.
func (s *Server) azureWelcome(c *gin.Context) {
	ctx := c.Request.Context()
	id, _ := strconv.ParseUint(c.Query("subscription"), 10, 32)
	var sub store.Subscription
	if id == 0 || s.Store.R.WithContext(ctx).Preload("Offer").Preload("Plan").Preload("Customer").First(&sub, id).Error != nil || sub.Marketplace != "azure" {
		s.problem(c, http.StatusNotFound, "Subscription not found", "Open the subscription from the Azure portal (“Configure account”).", "", "")
		return
	}
	u, _, ok, err := s.welcomeViewer(c, &sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok {
		s.problem(c, http.StatusForbidden, "Sign in first", "Open the subscription from the Azure portal (“Configure account”) to sign in with your Microsoft account.", "", "")
		return
	}
	s.renderPage(c, http.StatusOK, azureWelcomePage, s.azureWelcomeData(ctx, &sub, u))
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
	// Purchaser and beneficiary as Microsoft reported them at the landing.
	beneficiaryEmail := ""
	var msg store.InboxMessage
	if s.Store.R.WithContext(ctx).Where("subscription_id = ? AND source = ?", sub.ID, azuremp.SourceLanding).Order("id DESC").Limit(1).Find(&msg).Error == nil && msg.ID != 0 {
		var body struct {
			Resolved struct {
				Subscription azuremp.Subscription `json:"subscription"`
			} `json:"resolved"`
		}
		if json.Unmarshal([]byte(msg.Body), &body) == nil {
			rs := body.Resolved.Subscription
			data["Purchaser"] = cmp.Or(rs.Purchaser.EmailID, rs.Purchaser.TenantID, "—")
			data["Beneficiary"] = cmp.Or(rs.Beneficiary.EmailID, rs.Beneficiary.TenantID, "—")
			beneficiaryEmail = rs.Beneficiary.EmailID
		}
	}
	// Who administers it: the organisation's customer admins, or who was invited.
	if sub.CustomerID != nil {
		org := "the beneficiary's organisation"
		if sub.Customer != nil && sub.Customer.Name != "" {
			org = sub.Customer.Name
		}
		var admins []string
		s.Store.R.WithContext(ctx).Model(&store.User{}).Where("customer_id = ? AND role = ? AND NOT disabled", *sub.CustomerID, store.RoleCustomerAdmin).
			Order("id").Limit(3).Pluck("email", &admins)
		var invited []string
		s.Store.R.WithContext(ctx).Model(&store.AdminInvite{}).Where("customer_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", *sub.CustomerID, s.Now()).
			Order("id").Limit(3).Pluck("email", &invited)
		switch {
		case isAdmin:
			data["Admin"] = u.Email + " (you)"
		case len(admins) > 0:
			data["Admin"] = strings.Join(admins, ", ") + " (" + org + ")"
		case len(invited) > 0:
			data["Admin"] = strings.Join(invited, ", ") + " (" + org + ")"
			data["AdminNote"] = "We sent " + strings.Join(invited, ", ") + " an invitation to administer this subscription: they accept it, then assign seats to their colleagues."
		case beneficiaryEmail != "":
			data["Admin"] = beneficiaryEmail + " (" + org + ")"
			data["AdminNote"] = "The seller will invite " + beneficiaryEmail + " to administer this subscription."
		default:
			data["Admin"] = org
			data["AdminNote"] = "The seller will invite an administrator of " + org + "."
		}
	}
	return data
}

// inviteBeneficiary gives the beneficiary's organisation its customer admin
// when the person who landed cannot be one (a purchaser of another tenant,
// or an e-mail taken by another account): Microsoft's beneficiary e-mail
// is invited by e-mail, once, unless the organisation has an admin or a
// pending invitation already. Without e-mail set up, the seller is told on
// the subscription's timeline to invite them from the portal.
func (s *Server) inviteBeneficiary(c *gin.Context, landed *azuremp.Landed) {
	ctx := c.Request.Context()
	cu, email := landed.Customer, store.NormalizeEmail(landed.Resolved.Beneficiary.EmailID)
	if cu == nil || landed.Subscription == nil {
		return
	}
	var admins, pending int64
	now := s.Now().UTC()
	if err := s.Store.R.WithContext(ctx).Model(&store.User{}).Where("customer_id = ? AND role = ? AND NOT disabled", cu.ID, store.RoleCustomerAdmin).Count(&admins).Error; err != nil || admins > 0 {
		return
	}
	if err := s.Store.R.WithContext(ctx).Model(&store.AdminInvite{}).Where("customer_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", cu.ID, now).
		Count(&pending).Error; err != nil || pending > 0 {
		return
	}
	note := func(summary string) {
		_ = s.Store.Tx(ctx, func(tx *gorm.DB) error {
			return subscriptions.NoteTx(tx, now, landed.Subscription.ID, "azure.admin_needed", now, summary,
				subscriptions.Meta{Source: azuremp.SourceLanding, Actor: "marketgate"})
		})
	}
	if _, err := s.Store.UserByEmail(ctx, email); email == "" || !strings.Contains(email, "@") || err == nil {
		note("No customer admin yet: the person who opened the landing page is not of the beneficiary's organisation; invite an administrator of " + cu.Name + " from the customer's page")
		return
	}
	if s.AzureSignIn == nil || s.AzureSignIn.Mail == nil {
		note("No customer admin yet: the purchaser is of another organisation; invite the beneficiary " + email + " from the customer's page (e-mail is not set up)")
		return
	}
	token := auth.RandomToken(24)
	inv := store.AdminInvite{CustomerID: cu.ID, Email: email, TokenHash: hashState(token), CreatedBy: "Microsoft purchase", ExpiresAt: now.Add(inviteLifetime), CreatedAt: now}
	if err := s.Store.W.WithContext(ctx).Create(&inv).Error; err != nil {
		s.Log.Error("azure: inviting the beneficiary", "request_id", requestID(c), "err", err)
		return
	}
	product := "the product"
	if landed.Offer != nil {
		product = landed.Offer.Name
	}
	link := s.baseURL(c) + "/invite?token=" + url.QueryEscape(token)
	text := fmt.Sprintf("%s bought %s for %s on Microsoft's marketplace.\n\nYou are invited to administer the subscription: sign in with your Microsoft work account or choose a password here (the link works once, for 7 days):\n\n%s\n",
		cmp.Or(landed.Resolved.Purchaser.EmailID, "Someone"), product, cu.Name, link)
	if err := s.AzureSignIn.Mail(ctx, email, "You are invited to administer "+product, text); err != nil {
		s.Log.Warn("azure: the beneficiary's invitation was not sent", "request_id", requestID(c), "err", err)
		_ = s.Store.W.WithContext(ctx).Model(&inv).Update("revoked_at", now).Error
		note("No customer admin yet: the invitation e-mail to " + email + " could not be sent; invite them from the customer's page")
		return
	}
	note("No customer admin yet: invited the beneficiary " + email + " by e-mail (the purchaser is of another organisation)")
	_ = s.Store.Audit(ctx, &store.AuditEntry{At: now, ActorEmail: "marketgate", Action: "customer_admin.invite", TargetType: "customer",
		TargetID: strconv.FormatUint(uint64(cu.ID), 10), After: fmt.Sprintf(`{"email":%q,"invite":%d,"reason":"microsoft purchase"}`, email, inv.ID)})
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
	var sub store.Subscription
	if id == 0 || s.Store.R.WithContext(ctx).Preload("Plan").First(&sub, id).Error != nil || sub.Marketplace != "azure" {
		s.problem(c, http.StatusForbidden, "Not allowed", "Only the buyer who opened this purchase from Microsoft can activate it.", "", "")
		return
	}
	u, by, ok, err := s.welcomeViewer(c, &sub)
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

// azureWebhook receives the marketplace's calls. The token is checked
// before anything else; a refused call changes nothing.
func (s *Server) azureWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	if s.Azure == nil {
		s.failCode(c, apperr.NotFound, "Microsoft's marketplace is not configured")
		return
	}
	if s.AzureWebhook != nil {
		if err := s.AzureWebhook.Verify(ctx, c.GetHeader("Authorization")); err != nil {
			s.Log.Warn("azure webhook refused", "request_id", requestID(c), "ip", c.ClientIP(), "err", err)
			s.failCode(c, apperr.Unauthenticated, "the webhook token was refused")
			return
		}
	} else if !s.AzureInsecureWebhook {
		s.failCode(c, apperr.Unauthenticated, "webhook authentication is not configured")
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
	if err != nil {
		s.failCode(c, apperr.Invalid, "unreadable body")
		return
	}
	ans, err := s.Azure.ReceiveNotification(ctx, body, inboxHeaders(c.Request))
	if err != nil {
		s.fail(c, err) // not stored: Microsoft retries
		return
	}
	// A redelivery gets the answer the first delivery got (stored with it).
	if ans.Status != http.StatusOK {
		c.JSON(ans.Status, gin.H{"error": gin.H{"code": "rejected", "message": ans.Message, "request_id": requestID(c)}})
	} else {
		c.JSON(http.StatusOK, gin.H{"status": "received"})
	}
	if ans.New {
		// Confirmed with Get Operation after the answer; a refused change is
		// only recorded (never approved), an accepted one is acted on.
		go func(id uint) {
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if m, err := s.Store.GetInbox(bg, id); err == nil {
				_ = s.Azure.ProcessNotification(bg, m)
			}
		}(ans.InboxID)
	}
}

// azurePlans lists the plans a Microsoft subscription may switch to.
func (s *Server) azurePlans(c *gin.Context) {
	sub, ok := s.azureSubscription(c)
	if !ok {
		return
	}
	plans, err := s.Azure.Client.ListAvailablePlans(c.Request.Context(), sub.AzureSubscriptionID)
	if err != nil {
		s.marketplaceFail(c, err)
		return
	}
	type planView struct {
		PlanID      string `json:"plan_id"`
		Name        string `json:"name"`
		PerSeat     bool   `json:"per_seat"`
		MinQuantity int    `json:"min_quantity"`
		MaxQuantity int    `json:"max_quantity"`
		Private     bool   `json:"private"`
	}
	out := make([]planView, 0, len(plans))
	for _, p := range plans {
		out = append(out, planView{p.PlanID, cmp.Or(p.DisplayName, p.PlanID), p.IsPricePerSeat, int(p.MinQuantity), int(p.MaxQuantity), p.IsPrivate})
	}
	c.JSON(http.StatusOK, gin.H{"plans": out})
}

func (s *Server) azureSubscription(c *gin.Context) (*store.Subscription, bool) {
	if s.Azure == nil {
		s.failCode(c, apperr.NotFound, "Microsoft's marketplace is not configured")
		return nil, false
	}
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		s.failCode(c, apperr.Invalid, "subscription id must be a number")
		return nil, false
	}
	var sub store.Subscription
	if err := s.Store.R.WithContext(c.Request.Context()).First(&sub, id).Error; err != nil || sub.Marketplace != "azure" {
		s.failCode(c, apperr.NotFound, "no Microsoft subscription %d", id)
		return nil, false
	}
	return &sub, true
}

func (s *Server) marketplaceFail(c *gin.Context, err error) {
	var ae *azuremp.APIError
	switch {
	case errors.Is(err, azuremp.ErrInvalidChange):
		s.failCode(c, apperr.Invalid, "%s", strings.TrimPrefix(err.Error(), azuremp.ErrInvalidChange.Error()+": "))
	case errors.Is(err, azuremp.ErrOperationInProgress):
		s.failCode(c, apperr.Conflict, "another change is still in progress at Microsoft; wait for it to finish")
	case errors.Is(err, azuremp.ErrNotPending):
		s.failCode(c, apperr.Conflict, "the subscription is not waiting for activation")
	case errors.As(err, &ae):
		s.Log.Warn("microsoft marketplace error", "request_id", requestID(c), "status", ae.Status, "ms_request_id", ae.RequestID, "body", ae.Body)
		s.failCode(c, apperr.Upstream, "Microsoft answered: %s", cmp.Or(ae.Message, http.StatusText(ae.Status)))
	default:
		s.Log.Error("microsoft marketplace unreachable", "request_id", requestID(c), "err", err)
		s.failCode(c, apperr.Upstream, "Microsoft's marketplace is not answering; try again in a moment")
	}
}

// azureActivateSeller is the seller's approval of a pending subscription.
func (s *Server) azureActivateSeller(c *gin.Context) {
	sub, ok := s.azureSubscription(c)
	if !ok {
		return
	}
	u := currentUser(c)
	got, err := s.Azure.Activate(c.Request.Context(), sub.ID, u.Email, azuremp.SourcePortal)
	if err != nil {
		s.marketplaceFail(c, err)
		return
	}
	s.audit(c, u, "azure.activate", "subscription", sub.ID, map[string]any{"state": sub.State}, map[string]any{"state": got.State})
	c.JSON(http.StatusOK, gin.H{"subscription": viewSubscription(got)})
}

// azureChange starts a plan change, a quantity change or a cancellation.
func (s *Server) azureChange(c *gin.Context) {
	sub, ok := s.azureSubscription(c)
	if !ok {
		return
	}
	var in struct {
		Action   string `json:"action"`
		PlanID   string `json:"plan_id"`
		Quantity int    `json:"quantity"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	switch in.Action {
	case "ChangePlan":
		if strings.TrimSpace(in.PlanID) == "" {
			s.failCode(c, apperr.Invalid, "plan_id is required")
			return
		}
	case "ChangeQuantity":
		if in.Quantity <= 0 || in.Quantity > 1_000_000 {
			s.failCode(c, apperr.Invalid, "quantity must be between 1 and 1000000")
			return
		}
	case "Unsubscribe":
	default:
		s.failCode(c, apperr.Invalid, "action must be ChangePlan, ChangeQuantity or Unsubscribe")
		return
	}
	u := currentUser(c)
	op, err := s.Azure.StartChange(c.Request.Context(), sub.ID, in.Action, strings.TrimSpace(in.PlanID), in.Quantity, u.Email)
	if err != nil {
		s.marketplaceFail(c, err)
		return
	}
	before := map[string]any{"state": sub.State, "quantity": sub.Quantity, "plan_id": ""}
	if sub.Plan != nil {
		before["plan_id"] = sub.Plan.PlanID
	}
	s.audit(c, u, "azure."+strings.ToLower(in.Action), "subscription", sub.ID, before, in)
	c.JSON(http.StatusAccepted, gin.H{"operation": viewOperation(op)})
}

type operationView struct {
	OperationID  string     `json:"operation_id"`
	Action       string     `json:"action"`
	Source       string     `json:"source"`
	PlanID       string     `json:"plan_id,omitempty"`
	Quantity     int        `json:"quantity,omitempty"`
	Status       string     `json:"status"`
	ErrorMessage string     `json:"error_message,omitempty"`
	RequestedBy  string     `json:"requested_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

func viewOperation(o *store.AzureOperation) operationView {
	return operationView{o.OperationID, o.Action, o.Source, o.PlanID, o.Quantity, o.Status, o.ErrorMessage, o.RequestedBy,
		o.CreatedAt, o.UpdatedAt, o.FinishedAt}
}

// azureReconcile runs a reconciliation now.
func (s *Server) azureReconcile(c *gin.Context) {
	if s.Azure == nil {
		s.failCode(c, apperr.NotFound, "Microsoft's marketplace is not configured")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Minute)
	defer cancel()
	rep, err := s.Azure.Reconcile(ctx, currentUser(c).Email)
	if err != nil {
		s.marketplaceFail(c, err)
		return
	}
	s.audit(c, currentUser(c), "azure.reconcile", "system", 0, nil, rep)
	c.JSON(http.StatusOK, gin.H{"report": rep})
}
