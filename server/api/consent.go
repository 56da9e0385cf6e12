package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Entra admin consent (issue 17): the extra permissions an offer's app
// needs beyond User.Read are asked after activation — never on the landing
// page — from an administrator of the customer's tenant, through the
// Microsoft identity platform's admin consent endpoint
// (https://learn.microsoft.com/entra/identity-platform/v2-admin-consent):
//
//	GET https://login.microsoftonline.com/{tenant}/v2.0/adminconsent
//	    ?client_id=…&scope=…&redirect_uri=…&state=…
//
// answered on the redirect URI with admin_consent=True&tenant=…&scope=…&state=…
// or error=…&error_description=…&state=…. The state is ours: random, stored
// hashed, bound to the customer admin's user and session and to the
// subscription, used once, expiring.

// consentLifetime bounds an admin-consent round trip.
const consentLifetime = 15 * time.Minute

// consentCallbackPath is the redirect URI registered for the app.
const consentCallbackPath = "/auth/microsoft/adminconsent"

// consentReturnPath is where the customer admin lands after Entra: the
// portal's subscription page, its permissions tab, with the outcome
// (granted or declined).
const consentReturnPath = "/subscriptions/%d?tab=permissions&consent=%s"

// Consent statuses of a subscription (its offer's permissions against its
// tenant's consent).
const (
	consentNotRequired = "not_required" // the offer asks for nothing beyond User.Read
	consentNotAsked    = "not_asked"
	consentGranted     = "granted"
	consentDeclined    = "declined"
	consentOutdated    = "outdated" // granted before, but the offer now asks for more
)

// Offer permissions: a Microsoft Graph scope (the full URI, or the short
// name, which Entra reads as Graph's) or a scope of the seller's own API.
var (
	graphScope  = regexp.MustCompile(`^(https://graph\.microsoft\.com/)?([A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+)$|^https://graph\.microsoft\.com/\.default$`)
	customScope = regexp.MustCompile(`^(api://[A-Za-z0-9][A-Za-z0-9._:/-]{0,200}|https://[a-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)*)/(\.default|[A-Za-z0-9][A-Za-z0-9._-]{0,119})$`)
)

// openIDScopes are not permissions an admin consents to for an app.
var openIDScopes = []string{"openid", "profile", "email", "offline_access", "user.read", "https://graph.microsoft.com/user.read"}

const maxOfferPermissions = 30

type offerPermissionInput struct {
	Scope  string `json:"scope"`
	Reason string `json:"reason"`
}

type offerPermissionView struct {
	Scope string `json:"scope"`
	// Resource: "Microsoft Graph" or the API the scope belongs to.
	Resource string `json:"resource"`
	// Name: the permission's name within its resource (Directory.Read.All, .default, …).
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func viewPermission(p store.OfferPermission) offerPermissionView {
	res, name := splitScope(p.Scope)
	return offerPermissionView{Scope: p.Scope, Resource: res, Name: name, Reason: p.Reason}
}

func viewPermissions(ps []store.OfferPermission) []offerPermissionView {
	out := make([]offerPermissionView, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewPermission(p))
	}
	return out
}

// splitScope names a scope's resource and permission.
func splitScope(scope string) (resource, name string) {
	i := strings.LastIndex(scope, "/")
	if i < 0 {
		return "Microsoft Graph", scope
	}
	res, name := scope[:i], scope[i+1:]
	if strings.EqualFold(res, "https://graph.microsoft.com") {
		res = "Microsoft Graph"
	}
	return res, name
}

// normalScope writes a Graph short name as its full URI (what Entra is sent).
func normalScope(scope string) string {
	if !strings.Contains(scope, "/") {
		return "https://graph.microsoft.com/" + scope
	}
	return scope
}

