package app

import (
	"crypto/hmac"
	"crypto/sha512"

	"github.com/marketgate/marketgate/server/auth"
)

// setupSSO reads the single sign-on settings (nil when --oidc-issuer is
// empty) and derives the key of its state cookie from the session key, so
// every replica shares it.
// Config.Validate checked the settings.
func setupSSO(c *Config, sessionKey []byte) (*auth.SSO, []byte, error) {
	o := c.OIDC
	if o.Issuer == "" {
		return nil, nil, nil
	}
	sso := &auth.SSO{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		RedirectURL: c.BaseURL + "/auth/sso/callback", Scopes: o.Scopes,
		RoleClaim: o.RoleClaim, RoleMap: o.RoleMap, Name: o.Name}
	m := hmac.New(sha512.New, sessionKey)
	m.Write([]byte("marketgate sso state cookie"))
	return sso, m.Sum(nil), nil
}
