package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// Signing in and out of the portal with a password (the second step is in
// twofactor.go, single sign-on in sso.go, Microsoft in customeradmins.go),
// the signed-in user, changing one's password, and the sign-in options the
// login page offers.

// sessionUser returns the signed-in user, or nil.
func (s *Server) sessionUser(c *gin.Context) (*store.User, error) {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return nil, err
	}
	uid, ok := sess.Values[auth.UserIDKey].(uint)
	if !ok {
		return nil, nil
	}
	u, err := s.Store.UserByID(c.Request.Context(), uid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return u, nil
}

func currentUser(c *gin.Context) *store.User {
	u, _ := c.Get(ctxUser)
	return u.(*store.User)
}

// loginInput is an e-mail and password.
type loginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// loginAnswer is the signed-in user, or (an account with a second factor)
// two_factor_required: the code goes to POST /api/auth/login/2fa.
type loginAnswer struct {
	TwoFactorRequired bool    `json:"two_factor_required,omitempty"`
	User              *meView `json:"user,omitempty"`
}

func (s *Server) login(c *gin.Context, in loginInput) (loginAnswer, error) {
	email := store.NormalizeEmail(in.Email)
	if email == "" || in.Password == "" {
		return loginAnswer{}, apperr.New(apperr.Invalid, "email and password are required")
	}
	ip := ClientIP(c)
	if err := s.loginThrottle(c, email, ip); err != nil {
		return loginAnswer{}, err
	}
	u, err := s.passwordUser(c, email, ip, in.Password)
	if err != nil {
		return loginAnswer{}, err
	}
	if u.TOTPEnabledAt != nil {
		// Second step (twofactor.go): the failures of this account and
		// client are forgotten only once it is passed too, so a known
		// password does not buy unthrottled guesses at the code.
		if err := s.startTwoFactor(c, u); err != nil {
			return loginAnswer{}, err
		}
		return loginAnswer{TwoFactorRequired: true}, nil
	}
	s.forgetLoginFailures(c, email, ip)
	if err := s.signIn(c, u, "password"); err != nil {
		return loginAnswer{}, err
	}
	v, err := s.viewMe(c, u)
	if err != nil {
		return loginAnswer{}, err
	}
	return loginAnswer{User: &v}, nil
}

// loginThrottle refuses a sign-in step while this account and client must
// wait after failures (429 with Retry-After).
func (s *Server) loginThrottle(c *gin.Context, email, ip string) error {
	wait, err := s.throttle.LoginWait(c.Request.Context(), email, ip)
	if err != nil {
		return err
	}
	if wait > 0 {
		return s.tooMany(c, wait)
	}
	return nil
}

// passwordUser is the enabled account with this e-mail and password; a
// wrong one counts as a failure (throttle, log, audit) and is refused
// without saying which part was wrong.
func (s *Server) passwordUser(c *gin.Context, email, ip, password string) (*store.User, error) {
	ctx := c.Request.Context()
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.VerifyPassword(hash, password) || u == nil || u.Disabled {
		s.Log.Info("sign-in refused", "request_id", requestID(c), "email", email, "ip", ip)
		if err := s.throttle.LoginFailed(ctx, email, ip); err != nil {
			return nil, err
		}
		s.auditSignIn(c, "auth.login_failed", email, nil, map[string]any{"method": "password"})
		return nil, apperr.New(apperr.InvalidCredentials, "Wrong e-mail or password.")
	}
	return u, nil
}

// forgetLoginFailures resets the throttle of this account and client once
// a sign-in succeeded (a failure to reset is only logged).
func (s *Server) forgetLoginFailures(c *gin.Context, email, ip string) {
	if err := s.throttle.LoginSucceeded(c.Request.Context(), email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
}

// tooMany is the answer to a throttled sign-in (with Retry-After).
func (s *Server) tooMany(c *gin.Context, wait time.Duration) error {
	secs := int(wait.Seconds()) + 1
	c.Header("Retry-After", strconv.Itoa(secs))
	return apperr.New(apperr.RateLimited, "too many sign-in attempts; try again in %d seconds", secs)
}

func (s *Server) logout(c *gin.Context) (NoContent, error) {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return NoContent{}, err
	}
	sess.Options.MaxAge = -1
	return NoContent{}, sess.Save(c.Request, c.Writer)
}

// meView is the signed-in user with what the portal needs to guide them.
type meView struct {
	userView
	MustEnableTwoFactor bool `json:"must_enable_two_factor"`
	RecoveryCodesLeft   int  `json:"recovery_codes_left"`
}

