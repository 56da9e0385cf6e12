package api

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/invitations"
	"github.com/marketgate/marketgate/store"
)

// Customer admins: an organisation's admins and invitations (the
// invitations themselves are in invitations.go), and their sign-in with
// Microsoft Entra.

type adminView struct {
	ID          uint       `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Entra       bool       `json:"entra"`
	Password    bool       `json:"password"`
	LastLoginAt *time.Time `json:"last_login_at"`
	Disabled    bool       `json:"disabled"`
}

// adminCustomer is the organisation a customer-admin route is about: the
// customer admin's own, or the customer_id a seller names.
func (s *Server) adminCustomer(c *gin.Context, requested uint) (*store.Customer, error) {
	u := currentUser(c)
	id := requested
	if scope := customerScope(u); scope != 0 {
		id = scope
	} else if u.Role == store.RoleCustomerAdmin {
		return nil, apperr.New(apperr.Forbidden, "your account belongs to no organisation")
	}
	if id == 0 {
		return nil, apperr.New(apperr.Invalid, "customer_id is required")
	}
	return rowByID[store.Customer](s, c, id, "customer")
}

// customerAdminsQuery names the organisation (seller staff).
type customerAdminsQuery struct {
	CustomerID uint `form:"customer_id"`
}

// customerAdminsOrganisation is the organisation of a list of customer admins.
type customerAdminsOrganisation struct {
	ID            uint   `json:"id"`
	Name          string `json:"name"`
	AzureTenantID string `json:"azure_tenant_id"`
	AWSAccountID  string `json:"aws_account_id"`
}

// customerAdminsAnswer is an organisation's customer admins and invitations.
type customerAdminsAnswer struct {
	Customer customerAdminsOrganisation `json:"customer"`
	Admins   []adminView                `json:"admins"`
	Invites  []customerAdminInviteView  `json:"invites"`
}

// listCustomerAdmins lists an organisation's customer admins and invitations.
func (s *Server) listCustomerAdmins(c *gin.Context) (customerAdminsAnswer, error) {
	p := params{c: c}
	cid := p.id("customer_id")
	if p.err != nil {
		return customerAdminsAnswer{}, p.err
	}
	cu, err := s.adminCustomer(c, cid)
	if err != nil {
		return customerAdminsAnswer{}, err
	}
	ctx := c.Request.Context()
	users, err := s.Store.ListCustomerAdmins(ctx, cu.ID)
	if err != nil {
		return customerAdminsAnswer{}, err
	}
	invs, err := s.invitations().List(ctx, invitations.CustomerAdmins(cu.ID))
	if err != nil {
		return customerAdminsAnswer{}, err
	}
	out := customerAdminsAnswer{
		Customer: customerAdminsOrganisation{ID: cu.ID, Name: cu.Name, AzureTenantID: cu.AzureTenantID, AWSAccountID: cu.AWSAccountID},
		Admins:   make([]adminView, len(users)),
		Invites:  make([]customerAdminInviteView, len(invs)),
	}
	for i, u := range users {
		out.Admins[i] = adminView{ID: u.ID, Email: u.Email, Name: u.Name, Entra: u.EntraObjectID != "", Password: u.PasswordHash != "",
			LastLoginAt: u.LastLoginAt, Disabled: u.Disabled}
	}
	for i := range invs {
		out.Invites[i] = viewCustomerAdminInvite(&invs[i])
	}
	return out, nil
}

// startSession signs a user in (a fresh session id) and sends the browser on.
func (s *Server) startSession(c *gin.Context, u *store.User, next string) {
	ctx := c.Request.Context()
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err == nil {
		err = s.Sessions.Renew(ctx, sess)
	}
	if err == nil {
		sess.Values = map[any]any{auth.UserIDKey: u.ID}
		err = sess.Save(c.Request, c.Writer)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	_ = s.Store.TouchLogin(ctx, u.ID, s.Now().UTC())
	method := "invitation"
	if u.EntraObjectID != "" {
		method = "microsoft"
	}
	s.auditSignIn(c, "auth.login", u.Email, u, map[string]any{"method": method})
	c.Redirect(http.StatusSeeOther, SafeNext(next))
}

// ---- Sign in with Microsoft (portal) ----

// microsoftSignIn starts an Entra sign-in for the portal: a returning
// customer admin, or someone accepting an invitation (?invite=token).
func (s *Server) microsoftSignIn(c *gin.Context) {
	if s.AzureSignIn == nil {
		c.Redirect(http.StatusSeeOther, "/login?error="+url.QueryEscape("Sign-in with Microsoft is not set up on this portal."))
		return
	}
	if !s.allowAnonymous(c, "microsoft-sign-in", signInStartLimit) {
		return
	}
	ctx := c.Request.Context()
	state, nonce := auth.RandomToken(24), auth.RandomToken(24)
	now := s.Now().UTC()
	si := store.AzureSignIn{StateHash: hashState(state), Nonce: nonce, Purpose: "login", NextPath: SafeNext(c.Query("next")),
		ExpiresAt: now.Add(azureSignInLifetime), CreatedAt: now}
	if token := c.Query("invite"); token != "" {
		inv, _, err := s.customerAdminInvite(ctx, token)
		if err != nil {
			s.inviteProblem(c, err)
			return
		}
		si.Purpose, si.InviteID, si.NextPath = "invite", &inv.ID, "/"
	}
	if err := s.Store.CreatePortalSignIn(ctx, &si); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, s.AzureSignIn.OAuth.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account")))
}

// loginFailed sends the browser back to the portal's sign-in page with a
// reason: the message id in the request's language, kv its data.
func loginFailed(c *gin.Context, id string, kv ...any) {
	loginFailedText(c, requestLang(c.Request).T(id, kv...))
}

// loginFailedText sends the browser back to the sign-in page with msg.
func loginFailedText(c *gin.Context, msg string) {
	c.Redirect(http.StatusSeeOther, "/login?error="+url.QueryEscape(msg))
}

// finishMicrosoftSignIn completes a portal sign-in (purpose login or
// invite) once the callback has verified the id token.
func (s *Server) finishMicrosoftSignIn(c *gin.Context, si *store.AzureSignIn, who azuremp.Identity) {
	ctx := c.Request.Context()
	if si.Purpose == "invite" && si.InviteID != nil {
		inv, err := s.invitations().ByID(ctx, invitations.CustomerAdmins(0), *si.InviteID)
		if err != nil {
			s.inviteProblem(c, store.ErrNotFound)
			return
		}
		cu, err := store.Row[store.Customer](ctx, s.Store, *inv.CustomerID)
		if err != nil {
			s.inviteProblem(c, store.ErrNotFound)
			return
		}
		if cu.AzureTenantID == "" || !strings.EqualFold(cu.AzureTenantID, who.TenantID) {
			s.showProblem(c, http.StatusForbidden, "invite_wrong_tenant", "", "", "Company", cmp.Or(cu.Name, requestLang(c.Request).T("the_organisation")))
			return
		}
		if who.ObjectID != "" {
			n, err := s.Store.CountUsersWithEntraObjectID(ctx, who.ObjectID)
			if err != nil {
				s.fail(c, err)
				return
			}
			if n > 0 {
				s.showProblem(c, http.StatusConflict, "invite_microsoft_exists", "/login", "link_sign_in")
				return
			}
		}
		u, err := s.invitations().Accept(ctx, inv, func(u *store.User) { u.Name, u.EntraObjectID = who.Name, who.ObjectID })
		if err != nil {
			s.acceptFailed(c, err)
			return
		}
		s.startSession(c, u, "/")
		return
	}
	u, err := s.returningCustomerAdmin(c, who)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u == nil {
		s.Log.Info("microsoft sign-in: no customer admin", "request_id", requestID(c), "tenant", who.TenantID)
		loginFailed(c, "login_microsoft_not_admin")
		return
	}
	s.startSession(c, u, si.NextPath)
}

// returningCustomerAdmin is the customer admin a Microsoft identity signs
// in as (nil: none): known by Entra object id within the organisation
// whose Entra tenant signed them in; an admin not bound to an object id
// yet, by e-mail within that organisation (then bound). Once bound, only
// the object id and tenant match: another identity of the tenant with the
// same email claim is not that admin.
func (s *Server) returningCustomerAdmin(c *gin.Context, who azuremp.Identity) (*store.User, error) {
	ctx := c.Request.Context()
	if who.ObjectID != "" && who.TenantID != "" {
		u, err := s.Store.CustomerAdminByEntra(ctx, who.ObjectID, who.TenantID)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if who.Email == "" || who.TenantID == "" {
		return nil, nil
	}
	cu, err := s.Store.CustomerByAzureTenant(ctx, who.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := s.Store.UnboundCustomerAdminByEmail(ctx, store.NormalizeEmail(who.Email), cu.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if who.ObjectID != "" {
		_ = s.Store.BindEntraObjectID(ctx, u.ID, who.ObjectID)
	}
	return u, nil
}
