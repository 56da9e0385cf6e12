package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

func (s *Server) apiNotFound(c *gin.Context) {
	s.failCode(c, apperr.NotFound, "no API route %s %s", c.Request.Method, c.Request.URL.Path)
}

func (s *Server) healthz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Error("health check failed", "request_id", requestID(c), "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "database": "unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "database": "ok"})
}

// ---- sign-in ----

type userView struct {
	ID                 uint       `json:"id"`
	Email              string     `json:"email"`
	Name               string     `json:"name"`
	Role               string     `json:"role"`
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

func (s *Server) login(c *gin.Context) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	email := store.NormalizeEmail(in.Email)
	if email == "" || in.Password == "" {
		s.failCode(c, apperr.Invalid, "email and password are required")
		return
	}
	ctx, ip := c.Request.Context(), ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, email, ip); err != nil {
		s.fail(c, err)
		return
	} else if wait > 0 {
		s.tooMany(c, wait)
		return
	}
	u, err := s.Store.UserByEmail(c.Request.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(c, err)
		return
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.VerifyPassword(hash, in.Password) || u == nil || u.Disabled {
		s.Log.Info("sign-in refused", "request_id", requestID(c), "email", email, "ip", ip)
		if err := s.throttle.LoginFailed(ctx, email, ip); err != nil {
			s.fail(c, err)
			return
		}
		s.auditSignIn(c, "auth.login_failed", email, nil, map[string]any{"method": "password"})
		s.failCode(c, apperr.InvalidCredentials, "wrong e-mail or password")
		return
	}
	if u.TOTPEnabledAt != nil {
		// Second step (twofactor.go): the failures of this account and
		// client are forgotten only once it is passed too, so a known
		// password does not buy unthrottled guesses at the code.
		s.startTwoFactor(c, u)
		return
	}
	if err := s.throttle.LoginSucceeded(ctx, email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Sessions.Renew(c.Request.Context(), sess); err != nil {
		s.fail(c, err)
		return
	}
	sess.Values = map[any]any{auth.UserIDKey: u.ID}
	if err := sess.Save(c.Request, c.Writer); err != nil {
		s.fail(c, err)
		return
	}
	now := s.Now().UTC()
	u.LastLoginAt = &now
	if err := s.Store.TouchLogin(c.Request.Context(), u.ID, now); err != nil {
		s.fail(c, err)
		return
	}
	s.auditSignIn(c, "auth.login", u.Email, u, map[string]any{"method": "password"})
	s.me(c, u)
}

func (s *Server) tooMany(c *gin.Context, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	c.Header("Retry-After", strconv.Itoa(secs))
	s.failCode(c, apperr.RateLimited, "too many sign-in attempts; try again in %d seconds", secs)
}

func (s *Server) logout(c *gin.Context) {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		s.fail(c, err)
		return
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request, c.Writer); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// meAnswer is the signed-in user.
type meAnswer struct {
	User meView `json:"user"`
}

func (s *Server) getMe(c *gin.Context) (meAnswer, error) {
	v, err := s.viewMe(c, currentUser(c))
	return meAnswer{User: v}, err
}

func (s *Server) me(c *gin.Context, u *store.User) {
	v, err := s.viewMe(c, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"user": v})
}

func (s *Server) changePassword(c *gin.Context) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	u := currentUser(c)
	if !s.currentPasswordOK(c, u, in.Current, "") {
		return
	}
	if in.New == in.Current {
		s.failCode(c, apperr.Invalid, "the new password must differ from the current one")
		return
	}
	hash, err := auth.HashPassword(in.New)
	if err != nil {
		s.failCode(c, apperr.Invalid, "%s", err.Error())
		return
	}
	if err := s.Store.SetPassword(c.Request.Context(), u.ID, hash, false); err != nil {
		s.fail(c, err)
		return
	}
	sess, _ := s.Sessions.Get(c.Request, SessionCookie)
	keep := ""
	if sess != nil {
		keep = sess.ID
	}
	if err := s.Store.DeleteUserSessions(c.Request.Context(), u.ID, keep); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "user.password_changed", "user", u.ID, nil, nil)
	c.Status(http.StatusNoContent)
}

// audit records an action; a failure to record is logged, not shown.
func (s *Server) audit(c *gin.Context, actor *store.User, action, targetType string, targetID uint, before, after any) {
	e := &store.AuditEntry{Action: action, TargetType: targetType, TargetID: strconv.FormatUint(uint64(targetID), 10),
		RequestID: requestID(c), IP: ClientIP(c)}
	if actor != nil {
		e.ActorUserID, e.ActorEmail = &actor.ID, actor.Email
	}
	if before != nil {
		b, _ := json.Marshal(before)
		e.Before = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.After = string(b)
	}
	if err := s.Store.Audit(c.Request.Context(), e); err != nil {
		s.Log.Error("audit write failed", "request_id", requestID(c), "action", action, "err", err)
	}
}

// ---- reads ----

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.Store.ListUsers(c.Request.Context(), 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := map[uint]string{}
	var ids []uint
	for _, u := range us {
		if u.CustomerID != nil {
			ids = append(ids, *u.CustomerID)
		}
	}
	if len(ids) > 0 {
		var cs []store.Customer
		if err := s.Store.R.WithContext(c.Request.Context()).Select("id", "name").Where("id IN ?", ids).Find(&cs).Error; err != nil {
			s.fail(c, err)
			return
		}
		for _, cu := range cs {
			names[cu.ID] = cu.Name
		}
	}
	type row struct {
		userView
		CustomerName string `json:"customer_name,omitempty"`
	}
	items := make([]row, 0, len(us))
	for i := range us {
		r := row{userView: viewUser(&us[i])}
		if us[i].CustomerID != nil {
			r.CustomerName = names[*us[i].CustomerID]
		}
		items = append(items, r)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