// validPermissions checks an offer's list of permissions; the error's
// message names the entry and what is wrong.
func validPermissions(in []offerPermissionInput) ([]store.OfferPermission, error) {
	if len(in) > maxOfferPermissions {
		return nil, apperr.New(apperr.InvalidPermission, "an offer asks for at most %d permissions", maxOfferPermissions)
	}
	out := make([]store.OfferPermission, 0, len(in))
	seen := map[string]bool{}
	for i, p := range in {
		scope, reason := strings.TrimSpace(p.Scope), strings.TrimSpace(p.Reason)
		n := i + 1
		switch {
		case scope == "":
			return nil, apperr.New(apperr.InvalidPermission, "permission %d has no scope: give one such as https://graph.microsoft.com/Directory.Read.All or api://<app-id>/.default", n)
		case slices.Contains(openIDScopes, strings.ToLower(scope)):
			return nil, apperr.New(apperr.InvalidPermission, "permission %d (%s) is asked at sign-in already; list only what the app needs beyond User.Read", n, scope)
		case len(scope) > 500 || (!graphScope.MatchString(scope) && !customScope.MatchString(scope)):
			return nil, apperr.New(apperr.InvalidPermission, "permission %d (%.80s) is not a scope: use a Microsoft Graph permission (https://graph.microsoft.com/Directory.Read.All or Directory.Read.All) or your API's (api://<app-id>/.default, api://<app-id>/<scope>)", n, scope)
		case reason == "" || len(reason) > 500 || auth.HasControl(reason):
			return nil, apperr.New(apperr.InvalidPermission, "permission %d (%s) needs a reason for the customer: 1 to 500 characters, no control characters", n, scope)
		}
		scope = normalScope(scope)
		if seen[strings.ToLower(scope)] {
			return nil, apperr.New(apperr.InvalidPermission, "permission %d (%s) is listed twice", n, scope)
		}
		seen[strings.ToLower(scope)] = true
		out = append(out, store.OfferPermission{Scope: scope, Reason: reason})
	}
	return out, nil
}

// adminConsentView is a subscription's (or tenant's) consent, as the portal
// shows it.
type adminConsentView struct {
	Status string `json:"status" enum:"not_required,not_asked,granted,declined,outdated"`
	// Requested: the scopes the offer asks for.
	Requested []string `json:"requested"`
	// Granted: every scope an administrator of the tenant granted.
	Granted []string `json:"granted"`
	// LastDecision: the latest outcome ("" when never asked).
	LastDecision     string     `json:"last_decision" enum:"granted,declined,"`
	DecidedAt        *time.Time `json:"decided_at"`
	DecidedBy        string     `json:"decided_by"`
	GrantedAt        *time.Time `json:"granted_at"`
	Error            string     `json:"error"`
	ErrorDescription string     `json:"error_description"`
}

