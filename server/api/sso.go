package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// Single sign-on for seller staff (OpenID Connect, auth.SSO). The flow's
// state, nonce and PKCE verifier travel in a short-lived encrypted,
// signed cookie scoped to /auth/sso, so starting a sign-in writes nothing
// to the database. Accounts are matched by the provider's subject once
// bound; a first sign-in creates the account just in time with the role
// the provider's groups map to, and a sign-in whose groups map to no role
// is refused. Each sign-in brings the role up to date with the groups.

const (
	ssoCookie   = "marketgate_sso"
	ssoLifetime = 10 * time.Minute
)

type ssoState struct {
	State, Nonce, Verifier, Next string
}

func (s *Server) ssoCodec() securecookie.Codec {
	s.ssoOnce.Do(func() {
		hashKey, blockKey := s.SSOStateKey, []byte(nil)
		if len(hashKey) < 64 {
			hashKey = securecookie.GenerateRandomKey(64) // one replica only: set SSOStateKey
		}
		hashKey, blockKey = hashKey[:32], hashKey[32:64]
		codec := securecookie.New(hashKey, blockKey)
		codec.MaxAge(int(ssoLifetime.Seconds()))
		s.ssoCodecV = codec
	})
	return s.ssoCodecV
}

func (s *Server) ssoCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: ssoCookie, Value: value, Path: "/auth/sso", MaxAge: maxAge,
		HttpOnly: true, Secure: strings.HasPrefix(s.Info.BaseURL, "https://"), SameSite: http.SameSiteLaxMode})
}

// ssoStart sends the browser to the identity provider.
func (s *Server) ssoStart(c *gin.Context) {
	if s.SSO == nil {
		loginFailed(c, "login_sso_not_set_up")
		return
	}
	if !s.allowAnonymous(c, "sso-start", ssoLimit) {
		return
	}
	st := ssoState{State: auth.RandomToken(24), Nonce: auth.RandomToken(24), Verifier: oauth2.GenerateVerifier(), Next: SafeNext(c.Query("next"))}
	enc, err := securecookie.EncodeMulti(ssoCookie, st, s.ssoCodec())
	if err != nil {
		s.fail(c, err)
		return
	}
	to, err := s.SSO.AuthURL(c.Request.Context(), st.State, st.Nonce, st.Verifier)
	if err != nil {
		s.Log.Error("single sign-on unavailable", "request_id", requestID(c), "err", err)
		loginFailed(c, "login_sso_unreachable")
		return
	}
	s.ssoCookie(c, enc, int(ssoLifetime.Seconds()))
	c.Redirect(http.StatusFound, to)
}

// ssoCallback finishes the sign-in.
func (s *Server) ssoCallback(c *gin.Context) {
	if s.SSO == nil {
		loginFailed(c, "login_sso_not_set_up")
		return
	}
	// A state cookie can be replayed until it expires, and refusals are
	// audited: the callback has its own per-client allowance (finding 4).
	if !s.allowAnonymous(c, "sso-callback", ssoLimit) {
		return
	}
	ctx := c.Request.Context()
	var st ssoState
	ck, err := c.Request.Cookie(ssoCookie)
	if err == nil {
		err = securecookie.DecodeMulti(ssoCookie, ck.Value, &st, s.ssoCodec())
	}
	s.ssoCookie(c, "", -1) // one use
	if err != nil || st.State == "" || subtle.ConstantTimeCompare([]byte(st.State), []byte(c.Query("state"))) != 1 {
		loginFailed(c, "login_sso_expired")
		return
	}
	if e := c.Query("error"); e != "" {
		s.auditSignIn(c, "auth.login_failed", "", nil, map[string]any{"method": "sso", "reason": "provider: " + truncate(e, 64)})
		loginFailed(c, "login_sso_refused", "Error", truncate(e, 64))
		return
	}
	who, err := s.SSO.Exchange(ctx, c.Query("code"), st.Verifier, st.Nonce)
	if err != nil {
		s.Log.Warn("single sign-on failed", "request_id", requestID(c), "err", err)
		s.auditSignIn(c, "auth.login_failed", "", nil, map[string]any{"method": "sso", "reason": "token not accepted"})
		loginFailed(c, "login_sso_unconfirmed")
		return
	}
	email := store.NormalizeEmail(who.Email)
	role := s.SSO.MapRole(who.Groups)
	if role == "" {
		s.auditSignIn(c, "auth.login_failed", email, nil, map[string]any{"method": "sso", "reason": "no group maps to a role"})
		loginFailed(c, "login_sso_no_group", "Provider", s.SSO.Name)
		return
	}
	u, why, err := s.ssoAccount(c, who, email, role)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u == nil {
		s.auditSignIn(c, "auth.login_failed", email, nil, map[string]any{"method": "sso", "reason": why})
		loginFailedText(c, why) // seller staff's single sign-on: not a buyer page
		return
	}
	if err := s.signIn(c, u, "sso"); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, SafeNext(st.Next))
}

