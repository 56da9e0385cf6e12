package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/invitations"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

// Invitations (server/invitations) over HTTP: admins invite seller staff
// (/api/users/invites), seller staff and customer admins invite customer
// admins (/api/customer-admins/invites), and the invited person accepts
// the link on a server-rendered page (/invite).

func (s *Server) invitations() *invitations.Service {
	return &invitations.Service{Store: s.Store, Now: s.Now}
}

// inviteURL is the link of an invitation's token.
func (s *Server) inviteURL(c *gin.Context, token string) string {
	return s.baseURL(c) + "/invite?token=" + url.QueryEscape(token)
}

func (s *Server) baseURL(c *gin.Context) string {
	if s.Info.BaseURL != "" {
		return strings.TrimRight(s.Info.BaseURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// ---- seller staff ----

// staffInviteView is an invitation to join the seller's staff.
type staffInviteView struct {
	ID        uint       `json:"id"`
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Role      string     `json:"role" enum:"admin,operator,viewer"`
	CreatedBy string     `json:"created_by"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	CreatedAt time.Time  `json:"created_at"`
}

func viewStaffInvite(inv *store.Invitation) staffInviteView {
	return staffInviteView{ID: inv.ID, Email: inv.Email, Name: inv.Name, Role: inv.Role, CreatedBy: inv.CreatedBy,
		ExpiresAt: inv.ExpiresAt, UsedAt: inv.UsedAt, RevokedAt: inv.RevokedAt, CreatedAt: inv.CreatedAt}
}

// staffInviteAnswer is one staff invitation.
type staffInviteAnswer struct {
	Invite staffInviteView `json:"invite"`
}

// staffInviteCreated is a new staff invitation and its link (shown once).
type staffInviteCreated struct {
	Invite staffInviteView `json:"invite"`
	URL    string          `json:"url"`
	// Emailed: the link was sent by e-mail to the invitee (SMTP is set up).
	Emailed bool `json:"emailed"`
}

// staffInviteInput invites someone to the seller's staff.
type staffInviteInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role" enum:"admin,operator,viewer,customer_admin"`
	// Language of the invitation's e-mail and page (the invitee's, when
	// known; else the inviter's).
	Language string `json:"language,omitempty" enum:"en,ja"`
}

// createStaffInvite invites someone to the seller's staff with a role; the
// link is shown once, works once, for 7 days. The newest link of an
// address wins: older pending invitations of it stop working.
func (s *Server) createStaffInvite(c *gin.Context, body staffInviteInput) (staffInviteCreated, error) {
	in, err := staffInput{Email: body.Email, Name: body.Name, Role: body.Role}.checked()
	if err != nil {
		return staffInviteCreated{}, err
	}
	ctx := c.Request.Context()
	if _, err := s.Store.UserByEmail(ctx, in.Email); err == nil {
		return staffInviteCreated{}, apperr.New(apperr.Conflict, "%s already has an account", in.Email)
	} else if !errors.Is(err, store.ErrNotFound) {
		return staffInviteCreated{}, err
	}
	u := currentUser(c)
	inv, token, err := s.invitations().Create(ctx, invitations.Request{Kind: store.InviteStaff, Email: in.Email, Name: in.Name, Role: in.Role, CreatedBy: u.Email,
		Language: s.invitationLanguage(c, body.Language)})
	if err != nil {
		return staffInviteCreated{}, err
	}
	link := s.inviteURL(c, token)
	mailed := s.mailInvitation(c, inv, "", link)
	s.audit(c, u, "user.invite", "staff_invite", inv.ID, nil, map[string]any{"email": inv.Email, "role": inv.Role, "emailed": mailed})
	return staffInviteCreated{Invite: viewStaffInvite(inv), URL: link, Emailed: mailed}, nil
}

func (s *Server) listStaffInvites(c *gin.Context) (list[staffInviteView], error) {
	invs, err := s.invitations().List(c.Request.Context(), invitations.Staff())
	if err != nil {
		return list[staffInviteView]{}, err
	}
	items := make([]staffInviteView, len(invs))
	for i := range invs {
		items[i] = viewStaffInvite(&invs[i])
	}
	return list[staffInviteView]{Items: items}, nil
}

// revokeInvitation revokes an invitation within the filter, answering
// not_found (as "invitation N") and conflict (accepted) in the client's words.
func (s *Server) revokeInvitation(c *gin.Context, f store.InvitationFilter) (*store.Invitation, bool, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, false, err
	}
	inv, revoked, err := s.invitations().Revoke(c.Request.Context(), f, id)
	switch {
	case errors.Is(err, invitations.ErrNotFound):
		return nil, false, apperr.New(apperr.NotFound, "invitation %d does not exist", id)
	case errors.Is(err, invitations.ErrAccepted):
		return nil, false, apperr.New(apperr.Conflict, "this invitation was already accepted")
	}
	return inv, revoked, err
}

func (s *Server) revokeStaffInvite(c *gin.Context) (staffInviteAnswer, error) {
	inv, revoked, err := s.revokeInvitation(c, invitations.Staff())
	if err != nil {
		return staffInviteAnswer{}, err
	}
	if revoked {
		s.audit(c, currentUser(c), "user.invite_revoke", "staff_invite", inv.ID, nil, map[string]any{"email": inv.Email})
	}
	return staffInviteAnswer{Invite: viewStaffInvite(inv)}, nil
}

// ---- customer admins ----

// customerAdminInviteView is an invitation to become a customer admin.
type customerAdminInviteView struct {
	ID         uint       `json:"id"`
	CustomerID uint       `json:"customer_id"`
	Email      string     `json:"email"`
	CreatedBy  string     `json:"created_by"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func viewCustomerAdminInvite(inv *store.Invitation) customerAdminInviteView {
	v := customerAdminInviteView{ID: inv.ID, Email: inv.Email, CreatedBy: inv.CreatedBy,
		ExpiresAt: inv.ExpiresAt, UsedAt: inv.UsedAt, RevokedAt: inv.RevokedAt, CreatedAt: inv.CreatedAt}
	if inv.CustomerID != nil {
		v.CustomerID = *inv.CustomerID
	}
	return v
}

// customerAdminInviteInput invites an address to administer an
// organisation (a customer admin's own; seller staff name it).
type customerAdminInviteInput struct {
	Email      string `json:"email"`
	CustomerID uint   `json:"customer_id"`
	// Language of the invitation's e-mail and page (the invitee's, when
	// known; else the inviter's).
	Language string `json:"language,omitempty" enum:"en,ja"`
}

// customerAdminInviteAnswer is one customer-admin invitation.
type customerAdminInviteAnswer struct {
	Invite customerAdminInviteView `json:"invite"`
}

// customerAdminInviteCreated is a new customer-admin invitation and its
// link (shown once).
type customerAdminInviteCreated struct {
	Invite customerAdminInviteView `json:"invite"`
	URL    string                  `json:"url"`
	// Emailed: the link was sent by e-mail to the invitee (SMTP is set up).
	Emailed bool `json:"emailed"`
}

// createInvite invites someone to become a customer admin; the link is
// shown once.
func (s *Server) createInvite(c *gin.Context, in customerAdminInviteInput) (customerAdminInviteCreated, error) {
	who, err := seats.ParseUser(in.Email)
	if err != nil || who.Email == "" {
		return customerAdminInviteCreated{}, apperr.New(apperr.Invalid, "email is not an e-mail address")
	}
	cu, err := s.adminCustomer(c, in.CustomerID)
	if err != nil {
		return customerAdminInviteCreated{}, err
	}
	ctx := c.Request.Context()
	if existing, err := s.Store.UserByEmail(ctx, who.Email); err == nil {
		switch {
		case existing.CustomerID != nil && *existing.CustomerID == cu.ID:
			return customerAdminInviteCreated{}, apperr.New(apperr.Conflict, "%s is already an admin of %s", who.Email, cu.Name)
		case customerScope(currentUser(c)) == 0:
			return customerAdminInviteCreated{}, apperr.New(apperr.Conflict, "%s already has an account; ask the seller for help", who.Email)
		}
		// A customer admin is not told that the address has an account
		// elsewhere (issue 15, finding 9): the invitation is made as for
		// any address, and only the address's owner learns, on accepting,
		// that it already has an account.
	} else if !errors.Is(err, store.ErrNotFound) {
		return customerAdminInviteCreated{}, err
	}
	u := currentUser(c)
	inv, token, err := s.invitations().Create(ctx, invitations.Request{Kind: store.InviteCustomerAdmin, CustomerID: cu.ID, Email: who.Email, CreatedBy: u.Email,
		Language: s.invitationLanguage(c, in.Language)})
	if err != nil {
		return customerAdminInviteCreated{}, err
	}
	link := s.inviteURL(c, token)
	mailed := s.mailInvitation(c, inv, cu.Name, link)
	s.audit(c, u, "customer_admin.invite", "customer", cu.ID, nil, map[string]any{"email": who.Email, "invite": inv.ID, "emailed": mailed})
	return customerAdminInviteCreated{Invite: viewCustomerAdminInvite(inv), URL: link, Emailed: mailed}, nil
}

// revokeInvite makes an unused customer-admin invitation link stop
// working (a customer admin: of their own organisation only).
func (s *Server) revokeInvite(c *gin.Context) (customerAdminInviteAnswer, error) {
	inv, revoked, err := s.revokeInvitation(c, invitations.CustomerAdmins(customerScope(currentUser(c))))
	if err != nil {
		return customerAdminInviteAnswer{}, err
	}
	if revoked {
		s.audit(c, currentUser(c), "customer_admin.invite_revoke", "customer", *inv.CustomerID, nil, map[string]any{"invite": inv.ID})
	}
	return customerAdminInviteAnswer{Invite: viewCustomerAdminInvite(inv)}, nil
}

// ---- accepting an invitation (server-rendered pages) ----

var invitePage = page("invite_title", `<h1>{{.L.T "invite_heading" "Company" .Company}}</h1>
<p>{{if .Staff}}{{.L.T "invite_text_staff" "By" .By "Email" .Email "Role" (.L.T .RoleID)}}{{else}}{{.L.T "invite_text_admin" "By" .By "Email" .Email "Company" .Company}}{{end}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Microsoft}}<p><a class="button" href="/auth/microsoft?invite={{.Token}}">{{.L.T "invite_microsoft"}}</a></p>
<p>{{.L.T "invite_microsoft_or" "Company" .Company}}</p>{{end}}
<form method="post" action="/invite">
<input type="hidden" name="token" value="{{.Token}}">
<label for="name">{{.L.T "field_your_name"}}</label><input id="name" name="name" value="{{.Name}}" required maxlength="200" autocomplete="name">
<label for="password">{{.L.T "field_password"}}</label><input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
<button type="submit">{{.L.T "invite_submit"}}</button>
</form>`)

// customerAdminInvite finds a usable customer-admin invitation by its
// link's token, with its organisation: ErrNotFound (also for a staff
// link), ErrUnusable with the invitation when it no longer works.
func (s *Server) customerAdminInvite(ctx context.Context, token string) (*store.Invitation, *store.Customer, error) {
	inv, err := s.invitations().Find(ctx, token)
	if inv != nil && inv.Kind != store.InviteCustomerAdmin {
		return nil, nil, invitations.ErrNotFound
	}
	if err != nil {
		return inv, nil, err
	}
	cu, err := store.Row[store.Customer](ctx, s.Store, *inv.CustomerID)
	if err != nil {
		return nil, nil, store.ErrNotFound
	}
	return inv, cu, nil
}

func (s *Server) inviteProblem(c *gin.Context, err error) {
	if errors.Is(err, invitations.ErrUnusable) {
		s.showProblem(c, http.StatusGone, "invite_unusable", "/login", "link_sign_in")
		return
	}
	s.showProblem(c, http.StatusNotFound, "invite_not_found", "/login", "link_sign_in")
}

// invitePageData is what the invitation page shows of a usable
// invitation, in the request's language (or the invitation's, when the
// browser expresses no choice it can be matched against).
func (s *Server) invitePageData(c *gin.Context, inv *store.Invitation, token string) (map[string]any, error) {
	l := requestLangOr(c.Request, inv.Language)
	by := cmp.Or(inv.CreatedBy, l.T("an_administrator"))
	if inv.Kind == store.InviteStaff {
		return map[string]any{"L": l, "Token": token, "Company": l.T("the_sellers_team"), "Email": inv.Email, "Name": inv.Name,
			"Staff": true, "RoleID": "role_" + inv.Role, "By": by, "Microsoft": false, "Next": "/invite?token=" + url.QueryEscape(token)}, nil
	}
	cu, err := store.Row[store.Customer](c.Request.Context(), s.Store, *inv.CustomerID)
	if err != nil {
		return nil, store.ErrNotFound
	}
	company := cmp.Or(cu.Name, l.T("your_organisation"))
	return map[string]any{"L": l, "Brand": s.customerBrand(c, cu.ID), "Token": token, "Company": company, "Email": inv.Email, "Staff": false,
		"By": by, "Microsoft": s.AzureSignIn != nil && cu.AzureTenantID != "", "Next": "/invite?token=" + url.QueryEscape(token)}, nil
}

// findInvitation finds a usable invitation of either kind by its link's
// token, with its page's data.
func (s *Server) findInvitation(c *gin.Context, token string) (*store.Invitation, map[string]any, error) {
	inv, err := s.invitations().Find(c.Request.Context(), token)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.invitePageData(c, inv, token)
	if err != nil {
		return nil, nil, err
	}
	return inv, data, nil
}

func (s *Server) invite(c *gin.Context) {
	_, data, err := s.findInvitation(c, c.Query("token"))
	if err != nil {
		s.inviteProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, invitePage, data)
}

// acceptInvite creates the invited account with a password and signs it in.
func (s *Server) acceptInvite(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.showProblem(c, http.StatusForbidden, "cross_origin", "", "")
		return
	}
	ctx := c.Request.Context()
	inv, data, err := s.findInvitation(c, c.PostForm("token"))
	if err != nil {
		s.inviteProblem(c, err)
		return
	}
	name, password := strings.TrimSpace(c.PostForm("name")), c.PostForm("password")
	data["Name"] = name
	if name == "" || len(name) > 200 || auth.HasControl(name) {
		data["Error"] = data["L"].(*Lang).T("invite_name_needed")
		s.renderPage(c, http.StatusBadRequest, invitePage, data)
		return
	}
	if err := auth.CheckPasswordRules(password, name, inv.Email); err != nil {
		data["Error"] = data["L"].(*Lang).T(formProblemID(err.Error()), "Min", auth.MinPasswordLength)
		s.renderPage(c, http.StatusBadRequest, invitePage, data)
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.invitations().Accept(ctx, inv, func(u *store.User) { u.Name, u.PasswordHash = name, hash })
	if err != nil {
		s.acceptFailed(c, err)
		return
	}
	s.startSession(c, u, "/")
}

func (s *Server) acceptFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, invitations.ErrUnusable):
		s.inviteProblem(c, err)
	case errors.Is(err, invitations.ErrEmailTaken):
		s.showProblem(c, http.StatusConflict, "invite_email_taken", "/login", "link_sign_in")
	default:
		s.fail(c, err)
	}
}
