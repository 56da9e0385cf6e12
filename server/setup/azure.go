package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/marketgate/marketgate/server/azuremp"
)

// AzureConfig is Microsoft's side of the checks (nil in Config: not
// configured; every Microsoft check is skipped).
type AzureConfig struct {
	TenantID, ClientID, ClientSecret string
	APIURL                           string // SaaS fulfillment API ("" = Microsoft's)
	LoginURL                         string // Entra authority host ("" = Microsoft's)
	GraphURL                         string // Microsoft Graph v1.0 ("" = Microsoft's)
	// HTTP carries the token and Graph calls (nil: a 10-second client).
	HTTP *http.Client
	// SecretExpires is --azure-client-secret-expires: the secret's expiry
	// when Graph cannot tell it (nil: unknown).
	SecretExpires *time.Time

	mu     sync.Mutex
	expiry *time.Time // as the last run found it
}

func (a *AzureConfig) lastExpiry() *time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.expiry
}

func (a *AzureConfig) setExpiry(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expiry = &t
}

// Check ids of Microsoft.
const (
	AzureConfigured  = "azure.configured"
	AzureApp         = "azure.app"
	AzureToken       = "azure.token"
	AzureFulfillment = "azure.fulfillment_api"
	AzureURLs        = "azure.partner_center_urls"
	AzureMultiTenant = "azure.multi_tenant"
	AzureRedirect    = "azure.redirect_uri"
	AzureSecret      = "azure.secret_expiry"
)

// GraphPermission is the Graph application permission that lets the app
// read its own registration (learn.microsoft.com/graph/api/application-get:
// least privileged).
const GraphPermission = "Application.Read.All"

func azureCheck(id, title string) SetupCheck {
	return SetupCheck{ID: id, Marketplace: Azure, Title: title}
}

func (c *Checker) redirectURI() string { return c.cfg.BaseURL + "/marketplace/azure/callback" }

func (c *Checker) azureSteps() []step {
	a := c.cfg.Azure
	if a == nil {
		ch := azureCheck(AzureConfigured, "Microsoft commercial marketplace configured")
		ch.Status, ch.Message = Skip, "Microsoft's commercial marketplace is not configured."
		ch.Fix = "To sell on Microsoft's marketplace, set --azure-tenant-id, --azure-client-id and --azure-client-secret (the app registration named in Partner Center's Technical configuration)."
		return []step{{ids: []SetupCheck{ch}, run: func(context.Context) []SetupCheck { return []SetupCheck{ch} }}}
	}
	static := func(ch SetupCheck) step {
		return step{ids: []SetupCheck{ch}, run: func(context.Context) []SetupCheck { return []SetupCheck{ch} }}
	}
	app := azureCheck(AzureApp, "Tenant and app id")
	if a.TenantID == "" || a.ClientID == "" || a.ClientSecret == "" {
		app.Status, app.Message = Fail, "The tenant id, app (client) id and client secret must all be set."
		app.Fix = "Set --azure-tenant-id, --azure-client-id and --azure-client-secret (MARKETGATE_AZURE_…; the secret also as MARKETGATE_AZURE_CLIENT_SECRET_FILE)."
		return []step{static(app)}
	}
	app.Status, app.Message = OK, "Tenant "+a.TenantID+", app "+a.ClientID+". They must be the ones in Partner Center → the offer → Technical configuration."
	app.Values = []SetupValue{{Label: "Tenant ID", Value: a.TenantID}, {Label: "App (client) ID", Value: a.ClientID}}
	urls := c.publicURL(azureCheck(AzureURLs, "Landing page and webhook URLs"), "Partner Center (the offer → Technical configuration)",
		SetupValue{Label: "Landing page URL", Value: c.cfg.BaseURL + "/marketplace/azure/landing"},
		SetupValue{Label: "Connection webhook", Value: c.cfg.BaseURL + "/marketplace/azure/webhook"})
	graphIDs := []SetupCheck{azureCheck(AzureMultiTenant, "App registration is multi-tenant"), azureCheck(AzureRedirect, "Redirect URI registered"),
		azureCheck(AzureSecret, "Client secret expiry")}
	return []step{static(app), static(urls),
		{ids: []SetupCheck{azureCheck(AzureToken, "Client-credentials token")}, run: func(ctx context.Context) []SetupCheck {
			return []SetupCheck{a.checkToken(ctx, azureCheck(AzureToken, "Client-credentials token"))}
		}},
		{ids: []SetupCheck{azureCheck(AzureFulfillment, "Fulfillment API answering")}, run: func(ctx context.Context) []SetupCheck {
			return []SetupCheck{a.checkFulfillment(ctx, azureCheck(AzureFulfillment, "Fulfillment API answering"))}
		}},
		{ids: graphIDs, run: func(ctx context.Context) []SetupCheck { return c.checkRegistration(ctx, graphIDs) }},
	}
}

