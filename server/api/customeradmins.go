package api

import (
	"cmp"
	"context"
	"errors"
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
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

// inviteLifetime is how long an invitation link works (once).
const inviteLifetime = 7 * 24 * time.Hour

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
func (s *Server) adminCustomer(c *gin.Context, requested uint) (*store.Customer, bool) {
	u := currentUser(c)
	id := requested
	if scope := customerScope(u); scope != 0 {
		id = scope
	} else if u.Role == store.RoleCustomerAdmin {
		s.failCode(c, apperr.Forbidden, "your account belongs to no organisation")
		return nil, false
	}
	if id == 0 {
		s.failCode(c, apperr.Invalid, "customer_id is required")
		return nil, false
	}
	return byID[store.Customer](s, c, id, "customer")
}

// listCustomerAdmins lists an organisation's customer admins and invitations.
func (s *Server) listCustomerAdmins(c *gin.Context) {
	p := params{c: c}
	cid := p.id("customer_id")
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	cu, ok := s.adminCustomer(c, cid)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var users []store.User
	if err := s.Store.R.WithContext(ctx).Where("customer_id = ? AND role = ?", cu.ID, store.RoleCustomerAdmin).Order("email").Find(&users).Error; err != nil {
		s.fail(c, err)
		return
	}
	var invites []store.AdminInvite
	if err := s.Store.R.WithContext(ctx).Where("customer_id = ?", cu.ID).Order("created_at DESC, id DESC").Limit(200).Find(&invites).Error; err != nil {
		s.fail(c, err)
		return
	}
	admins := make([]adminView, len(users))
	for i, u := range users {
		admins[i] = adminView{ID: u.ID, Email: u.Email, Name: u.Name, Entra: u.EntraObjectID != "", Password: u.PasswordHash != "",
			LastLoginAt: u.LastLoginAt, Disabled: u.Disabled}
	}
	if invites == nil {
		invites = []store.AdminInvite{}
	}
	c.JSON(http.StatusOK, gin.H{"customer": gin.H{"id": cu.ID, "name": cu.Name, "azure_tenant_id": cu.AzureTenantID, "aws_account_id": cu.AWSAccountID},
		"admins": admins, "invites": invites})
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

// createInvite invites someone to become a customer admin; the link is
// shown once.
func (s *Server) createInvite(c *gin.Context) {
	var in struct {
		Email      string `json:"email"`
		CustomerID uint   `json:"customer_id"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	who, err := seats.ParseUser(in.Email)
	if err != nil || who.Email == "" {
		s.failCode(c, apperr.Invalid, "email is not an e-mail address")
		return
	}
	cu, ok := s.adminCustomer(c, in.CustomerID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if existing, err := s.Store.UserByEmail(ctx, who.Email); err == nil {
		switch {
		case existing.CustomerID != nil && *existing.CustomerID == cu.ID:
			s.failCode(c, apperr.Conflict, "%s is already an admin of %s", who.Email, cu.Name)
			return
		case customerScope(currentUser(c)) == 0:
			s.failCode(c, apperr.Conflict, "%s already has an account; ask the seller for help", who.Email)
			return
		}
		// A customer admin is not told that the address has an account
		// elsewhere (issue 15, finding 9): the invitation is made as for
		// any address, and only the address's owner learns, on accepting,
		// that it already has an account.
	} else if !errors.Is(err, store.ErrNotFound) {
		s.fail(c, err)
		return
	}
	u := currentUser(c)
	token := auth.RandomToken(24)
	now := s.Now().UTC()
	inv := store.AdminInvite{CustomerID: cu.ID, Email: who.Email, TokenHash: hashState(token), CreatedBy: u.Email,
		ExpiresAt: now.Add(inviteLifetime), CreatedAt: now}
	if err := s.Store.W.WithContext(ctx).Create(&inv).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "customer_admin.invite", "customer", cu.ID, nil, map[string]any{"email": who.Email, "invite": inv.ID})
	c.JSON(http.StatusCreated, gin.H{"invite": inv, "url": s.baseURL(c) + "/invite?token=" + url.QueryEscape(token)})
}

// revokeInvite makes an unused invitation link stop working.
func (s *Server) revokeInvite(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var inv store.AdminInvite
	err := s.Store.W.WithContext(ctx).First(&inv, id).Error
	if err == nil {
		if scope := customerScope(currentUser(c)); scope != 0 && inv.CustomerID != scope {
			err = gorm.ErrRecordNotFound
		}
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		s.failCode(c, apperr.NotFound, "invitation %d does not exist", id)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if inv.UsedAt != nil {
		s.failCode(c, apperr.Conflict, "this invitation was already accepted")
		return
	}
	if inv.RevokedAt == nil {
		now := s.Now().UTC()
		if err := s.Store.W.WithContext(ctx).Model(&inv).Update("revoked_at", now).Error; err != nil {
			s.fail(c, err)
			return
		}
		inv.RevokedAt = &now
		s.audit(c, currentUser(c), "customer_admin.invite_revoke", "customer", inv.CustomerID, nil, map[string]any{"invite": inv.ID})
	}
	c.JSON(http.StatusOK, gin.H{"invite": inv})
}

// ---- accepting an invitation (server-rendered pages) ----

var invitePage = page("Join your organisation", `<h1>Join {{.Company}}</h1>
<p>{{.By}} invited <strong>{{.Email}}</strong> {{.Purpose}}.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Microsoft}}<p><a class="button" href="/auth/microsoft?invite={{.Token}}">Sign in with Microsoft</a></p>
<p>Use your {{.Company}} work account. Or choose a password instead:</p>{{end}}
<form method="post" action="/invite">
<input type="hidden" name="token" value="{{.Token}}">
<label for="name">Your name</label><input id="name" name="name" value="{{.Name}}" required maxlength="200">
<label for="password">Password (at least 10 characters)</label><input id="password" name="password" type="password" required minlength="10">
<button type="submit">Create my account</button>
</form>`)

// inviteByToken finds a usable invitation.
func (s *Server) inviteByToken(ctx context.Context, token string) (*store.AdminInvite, *store.Customer, error) {
	if token == "" {
		return nil, nil, store.ErrNotFound
	}
	var inv store.AdminInvite
	if err := s.Store.W.WithContext(ctx).Where("token_hash = ?", hashState(token)).First(&inv).Error; err != nil {
		return nil, nil, store.ErrNotFound
	}
	if inv.UsedAt != nil || inv.RevokedAt != nil || !inv.ExpiresAt.After(s.Now()) {
		return &inv, nil, store.ErrTicketUsed
	}
	var cu store.Customer
	if err := s.Store.W.WithContext(ctx).First(&cu, inv.CustomerID).Error; err != nil {
		return nil, nil, store.ErrNotFound
	}
	return &inv, &cu, nil
}

func (s *Server) inviteProblem(c *gin.Context, err error) {
	if errors.Is(err, store.ErrTicketUsed) {
		s.problem(c, http.StatusGone, "This invitation no longer works",
			"Invitation links work once and for 7 days, and an admin can withdraw them. If you already joined, sign in; otherwise ask an admin of your organisation for a new link.", "/login", "Sign in")
		return
	}
	s.problem(c, http.StatusNotFound, "Invitation not found", "Check that you opened the whole link, or ask an admin of your organisation for a new one.", "/login", "Sign in")
}

func (s *Server) inviteData(c *gin.Context, inv *store.AdminInvite, cu *store.Customer, token string) map[string]any {
	company := cmp.Or(cu.Name, "your organisation")
	return map[string]any{"Token": token, "Company": company, "Email": inv.Email, "Purpose": "to manage " + company + "'s subscriptions and seats",
		"By": cmp.Or(inv.CreatedBy, "An administrator"), "Microsoft": s.AzureSignIn != nil && cu.AzureTenantID != ""}
}

// invitation is a usable invitation link of either kind: to become a
// customer admin, or to join the seller's staff.
type invitation struct {
	data map[string]any                                                         // the page's
	use  func(ctx context.Context, fill func(*store.User)) (*store.User, error) // accept it, once
}

// findInvitation looks a token up among customer-admin and staff invitations.
func (s *Server) findInvitation(ctx context.Context, c *gin.Context, token string) (*invitation, error) {
	inv, cu, err := s.inviteByToken(ctx, token)
	if err == nil {
		return &invitation{data: s.inviteData(c, inv, cu, token),
			use: func(ctx context.Context, fill func(*store.User)) (*store.User, error) {
				return s.useInvite(ctx, inv, fill)
			}}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s.findStaffInvitation(ctx, token)
}

func (s *Server) invite(c *gin.Context) {
	token := c.Query("token")
	inv, err := s.findInvitation(c.Request.Context(), c, token)
	if err != nil {
		s.inviteProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, invitePage, inv.data)
}

// acceptInvite creates the invited account with a password and signs it in.
func (s *Server) acceptInvite(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	ctx := c.Request.Context()
	token := c.PostForm("token")
	inv, err := s.findInvitation(ctx, c, token)
	if err != nil {
		s.inviteProblem(c, err)
		return
	}
	name, password := strings.TrimSpace(c.PostForm("name")), c.PostForm("password")
	data := inv.data
	data["Name"] = name
	if name == "" || len(name) > 200 || auth.HasControl(name) {
		data["Error"] = "Enter your name (up to 200 characters)."
		s.renderPage(c, http.StatusBadRequest, invitePage, data)
		return
	}
	if err := auth.CheckPasswordRules(password, name, inv.data["Email"].(string)); err != nil {
		data["Error"] = err.Error()
		s.renderPage(c, http.StatusBadRequest, invitePage, data)
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := inv.use(ctx, func(u *store.User) { u.Name, u.PasswordHash = name, hash })
	if err != nil {
		s.acceptFailed(c, err)
		return
	}
	s.startSession(c, u, "/")
}

func (s *Server) acceptFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrTicketUsed):
		s.inviteProblem(c, err)
	case errors.Is(err, store.ErrConflict):
		s.problem(c, http.StatusConflict, "This e-mail address already has an account",
			"Sign in with it, or ask an admin of your organisation to invite another address.", "/login", "Sign in")
	default:
		s.fail(c, err)
	}
}

// useInvite accepts a customer-admin invitation: the customer admin is
// created, once.
func (s *Server) useInvite(ctx context.Context, inv *store.AdminInvite, fill func(*store.User)) (*store.User, error) {
	now := s.Now().UTC()
	u := &store.User{Email: inv.Email, Role: store.RoleCustomerAdmin, CustomerID: &inv.CustomerID, CreatedAt: now, UpdatedAt: now}
	fill(u)
	if err := s.acceptOnce(ctx, &store.AdminInvite{}, inv.ID, u, now); err != nil {
		return nil, err
	}
	_ = s.Store.Audit(ctx, &store.AuditEntry{At: now, ActorUserID: &u.ID, ActorEmail: u.Email, Action: "customer_admin.join",
		TargetType: "customer", TargetID: strconv.FormatUint(uint64(inv.CustomerID), 10)})
	return u, nil
}

// acceptOnce marks an invitation (a row of model's table: customer-admin
// or staff invitations) used and creates its user in one transaction, so a
// link works exactly once: ErrTicketUsed when it was used, revoked or
// expired meanwhile, ErrConflict when the e-mail has an account.
func (s *Server) acceptOnce(ctx context.Context, model any, id uint, u *store.User, now time.Time) error {
	return s.Store.Tx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(model).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", id, now).Update("used_at", now)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return store.ErrTicketUsed
		}
		var taken int64
		if err := tx.Model(&store.User{}).Where("email = ?", u.Email).Count(&taken).Error; err != nil {
			return err
		}
		if taken > 0 {
			return store.ErrConflict
		}
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return tx.Model(model).Where("id = ?", id).Update("used_by", u.ID).Error
	})
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

func (s *Server) authOptions(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"microsoft": s.AzureSignIn != nil, "sso": s.ssoInfo()})
}

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
		inv, _, err := s.inviteByToken(ctx, token)
		if err != nil {
			s.inviteProblem(c, err)
			return
		}
		si.Purpose, si.InviteID, si.NextPath = "invite", &inv.ID, "/"
	}
	if err := s.Store.W.WithContext(ctx).Create(&si).Error; err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, s.AzureSignIn.OAuth.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"), oauth2.SetAuthURLParam("prompt", "select_account")))
}

// loginFailed sends the browser back to the portal's sign-in page with a reason.
func loginFailed(c *gin.Context, msg string) {
	c.Redirect(http.StatusSeeOther, "/login?error="+url.QueryEscape(msg))
}

// finishMicrosoftSignIn completes a portal sign-in (purpose login or
// invite) once the callback has verified the id token.
func (s *Server) finishMicrosoftSignIn(c *gin.Context, si *store.AzureSignIn, who azuremp.Identity) {
	ctx := c.Request.Context()
	if si.Purpose == "invite" && si.InviteID != nil {
		var inv store.AdminInvite
		if err := s.Store.W.WithContext(ctx).First(&inv, *si.InviteID).Error; err != nil {
			s.inviteProblem(c, store.ErrNotFound)
			return
		}
		var cu store.Customer
		if err := s.Store.W.WithContext(ctx).First(&cu, inv.CustomerID).Error; err != nil {
			s.inviteProblem(c, store.ErrNotFound)
			return
		}
		if cu.AzureTenantID == "" || !strings.EqualFold(cu.AzureTenantID, who.TenantID) {
			s.problem(c, http.StatusForbidden, "Use your organisation's Microsoft account",
				"The account you signed in with does not belong to "+cmp.Or(cu.Name, "the organisation")+"'s Microsoft Entra tenant. Sign in with your work account, or choose a password on the invitation page.", "", "")
			return
		}
		if who.ObjectID != "" {
			var n int64
			if err := s.Store.W.WithContext(ctx).Model(&store.User{}).Where("entra_object_id = ?", who.ObjectID).Count(&n).Error; err != nil {
				s.fail(c, err)
				return
			}
			if n > 0 {
				s.problem(c, http.StatusConflict, "You already have an account", "Sign in with Microsoft on the sign-in page.", "/login", "Sign in")
				return
			}
		}
		u, err := s.useInvite(ctx, &inv, func(u *store.User) { u.Name, u.EntraObjectID = who.Name, who.ObjectID })
		if err != nil {
			s.acceptFailed(c, err)
			return
		}
		s.startSession(c, u, "/")
		return
	}
	// A returning customer admin: known by Entra object id within the
	// organisation whose Entra tenant signed them in; an admin not bound
	// to an object id yet, by e-mail within that organisation (then bound).
	// Once bound, only the object id and tenant match: another identity of
	// the tenant with the same email claim is not that admin.
	var u store.User
	q := s.Store.W.WithContext(ctx).Where("role = ? AND NOT disabled", store.RoleCustomerAdmin)
	found := false
	if who.ObjectID != "" && who.TenantID != "" {
		if err := q.Session(&gorm.Session{}).Where("entra_object_id = ? AND entra_object_id <> ''", who.ObjectID).
			Where("customer_id IN (?)", s.Store.W.Model(&store.Customer{}).Select("id").
				Where("LOWER(azure_tenant_id) = ? AND azure_tenant_id <> ''", strings.ToLower(who.TenantID))).
			Limit(1).Find(&u).Error; err != nil {
			s.fail(c, err)
			return
		}
		found = u.ID != 0
	}
	if !found && who.Email != "" && who.TenantID != "" {
		var cu store.Customer
		if err := s.Store.W.WithContext(ctx).Where("azure_tenant_id = ? AND azure_tenant_id <> ''", strings.ToLower(who.TenantID)).Limit(1).Find(&cu).Error; err != nil {
			s.fail(c, err)
			return
		}
		if cu.ID != 0 {
			if err := q.Session(&gorm.Session{}).Where("email = ? AND customer_id = ? AND entra_object_id = ''", store.NormalizeEmail(who.Email), cu.ID).Limit(1).Find(&u).Error; err != nil {
				s.fail(c, err)
				return
			}
			found = u.ID != 0
			if found && u.EntraObjectID == "" && who.ObjectID != "" {
				_ = s.Store.W.WithContext(ctx).Model(&store.User{}).Where("id = ?", u.ID).Update("entra_object_id", who.ObjectID).Error
			}
		}
	}
	if !found {
		s.Log.Info("microsoft sign-in: no customer admin", "request_id", requestID(c), "tenant", who.TenantID)
		loginFailed(c, "Your Microsoft account is not a customer admin here. Ask an admin of your organisation to invite you, or open your subscription from the Azure portal (“Configure account”).")
		return
	}
	s.startSession(c, &u, si.NextPath)
}
