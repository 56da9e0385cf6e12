// Package api is Marketgate's HTTP surface: the JSON API under /api, the
// health and metrics endpoints, and the embedded portal. Every route is
// declared, with who may call it, in routes.go.
package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/server/setup"
	"github.com/marketgate/marketgate/server/telemetry"
	"github.com/marketgate/marketgate/store"
)

// Info is what the Settings page shows about this instance.
type Info struct {
	Version      string
	Sandbox      bool
	BaseURL      string
	SupportEmail string // shown to buyers on the first-use pages
}

// Deps are the server's dependencies.
type Deps struct {
	Store *store.Store
	// Seats answers the seat check (nil: New makes one). It queues the
	// seats' last-checked times and writes them in batches: whoever made
	// it runs its FlushTouches once the server has stopped answering.
	Seats *seats.Service
	// Metrics counts seat checks (nil: none); the other parts record their own.
	Metrics  *telemetry.Metrics
	Sessions *auth.SessionStore
	Log      *slog.Logger
	Info     Info
	Portal   fs.FS // the built portal; nil or without index.html: "not built" page
	Registry *prometheus.Registry
	Now      func() time.Time
	AWS      AWSResolver // nil: AWS Marketplace is not configured
	// AWSEvents applies AWS notifications (replay) and reads contract
	// entitlements after a registration; nil: neither.
	AWSEvents AWSEvents
	// AWSAgreements reads AWS agreements for the agreement page (nil: the
	// page says AWS is not configured).
	AWSAgreements AgreementViews

	// AWSMoney performs the money actions on AWS agreements (refunds,
	// cancellation and payment requests); nil: AWS is not configured.
	AWSMoney *awsmp.Money

	// Azure handles Microsoft's marketplace (nil: not configured);
	// AzureSignIn is the buyer's Entra sign-in on the landing page.
	Azure       *azuremp.Processor
	AzureSignIn *AzureSignIn
	// AzureNotifications authenticates webhook calls. Nil refuses every call,
	// unless AzureInsecureNotifications (local emulators only) lets them in.
	AzureNotifications         *azuremp.NotificationVerifier
	AzureInsecureNotifications bool
	// AzureNotificationReceived hands a new webhook call, stored in the inbox
	// and answered, to the background job that confirms it with Get
	// Operation and applies it (required with Azure; the job also retries
	// failed calls, so a call is never lost when this is slow).
	AzureNotificationReceived func(inboxID uint)

	// Meter ingests usage and follows metering records (nil: metering off).
	Meter *metering.Meter

	// SSO signs seller staff in with the company's identity provider
	// (nil: not configured). SSOStateKey (64 bytes) signs and encrypts the
	// sign-in's state cookie; all replicas need the same one.
	SSO         *auth.SSO
	SSOStateKey []byte

	// Mail sends e-mail (nil: mail is not configured); with it, an e-mail
	// address is verified before it becomes an account's identity.
	Mail Mailer

	// Outbound says which addresses webhook endpoints and Slack/Teams
	// alert channels may have (default: public ones only). The dispatcher
	// and the alert service enforce it at connect time; the API checks
	// entered URLs with it.
	Outbound netguard.Policy

	// Alerts sends alerts to the seller's team (nil: test buttons refuse).
	Alerts *alerts.Service
	// Setup runs the setup checks (GET /api/setup; nil: none configured).
	Setup func(context.Context) setup.SetupReport
	// Connections reports how calls to each marketplace went lately.
	Connections func() map[string]alerts.Connection

	// TrustedProxies are the addresses (CIDRs or IPs) of the reverse
	// proxies whose X-Forwarded-For / X-Real-IP name the client. Empty:
	// no proxy is trusted and the client is the connection's address.
	TrustedProxies []string

	// MetricsToken, when set, is the bearer token /metrics requires.
	// MetricsElsewhere: /metrics is served on its own address (see
	// MetricsHandler), not by this handler.
	MetricsToken     string
	MetricsElsewhere bool

	// Sandbox, in sandbox mode, mounts the simulated marketplaces and the
	// buyer pages under /sandbox (server/sandbox/console).
	Sandbox Mount
}

// Mount adds routes to the server's router (r is a group under a prefix),
// behind the server's middleware: request ids, security headers, logs and
// metrics. p renders pages the way the server's own pages are.
type Mount func(r *gin.RouterGroup, p Pages)

// Pages is what a mounted handler shares with the server: its
// server-rendered pages, its errors and its cross-origin check.
type Pages interface {
	// RenderPage writes a page made by NewPage (never cached).
	RenderPage(c *gin.Context, status int, t *template.Template, data map[string]any)
	// Problem tells a person what happened and where to go back to.
	Problem(c *gin.Context, status int, title, message, link, linkText string)
	// Fail answers with err's client-facing form (internals logged).
	Fail(c *gin.Context, err error)
	// CheckOrigin refuses a cross-site form post.
	CheckOrigin(r *http.Request) error
}

// NewPage makes a page in the server pages' layout.
func NewPage(title, body string) *template.Template { return page(title, body) }

// pages is the server's Pages.
type pages struct{ s *Server }

