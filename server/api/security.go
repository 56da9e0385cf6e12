package api

import (
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
)

// Instance-wide security settings (admins): whether seller staff with a
// password must use a second factor; every change is audited with before
// and after.

const settingRequireTwoFactor = "security.require_two_factor"

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

// securitySettingsView is the security settings, with the single sign-on
// provider when one is set up.
type securitySettingsView struct {
	RequireTwoFactor bool       `json:"require_two_factor"`
	SSO              *ssoOption `json:"sso"`
}

// securitySettingsInput changes the security settings.
type securitySettingsInput struct {
	RequireTwoFactor *bool `json:"require_two_factor"`
}

func (s *Server) getSecuritySettings(c *gin.Context) (securitySettingsView, error) {
	v, _, err := s.Store.GetSetting(c.Request.Context(), settingRequireTwoFactor)
	if err != nil {
		return securitySettingsView{}, err
	}
	return securitySettingsView{RequireTwoFactor: v == "true", SSO: s.ssoInfo()}, nil
}

func (s *Server) putSecuritySettings(c *gin.Context, in securitySettingsInput) (securitySettingsView, error) {
	if in.RequireTwoFactor == nil {
		return securitySettingsView{}, apperr.New(apperr.Invalid, "require_two_factor (true or false) is required")
	}
	ctx := c.Request.Context()
	before, _, err := s.Store.GetSetting(ctx, settingRequireTwoFactor)
	if err != nil {
		return securitySettingsView{}, err
	}
	if u := currentUser(c); *in.RequireTwoFactor && u.TOTPEnabledAt == nil && u.PasswordHash != "" {
		return securitySettingsView{}, apperr.New(apperr.Conflict, "set up two-factor authentication for your own account first")
	}
	after := strconv.FormatBool(*in.RequireTwoFactor)
	if before != after {
		if err := s.Store.SetSetting(ctx, settingRequireTwoFactor, after); err != nil {
			return securitySettingsView{}, err
		}
		s.secSettings.mu.Lock()
		s.secSettings.readAt = time.Time{}
		s.secSettings.mu.Unlock()
		s.audit(c, currentUser(c), "security.settings_changed", "settings", 0,
			map[string]any{"require_two_factor": before == "true"}, map[string]any{"require_two_factor": *in.RequireTwoFactor})
	}
	return s.getSecuritySettings(c)
}
