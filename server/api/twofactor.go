package api

import (
	"net/http"
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
// with a password (security.go; single sign-on accounts rely on their
// provider's).

const (
	pendingTwoFactorKey = "2fa_uid"
	pendingTwoFactorAt  = "2fa_at"
	pendingTwoFactorFor = 5 * time.Minute

	totpIssuer = "Marketgate"
)

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
func (s *Server) startTwoFactor(c *gin.Context, u *store.User) error {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return err
	}
	if err := s.Sessions.Renew(c.Request.Context(), sess); err != nil {
		return err
	}
	sess.Values = map[any]any{pendingTwoFactorKey: u.ID, pendingTwoFactorAt: s.Now().Unix()}
	return sess.Save(c.Request, c.Writer)
}

// secondFactorInput is a code from the authenticator app or a recovery code.
type secondFactorInput struct {
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

// loginSecondFactor completes a sign-in with a TOTP code or a recovery code.
func (s *Server) loginSecondFactor(c *gin.Context, in secondFactorInput) (meAnswer, error) {
	if (in.Code == "") == (in.RecoveryCode == "") {
		return meAnswer{}, apperr.New(apperr.Invalid, "send either code (from the authenticator app) or recovery_code")
	}
	u, err := s.pendingTwoFactorUser(c)
	if err != nil {
		return meAnswer{}, err
	}
	// A wrong code counts like a wrong password for this account and
	// client (the same growing delays, shared by all replicas); passing
	// the second step forgets them.
	ip := ClientIP(c)
	if err := s.loginThrottle(c, u.Email, ip); err != nil {
		return meAnswer{}, err
	}
	method, ok, err := s.useSecondFactor(c, u, in)
	if err != nil {
		return meAnswer{}, err
	}
	if !ok {
		if err := s.throttle.LoginFailed(c.Request.Context(), u.Email, ip); err != nil {
			return meAnswer{}, err
		}
		s.auditSignIn(c, "auth.2fa_failed", u.Email, u, map[string]any{"method": method})
		return meAnswer{}, apperr.New(apperr.InvalidCredentials, "Wrong or already used code.")
	}
	s.forgetLoginFailures(c, u.Email, ip)
	if err := s.signIn(c, u, "password+"+method); err != nil {
		return meAnswer{}, err
	}
	v, err := s.viewMe(c, u)
	return meAnswer{User: v}, err
}

// pendingTwoFactorUser is the account that passed the password step in
// this session, within pendingTwoFactorFor, and still has two-factor on.
func (s *Server) pendingTwoFactorUser(c *gin.Context) (*store.User, error) {
	sess, err := s.Sessions.Get(c.Request, SessionCookie)
	if err != nil {
		return nil, err
	}
	uid, _ := sess.Values[pendingTwoFactorKey].(uint)
	at, _ := sess.Values[pendingTwoFactorAt].(int64)
	if uid == 0 || s.Now().Sub(time.Unix(at, 0)) > pendingTwoFactorFor {
		return nil, apperr.New(apperr.Unauthenticated, "sign in with your password first (the second step waits %d minutes)", int(pendingTwoFactorFor.Minutes()))
	}
	u, err := s.Store.UserByID(c.Request.Context(), uid)
	if err != nil || u.Disabled || u.TOTPEnabledAt == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in with your password first")
	}
	return u, nil
}

// useSecondFactor checks and uses up the TOTP code (its time step) or the
// recovery code; it answers the method and whether the code was good.
func (s *Server) useSecondFactor(c *gin.Context, u *store.User, in secondFactorInput) (method string, ok bool, err error) {
	ctx := c.Request.Context()
	if in.Code == "" {
		ok, err = s.Store.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(in.RecoveryCode))
		return "recovery_code", ok, err
	}
	if step, valid := auth.CheckTOTP(u.TOTPSecret, in.Code, s.Now()); valid {
		ok, err = s.Store.UseTOTPStep(ctx, u.ID, step)
	}
	return "totp", ok, err
}

// checkCurrentPassword guards the two-factor settings of one's own account.
func (s *Server) checkCurrentPassword(c *gin.Context, u *store.User, pw string) error {
	if u.PasswordHash == "" {
		return apperr.New(apperr.Conflict, "two-factor authentication is for password accounts; your company's sign-in provides its own")
	}
	return s.currentPasswordOK(c, u, pw, "auth.password_check_failed")
}

// currentPasswordInput confirms a change to one's own account.
type currentPasswordInput struct {
	CurrentPassword string `json:"current_password"`
}

// twoFactorSetupView is a new secret to add to an authenticator app.
type twoFactorSetupView struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRCodeURL  string `json:"qr_code_url"`
}

