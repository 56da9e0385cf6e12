package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// Two-factor authentication (TOTP with recovery codes) for password
// accounts. Sign-in becomes two steps: the password answers
// {"two_factor_required": true} and the session only remembers who passed
// it (for pendingTwoFactorFor); POST /api/auth/login/2fa with a code or a
// recovery code completes it. An admin can require it of all seller staff
// with a password (single sign-on accounts rely on their provider's).

const (
	pendingTwoFactorKey = "2fa_uid"
	pendingTwoFactorAt  = "2fa_at"
	pendingTwoFactorFor = 5 * time.Minute

	settingRequireTwoFactor = "security.require_two_factor"
	totpIssuer              = "Marketgate"
)

// securitySettings caches the instance's security settings briefly (they
// are read on every request of staff without two-factor authentication);
// a change on this replica is seen at once, on others within settingsTTL.
type securitySettings struct {
	mu         sync.Mutex
	requireTFA bool
	readAt     time.Time
}

const settingsTTL = 5 * time.Second

func (s *Server) requireTwoFactor(c *gin.Context) (bool, error) {
	s.secSettings.mu.Lock()
	defer s.secSettings.mu.Unlock()
	now := time.Now()
	if !s.secSettings.readAt.IsZero() && now.Sub(s.secSettings.readAt) < settingsTTL {
		return s.secSettings.requireTFA, nil
	}
	v, _, err := s.Store.GetSetting(c.Request.Context(), settingRequireTwoFactor)
	if err != nil {
		return false, err
	}
	s.secSettings.requireTFA, s.secSettings.readAt = v == "true", now
	return s.secSettings.requireTFA, nil
}

// mustEnableTwoFactor: seller staff with a password and no second factor,
// while an admin requires one.
func (s *Server) mustEnableTwoFactor(c *gin.Context, u *store.User) (bool, error) {
	if u.TOTPEnabledAt != nil || u.PasswordHash == "" || u.Role == store.RoleCustomerAdmin {
		return false, nil
	}
	return s.requireTwoFactor(c)
}

// startTwoFactor is the end of the password step for an account with a
// second factor: the session holds only "passed the password".
func (s *Server) startTwoFactor(c *gin.Context, u *store.User) {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Sessions.Renew(c.Request.Context(), sess); err != nil {
		s.fail(c, err)
		return
	}
	sess.Values = map[any]any{pendingTwoFactorKey: u.ID, pendingTwoFactorAt: s.Now().Unix()}
	if err := sess.Save(c.Request, c.Writer); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"two_factor_required": true})
}

// loginSecondFactor completes a sign-in with a TOTP code or a recovery code.
func (s *Server) loginSecondFactor(c *gin.Context) {
	var in struct {
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if (in.Code == "") == (in.RecoveryCode == "") {
		s.failCode(c, apperr.Invalid, "send either code (from the authenticator app) or recovery_code")
		return
	}
	ctx := c.Request.Context()
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		s.fail(c, err)
		return
	}
	uid, _ := sess.Values[pendingTwoFactorKey].(uint)
	at, _ := sess.Values[pendingTwoFactorAt].(int64)
	if uid == 0 || s.Now().Sub(time.Unix(at, 0)) > pendingTwoFactorFor {
		s.failCode(c, apperr.Unauthenticated, "sign in with your password first (the second step waits %d minutes)", int(pendingTwoFactorFor.Minutes()))
		return
	}
	u, err := s.Store.UserByID(ctx, uid)
	if err != nil || u.Disabled || u.TOTPEnabledAt == nil {
		s.failCode(c, apperr.Unauthenticated, "sign in with your password first")
		return
	}
	// A wrong code counts like a wrong password for this account and
	// client (the same growing delays, shared by all replicas); passing
	// the second step forgets them.
	ip := ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, u.Email, ip); err != nil {
		s.fail(c, err)
		return
	} else if wait > 0 {
		s.tooMany(c, wait)
		return
	}
	method, ok := "totp", false
	if in.Code != "" {
		if step, valid := auth.CheckTOTP(u.TOTPSecret, in.Code, s.Now()); valid {
			if ok, err = s.Store.UseTOTPStep(ctx, u.ID, step); err != nil {
				s.fail(c, err)
				return
			}
		}
	} else {
		method = "recovery_code"
		if ok, err = s.Store.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(in.RecoveryCode)); err != nil {
			s.fail(c, err)
			return
		}
	}
	if !ok {
		if err := s.throttle.LoginFailed(ctx, u.Email, ip); err != nil {
			s.fail(c, err)
			return
		}
		s.auditSignIn(c, "auth.2fa_failed", u.Email, u, map[string]any{"method": method})
		s.failCode(c, apperr.InvalidCredentials, "wrong or already used code")
		return
	}
	if err := s.throttle.LoginSucceeded(ctx, u.Email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	s.completeSignIn(c, u, "password+"+method)
}

