package app

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/sandbox/console"
	"github.com/marketgate/marketgate/server/telemetry"
	"github.com/marketgate/marketgate/store"
)

// azureParts is Microsoft's marketplace, wired.
type azureParts struct {
	proc           *azuremp.Processor
	signIn         *api.AzureSignIn
	webhook        *azuremp.NotificationVerifier
	insecure       bool
	reconcileEvery time.Duration
}

// azureEndpoints are where Microsoft is; the sandbox fills in its own.
type azureEndpoints struct {
	TenantID, ClientID, Secret string
	APIURL, MeteringURL        string
	LoginURL                   string
	GraphURL                   string // Microsoft Graph v1.0 ("" = Microsoft's)
	BrowserLoginURL            string // where the buyer's browser signs in (default LoginURL)
	TokenAuthority             string
	TokenTLS                   *tls.Config // trust for every server-to-Entra call (sandbox certificate)
}

// setupAzure reads the Microsoft settings. It returns nil parts when
// Microsoft is not configured at all.
func setupAzure(c *Config, st *store.Store, log *slog.Logger, sb *azureEndpoints, metrics *telemetry.Metrics) (*azureParts, error) {
	baseURL := c.BaseURL
	e := azureEndpoints{TenantID: c.Azure.TenantID, ClientID: c.Azure.ClientID, Secret: c.Azure.ClientSecret,
		APIURL: c.Azure.APIURL, MeteringURL: c.Azure.MeteringURL, LoginURL: c.Azure.LoginURL}
	if sb != nil {
		e.fillFrom(sb)
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
	insecure := c.Azure.InsecureNotifications
	apiURL := e.APIURL
	if apiURL == "" {
		apiURL = azuremp.DefaultAPIURL
	}
	if insecure && strings.HasPrefix(strings.ToLower(apiURL), "https://") {
		return nil, usageError{errors.New("--azure-webhook-insecure is only for local emulators and is refused when the API URL is https")}
	}
	every := c.Azure.ReconcileInterval
	cfg := azuremp.Config{TenantID: e.TenantID, ClientID: e.ClientID, ClientSecret: e.Secret, APIURL: e.APIURL,
		MeteringURL: e.MeteringURL, LoginURL: e.LoginURL, TokenAuthority: e.TokenAuthority, Metrics: metrics}
	var entraHTTP *http.Client
	if e.TokenTLS != nil {
		entraHTTP = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: e.TokenTLS}}
		cfg.TokenHTTP = entraHTTP
	}
	client, err := azuremp.New(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	login := client.Config().LoginURL
	browser := strings.TrimRight(e.BrowserLoginURL, "/")
	if browser == "" {
		browser = login
	}
	parts := &azureParts{
		proc:           &azuremp.Processor{Store: st, Log: log, Client: client},
		insecure:       insecure,
		reconcileEvery: every,
		signIn: &api.AzureSignIn{
			OAuth: &oauth2.Config{ClientID: e.ClientID, ClientSecret: e.Secret, RedirectURL: baseURL + "/marketplace/azure/callback",
				Scopes: api.LandingScopes,
				Endpoint: oauth2.Endpoint{AuthURL: browser + "/organizations/oauth2/v2.0/authorize", TokenURL: login + "/organizations/oauth2/v2.0/token",
					AuthStyle: oauth2.AuthStyleInParams}},
			IDTokens: azuremp.NewIDTokenVerifier(e.ClientID, login, entraHTTP),
			HTTP:     entraHTTP,
			GraphURL: e.GraphURL,
		},
	}
	if insecure {
		log.Warn("MICROSOFT NOTIFICATION AUTHENTICATION IS OFF (--azure-webhook-insecure): anyone who can reach this server can change subscriptions; use only with a local emulator")
	} else {
		parts.webhook = azuremp.NewNotificationVerifier(e.TenantID, e.ClientID, login, entraHTTP)
	}
	return parts, nil
}

// fillFrom takes the simulated Microsoft's endpoints where no real
// setting is given: each sandbox part steps aside when its setting is.
func (e *azureEndpoints) fillFrom(sb *azureEndpoints) {
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
		e.LoginURL, e.BrowserLoginURL, e.TokenAuthority, e.TokenTLS = sb.LoginURL, sb.BrowserLoginURL, sb.TokenAuthority, sb.TokenTLS
		e.GraphURL = sb.GraphURL
	}
}