func (a *AzureConfig) credential() (azcore.TokenCredential, error) {
	login := strings.TrimRight(a.LoginURL, "/")
	if login == "" {
		login = azuremp.DefaultLoginURL
	}
	opts := &azidentity.ClientSecretCredentialOptions{DisableInstanceDiscovery: true}
	opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: login + "/"}
	opts.Transport = httpClient(a.HTTP)
	opts.Retry.MaxRetries = -1 // one attempt: a check reports, it does not retry
	return azidentity.NewClientSecretCredential(a.TenantID, a.ClientID, a.ClientSecret, opts)
}

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

// tokenFix is the fix for an Entra refusal, by its AADSTS code.
func (a *AzureConfig) tokenFix(err error) string {
	m := aadsts.FindStringSubmatch(err.Error())
	code := ""
	if m != nil {
		code = m[1]
	}
	switch code {
	case "7000215", "7000222":
		return "The client secret is wrong or expired. In the Microsoft Entra admin center → App registrations → the app (" + a.ClientID +
			") → Certificates & secrets, add a new client secret and set --azure-client-secret (MARKETGATE_AZURE_CLIENT_SECRET) to its Value, not its Secret ID."
	case "700016":
		return "Entra knows no app " + a.ClientID + " in tenant " + a.TenantID + ": check --azure-client-id and --azure-tenant-id against the app registration's Overview page."
	case "90002", "900023":
		return "Entra knows no tenant " + a.TenantID + ": set --azure-tenant-id to the Directory (tenant) ID on the app registration's Overview page."
	}
	return "Check the tenant id, app id and client secret against the app registration, and that this server reaches " + a.loginHost() + "."
}

func (a *AzureConfig) loginHost() string {
	if a.LoginURL == "" {
		return azuremp.DefaultLoginURL
	}
	return a.LoginURL
}