// completeSignIn starts the user's session (a fresh id) and records it.
func (s *Server) completeSignIn(c *gin.Context, u *store.User, method string) bool {
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
		s.fail(c, err)
		return false
	}
	u.LastLoginAt = &now
	s.auditSignIn(c, "auth.login", u.Email, u, map[string]any{"method": method})
	if c.Request.Method == http.MethodPost {
		v, err := s.viewMe(c, u)
		if err != nil {
			s.fail(c, err)
			return false
		}
		c.JSON(http.StatusOK, gin.H{"user": v})
	}
	return true
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

// checkCurrentPassword guards the two-factor settings of one's own account.
func (s *Server) checkCurrentPassword(c *gin.Context, u *store.User, pw string) bool {
	if u.PasswordHash == "" {
		s.failCode(c, apperr.Conflict, "two-factor authentication is for password accounts; your company's sign-in provides its own")
		return false
	}
	return s.currentPasswordOK(c, u, pw, "auth.password_check_failed")
}

// currentPasswordOK checks a signed-in user's current password before a
// change to their own account, throttled like a sign-in (per account and
// client, growing delays): a stolen session does not buy unthrottled
// guesses at the password. A wrong password is audited as failedAudit
// (when given). It answers the client itself when it returns false.
func (s *Server) currentPasswordOK(c *gin.Context, u *store.User, pw, failedAudit string) bool {
	ctx, ip := c.Request.Context(), ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, u.Email, ip); err != nil {
		s.fail(c, err)
		return false
	} else if wait > 0 {
		s.tooMany(c, wait)
		return false
	}
	if !auth.VerifyPassword(u.PasswordHash, pw) {
		if err := s.throttle.LoginFailed(ctx, u.Email, ip); err != nil {
			s.fail(c, err)
			return false
		}
		if failedAudit != "" {
			s.auditSignIn(c, failedAudit, u.Email, u, nil)
		}
		s.failCode(c, apperr.InvalidCredentials, "the current password is wrong")
		return false
	}
	if err := s.throttle.LoginSucceeded(ctx, u.Email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	return true
}

// twoFactorSetup makes a new secret for the signed-in user and shows it
// (URI and secret for manual entry; the QR code at twoFactorQR). It takes
// effect only once a code from it is confirmed.
func (s *Server) twoFactorSetup(c *gin.Context) {
	var in struct {
		CurrentPassword string `json:"current_password"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	u := currentUser(c)
	if !s.checkCurrentPassword(c, u, in.CurrentPassword) {
		return
	}
	key, err := auth.NewTOTPKey(totpIssuer, u.Email)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.SetPendingTOTP(c.Request.Context(), u.ID, key.Secret()); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": key.Secret(), "otpauth_uri": auth.TOTPKeyURI(totpIssuer, u.Email, key.Secret()),
		"qr_code_url": "/api/auth/2fa/qr.png"})
}

// twoFactorQR is the QR code of the secret being set up (a PNG, served
// from this site so the CSP needs no data: images).
func (s *Server) twoFactorQR(c *gin.Context) {
	u := currentUser(c)
	if u.TOTPPendingSecret == "" {
		s.failCode(c, apperr.NotFound, "no two-factor set-up in progress")
		return
	}
	png, err := auth.TOTPQRCode(auth.TOTPKeyURI(totpIssuer, u.Email, u.TOTPPendingSecret))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}

// twoFactorEnable confirms the secret with a code and turns two-factor
// authentication on; the recovery codes are shown this once.
func (s *Server) twoFactorEnable(c *gin.Context) {
	var in struct {
		Code string `json:"code"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	u := currentUser(c)
	if u.TOTPPendingSecret == "" {
		s.failCode(c, apperr.Conflict, "start the set-up first")
		return
	}
	ctx, ip := c.Request.Context(), ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, u.Email, ip); err != nil {
		s.fail(c, err)
		return
	} else if wait > 0 {
		s.tooMany(c, wait)
		return
	}
	step, ok := auth.CheckTOTP(u.TOTPPendingSecret, in.Code, s.Now())
	if !ok {
		if err := s.throttle.LoginFailed(ctx, u.Email, ip); err != nil {
			s.fail(c, err)
			return
		}
		s.failCode(c, apperr.Invalid, "the code does not match: check the time on your phone and type the current code")
		return
	}
	codes, hashes := auth.NewRecoveryCodes()
	if err := s.Store.EnableTOTP(ctx, u.ID, u.TOTPPendingSecret, step, hashes); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.throttle.LoginSucceeded(ctx, u.Email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	s.audit(c, u, "user.2fa_enabled", "user", u.ID, gin.H{"two_factor": false}, gin.H{"two_factor": true})
	c.JSON(http.StatusOK, gin.H{"recovery_codes": codes})
}

// twoFactorDisable turns it off (not while an admin requires it of staff).
func (s *Server) twoFactorDisable(c *gin.Context) {
	var in struct {
		CurrentPassword string `json:"current_password"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	u := currentUser(c)
	if u.TOTPEnabledAt == nil {
		s.failCode(c, apperr.Conflict, "two-factor authentication is not on")
		return
	}
	if u.Role != store.RoleCustomerAdmin {
		req, err := s.requireTwoFactor(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if req {
			s.failCode(c, apperr.Conflict, "an admin requires two-factor authentication for seller staff; set up a new device instead")
			return
		}
	}
	if !s.checkCurrentPassword(c, u, in.CurrentPassword) {
		return
	}
	if err := s.Store.DisableTOTP(c.Request.Context(), u.ID); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "user.2fa_disabled", "user", u.ID, gin.H{"two_factor": true}, gin.H{"two_factor": false})
	c.Status(http.StatusNoContent)
}

// twoFactorRecoveryCodes replaces the recovery codes (shown this once).
func (s *Server) twoFactorRecoveryCodes(c *gin.Context) {
	var in struct {
		CurrentPassword string `json:"current_password"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	u := currentUser(c)
	if u.TOTPEnabledAt == nil {
		s.failCode(c, apperr.Conflict, "two-factor authentication is not on")
		return
	}
	if !s.checkCurrentPassword(c, u, in.CurrentPassword) {
		return
	}
	codes, hashes := auth.NewRecoveryCodes()
	if err := s.Store.ReplaceRecoveryCodes(c.Request.Context(), u.ID, hashes); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "user.recovery_codes_replaced", "user", u.ID, nil, nil)
	c.JSON(http.StatusOK, gin.H{"recovery_codes": codes})
}

// getSecuritySettings and putSecuritySettings: instance-wide security
// settings (admins); every change is audited with before and after.
func (s *Server) getSecuritySettings(c *gin.Context) {
	v, _, err := s.Store.GetSetting(c.Request.Context(), settingRequireTwoFactor)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"require_two_factor": v == "true", "sso": s.ssoInfo()})
}

