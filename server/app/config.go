package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
)

// Env reads configuration from the environment. A setting NAME may also
// come from the file named by NAME_FILE (for secrets); NAME wins when both
// are set.
type Env func(string) string

// Get returns NAME, or the trimmed contents of the file NAME_FILE.
func (e Env) Get(name string) (string, error) {
	if v := e(name); v != "" {
		return v, nil
	}
	if path := e(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// Config is serve's configuration: every flag (and its environment
// variable, or NAME_FILE) decoded into a typed field, read and validated
// once by LoadConfig. Nothing reads a setting by name afterwards.
type Config struct {
	Addr        string // --addr
	DataDir     string // --data-dir (SQLite)
	DatabaseURL string // --database-url (Postgres when set)
	BaseURL     string // --base-url without a trailing slash; default http://Addr

	Sandbox        bool          // --sandbox
	SandboxPublic  bool          // --sandbox-public
	SandboxLatency time.Duration // --sandbox-latency (0 to 1m)

	AWS   AWSConfig
	Azure AzureConfig
	SMTP  SMTPConfig
	OIDC  OIDCConfig

	TrustedProxies       []string      // --trusted-proxies
	MetricsToken         string        // --metrics-token
	MetricsAddr          string        // --metrics-addr
	SupportEmail         string        // --support-email
	MeteringGrace        time.Duration // --metering-grace (1m to 1h)
	MeteringClaim        int           // --metering-claim (1 to 100000)
	OutboundAllowPrivate bool          // --outbound-allow-private
	LogFormat            string        // --log-format: text or json
	LogLevel             string        // --log-level: debug, info, warn or error

	// From the environment only (or NAME_FILE): the admin made sure of at
	// start-up (both or neither), and the key that signs session cookies
	// (empty: a random key kept in the database).
	AdminEmail    string // MARKETGATE_ADMIN_EMAIL
	AdminPassword string // MARKETGATE_ADMIN_PASSWORD
	SessionSecret string // MARKETGATE_SESSION_SECRET (at least 32 characters)
}

// AWSConfig is AWS Marketplace's part of Config.
type AWSConfig struct {
	Region              string   // --aws-region
	MeteringEndpoint    string   // --aws-metering-endpoint
	EntitlementEndpoint string   // --aws-entitlement-endpoint
	Partition           string   // --aws-partition: aws or aws-eusc
	AgreementEndpoint   string   // --aws-agreement-endpoint
	AgreementRegion     string   // --aws-agreement-region
	SQSQueueURLs        []string // --aws-sqs-queue-urls
	SQSEndpoint         string   // --aws-sqs-endpoint
	SNSVerify           bool     // --aws-sns-verify
	SNSTopicARNs        []string // --aws-sns-topic-arns
}

// AzureConfig is Microsoft's marketplace's part of Config.
type AzureConfig struct {
	TenantID              string        // --azure-tenant-id
	ClientID              string        // --azure-client-id
	ClientSecret          string        // --azure-client-secret
	APIURL                string        // --azure-api-url
	MeteringURL           string        // --azure-metering-url
	LoginURL              string        // --azure-login-url
	InsecureNotifications bool          // --azure-webhook-insecure
	SimulatedEntra        bool          // --azure-simulated-entra
	ReconcileInterval     time.Duration // --azure-reconcile-interval (at least 1m)
	SecretExpires         *time.Time    // --azure-client-secret-expires (nil: read from Microsoft Graph)
}

// SMTPConfig is the mail server of e-mail alerts (Addr empty: none).
type SMTPConfig struct {
	Addr, Username, Password, From string // --smtp-addr, --smtp-username, --smtp-password, --smtp-from
}

// OIDCConfig is seller staff's single sign-on (Issuer empty: off).
type OIDCConfig struct {
	Issuer       string            // --oidc-issuer
	ClientID     string            // --oidc-client-id
	ClientSecret string            // --oidc-client-secret
	RoleClaim    string            // --oidc-role-claim
	RoleMap      map[string]string // --oidc-role-map, parsed (by Validate, with Issuer)
	Name         string            // --oidc-name
	Scopes       []string          // --oidc-scopes

	roleMapText string // --oidc-role-map as given
}

// setting is one flag with its environment variable and the Config field
// it fills (set decodes the text and reports a bad value).
type setting struct {
	flag, env, def, usage string
	secret                bool
	boolean               bool
	set                   func(c *Config, flag, raw string) error
}

// The decoders of the settings' kinds.
func text(field func(*Config) *string) func(*Config, string, string) error {
	return func(c *Config, _, raw string) error { *field(c) = raw; return nil }
}

func list(field func(*Config) *[]string) func(*Config, string, string) error {
	return func(c *Config, _, raw string) error { *field(c) = splitList(raw); return nil }
}

func boolean(field func(*Config) *bool) func(*Config, string, string) error {
	return func(c *Config, name, raw string) error {
		s := strings.TrimSpace(raw)
		if s == "" {
			*field(c) = false
			return nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("--%s: %q is not true or false", name, s)
		}
		*field(c) = b
		return nil
	}
}

// duration accepts a Go duration in [lo, hi] (hi 0: no upper bound); want
// says which, in the error.
func duration(field func(*Config) *time.Duration, lo, hi time.Duration, want string) func(*Config, string, string) error {
	return func(c *Config, name, raw string) error {
		d, err := time.ParseDuration(raw)
		if err != nil || d < lo || (hi > 0 && d > hi) {
			return fmt.Errorf("--%s must be %s, not %q", name, want, raw)
		}
		*field(c) = d
		return nil
	}
}

// serveSettings are serve's flags; the README's settings table lists them.
var serveSettings = []setting{
	{flag: "addr", env: "MARKETGATE_ADDR", def: "127.0.0.1:8080", usage: "address to listen on",
		set: text(func(c *Config) *string { return &c.Addr })},
	{flag: "data-dir", env: "MARKETGATE_DATA_DIR", def: "./data", usage: "directory of the SQLite database",
		set: text(func(c *Config) *string { return &c.DataDir })},
	{flag: "database-url", env: "MARKETGATE_DATABASE_URL", usage: "postgres:// URL: use Postgres instead of SQLite", secret: true,
		set: text(func(c *Config) *string { return &c.DatabaseURL })},
	{flag: "base-url", env: "MARKETGATE_BASE_URL", usage: "public URL of this instance, used in redirects and links (default http://ADDR)",
		set: text(func(c *Config) *string { return &c.BaseURL })},
	{flag: "sandbox", env: "MARKETGATE_SANDBOX", def: "false", usage: "sandbox mode: demo data and simulated marketplaces, no cloud account", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.Sandbox })},
	{flag: "sandbox-public", env: "MARKETGATE_SANDBOX_PUBLIC", def: "false", usage: "sandbox only: allow --addr to be a non-loopback address; the simulated Entra signs anyone in as anyone, so only on a network you trust", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.SandboxPublic })},
	{flag: "sandbox-latency", env: "MARKETGATE_SANDBOX_LATENCY", def: "0s", usage: "sandbox only: latency added to every call of the simulated marketplace APIs (e.g. 50ms)",
		set: duration(func(c *Config) *time.Duration { return &c.SandboxLatency }, 0, time.Minute, "a duration up to 1m")},
	{flag: "aws-region", env: "MARKETGATE_AWS_REGION", def: "us-east-1", usage: "AWS region of the Marketplace Metering API",
		set: text(func(c *Config) *string { return &c.AWS.Region })},
	{flag: "aws-metering-endpoint", env: "MARKETGATE_AWS_METERING_ENDPOINT", usage: "AWS Marketplace Metering endpoint URL (default: the SDK's; AWS_ENDPOINT_URL_MARKETPLACE_METERING also works)",
		set: text(func(c *Config) *string { return &c.AWS.MeteringEndpoint })},
	{flag: "aws-entitlement-endpoint", env: "MARKETGATE_AWS_ENTITLEMENT_ENDPOINT", usage: "AWS Marketplace Entitlement endpoint URL (always us-east-1; AWS_ENDPOINT_URL_MARKETPLACE_ENTITLEMENT_SERVICE also works)",
		set: text(func(c *Config) *string { return &c.AWS.EntitlementEndpoint })},
	{flag: "aws-partition", env: "MARKETGATE_AWS_PARTITION", def: "aws", usage: "AWS partition: aws, or aws-eusc (AWS European Sovereign Cloud: no Agreement Service, so free-trial terms show as unknown)",
		set: func(c *Config, name, raw string) error {
			if err := awsmp.CheckPartition(raw); err != nil {
				return fmt.Errorf("--%s: %w", name, err)
			}
			c.AWS.Partition = raw
			return nil
		}},
	{flag: "aws-agreement-endpoint", env: "MARKETGATE_AWS_AGREEMENT_ENDPOINT", usage: "AWS Marketplace Agreement Service endpoint URL, read for free-trial terms (default: the SDK's; AWS_ENDPOINT_URL_MARKETPLACE_AGREEMENT also works; setting it enables the service in any partition)",
		set: text(func(c *Config) *string { return &c.AWS.AgreementEndpoint })},
	{flag: "aws-agreement-region", env: "MARKETGATE_AWS_AGREEMENT_REGION", def: "us-east-1", usage: "AWS region of the Marketplace Agreement Service",
		set: text(func(c *Config) *string { return &c.AWS.AgreementRegion })},
	{flag: "aws-sqs-queue-urls", env: "MARKETGATE_AWS_SQS_QUEUE_URLS", usage: "comma-separated SQS queue URLs that receive the AWS Marketplace notifications",
		set: list(func(c *Config) *[]string { return &c.AWS.SQSQueueURLs })},
	{flag: "aws-sqs-endpoint", env: "MARKETGATE_AWS_SQS_ENDPOINT", usage: "SQS endpoint URL (default: the SDK's; AWS_ENDPOINT_URL_SQS also works)",
		set: text(func(c *Config) *string { return &c.AWS.SQSEndpoint })},
	{flag: "aws-sns-verify", env: "MARKETGATE_AWS_SNS_VERIFY", def: "false", usage: "verify the signature of every SNS notification (certificate from sns.<region>.amazonaws.com); off by default: the SQS queue policy is the trust boundary", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.AWS.SNSVerify })},
	{flag: "aws-sns-topic-arns", env: "MARKETGATE_AWS_SNS_TOPIC_ARNS", usage: "comma-separated SNS topic ARNs to accept notifications from (with --aws-sns-verify; empty: any topic)",
		set: list(func(c *Config) *[]string { return &c.AWS.SNSTopicARNs })},
	{flag: "azure-tenant-id", env: "MARKETGATE_AZURE_TENANT_ID", usage: "Microsoft: the publisher's Entra tenant id (as in Partner Center, Technical configuration)",
		set: text(func(c *Config) *string { return &c.Azure.TenantID })},
	{flag: "azure-client-id", env: "MARKETGATE_AZURE_CLIENT_ID", usage: "Microsoft: the publisher's Entra app (client) id; webhook tokens must be issued for it",
		set: text(func(c *Config) *string { return &c.Azure.ClientID })},
	{flag: "azure-client-secret", env: "MARKETGATE_AZURE_CLIENT_SECRET", usage: "Microsoft: the app's client secret (for tokens and the buyers' sign-in)", secret: true,
		set: text(func(c *Config) *string { return &c.Azure.ClientSecret })},
	{flag: "azure-api-url", env: "MARKETGATE_AZURE_API_URL", usage: "Microsoft SaaS Fulfillment/Operations base URL (default https://marketplaceapi.microsoft.com/api; set it for an emulator)",
		set: text(func(c *Config) *string { return &c.Azure.APIURL })},
	{flag: "azure-metering-url", env: "MARKETGATE_AZURE_METERING_URL", usage: "Microsoft metering base URL (default: the API URL)",
		set: text(func(c *Config) *string { return &c.Azure.MeteringURL })},
	{flag: "azure-login-url", env: "MARKETGATE_AZURE_LOGIN_URL", usage: "Entra authority host for sign-in and signing keys (default https://login.microsoftonline.com)",
		set: text(func(c *Config) *string { return &c.Azure.LoginURL })},
	{flag: "azure-webhook-insecure", env: "MARKETGATE_AZURE_WEBHOOK_INSECURE", def: "false", usage: "accept webhook calls without an Entra token: local emulators only; refused when the API URL is https", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.Azure.InsecureNotifications })},
	{flag: "azure-simulated-entra", env: "MARKETGATE_AZURE_SIMULATED_ENTRA", def: "false", usage: "run the sandbox's simulated Entra ID (buyer sign-in, the publisher's tokens) without the rest of the sandbox: no demo data, no simulated marketplace; to run against Microsoft's SaaS API emulator offline (anyone can sign in as anyone: never in production)", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.Azure.SimulatedEntra })},
	{flag: "azure-client-secret-expires", env: "MARKETGATE_AZURE_CLIENT_SECRET_EXPIRES", usage: "Microsoft: the client secret's expiry date (YYYY-MM-DD), for the setup check and the alerts 30, 7 and 1 days before, when the app may not read its own registration in Microsoft Graph (Application.Read.All)",
		set: func(c *Config, name, raw string) error {
			if raw == "" {
				return nil
			}
			t, err := time.Parse(time.DateOnly, raw)
			if err != nil {
				return fmt.Errorf("--%s must be a date (YYYY-MM-DD), not %q", name, raw)
			}
			c.Azure.SecretExpires = &t
			return nil
		}},
	{flag: "azure-reconcile-interval", env: "MARKETGATE_AZURE_RECONCILE_INTERVAL", def: "1h", usage: "how often Microsoft subscriptions are compared with the marketplace and repaired (Go duration, at least 1m)",
		set: duration(func(c *Config) *time.Duration { return &c.Azure.ReconcileInterval }, time.Minute, 0, "a duration of at least 1m")},
	{flag: "trusted-proxies", env: "MARKETGATE_TRUSTED_PROXIES", usage: "comma-separated addresses or CIDRs of the reverse proxies whose X-Forwarded-For/X-Real-IP name the client (empty: trust none, the client is the connection's address)",
		set: list(func(c *Config) *[]string { return &c.TrustedProxies })},
	{flag: "metrics-token", env: "MARKETGATE_METRICS_TOKEN", usage: "bearer token /metrics requires (Authorization: Bearer TOKEN); empty: /metrics is open", secret: true,
		set: text(func(c *Config) *string { return &c.MetricsToken })},
	{flag: "metrics-addr", env: "MARKETGATE_METRICS_ADDR", usage: "serve /metrics only on this separate address (e.g. 127.0.0.1:9090), not on --addr",
		set: text(func(c *Config) *string { return &c.MetricsAddr })},
	{flag: "support-email", env: "MARKETGATE_SUPPORT_EMAIL", usage: "support address shown to buyers on the first-use pages",
		set: text(func(c *Config) *string { return &c.SupportEmail })},
	{flag: "metering-grace", env: "MARKETGATE_METERING_GRACE", def: "5m", usage: "how long after an hour ends its usage is still counted in it before the hour is sealed and sent (Go duration, 1m to 1h)",
		set: duration(func(c *Config) *time.Duration { return &c.MeteringGrace }, time.Minute, time.Hour, "a duration from 1m to 1h")},
	{flag: "metering-claim", env: "MARKETGATE_METERING_CLAIM", def: "2000", usage: "records one replica leases per dispatch round (smaller rounds share the work between replicas sooner)",
		set: func(c *Config, name, raw string) error {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > 100000 {
				return fmt.Errorf("--%s must be a number from 1 to 100000, not %q", name, raw)
			}
			c.MeteringClaim = n
			return nil
		}},
	{flag: "smtp-addr", env: "MARKETGATE_SMTP_ADDR", usage: "SMTP server (host:port) for e-mail alerts and invitations (staff and customer admins); STARTTLS is used when the server offers it",
		set: text(func(c *Config) *string { return &c.SMTP.Addr })},
	{flag: "smtp-username", env: "MARKETGATE_SMTP_USERNAME", usage: "SMTP user name (empty: no authentication)",
		set: text(func(c *Config) *string { return &c.SMTP.Username })},
	{flag: "smtp-password", env: "MARKETGATE_SMTP_PASSWORD", usage: "SMTP password", secret: true,
		set: text(func(c *Config) *string { return &c.SMTP.Password })},
	{flag: "smtp-from", env: "MARKETGATE_SMTP_FROM", usage: "sender of e-mail alerts, e.g. \"Marketgate <alerts@example.com>\"",
		set: text(func(c *Config) *string { return &c.SMTP.From })},
	{flag: "oidc-issuer", env: "MARKETGATE_OIDC_ISSUER", usage: "single sign-on for seller staff: the OpenID Connect issuer URL (e.g. https://login.microsoftonline.com/TENANT/v2.0, https://COMPANY.okta.com, https://accounts.google.com)",
		set: text(func(c *Config) *string { return &c.OIDC.Issuer })},
	{flag: "oidc-client-id", env: "MARKETGATE_OIDC_CLIENT_ID", usage: "single sign-on: the client id registered with the provider (redirect URI BASE_URL/auth/sso/callback)",
		set: text(func(c *Config) *string { return &c.OIDC.ClientID })},
	{flag: "oidc-client-secret", env: "MARKETGATE_OIDC_CLIENT_SECRET", usage: "single sign-on: the client secret", secret: true,
		set: text(func(c *Config) *string { return &c.OIDC.ClientSecret })},
	{flag: "oidc-role-claim", env: "MARKETGATE_OIDC_ROLE_CLAIM", def: "groups", usage: "single sign-on: the ID token claim listing the user's groups or roles (groups, roles, ...)",
		set: text(func(c *Config) *string { return &c.OIDC.RoleClaim })},
	{flag: "oidc-role-map", env: "MARKETGATE_OIDC_ROLE_MAP", usage: "single sign-on: group=role pairs, comma-separated (roles admin, operator, viewer; * maps everyone); the highest wins, no match is refused",
		set: text(func(c *Config) *string { return &c.OIDC.roleMapText })},
	{flag: "oidc-name", env: "MARKETGATE_OIDC_NAME", def: "your company account", usage: "single sign-on: the provider's name on the sign-in button",
		set: text(func(c *Config) *string { return &c.OIDC.Name })},
	{flag: "oidc-scopes", env: "MARKETGATE_OIDC_SCOPES", def: "email,profile", usage: "single sign-on: scopes asked for besides openid, comma-separated",
		set: list(func(c *Config) *[]string { return &c.OIDC.Scopes })},
	{flag: "outbound-allow-private", env: "MARKETGATE_OUTBOUND_ALLOW_PRIVATE", def: "false", usage: "let webhook endpoints and Slack/Teams alert channels reach loopback and private-network addresses (refused by default; link-local and cloud metadata addresses stay refused)", boolean: true,
		set: boolean(func(c *Config) *bool { return &c.OutboundAllowPrivate })},
	{flag: "log-format", env: "MARKETGATE_LOG_FORMAT", def: "text", usage: "log format: text or json",
		set: func(c *Config, name, raw string) error {
			if raw != "text" && raw != "json" {
				return fmt.Errorf("--%s: %q is not text or json", name, raw)
			}
			c.LogFormat = raw
			return nil
		}},
	{flag: "log-level", env: "MARKETGATE_LOG_LEVEL", def: "info", usage: "log level: debug, info, warn or error",
		set: func(c *Config, name, raw string) error {
			if _, err := parseLevel(raw); err != nil {
				return fmt.Errorf("--%s: %q is not debug, info, warn or error", name, raw)
			}
			c.LogLevel = raw
			return nil
		}},
}