// token gets a client-credentials token for a scope.
func (a *AzureConfig) token(ctx context.Context, scope string) (string, error) {
	cred, err := a.credential()
	if err != nil {
		return "", err
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return tok.Token, err
}

func (a *AzureConfig) checkToken(ctx context.Context, ch SetupCheck) SetupCheck {
	if _, err := a.token(ctx, azuremp.Resource+"/.default"); err != nil {
		ch.Status, ch.Message, ch.Fix = Fail, "Entra refused the client-credentials token: "+entraMessage(err), a.tokenFix(err)
		return ch
	}
	ch.Status, ch.Message = OK, "Entra issued a token for the marketplace API ("+azuremp.Resource+")."
	return ch
}

// entraMessage is Entra's error description (AADSTS…) from an azidentity error.
func entraMessage(err error) string {
	s := err.Error()
	if i := strings.Index(s, "AADSTS"); i >= 0 {
		s = s[i:]
		if j := strings.Index(s, " Trace ID"); j > 0 {
			s = s[:j]
		}
		return strings.TrimSpace(strings.Trim(s, `",`))
	}
	return errText(err)
}

// checkFulfillment lists the publisher's subscriptions (the first page).
func (a *AzureConfig) checkFulfillment(ctx context.Context, ch SetupCheck) SetupCheck {
	client, err := azuremp.New(azuremp.Config{TenantID: a.TenantID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, APIURL: a.APIURL,
		LoginURL: a.LoginURL, TokenHTTP: a.HTTP})
	if err != nil {
		ch.Status, ch.Message, ch.Fix = Fail, errText(err), "Set the tenant id, app id and client secret."
		return ch
	}
	n := 0
	err = client.List(ctx, func(page []azuremp.Subscription) error { n = len(page); return errStop })
	if err != nil && !errors.Is(err, errStop) {
		ch.Status = Fail
		switch st := azuremp.StatusOf(err); {
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			ch.Message = fmt.Sprintf("The fulfillment API refused the app (HTTP %d): %s", st, errText(err))
			ch.Fix = "The app id must be the one entered in Partner Center → the offer → Technical configuration (Microsoft Entra application ID), with the same tenant id."
		case strings.Contains(err.Error(), "microsoft token"):
			ch.Message, ch.Fix = "No token for the fulfillment API: "+entraMessage(err), a.tokenFix(err)
		default:
			ch.Message = "The fulfillment API did not answer: " + errText(err)
			ch.Fix = "Check that this server reaches marketplaceapi.microsoft.com (proxy, firewall) and that --azure-api-url is unset or right."
		}
		return ch
	}
	ch.Status, ch.Message = OK, fmt.Sprintf("List subscriptions answered (%d on the first page).", n)
	return ch
}

// application is what Graph answers for the app registration.
type application struct {
	SignInAudience string `json:"signInAudience"`
	Web            struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"web"`
	PasswordCredentials []struct {
		Hint        string    `json:"hint"`
		DisplayName string    `json:"displayName"`
		EndDateTime time.Time `json:"endDateTime"`
	} `json:"passwordCredentials"`
}

// errGraphDenied: the app may not read its registration.
var errGraphDenied = errors.New("graph: insufficient privileges")

// readApplication reads the app registration from Microsoft Graph with an
// app-only token: GET /applications(appId='{id}').
func (a *AzureConfig) readApplication(ctx context.Context) (*application, error) {
	tok, err := a.token(ctx, "https://graph.microsoft.com/.default")
	if err != nil {
		return nil, fmt.Errorf("graph token: %s", entraMessage(err))
	}
	base := strings.TrimRight(a.GraphURL, "/")
	if base == "" {
		base = azuremp.DefaultGraphURL
	}
	u := base + "/applications(appId='" + url.PathEscape(a.ClientID) + "')?$select=signInAudience,web,passwordCredentials"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := httpClient(a.HTTP).Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusForbidden {
		return nil, errGraphDenied
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("graph GET /applications: HTTP %d: %.300s", resp.StatusCode, body)
	}
	var app application
	if err := json.Unmarshal(body, &app); err != nil {
		return nil, fmt.Errorf("graph GET /applications: %w", err)
	}
	return &app, nil
}

// secretEnd is the expiry of the configured secret: the password credential
// whose hint ("the first three characters of the password") matches it,
// the earliest when several do; false when none does.
func (app *application) secretEnd(secret string) (time.Time, bool) {
	var end time.Time
	found := false
	for _, p := range app.PasswordCredentials {
		if len(secret) >= 3 && p.Hint == secret[:3] && (!found || p.EndDateTime.Before(end)) {
			end, found = p.EndDateTime, true
		}
	}
	return end, found
}

// checkRegistration reads the app registration once for three checks:
// multi-tenant, the redirect URI, and the secret's expiry.
func (c *Checker) checkRegistration(ctx context.Context, ids []SetupCheck) []SetupCheck {
	a := c.cfg.Azure
	multi, redirect, secret := ids[0], ids[1], ids[2]
	app, err := a.readApplication(ctx)
	if err != nil {
		why := "Microsoft Graph could not be read: " + errText(err)
		fix := "Check by hand in the Microsoft Entra admin center → App registrations → the app."
		if errors.Is(err, errGraphDenied) {
			why = "Microsoft Graph refused to show the app registration: the app lacks the " + GraphPermission + " application permission."
			fix = "Grant the app the Microsoft Graph application permission " + GraphPermission + " (API permissions → Add → Microsoft Graph → Application permissions) with admin consent, or check by hand in the Entra admin center."
		}
		multi.Status, multi.Message, multi.Fix = Skip, why, fix+" Supported account types must be \"Accounts in any organizational directory (multitenant)\"."
		redirect.Status, redirect.Message, redirect.Fix = Skip, why, fix+" Authentication → Web → Redirect URIs must hold "+c.redirectURI()+"."
		redirect.Values = []SetupValue{{Label: "Redirect URI", Value: c.redirectURI()}}
		return []SetupCheck{multi, redirect, c.secretFromSetting(secret, why)}
	}
	multi = checkAudience(multi, app.SignInAudience)
	redirect.Values = []SetupValue{{Label: "Redirect URI", Value: c.redirectURI()}}
	if slices.Contains(app.Web.RedirectURIs, c.redirectURI()) {
		redirect.Status, redirect.Message = OK, "The app registration's web redirect URIs include "+c.redirectURI()+"."
	} else {
		redirect.Status = Fail
		redirect.Message = "The app registration's web redirect URIs (" + strings.Join(app.Web.RedirectURIs, ", ") + ") lack " + c.redirectURI() + ": the buyers' sign-in on the landing page fails (AADSTS50011)."
		redirect.Fix = "In the Entra admin center → App registrations → the app → Authentication → Web, add the redirect URI " + c.redirectURI() + "."
	}
	end, ok := app.secretEnd(a.ClientSecret)
	if !ok {
		return []SetupCheck{multi, redirect, c.secretFromSetting(secret, "None of the app's client secrets matches the configured one (Graph's hint, its first three characters).")}
	}
	return []SetupCheck{multi, redirect, c.secretExpiry(secret, end, "Microsoft Graph")}
}

func checkAudience(ch SetupCheck, audience string) SetupCheck {
	switch audience {
	case "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount":
		ch.Status, ch.Message = OK, "signInAudience is "+audience+": buyers of any organisation can sign in on the landing page."
	default:
		ch.Status = Fail
		ch.Message = "signInAudience is " + audience + ": only your own tenant can sign in, so buyers' sign-ins on the landing page fail (AADSTS50020)."
		ch.Fix = "In the Entra admin center → App registrations → the app → Authentication → Supported account types, choose \"Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant)\"."
	}
	return ch
}

// secretFromSetting is the expiry check when Graph cannot tell: the
// --azure-client-secret-expires setting, or a failure saying so.
func (c *Checker) secretFromSetting(ch SetupCheck, why string) SetupCheck {
	if t := c.cfg.Azure.SecretExpires; t != nil {
		return c.secretExpiry(ch, *t, "--azure-client-secret-expires")
	}
	ch.Status, ch.Message = Fail, why+" The client secret's expiry date is unknown, so nobody would be warned before it expires."
	ch.Fix = "Grant the app the Microsoft Graph application permission " + GraphPermission + " with admin consent, or set --azure-client-secret-expires (MARKETGATE_AZURE_CLIENT_SECRET_EXPIRES) to the secret's expiry date (YYYY-MM-DD, from Certificates & secrets)."
	return ch
}

// ExpiryWarning is how long before its expiry a secret is a warning.
const ExpiryWarning = 30 * 24 * time.Hour

func (c *Checker) secretExpiry(ch SetupCheck, end time.Time, source string) SetupCheck {
	c.cfg.Azure.setExpiry(end)
	left := end.Sub(c.cfg.Now())
	ch.Values = []SetupValue{{Label: "Expires", Value: end.UTC().Format(time.RFC3339)}}
	days := int(left.Hours() / 24)
	switch {
	case left <= 0:
		ch.Status = Fail
		ch.Message = "The client secret expired on " + end.UTC().Format("2006-01-02") + " (" + source + "): Microsoft's API refuses every call."
	case left <= ExpiryWarning:
		ch.Status = Warn
		ch.Message = fmt.Sprintf("The client secret expires on %s, in %d day(s) (%s).", end.UTC().Format("2006-01-02"), days, source)
	default:
		ch.Status = OK
		ch.Message = fmt.Sprintf("The client secret expires on %s, in %d days (%s). Alerts are raised 30, 7 and 1 days before.", end.UTC().Format("2006-01-02"), days, source)
		return ch
	}
	ch.Fix = "Add a new client secret (Entra admin center → App registrations → the app → Certificates & secrets), set --azure-client-secret to its SetupValue and restart; then delete the old secret."
	return ch
}

// SecretExpiry is when the configured client secret expires (Graph, else
// the setting), for the daily alert job.
func (c *Checker) SecretExpiry(ctx context.Context) (time.Time, error) {
	a := c.cfg.Azure
	if a == nil {
		return time.Time{}, errors.New("microsoft is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	app, err := a.readApplication(ctx)
	if err == nil {
		if end, ok := app.secretEnd(a.ClientSecret); ok {
			return end, nil
		}
	}
	if a.SecretExpires != nil {
		return *a.SecretExpires, nil
	}
	if err == nil {
		err = errors.New("no client secret of the app matches the configured one")
	}
	return time.Time{}, err
}