func (s *Server) putSecuritySettings(c *gin.Context) {
	var in struct {
		RequireTwoFactor *bool `json:"require_two_factor"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if in.RequireTwoFactor == nil {
		s.failCode(c, apperr.Invalid, "require_two_factor (true or false) is required")
		return
	}
	ctx := c.Request.Context()
	before, _, err := s.Store.GetSetting(ctx, settingRequireTwoFactor)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u := currentUser(c); *in.RequireTwoFactor && u.TOTPEnabledAt == nil && u.PasswordHash != "" {
		s.failCode(c, apperr.Conflict, "set up two-factor authentication for your own account first")
		return
	}
	after := strconv.FormatBool(*in.RequireTwoFactor)
	if before != after {
		if err := s.Store.SetSetting(ctx, settingRequireTwoFactor, after); err != nil {
			s.fail(c, err)
			return
		}
		s.secSettings.mu.Lock()
		s.secSettings.readAt = time.Time{}
		s.secSettings.mu.Unlock()
		s.audit(c, currentUser(c), "security.settings_changed", "settings", 0,
			gin.H{"require_two_factor": before == "true"}, gin.H{"require_two_factor": *in.RequireTwoFactor})
	}
	s.getSecuritySettings(c)
}

// resetTwoFactor turns another user's two-factor authentication off (an
// admin, for someone who lost the phone and the recovery codes); their
// sessions end, and if an admin requires it they set it up again at the
// next sign-in.
func (s *Server) resetTwoFactor(c *gin.Context) {
	u, ok := byPathID[store.User](s, c, "user")
	if !ok {
		return
	}
	if u.ID == currentUser(c).ID {
		s.failCode(c, apperr.Conflict, "turn your own two-factor authentication off in Settings")
		return
	}
	if u.TOTPEnabledAt == nil {
		s.failCode(c, apperr.Conflict, "two-factor authentication is not on for this user")
		return
	}
	ctx := c.Request.Context()
	if err := s.Store.DisableTOTP(ctx, u.ID); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		s.fail(c, err)
		return
	}
	after, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "user.2fa_reset", "user", u.ID, gin.H{"two_factor": true}, gin.H{"two_factor": false, "sessions": "ended"})
	c.JSON(http.StatusOK, gin.H{"user": viewUser(after)})
}
