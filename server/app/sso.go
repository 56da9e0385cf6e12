package app

import (
	"crypto/hmac"
	"crypto/sha512"
	"errors"
	"fmt"
	"net/url"

	"github.com/marketgate/marketgate/server/auth"
)

// setupSSO reads the single sign-on settings (nil when --oidc-issuer is
// empty) and derives the key of its state cookie from the session key, so
// every replica shares it.
func setupSSO(v values, baseURL string, sessionKey []byte) (*auth.SSO, []byte, error) {
	issuer := v.str("oidc-issuer")
	if issuer == "" {
		return nil, nil, nil
	}
	if u, err := url.Parse(issuer); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, nil, usageError{fmt.Errorf("--oidc-issuer must be the provider's issuer URL, not %q", issuer)}
	}
	if v.str("oidc-client-id") == "" || v.str("oidc-client-secret") == "" {
		return nil, nil, usageError{errors.New("--oidc-issuer needs --oidc-client-id and --oidc-client-secret")}
	}
	roles, err := auth.ParseRoleMap(v.str("oidc-role-map"))
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--oidc-role-map: %w", err)}
	}
	sso := &auth.SSO{Issuer: issuer, ClientID: v.str("oidc-client-id"), ClientSecret: v.str("oidc-client-secret"),
		RedirectURL: baseURL + "/auth/sso/callback", Scopes: splitList(v.str("oidc-scopes")),
		RoleClaim: v.str("oidc-role-claim"), RoleMap: roles, Name: v.str("oidc-name")}
	m := hmac.New(sha512.New, sessionKey)
	m.Write([]byte("marketgate sso state cookie"))
	return sso, m.Sum(nil), nil
}