// consentOf computes the status of a tenant's consent against what an
// offer asks for (perms; tc nil when the tenant was never asked).
func consentOf(perms []store.OfferPermission, tc *store.TenantConsent) adminConsentView {
	v := adminConsentView{Requested: []string{}, Granted: []string{}}
	for _, p := range perms {
		v.Requested = append(v.Requested, p.Scope)
	}
	if tc != nil {
		v.Granted = append(v.Granted, strings.Fields(tc.GrantedScopes)...)
		v.LastDecision, v.DecidedBy, v.GrantedAt = tc.Status, tc.DecidedBy, tc.GrantedAt
		v.Error, v.ErrorDescription = tc.Error, tc.ErrorDescription
		at := tc.DecidedAt
		v.DecidedAt = &at
	}
	covered := !slices.ContainsFunc(v.Requested, func(s string) bool { return !containsFold(v.Granted, s) })
	switch {
	case len(v.Requested) == 0:
		v.Status = consentNotRequired
	case tc == nil:
		v.Status = consentNotAsked
	case covered:
		v.Status = consentGranted
	case tc.Status == store.ConsentDeclined:
		v.Status = consentDeclined
	case len(v.Granted) > 0:
		v.Status = consentOutdated
	default:
		v.Status = consentNotAsked
	}
	return v
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// subscriptionConsent is a Microsoft subscription's consent (nil for AWS
// or a subscription without a tenant).
func subscriptionConsent(tx *store.Tx, sub *store.Subscription) (*adminConsentView, error) {
	if sub.Marketplace != "azure" || sub.AzureTenantID == "" {
		return nil, nil
	}
	var perms []store.OfferPermission
	if sub.OfferID != nil {
		var err error
		if perms, err = tx.OfferPermissions(*sub.OfferID); err != nil {
			return nil, err
		}
	}
	tc, err := tx.TenantConsentOf(sub.AzureTenantID)
	if err != nil {
		return nil, err
	}
	v := consentOf(perms, tc)
	return &v, nil
}

// consentFor is a Microsoft subscription's consent for the answers that
// carry it beside their main content (the subscription page, the access
// check): nil for AWS, and nil (logged) when it cannot be read, so those
// answers still come.
func (s *Server) consentFor(c *gin.Context, sub *store.Subscription) *adminConsentView {
	v, err := subscriptionConsent(s.Store.Reads(c.Request.Context()), sub)
	if err != nil {
		s.Log.Warn("admin consent: reading it for an answer", "request_id", requestID(c), "subscription", sub.ID, "err", err)
	}
	return v
}

// withConsent adds the Microsoft tenant's consent to a seat check's answer.
// The seller's app checks thousands of times a second: what the consent is
// read from (the offer's permissions, the tenant's decision) is kept in
// store.GrantCaches: a decision recorded here is seen by the next check,
// one recorded on another replica within store.GrantRecheck.
func (s *Server) withConsent(c *gin.Context, a *seats.Answer) seatCheckAnswer {
	out := seatCheckAnswer{Answer: a}
	sub := a.Subscription
	if sub == nil || sub.Marketplace != "azure" || sub.AzureTenantID == "" {
		return out
	}
	gen, now := s.Store.GrantGeneration(), s.Store.Now()
	db := s.Store.Reads(c.Request.Context())
	perms, err := s.offerPermissions.Load(sub.OfferRef, gen, now, func() ([]store.OfferPermission, error) {
		if sub.OfferRef == 0 {
			return nil, nil
		}
		return db.OfferPermissions(sub.OfferRef)
	})
	var tc *store.TenantConsent
	if err == nil {
		tc, err = s.tenantConsents.Load(sub.AzureTenantID, gen, now, func() (*store.TenantConsent, error) { return db.TenantConsentOf(sub.AzureTenantID) })
	}
	if err != nil {
		s.Log.Warn("admin consent: reading it for a seat check", "request_id", requestID(c), "subscription", sub.ID, "err", err)
		return out
	}
	v := consentOf(perms, tc)
	out.Consent = apiConsentOf(&v)
	return out
}

// ConsentCacheTTL bounds how long a consent decision (or an offer's
// permissions) written behind the store's back may go unseen by the seat
// check here (see store.GrantRecheck).
const ConsentCacheTTL = time.Minute

// seatCheckAnswer is the seat check's answer, with the Microsoft tenant's
// admin consent when the subscription is Microsoft's.
type seatCheckAnswer struct {
	*seats.Answer
	Consent *apiAdminConsent `json:"consent,omitempty"`
}

// tenantConsent is a tenant's latest outcome on its own (the customer
// page): its status is that decision, or not_asked; nil without a tenant.
func tenantConsent(tx *store.Tx, tenantID string) (*adminConsentView, error) {
	if tenantID == "" {
		return nil, nil
	}
	tc, err := tx.TenantConsentOf(tenantID)
	if err != nil {
		return nil, err
	}
	v := consentOf(nil, tc)
	v.Status = consentNotAsked
	if tc != nil {
		v.Status = tc.Status
	}
	return &v, nil
}

// apiAdminConsent is the consent as the seller's app reads it (/api/v1).
type apiAdminConsent struct {
	Status    string     `json:"status"`
	Scopes    []string   `json:"scopes"`
	GrantedAt *time.Time `json:"granted_at"`
}

func apiConsentOf(v *adminConsentView) *apiAdminConsent {
	if v == nil {
		return nil
	}
	return &apiAdminConsent{Status: v.Status, Scopes: v.Granted, GrantedAt: v.GrantedAt}
}

// consentPermissionsAnswer is what the customer portal's permissions tab shows.
type consentPermissionsAnswer struct {
	SubscriptionID uint                  `json:"subscription_id"`
	Marketplace    string                `json:"marketplace" enum:"aws,azure"`
	TenantID       string                `json:"tenant_id"`
	Permissions    []offerPermissionView `json:"permissions"`
	Consent        adminConsentView      `json:"consent"`
	// CanGrant: the Grant permissions button works now; else Blocked says why.
	CanGrant bool   `json:"can_grant"`
	Blocked  string `json:"blocked" enum:",not_microsoft,not_active,nothing_to_grant,no_tenant,not_configured"`
}

// myConsentSubscription is the customer admin's own subscription (404 for any
// other, so another organisation's ids reveal nothing).
func (s *Server) myConsentSubscription(c *gin.Context) (*store.Subscription, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	u := currentUser(c)
	sub, err := s.Store.Reads(c.Request.Context()).SubscriptionForConsent(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.CustomerID == nil || sub.CustomerID == nil || *sub.CustomerID != *u.CustomerID)) {
		return nil, apperr.New(apperr.NotFound, "subscription %d does not exist", id)
	}
	return sub, err
}

func (s *Server) myPermissions(c *gin.Context) (consentPermissionsAnswer, error) {
	sub, err := s.myConsentSubscription(c)
	if err != nil {
		return consentPermissionsAnswer{}, err
	}
	return s.permissionsOf(c, sub)
}

