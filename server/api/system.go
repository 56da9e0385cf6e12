package api

import (
	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/alerts"
)

// The instance: its version and, for seller staff, how it is connected to
// the marketplaces (the settings page).

// marketplaceConnectionView is how calls to a marketplace went lately.
type marketplaceConnectionView struct {
	alerts.Connection
}

// systemAWS is the AWS side of the instance.
type systemAWS struct {
	Configured      bool                       `json:"configured"`
	RegistrationURL string                     `json:"registration_url"`
	Connection      *marketplaceConnectionView `json:"connection,omitempty"`
}

// systemMicrosoft is the Microsoft side of the instance; the URLs and ids
// when it is configured.
type systemMicrosoft struct {
	Configured  bool                       `json:"configured"`
	APIURL      *string                    `json:"api_url,omitempty"`
	TenantID    *string                    `json:"tenant_id,omitempty"`
	ClientID    *string                    `json:"client_id,omitempty"`
	WebhookURL  *string                    `json:"webhook_url,omitempty"`
	LandingURL  *string                    `json:"landing_url,omitempty"`
	WebhookAuth *string                    `json:"webhook_auth,omitempty"`
	Connection  *marketplaceConnectionView `json:"connection,omitempty"`
}

// systemView is the instance; customer admins get its version and sandbox
// flag only, nothing of the seller's configuration.
type systemView struct {
	Version   string           `json:"version"`
	Sandbox   bool             `json:"sandbox"`
	Database  *string          `json:"database,omitempty"`
	BaseURL   *string          `json:"base_url,omitempty"`
	AWS       *systemAWS       `json:"aws,omitempty"`
	Microsoft *systemMicrosoft `json:"microsoft,omitempty"`
}

func (s *Server) system(c *gin.Context) (systemView, error) {
	out := systemView{Version: s.Info.Version, Sandbox: s.Info.Sandbox}
	if customerScope(currentUser(c)) != 0 {
		return out, nil
	}
	ms := &systemMicrosoft{Configured: s.Azure != nil}
	if s.Azure != nil {
		cfg := s.Azure.Client.Config()
		webhook, landing := s.Info.BaseURL+"/marketplace/azure/webhook", s.Info.BaseURL+"/marketplace/azure/landing"
		auth := map[bool]string{true: "off (emulator)", false: "Entra token"}[s.AzureInsecureNotifications]
		ms.APIURL, ms.TenantID, ms.ClientID = &cfg.APIURL, &cfg.TenantID, &cfg.ClientID
		ms.WebhookURL, ms.LandingURL, ms.WebhookAuth = &webhook, &landing, &auth
	}
	aws := &systemAWS{Configured: s.AWS != nil, RegistrationURL: s.Info.BaseURL + "/marketplace/aws/register"}
	if s.Connections != nil {
		conns := s.Connections()
		if cn, ok := conns["aws"]; ok {
			aws.Connection = &marketplaceConnectionView{cn}
		}
		if cn, ok := conns["azure"]; ok {
			ms.Connection = &marketplaceConnectionView{cn}
		}
	}
	db, base := s.Store.Dialect, s.Info.BaseURL
	out.Database, out.BaseURL, out.AWS, out.Microsoft = &db, &base, aws, ms
	return out, nil
}