func (p pages) RenderPage(c *gin.Context, status int, t *template.Template, data map[string]any) {
	p.s.renderPage(c, status, t, data)
}
func (p pages) Problem(c *gin.Context, status int, title, message, link, linkText string) {
	p.s.problemText(c, status, title, message, link, linkText)
}
func (p pages) Fail(c *gin.Context, err error)    { p.s.fail(c, err) }
func (p pages) CheckOrigin(r *http.Request) error { return p.s.cop.Check(r) }

// Server holds the handlers.
type Server struct {
	Deps
	throttle   *auth.Throttle
	allowances *auth.Allowances
	hsts       bool // the base URL is https
	cop        *http.CrossOriginProtection
	metrics    *httpMetrics
	seats      *seats.Service
	apiKeys    *store.GrantCache[string, *apiKeyEntry] // apikey_cache.go
	// the seat check's admin consent (consent.go)
	offerPermissions *store.GrantCache[uint, []store.OfferPermission]
	tenantConsents   *store.GrantCache[string, *store.TenantConsent]
	secSettings      securitySettings
	ssoOnce          sync.Once
	ssoCodecV        securecookie.Codec

	portalRoutes []route // the portal API's routes, as registered (see handle.go)
}

// Mailer sends one plain-text e-mail.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, text string) error
}

// SessionCookie is the session cookie's name.
const SessionCookie = "marketgate_session"

// New builds the server and its routes.
func New(d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Azure != nil && d.AzureNotificationReceived == nil {
		return nil, errors.New("the Microsoft marketplace needs a job for its webhook calls (Deps.AzureNotificationReceived)")
	}
	if d.Seats == nil {
		d.Seats = &seats.Service{Store: d.Store}
	}
	s := &Server{
		Deps:             d,
		throttle:         auth.NewThrottle(d.Store, d.Now),
		allowances:       auth.NewAllowances(d.Now),
		cop:              http.NewCrossOriginProtection(),
		seats:            d.Seats,
		apiKeys:          newAPIKeyCache(),
		offerPermissions: &store.GrantCache[uint, []store.OfferPermission]{TTL: ConsentCacheTTL, Max: 10000},
		tenantConsents:   &store.GrantCache[string, *store.TenantConsent]{TTL: ConsentCacheTTL, Max: 100000},
	}
	if d.Info.BaseURL != "" {
		u, err := url.Parse(d.Info.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, errors.New("base URL must be an absolute URL such as https://portal.example.com")
		}
		if err := s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, err
		}
		s.hsts = u.Scheme == "https"
	}
	m, err := newHTTPMetrics(d.Registry, d.Store)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if d.Meter != nil {
		meter := d.Meter
		for _, g := range []struct {
			name, help string
			get        func(metering.Health) int64
		}{
			{"marketgate_metering_records_pending", "Metering records sealed and not yet settled with the marketplace.", func(h metering.Health) int64 { return h.Pending }},
			{"marketgate_metering_records_expiring", "Pending metering records at most 4 hours before their deadline (24 hours after their hour; AWS: 06:00 UTC on the 1st for a past month).", func(h metering.Health) int64 { return h.Expiring }},
			{"marketgate_metering_records_failed_24h", "Metering records rejected, duplicate or in conflict in the last 24 hours.", func(h metering.Health) int64 { return h.Failed }},
			{"marketgate_metering_records_expired_7d", "Metering records never accepted within the window, last 7 days.", func(h metering.Health) int64 { return h.Expired }},
		} {
			get := g.get
			if err := d.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
				func() float64 { return float64(get(meter.LastHealth())) })); err != nil {
				return nil, err
			}
		}
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// gin trusts X-Forwarded-For from everyone unless told otherwise.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	r.RemoteIPHeaders = []string{"X-Forwarded-For", "X-Real-IP"}
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = false // pass c.Request.Context() to anything that outlives the handler
	s.routes(r)
	return compressAnswers(r)
}

// fail answers with err's client-facing form; internal errors are logged
// with the request id and hidden.
func (s *Server) fail(c *gin.Context, err error) {
	ae := clientError(err)
	if ae.Code == apperr.Internal {
		s.Log.Error("request failed", "request_id", requestID(c), "method", c.Request.Method,
			"path", c.FullPath(), "err", err)
	}
	body := gin.H{"code": ae.Code, "message": ae.Message, "request_id": requestID(c)}
	if len(ae.Fields) > 0 {
		body["fields"] = ae.Fields
	}
	c.AbortWithStatusJSON(apperr.Status(ae.Code), gin.H{"error": body})
}

func (s *Server) failCode(c *gin.Context, code, format string, args ...any) {
	s.fail(c, apperr.New(code, format, args...))
}

// bindJSON decodes a JSON body into v with a clear error.
func (s *Server) bindJSON(c *gin.Context, v any) bool {
	ct := c.ContentType()
	if ct != "application/json" {
		s.failCode(c, apperr.Invalid, "the request body must be JSON (Content-Type: application/json)")
		return false
	}
	if err := decodeJSON(c.Request.Body, v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.failCode(c, apperr.TooLarge, "the request body is larger than %d bytes", mbe.Limit)
		} else {
			s.failCode(c, apperr.Invalid, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return false
	}
	return true
}