// dbSettings are the flags of commands that only need the database.
var dbSettings = []setting{serveSettings[1], serveSettings[2]}

// envSettings come from the environment (or NAME_FILE) only, never a flag.
var envSettings = []struct {
	env   string
	field func(*Config) *string
}{
	{"MARKETGATE_ADMIN_EMAIL", func(c *Config) *string { return &c.AdminEmail }},
	{"MARKETGATE_ADMIN_PASSWORD", func(c *Config) *string { return &c.AdminPassword }},
	{"MARKETGATE_SESSION_SECRET", func(c *Config) *string { return &c.SessionSecret }},
}

const serveAbout = "Run Marketgate: the portal, the API and the marketplace callbacks.\n\n" +
	"MARKETGATE_ADMIN_EMAIL and MARKETGATE_ADMIN_PASSWORD (or _FILE) make sure that admin exists at start-up,\n" +
	"with that password. Without them, the first start with no users creates admin@localhost and prints a\n" +
	"one-time password. MARKETGATE_SESSION_SECRET (or _FILE) signs session cookies; when unset a random key\n" +
	"is kept in the database."

// LoadConfig reads serve's configuration from its command-line arguments
// and the environment (a flag wins over its variable, NAME over
// NAME_FILE) and validates it. --help and flag errors go to out; the
// error is flag.ErrHelp after --help, and a usage error (exit code 2) for
// a bad setting.
func LoadConfig(args []string, env Env, out io.Writer) (*Config, error) {
	return loadConfig(newFlagSet("serve", serveAbout, out), args, env)
}

