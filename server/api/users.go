package api

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

// Users (admins): the seller's staff and the customer admins, adding staff
// with a one-time password, changing name, role or access, and resetting
// a password or the second factor.

var sellerRoles = []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer}

type userView struct {
	ID                 uint       `json:"id"`
	Email              string     `json:"email"`
	Name               string     `json:"name"`
	Role               string     `json:"role" enum:"admin,operator,viewer,customer_admin"`
	CustomerID         *uint      `json:"customer_id"`
	MustChangePassword bool       `json:"must_change_password"`
	Disabled           bool       `json:"disabled"`
	LastLoginAt        *time.Time `json:"last_login_at"`
	CreatedAt          time.Time  `json:"created_at"`
	TwoFactorEnabled   bool       `json:"two_factor_enabled"`
	SSO                bool       `json:"sso"` // bound to the company's identity provider
}

func viewUser(u *store.User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CustomerID: u.CustomerID,
		MustChangePassword: u.MustChangePassword, Disabled: u.Disabled, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt,
		TwoFactorEnabled: u.TOTPEnabledAt != nil, SSO: u.OIDCSubject != ""}
}

// userRowView is a user in the list, with their organisation's name.
type userRowView struct {
	userView
	CustomerName string `json:"customer_name,omitempty"`
}

func (s *Server) listUsers(c *gin.Context) (list[userRowView], error) {
	ctx := c.Request.Context()
	us, err := s.Store.ListUsers(ctx, 0)
	if err != nil {
		return list[userRowView]{}, err
	}
	var ids []uint
	for _, u := range us {
		if u.CustomerID != nil {
			ids = append(ids, *u.CustomerID)
		}
	}
	names, err := s.Store.CustomerNames(ctx, ids)
	if err != nil {
		return list[userRowView]{}, err
	}
	items := make([]userRowView, 0, len(us))
	for i := range us {
		r := userRowView{userView: viewUser(&us[i])}
		if us[i].CustomerID != nil {
			r.CustomerName = names[*us[i].CustomerID]
		}
		items = append(items, r)
	}
	return list[userRowView]{Items: items}, nil
}

// staffInput is a new seller staff member: e-mail (folded), name, role.
type staffInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role" enum:"admin,operator,viewer,customer_admin"`
}

// checked is the input with the e-mail folded and the name trimmed, or an
// invalid_input error.
func (in staffInput) checked() (staffInput, error) {
	who, err := seats.ParseUser(in.Email)
	if err != nil || who.Email == "" {
		return in, apperr.New(apperr.Invalid, "email is not an e-mail address")
	}
	if !oneOf(in.Role, sellerRoles) {
		return in, apperr.New(apperr.Invalid, "role must be one of %s (customer admins are invited by their organisation)", strings.Join(sellerRoles, ", "))
	}
	in.Email, in.Name = who.Email, strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(in.Name) > 200 {
		return in, apperr.New(apperr.Invalid, "name is longer than 200 characters")
	}
	if auth.HasControl(in.Name) {
		return in, apperr.New(apperr.Invalid, "name must not contain control characters")
	}
	return in, nil
}

// userAnswer is one user.
type userAnswer struct {
	User userView `json:"user"`
}

// userPasswordAnswer is a user and their one-time password (shown once).
type userPasswordAnswer struct {
	User     userView `json:"user"`
	Password string   `json:"password"`
}

// createUser adds a seller staff member with a one-time password (shown
// once; it must be changed at first sign-in).
func (s *Server) createUser(c *gin.Context, body staffInput) (userPasswordAnswer, error) {
	in, err := body.checked()
	if err != nil {
		return userPasswordAnswer{}, err
	}
	password := auth.RandomToken(12)
	hash, err := auth.HashPassword(password)
	if err != nil {
		return userPasswordAnswer{}, err
	}
	now := s.Now().UTC()
	u := &store.User{Email: in.Email, Name: in.Name, Role: in.Role, PasswordHash: hash, MustChangePassword: true,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(c.Request.Context(), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return userPasswordAnswer{}, apperr.New(apperr.Conflict, "%s already has an account", in.Email)
		}
		return userPasswordAnswer{}, err
	}
	s.audit(c, currentUser(c), "user.create", "user", u.ID, nil, viewUser(u))
	return userPasswordAnswer{User: viewUser(u), Password: password}, nil
}

// userChanges are the changes of a user (absent: unchanged).
type userChanges struct {
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// updateUser changes a user's name, role or whether they may sign in. An
// admin cannot demote or disable themselves, and the last admin stays.
func (s *Server) updateUser(c *gin.Context, in userChanges) (userAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return userAnswer{}, err
	}
	ctx := c.Request.Context()
	me := currentUser(c)
	var u *store.User
	var before userView
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.User(id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apperr.New(apperr.NotFound, "user %d does not exist", id)
			}
			return err
		}
		before = viewUser(u)
		set := map[string]any{"updated_at": s.Now().UTC()}
		if err := applyUserChanges(u, in, me.ID, set); err != nil {
			return err
		}
		if err := keepLastAdmin(tx, before, u); err != nil {
			return err
		}
		return tx.UpdateUser(u.ID, set)
	})
	if err != nil {
		return userAnswer{}, err
	}
	if u.Disabled {
		_ = s.Store.DeleteUserSessions(ctx, u.ID, "") // signed out everywhere at once
	}
	after := viewUser(u)
	s.audit(c, me, "user.update", "user", u.ID, before, after)
	return userAnswer{User: after}, nil
}

