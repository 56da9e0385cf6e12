package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/store"
)

// azureParts is Microsoft's marketplace, wired.
type azureParts struct {
	proc           *azuremp.Processor
	signIn         *api.AzureSignIn
	webhook        *azuremp.WebhookVerifier
	insecure       bool
	reconcileEvery time.Duration
}

// azureEndpoints are where Microsoft is; the sandbox fills in its own.
type azureEndpoints struct {
	TenantID, ClientID, Secret string
	APIURL, MeteringURL        string
	LoginURL                   string
	TokenAuthority             string
	TokenTLS                   *tls.Config
}

// setupAzure reads the Microsoft settings. It returns nil parts when
// Microsoft is not configured at all.
func setupAzure(v values, st *store.Store, log *slog.Logger, baseURL string, sb *azureEndpoints) (*azureParts, error) {
	e := azureEndpoints{TenantID: v.str("azure-tenant-id"), ClientID: v.str("azure-client-id"), Secret: v.str("azure-client-secret"),
		APIURL: v.str("azure-api-url"), MeteringURL: v.str("azure-metering-url"), LoginURL: v.str("azure-login-url")}
	if sb != nil {
		// Each sandbox part steps aside when its real setting is given.
		if e.TenantID == "" && e.ClientID == "" && e.Secret == "" {
			e.TenantID, e.ClientID, e.Secret = sb.TenantID, sb.ClientID, sb.Secret
		}
		if e.APIURL == "" {
			e.APIURL = sb.APIURL
		}
		if e.MeteringURL == "" {
			e.MeteringURL = sb.MeteringURL
		}
		if e.LoginURL == "" {
			e.LoginURL, e.TokenAuthority, e.TokenTLS = sb.LoginURL, sb.TokenAuthority, sb.TokenTLS
		}
	}
	set := 0
	for _, x := range []string{e.TenantID, e.ClientID, e.Secret} {
		if x != "" {
			set++
		}
	}
	if set == 0 {
		return nil, nil
	}
	if set != 3 {
		return nil, usageError{errors.New("set all of --azure-tenant-id, --azure-client-id and --azure-client-secret, or none")}
	}
	insecure, err := v.boolean("azure-webhook-insecure")
	if err != nil {
		return nil, usageError{err}
	}
	apiURL := e.APIURL
	if apiURL == "" {
		apiURL = azuremp.DefaultAPIURL
	}
	if insecure && strings.HasPrefix(strings.ToLower(apiURL), "https://") {
		return nil, usageError{errors.New("--azure-webhook-insecure is only for local emulators and is refused when the API URL is https")}
	}
	every, err := time.ParseDuration(v.str("azure-reconcile-interval"))
	if err != nil || every < time.Minute {
		return nil, usageError{fmt.Errorf("--azure-reconcile-interval must be a duration of at least 1m, not %q", v.str("azure-reconcile-interval"))}
	}
	cfg := azuremp.Config{TenantID: e.TenantID, ClientID: e.ClientID, ClientSecret: e.Secret, APIURL: e.APIURL,
		MeteringURL: e.MeteringURL, LoginURL: e.LoginURL, TokenAuthority: e.TokenAuthority}
	if e.TokenTLS != nil {
		cfg.TokenHTTP = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: e.TokenTLS}}
	}
	client, err := azuremp.New(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	login := client.Config().LoginURL
	parts := &azureParts{
		proc:           &azuremp.Processor{Store: st, Log: log, Client: client},
		insecure:       insecure,
		reconcileEvery: every,
		signIn: &api.AzureSignIn{
			OAuth: &oauth2.Config{ClientID: e.ClientID, ClientSecret: e.Secret, RedirectURL: baseURL + "/marketplace/azure/callback",
				Scopes: []string{"openid", "profile", "email"},
				Endpoint: oauth2.Endpoint{AuthURL: login + "/organizations/oauth2/v2.0/authorize", TokenURL: login + "/organizations/oauth2/v2.0/token",
					AuthStyle: oauth2.AuthStyleInParams}},
			IDTokens: azuremp.NewIDTokenVerifier(e.ClientID, login, nil),
		},
	}
	if insecure {
		log.Warn("MICROSOFT WEBHOOK AUTHENTICATION IS OFF (--azure-webhook-insecure): anyone who can reach this server can change subscriptions; use only with a local emulator")
	} else {
		parts.webhook = azuremp.NewWebhookVerifier(e.TenantID, e.ClientID, login, nil)
	}
	return parts, nil
}