func (s *Server) permissionsOf(c *gin.Context, sub *store.Subscription) (consentPermissionsAnswer, error) {
	var perms []store.OfferPermission
	if sub.Offer != nil {
		perms = sub.Offer.Permissions
	}
	out := consentPermissionsAnswer{SubscriptionID: sub.ID, Marketplace: sub.Marketplace, TenantID: sub.AzureTenantID, Permissions: viewPermissions(perms)}
	tc, err := s.Store.Reads(c.Request.Context()).TenantConsentOf(sub.AzureTenantID)
	if err != nil || sub.AzureTenantID == "" {
		tc = nil
	}
	if err != nil {
		return out, err
	}
	out.Consent = consentOf(perms, tc)
	switch {
	case sub.Marketplace != "azure":
		out.Blocked = "not_microsoft"
	case len(perms) == 0:
		out.Blocked = "nothing_to_grant"
	case sub.AzureTenantID == "":
		out.Blocked = "no_tenant"
	case sub.State != string(lifecycle.Active):
		out.Blocked = "not_active"
	case s.AzureSignIn == nil || s.AzureSignIn.OAuth == nil:
		out.Blocked = "not_configured"
	default:
		out.CanGrant = true
	}
	return out, nil
}

type consentGrantAnswer struct {
	// RedirectURL: send the browser there (Entra's admin consent page).
	RedirectURL string `json:"redirect_url"`
}

// grantPermissions starts the admin-consent round trip for the customer
// admin's subscription and answers where to send the browser.
func (s *Server) grantPermissions(c *gin.Context) (consentGrantAnswer, error) {
	sub, err := s.myConsentSubscription(c)
	if err != nil {
		return consentGrantAnswer{}, err
	}
	pa, err := s.permissionsOf(c, sub)
	if err != nil {
		return consentGrantAnswer{}, err
	}
	if !pa.CanGrant {
		return consentGrantAnswer{}, apperr.New(apperr.ConsentUnavailable, "%s", consentBlockedMessage(pa.Blocked))
	}
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil || sess.ID == "" {
		return consentGrantAnswer{}, apperr.New(apperr.Unauthenticated, "sign in again")
	}
	ctx, now := c.Request.Context(), s.Now().UTC()
	tx := s.Store.Writes(ctx)
	if err := tx.DeleteExpiredConsentRequests(now); err != nil {
		s.Log.Warn("consent requests: cleanup", "err", err)
	}
	state := auth.RandomToken(32)
	scopes := strings.Join(pa.Consent.Requested, " ")
	u := currentUser(c)
	if err := tx.CreateConsentRequest(&store.ConsentRequest{StateHash: store.HashToken(state), UserID: u.ID, SessionHash: store.HashToken(sess.ID),
		SubscriptionID: sub.ID, TenantID: strings.ToLower(sub.AzureTenantID), Scopes: scopes, ExpiresAt: now.Add(consentLifetime), CreatedAt: now}); err != nil {
		return consentGrantAnswer{}, err
	}
	q := url.Values{"client_id": {s.AzureSignIn.OAuth.ClientID}, "scope": {scopes},
		"redirect_uri": {s.baseURL(c) + consentCallbackPath}, "state": {state}}
	return consentGrantAnswer{RedirectURL: s.entraBase() + "/" + url.PathEscape(strings.ToLower(sub.AzureTenantID)) + "/v2.0/adminconsent?" + q.Encode()}, nil
}

func consentBlockedMessage(blocked string) string {
	switch blocked {
	case "not_microsoft":
		return "extra permissions are asked only on Microsoft subscriptions"
	case "nothing_to_grant":
		return "this offer asks for no permissions beyond sign-in"
	case "no_tenant":
		return "this subscription names no Microsoft tenant"
	case "not_active":
		return "permissions are asked after the subscription is activated"
	default:
		return "Microsoft sign-in is not set up on this server"
	}
}

// entraBase is where the browser reaches Entra (the authorize URL's host
// and path up to the tenant).
func (s *Server) entraBase() string {
	authURL := s.AzureSignIn.OAuth.Endpoint.AuthURL
	if i := strings.Index(authURL, "/organizations/oauth2/"); i >= 0 {
		return authURL[:i]
	}
	if u, err := url.Parse(authURL); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return "https://login.microsoftonline.com"
}