// applyUserChanges checks the changes and applies them to u and to set
// (the columns to update); meID is the signed-in user, who cannot change
// their own role or disable themselves.
func applyUserChanges(u *store.User, in userChanges, meID uint, set map[string]any) error {
	if in.Name != nil {
		if len(*in.Name) > 200 {
			return apperr.New(apperr.Invalid, "name is longer than 200 characters")
		}
		if auth.HasControl(*in.Name) {
			return apperr.New(apperr.Invalid, "name must not contain control characters")
		}
		set["name"], u.Name = strings.TrimSpace(*in.Name), strings.TrimSpace(*in.Name)
	}
	if in.Role != nil && *in.Role != u.Role {
		if u.Role == store.RoleCustomerAdmin || !oneOf(*in.Role, sellerRoles) {
			return apperr.New(apperr.Invalid, "role must be one of %s, for seller staff", strings.Join(sellerRoles, ", "))
		}
		if u.ID == meID {
			return apperr.New(apperr.Conflict, "you cannot change your own role")
		}
		set["role"], u.Role = *in.Role, *in.Role
	}
	if in.Disabled != nil && *in.Disabled != u.Disabled {
		if u.ID == meID {
			return apperr.New(apperr.Conflict, "you cannot disable your own account")
		}
		set["disabled"], u.Disabled = *in.Disabled, *in.Disabled
	}
	return nil
}

// keepLastAdmin refuses a change (before → u) that would leave no active admin.
func keepLastAdmin(tx *store.Tx, before userView, u *store.User) error {
	if before.Role != store.RoleAdmin || before.Disabled || (u.Role == store.RoleAdmin && !u.Disabled) {
		return nil
	}
	admins, err := tx.CountActiveAdminsExcept(u.ID)
	if err != nil {
		return err
	}
	if admins == 0 {
		return apperr.New(apperr.Conflict, "this is the last admin: make someone else admin first")
	}
	return nil
}

// resetPassword gives a user a new one-time password (shown once; it must
// be changed at first sign-in) and signs them out everywhere.
func (s *Server) resetPassword(c *gin.Context) (userPasswordAnswer, error) {
	u, err := rowByPathID[store.User](s, c, "user")
	if err != nil {
		return userPasswordAnswer{}, err
	}
	if u.ID == currentUser(c).ID {
		return userPasswordAnswer{}, apperr.New(apperr.Conflict, "change your own password with your current one (account menu)")
	}
	password := auth.RandomToken(12)
	hash, err := auth.HashPassword(password)
	if err != nil {
		return userPasswordAnswer{}, err
	}
	if u.Disabled {
		return userPasswordAnswer{}, apperr.New(apperr.Conflict, "the account is deactivated: reactivate it first")
	}
	ctx := c.Request.Context()
	if err := s.Store.SetPassword(ctx, u.ID, hash, true); err != nil {
		return userPasswordAnswer{}, err
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return userPasswordAnswer{}, err // the password changed, but old sessions may live: say so
	}
	after, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		return userPasswordAnswer{}, err
	}
	s.audit(c, currentUser(c), "user.reset_password", "user", u.ID,
		map[string]any{"must_change_password": u.MustChangePassword}, map[string]any{"must_change_password": true, "sessions": "ended"})
	return userPasswordAnswer{User: viewUser(after), Password: password}, nil
}

// resetTwoFactor turns another user's two-factor authentication off (an
// admin, for someone who lost the phone and the recovery codes); their
// sessions end, and if an admin requires it they set it up again at the
// next sign-in.
func (s *Server) resetTwoFactor(c *gin.Context) (userAnswer, error) {
	u, err := rowByPathID[store.User](s, c, "user")
	if err != nil {
		return userAnswer{}, err
	}
	if u.ID == currentUser(c).ID {
		return userAnswer{}, apperr.New(apperr.Conflict, "turn your own two-factor authentication off in Settings")
	}
	if u.TOTPEnabledAt == nil {
		return userAnswer{}, apperr.New(apperr.Conflict, "two-factor authentication is not on for this user")
	}
	ctx := c.Request.Context()
	if err := s.Store.DisableTOTP(ctx, u.ID); err != nil {
		return userAnswer{}, err
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return userAnswer{}, err
	}
	after, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		return userAnswer{}, err
	}
	s.audit(c, currentUser(c), "user.2fa_reset", "user", u.ID, map[string]any{"two_factor": true}, map[string]any{"two_factor": false, "sessions": "ended"})
	return userAnswer{User: viewUser(after)}, nil
}