// loadConfig is LoadConfig on a flag set that may have flags of its own
// (doctor's).
func loadConfig(fs *flag.FlagSet, args []string, env Env) (*Config, error) {
	raw, err := register(fs, env, serveSettings)
	if err != nil {
		return nil, err
	}
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	c := &Config{}
	if err := decode(c, serveSettings, raw); err != nil {
		return nil, err
	}
	for _, s := range envSettings {
		if *s.field(c), err = env.Get(s.env); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the settings that depend on each other and fills in
// derived defaults (the base URL). Its errors are usage errors naming the
// flag or variable.
func (c *Config) Validate() error {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	for _, check := range []func() error{c.checkMarketplaces, c.checkOIDC, c.checkSecrets} {
		if err := check(); err != nil {
			return usageError{err}
		}
	}
	return nil
}

func (c *Config) checkMarketplaces() error {
	if c.AWS.SNSVerify && c.Sandbox {
		return errors.New("--aws-sns-verify cannot be used with --sandbox: the simulated AWS does not sign its messages with SNS certificates")
	}
	if c.SMTP.Addr != "" && c.SMTP.From == "" {
		return errors.New("--smtp-addr needs --smtp-from (the sender of e-mail alerts)")
	}
	if n := countSet(c.Azure.TenantID, c.Azure.ClientID, c.Azure.ClientSecret); n != 0 && n != 3 {
		return errors.New("set all of --azure-tenant-id, --azure-client-id and --azure-client-secret, or none")
	}
	if c.Azure.SimulatedEntra && !c.Sandbox && c.Azure.LoginURL != "" {
		return errors.New("--azure-simulated-entra replaces --azure-login-url: set one of them")
	}
	return nil
}

// checkOIDC checks single sign-on's settings (only with an issuer) and
// parses the role map.
func (c *Config) checkOIDC() error {
	if c.OIDC.Issuer == "" {
		return nil
	}
	if u, err := url.Parse(c.OIDC.Issuer); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--oidc-issuer must be the provider's issuer URL, not %q", c.OIDC.Issuer)
	}
	if c.OIDC.ClientID == "" || c.OIDC.ClientSecret == "" {
		return errors.New("--oidc-issuer needs --oidc-client-id and --oidc-client-secret")
	}
	if c.OIDC.roleMapText != "" || c.OIDC.RoleMap == nil {
		m, err := auth.ParseRoleMap(c.OIDC.roleMapText)
		if err != nil {
			return fmt.Errorf("--oidc-role-map: %w", err)
		}
		c.OIDC.RoleMap = m
	}
	return nil
}

func (c *Config) checkSecrets() error {
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return errors.New("set both MARKETGATE_ADMIN_EMAIL and MARKETGATE_ADMIN_PASSWORD, or neither")
	}
	if c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@") {
		return errors.New("MARKETGATE_ADMIN_EMAIL must be an e-mail address")
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		return errors.New("MARKETGATE_SESSION_SECRET must have at least 32 characters")
	}
	return nil
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// decode fills c from the raw text of each setting.
func decode(c *Config, ss []setting, raw map[string]*string) error {
	for _, s := range ss {
		if err := s.set(c, s.flag, *raw[s.flag]); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// register adds the settings to fs with defaults taken from env, and
// returns where each flag's text lands (by flag name, for decode).
func register(fs *flag.FlagSet, env Env, ss []setting) (map[string]*string, error) {
	out := map[string]*string{}
	for _, s := range ss {
		def := s.def
		v, err := env.Get(s.env)
		if err != nil {
			return nil, err
		}
		if v != "" {
			def = v
		}
		usage := fmt.Sprintf("%s (env %s", s.usage, s.env)
		if s.secret {
			usage += " or " + s.env + "_FILE"
		}
		usage += ")"
		p := new(string)
		if s.boolean {
			b, _ := strconv.ParseBool(s.def)
			*p = strconv.FormatBool(b)
			fs.Var(boolString{p}, s.flag, usage)
			if v != "" {
				*p = v // keep the raw env value so a typo is reported, not ignored
			}
		} else {
			fs.StringVar(p, s.flag, def, usage)
			if s.secret && v != "" {
				// do not print secrets from the environment as defaults in --help
				fs.Lookup(s.flag).DefValue = "(from environment)"
			}
		}
		out[s.flag] = p
	}
	return out, nil
}

// boolString is a boolean flag that stores its text.
type boolString struct{ p *string }

func (b boolString) String() string {
	if b.p == nil {
		return "false"
	}
	return *b.p
}
func (b boolString) Set(s string) error {
	if _, err := strconv.ParseBool(s); err != nil {
		return errors.New("must be true or false")
	}
	*b.p = s
	return nil
}
func (b boolString) IsBoolFlag() bool { return true }

// splitList reads a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, q := range strings.Split(s, ",") {
		if q = strings.TrimSpace(q); q != "" {
			out = append(out, q)
		}
	}
	return out
}