// recoveryCodesView is a new set of recovery codes, shown this once.
type recoveryCodesView struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// twoFactorSetup makes a new secret for the signed-in user and shows it
// (URI and secret for manual entry; the QR code at twoFactorQR). It takes
// effect only once a code from it is confirmed.
func (s *Server) twoFactorSetup(c *gin.Context, in currentPasswordInput) (twoFactorSetupView, error) {
	u := currentUser(c)
	if err := s.checkCurrentPassword(c, u, in.CurrentPassword); err != nil {
		return twoFactorSetupView{}, err
	}
	key, err := auth.NewTOTPKey(totpIssuer, u.Email)
	if err != nil {
		return twoFactorSetupView{}, err
	}
	if err := s.Store.SetPendingTOTP(c.Request.Context(), u.ID, key.Secret()); err != nil {
		return twoFactorSetupView{}, err
	}
	return twoFactorSetupView{Secret: key.Secret(), OTPAuthURI: auth.TOTPKeyURI(totpIssuer, u.Email, key.Secret()),
		QRCodeURL: "/api/auth/2fa/qr.png"}, nil
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

// twoFactorCode is a code from the authenticator app.
type twoFactorCode struct {
	Code string `json:"code"`
}

// twoFactorEnable confirms the secret with a code and turns two-factor
// authentication on; the recovery codes are shown this once.
func (s *Server) twoFactorEnable(c *gin.Context, in twoFactorCode) (recoveryCodesView, error) {
	u := currentUser(c)
	if u.TOTPPendingSecret == "" {
		return recoveryCodesView{}, apperr.New(apperr.Conflict, "start the set-up first")
	}
	ctx, ip := c.Request.Context(), ClientIP(c)
	if wait, err := s.throttle.LoginWait(ctx, u.Email, ip); err != nil {
		return recoveryCodesView{}, err
	} else if wait > 0 {
		return recoveryCodesView{}, s.tooMany(c, wait)
	}
	step, ok := auth.CheckTOTP(u.TOTPPendingSecret, in.Code, s.Now())
	if !ok {
		if err := s.throttle.LoginFailed(ctx, u.Email, ip); err != nil {
			return recoveryCodesView{}, err
		}
		return recoveryCodesView{}, apperr.New(apperr.Invalid, "the code does not match: check the time on your phone and type the current code")
	}
	codes, hashes := auth.NewRecoveryCodes()
	if err := s.Store.EnableTOTP(ctx, u.ID, u.TOTPPendingSecret, step, hashes); err != nil {
		return recoveryCodesView{}, err
	}
	if err := s.throttle.LoginSucceeded(ctx, u.Email, ip); err != nil {
		s.Log.Warn("sign-in throttle reset", "request_id", requestID(c), "err", err)
	}
	s.audit(c, u, "user.2fa_enabled", "user", u.ID, map[string]any{"two_factor": false}, map[string]any{"two_factor": true})
	return recoveryCodesView{RecoveryCodes: codes}, nil
}

// twoFactorDisable turns it off (not while an admin requires it of staff).
func (s *Server) twoFactorDisable(c *gin.Context, in currentPasswordInput) (NoContent, error) {
	u := currentUser(c)
	if u.TOTPEnabledAt == nil {
		return NoContent{}, apperr.New(apperr.Conflict, "two-factor authentication is not on")
	}
	if u.Role != store.RoleCustomerAdmin {
		req, err := s.requireTwoFactor(c)
		if err != nil {
			return NoContent{}, err
		}
		if req {
			return NoContent{}, apperr.New(apperr.Conflict, "an admin requires two-factor authentication for seller staff; set up a new device instead")
		}
	}
	if err := s.checkCurrentPassword(c, u, in.CurrentPassword); err != nil {
		return NoContent{}, err
	}
	if err := s.Store.DisableTOTP(c.Request.Context(), u.ID); err != nil {
		return NoContent{}, err
	}
	s.audit(c, u, "user.2fa_disabled", "user", u.ID, map[string]any{"two_factor": true}, map[string]any{"two_factor": false})
	return NoContent{}, nil
}

// twoFactorRecoveryCodes replaces the recovery codes (shown this once).
func (s *Server) twoFactorRecoveryCodes(c *gin.Context, in currentPasswordInput) (recoveryCodesView, error) {
	u := currentUser(c)
	if u.TOTPEnabledAt == nil {
		return recoveryCodesView{}, apperr.New(apperr.Conflict, "two-factor authentication is not on")
	}
	if err := s.checkCurrentPassword(c, u, in.CurrentPassword); err != nil {
		return recoveryCodesView{}, err
	}
	codes, hashes := auth.NewRecoveryCodes()
	if err := s.Store.ReplaceRecoveryCodes(c.Request.Context(), u.ID, hashes); err != nil {
		return recoveryCodesView{}, err
	}
	s.audit(c, u, "user.recovery_codes_replaced", "user", u.ID, nil, nil)
	return recoveryCodesView{RecoveryCodes: codes}, nil
}