func (s *Server) viewMe(c *gin.Context, u *store.User) (meView, error) {
	v := meView{userView: viewUser(u)}
	must, err := s.mustEnableTwoFactor(c, u)
	if err != nil {
		return v, err
	}
	v.MustEnableTwoFactor = must
	if u.TOTPEnabledAt != nil {
		n, err := s.Store.RecoveryCodesLeft(c.Request.Context(), u.ID)
		if err != nil {
			return v, err
		}
		v.RecoveryCodesLeft = int(n)
	}
	return v, nil
}

// meAnswer is the signed-in user.
type meAnswer struct {
	User meView `json:"user"`
}

func (s *Server) getMe(c *gin.Context) (meAnswer, error) {
	v, err := s.viewMe(c, currentUser(c))
	return meAnswer{User: v}, err
}

// passwordChange is the current password and the new one.
type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changePassword changes one's own password; the other sessions of the
// account end.
func (s *Server) changePassword(c *gin.Context, in passwordChange) (NoContent, error) {
	u := currentUser(c)
	if err := s.currentPasswordOK(c, u, in.Current, ""); err != nil {
		return NoContent{}, err
	}
	if in.New == in.Current {
		return NoContent{}, apperr.New(apperr.Invalid, "the new password must differ from the current one")
	}
	hash, err := auth.HashPassword(in.New)
	if err != nil {
		return NoContent{}, apperr.New(apperr.Invalid, "%s", err.Error())
	}
	ctx := c.Request.Context()
	if err := s.Store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return NoContent{}, err
	}
	sess, _ := s.Sessions.Get(c.Request, SessionCookie)
	keep := ""
	if sess != nil {
		keep = sess.ID
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, keep); err != nil {
		return NoContent{}, err
	}
	s.audit(c, u, "user.password_changed", "user", u.ID, nil, nil)
	return NoContent{}, nil
}

// currentPasswordOK checks a signed-in user's current password before a
// change to their own account, throttled like a sign-in (per account and
// client, growing delays): a stolen session does not buy unthrottled
// guesses at the password. A wrong password is audited as failedAudit
// (when given).
func (s *Server) currentPasswordOK(c *gin.Context, u *store.User, pw, failedAudit string) error {
	ctx, ip := c.Request.Context(), ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, u.Email, ip); err != nil {
		return err
	} else if wait > 0 {
		return s.tooMany(c, wait)
	}
	if !auth.VerifyPassword(u.PasswordHash, pw) {
		if err := s.throttle.LoginFailed(ctx, u.Email, ip); err != nil {
			return err
		}
		if failedAudit != "" {
			s.auditSignIn(c, failedAudit, u.Email, u, nil)
		}
		return apperr.New(apperr.InvalidCredentials, "The current password is wrong.")
	}
	if err := s.throttle.LoginSucceeded(ctx, u.Email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	return nil
}

// signIn starts the user's session (a fresh id) and records it.
func (s *Server) signIn(c *gin.Context, u *store.User, method string) error {
	ctx := c.Request.Context()
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err == nil {
		err = s.Sessions.Renew(ctx, sess)
	}
	if err == nil {
		sess.Values = map[any]any{auth.UserIDKey: u.ID}
		err = sess.Save(c.Request, c.Writer)
	}
	now := s.Now().UTC()
	if err == nil {
		err = s.Store.TouchLogin(ctx, u.ID, now)
	}
	if err != nil {
		return err
	}
	u.LastLoginAt = &now
	s.auditSignIn(c, "auth.login", u.Email, u, map[string]any{"method": method})
	return nil
}

// auditSignIn records a sign-in event with the client's address (the
// actor is the account when known, else only the e-mail typed).
func (s *Server) auditSignIn(c *gin.Context, action, email string, u *store.User, detail map[string]any) {
	e := &store.AuditEntry{Action: action, TargetType: "user", RequestID: requestID(c), IP: ClientIP(c), ActorEmail: email}
	if u != nil {
		e.ActorUserID, e.TargetID = &u.ID, strconv.FormatUint(uint64(u.ID), 10)
	}
	if detail != nil {
		e.After = jsonString(detail)
	}
	if err := s.Store.Audit(c.Request.Context(), e); err != nil {
		s.Log.Error("audit write failed", "request_id", requestID(c), "action", action, "err", err)
	}
}

// ssoOption is the single sign-on button of the login page.
type ssoOption struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ssoInfo tells the login page whether to offer the button.
func (s *Server) ssoInfo() *ssoOption {
	if s.SSO == nil {
		return nil
	}
	return &ssoOption{Name: s.SSO.Name, URL: "/auth/sso"}
}

// authOptions are the ways to sign in besides a password.
type authOptions struct {
	Microsoft bool       `json:"microsoft"`
	SSO       *ssoOption `json:"sso"`
}

func (s *Server) getAuthOptions(c *gin.Context) (authOptions, error) {
	return authOptions{Microsoft: s.AzureSignIn != nil, SSO: s.ssoInfo()}, nil
}