// The sandbox publisher's Entra identity (made up, stable across starts).
const (
	sandboxTenant = "6d1f0c2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f"
	sandboxClient = "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
)

// startAzureSandbox runs the simulated Microsoft marketplace: the fulfillment,
// operations and metering APIs under /sandbox/azure/api, and a simulated
// Entra ID on its own https listener (azidentity accepts https authorities
// only, at the root of a host), also reachable under /sandbox/azure/entra
// for the buyer's browser. Notifications go to this server's own notification URL,
// signed like Entra's.
func startAzureSandbox(ctx context.Context, st *store.Store, sb *console.Console, local string) (*sandboxEntra, error) {
	secret := auth.RandomToken(24)
	entra, ep, err := startSimulatedEntra(ctx, sandboxTenant, sandboxClient, secret, local)
	if err != nil {
		return nil, err
	}
	offers, err := sandbox.AzureOffers(ctx, st)
	if err != nil {
		return nil, err
	}
	mk := azurefake.NewMarketplace(azurefake.Options{Base: local + "/sandbox/azure/api", Entra: entra, PublisherID: "marketgate-sandbox",
		Offers: offers, Webhook: azurefake.HTTPWebhook(&http.Client{Timeout: 10 * time.Second}, local+"/marketplace/azure/webhook"),
		WebhookAudience: sandboxClient, WebhookTenant: sandboxTenant})
	if err := sandbox.ImportAzure(ctx, st, mk); err != nil {
		return nil, err
	}
	sb.AzureEntra, sb.AzureMarketplace = entra, mk
	ep.APIURL, ep.MeteringURL = local+"/sandbox/azure/api", local+"/sandbox/azure/api"
	return &sandboxEntra{entra: entra, endpoints: ep}, nil
}

// startSimulatedEntra runs the simulated Entra ID on its own https
// listener on the loopback interface (azidentity accepts https authorities
// only, at the root of a host), with the publisher's app registered; the
// buyer's browser reaches it under /sandbox/azure/entra of this server.
func startSimulatedEntra(ctx context.Context, tenant, client, secret, local string) (*azurefake.Entra, *azureEndpoints, error) {
	serverTLS, clientTLS, err := sandboxTLS()
	if err != nil {
		return nil, nil, err
	}
	tln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		return nil, nil, err
	}
	entraBase := "https://" + tln.Addr().String()
	entra := azurefake.NewEntra(entraBase, nil)
	entra.RegisterApp(tenant, client, secret)
	esrv := &http.Server{Handler: entra, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = esrv.Serve(tln) }()
	go func() {
		<-ctx.Done()
		_ = esrv.Close()
	}()
	return entra, &azureEndpoints{TenantID: tenant, ClientID: client, Secret: secret, LoginURL: entraBase, GraphURL: entraBase + "/graph/v1.0",
		BrowserLoginURL: local + "/sandbox/azure/entra", TokenAuthority: entraBase, TokenTLS: clientTLS}, nil
}

// startStandaloneEntra is --azure-simulated-entra without --sandbox: the
// simulated Entra ID signs buyers in and issues the publisher's tokens, and
// nothing else of the sandbox runs (no demo data, no simulated
// marketplace), so the real Microsoft client can be pointed at Microsoft's
// SaaS API emulator on a clean database. The publisher's app is the one
// configured (--azure-tenant-id, --azure-client-id, --azure-client-secret),
// or the sandbox's when none is.
func startStandaloneEntra(ctx context.Context, c *Config, local string, log *slog.Logger) (*sandboxEntra, error) {
	// Config.Validate refused --azure-login-url beside it, and a partial app.
	tenant, client, secret := c.Azure.TenantID, c.Azure.ClientID, c.Azure.ClientSecret
	if tenant == "" && client == "" && secret == "" {
		tenant, client, secret = sandboxTenant, sandboxClient, auth.RandomToken(24)
	}
	entra, ep, err := startSimulatedEntra(ctx, tenant, client, secret, local)
	if err != nil {
		return nil, err
	}
	log.Warn("SIMULATED ENTRA ID IS ON (--azure-simulated-entra): anyone can sign in as any Microsoft user; use only offline, with an emulator",
		"sign_in", local+"/sandbox/azure/entra", "tenant", tenant, "client_id", client)
	return &sandboxEntra{entra: entra, endpoints: ep}, nil
}