// adminConsentCallback takes Entra's answer: the outcome is recorded for
// the tenant only when the state is one this very session started, unused
// and unexpired.
func (s *Server) adminConsentCallback(c *gin.Context) {
	ctx, now := c.Request.Context(), s.Now().UTC()
	hash := store.HashToken(c.Query("state"))
	req, err := s.Store.Writes(ctx).ConsentRequestByState(hash, now)
	if c.Query("state") == "" || errors.Is(err, store.ErrNotFound) {
		s.showProblem(c, http.StatusBadRequest, "consent_expired", "/", "link_open_portal")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.sessionUser(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	sess, _ := s.Sessions.Get(c.Request, SessionCookie)
	if u == nil || u.ID != req.UserID || sess == nil || store.HashToken(sess.ID) != req.SessionHash {
		s.Log.Warn("admin consent: state from another session refused", "request_id", requestID(c), "subscription", req.SubscriptionID)
		s.showProblem(c, http.StatusForbidden, "consent_other_session", "/login", "link_sign_in")
		return
	}
	d, ok := consentDecision(c, req)
	if !ok {
		s.showProblem(c, http.StatusBadRequest, "consent_other_tenant", "/", "link_open_portal")
		return
	}
	d.DecidedByUserID, d.DecidedBy, d.DecidedAt = &u.ID, u.Email, now
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UseConsentRequest(req.ID, now); err != nil {
			return err
		}
		return s.recordConsent(tx, now, req, d)
	})
	if errors.Is(err, store.ErrNotFound) {
		s.showProblem(c, http.StatusBadRequest, "consent_used", "/", "link_open_portal")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf(consentReturnPath, req.SubscriptionID, d.Status))
}

// consentDecision reads Entra's answer: granted (admin_consent=True for the
// tenant asked) or declined (error, error_description); ok is false when
// the answer names another tenant or is neither.
func consentDecision(c *gin.Context, req *store.ConsentRequest) (store.TenantConsent, bool) {
	d := store.TenantConsent{TenantID: req.TenantID}
	if e := strings.TrimSpace(c.Query("error")); e != "" {
		d.Status, d.Scopes = store.ConsentDeclined, req.Scopes
		d.Error, d.ErrorDescription = truncate(e, 100), truncate(c.Query("error_description"), 2000)
		return d, true
	}
	if !strings.EqualFold(c.Query("admin_consent"), "true") || !strings.EqualFold(strings.TrimSpace(c.Query("tenant")), req.TenantID) {
		return d, false
	}
	// The scopes Entra says were granted, among those asked for.
	asked := strings.Fields(req.Scopes)
	granted := asked
	if back := strings.Fields(c.Query("scope")); len(back) > 0 {
		granted = slices.DeleteFunc(slices.Clone(asked), func(s string) bool { return !containsFold(back, s) })
	}
	d.Status, d.Scopes = store.ConsentGranted, strings.Join(granted, " ")
	return d, true
}

// recordConsent stores a tenant's decision with a timeline entry on the
// subscription and the outbound event, in one transaction.
func (s *Server) recordConsent(tx *store.Tx, now time.Time, req *store.ConsentRequest, d store.TenantConsent) error {
	tc, err := tx.RecordTenantConsent(d)
	if err != nil {
		return err
	}
	kind, summary := webhooks.ConsentGranted, "An administrator of the customer's tenant granted the app's permissions: "+tc.Scopes
	if tc.Status == store.ConsentDeclined {
		kind = webhooks.ConsentDeclined
		summary = "An administrator of the customer's tenant declined the app's permissions: " + cmp.Or(tc.ErrorDescription, tc.Error)
	}
	if err := tx.AddTimelineEvent(&store.TimelineEvent{SubscriptionID: req.SubscriptionID, At: now, Kind: kind, Source: "portal",
		Summary: truncate(summary, 1000), Actor: tc.DecidedBy, CreatedAt: now}); err != nil {
		return err
	}
	sub, err := tx.SubscriptionForConsent(req.SubscriptionID)
	if err != nil {
		return err
	}
	v, err := subscriptionConsent(tx, sub)
	if err != nil {
		return err
	}
	return webhooks.EmitSubscription(tx, now, req.SubscriptionID, now, []string{kind}, map[string]any{"consent": map[string]any{
		"tenant_id": tc.TenantID, "status": v.Status, "decision": tc.Status, "scopes": strings.Fields(tc.Scopes), "granted_scopes": v.Granted,
		"decided_by": tc.DecidedBy, "decided_at": tc.DecidedAt, "error": tc.Error, "error_description": tc.ErrorDescription}})
}