// ssoAccount finds, binds or creates the account for a provider identity,
// and keeps its role in step with the groups. A nil user comes with the
// reason (for the person) the sign-in is refused.
func (s *Server) ssoAccount(c *gin.Context, who *auth.Identity, email, role string) (*store.User, string, error) {
	ctx := c.Request.Context()
	now := s.Now().UTC()
	for attempt := 0; attempt < 2; attempt++ {
		u, err := s.Store.UserByOIDCSubject(ctx, who.Subject)
		if err == nil {
			return s.syncSSORole(c, u, role, now)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, "", err
		}
		if email == "" || !strings.Contains(email, "@") {
			return nil, "Your company's sign-in did not tell us your e-mail address. Ask your administrator to release the email claim.", nil
		}
		bound, reason, err := s.bindSSOByEmail(c, who, email, role, now)
		if err != nil || reason != "" {
			return nil, reason, err
		}
		if bound {
			continue // read it back by subject
		}
		nu, err := s.createSSOUser(c, who, email, role, now)
		if errors.Is(err, store.ErrConflict) {
			continue // another sign-in of the same person won the race
		}
		if err != nil {
			return nil, "", err
		}
		return nu, "", nil
	}
	return nil, "", errors.New("single sign-on: the account changed while signing in")
}

// syncSSORole refuses a disabled account and keeps its role in step with
// the provider's groups.
func (s *Server) syncSSORole(c *gin.Context, u *store.User, role string, now time.Time) (*store.User, string, error) {
	if u.Disabled {
		return nil, "This account is disabled. Ask an admin.", nil
	}
	if u.Role != role {
		if err := s.Store.SetUserRole(c.Request.Context(), u.ID, role, now); err != nil {
			return nil, "", err
		}
		s.audit(c, u, "user.role_synced", "user", u.ID, map[string]any{"role": u.Role}, map[string]any{"role": role, "source": "sso groups"})
		u.Role = role
	}
	return u, "", nil
}

// bindSSOByEmail binds the provider identity to the existing account with
// this e-mail address; bound is false when there is none. A refusal comes
// with its reason (for the person).
func (s *Server) bindSSOByEmail(c *gin.Context, who *auth.Identity, email, role string, now time.Time) (bound bool, reason string, err error) {
	ctx := c.Request.Context()
	existing, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	// Bind an existing staff account only on a verified address,
	// never a customer admin's, never one bound elsewhere.
	if existing.Role == store.RoleCustomerAdmin || existing.OIDCSubject != "" || !who.EmailVerified || existing.Disabled {
		return false, "An account with this e-mail address already exists and cannot be linked to your company's sign-in. Ask an admin.", nil
	}
	linked, err := s.Store.LinkOIDCSubject(ctx, existing.ID, who.Subject, role, now)
	if err != nil {
		return false, "", err
	}
	if linked {
		s.audit(c, existing, "user.sso_linked", "user", existing.ID, map[string]any{"role": existing.Role}, map[string]any{"role": role})
	}
	return true, "", nil
}

// createSSOUser creates the staff account of a provider identity
// (store.ErrConflict when another sign-in created it first).
func (s *Server) createSSOUser(c *gin.Context, who *auth.Identity, email, role string, now time.Time) (*store.User, error) {
	name := strings.TrimSpace(who.Name)
	if name == "" {
		name = email
	}
	nu := &store.User{Email: email, Name: truncate(name, 200), Role: role, OIDCSubject: who.Subject, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(c.Request.Context(), nu); err != nil {
		return nil, err
	}
	s.audit(c, nu, "user.created_sso", "user", nu.ID, nil, map[string]any{"email": email, "role": role})
	return nu, nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
