package app

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
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

// setting is one flag with its environment variable.
type setting struct {
	flag, env, def, usage string
	secret                bool
	boolean               bool
}

// serveSettings are serve's flags; the README's settings table lists them.
var serveSettings = []setting{
	{flag: "addr", env: "MARKETGATE_ADDR", def: "127.0.0.1:8080", usage: "address to listen on"},
	{flag: "data-dir", env: "MARKETGATE_DATA_DIR", def: "./data", usage: "directory of the SQLite database"},
	{flag: "database-url", env: "MARKETGATE_DATABASE_URL", usage: "postgres:// URL: use Postgres instead of SQLite", secret: true},
	{flag: "base-url", env: "MARKETGATE_BASE_URL", usage: "public URL of this instance, used in redirects and links (default http://ADDR)"},
	{flag: "sandbox", env: "MARKETGATE_SANDBOX", def: "false", usage: "sandbox mode: demo data and simulated marketplaces, no cloud account", boolean: true},
	{flag: "sandbox-public", env: "MARKETGATE_SANDBOX_PUBLIC", def: "false", usage: "sandbox only: allow --addr to be a non-loopback address; the simulated Entra signs anyone in as anyone, so only on a network you trust", boolean: true},
	{flag: "sandbox-latency", env: "MARKETGATE_SANDBOX_LATENCY", def: "0s", usage: "sandbox only: latency added to every call of the simulated marketplace APIs (e.g. 50ms)"},
	{flag: "aws-region", env: "MARKETGATE_AWS_REGION", def: "us-east-1", usage: "AWS region of the Marketplace Metering API"},
	{flag: "aws-metering-endpoint", env: "MARKETGATE_AWS_METERING_ENDPOINT", usage: "AWS Marketplace Metering endpoint URL (default: the SDK's; AWS_ENDPOINT_URL_MARKETPLACE_METERING also works)"},
	{flag: "aws-entitlement-endpoint", env: "MARKETGATE_AWS_ENTITLEMENT_ENDPOINT", usage: "AWS Marketplace Entitlement endpoint URL (always us-east-1; AWS_ENDPOINT_URL_MARKETPLACE_ENTITLEMENT_SERVICE also works)"},
	{flag: "aws-partition", env: "MARKETGATE_AWS_PARTITION", def: "aws", usage: "AWS partition: aws, or aws-eusc (AWS European Sovereign Cloud: no Agreement Service, so free-trial terms show as unknown)"},
	{flag: "aws-agreement-endpoint", env: "MARKETGATE_AWS_AGREEMENT_ENDPOINT", usage: "AWS Marketplace Agreement Service endpoint URL, read for free-trial terms (default: the SDK's; AWS_ENDPOINT_URL_MARKETPLACE_AGREEMENT also works; setting it enables the service in any partition)"},
	{flag: "aws-agreement-region", env: "MARKETGATE_AWS_AGREEMENT_REGION", def: "us-east-1", usage: "AWS region of the Marketplace Agreement Service"},
	{flag: "aws-sqs-queue-urls", env: "MARKETGATE_AWS_SQS_QUEUE_URLS", usage: "comma-separated SQS queue URLs that receive the AWS Marketplace notifications"},
	{flag: "aws-sqs-endpoint", env: "MARKETGATE_AWS_SQS_ENDPOINT", usage: "SQS endpoint URL (default: the SDK's; AWS_ENDPOINT_URL_SQS also works)"},
	{flag: "aws-sns-verify", env: "MARKETGATE_AWS_SNS_VERIFY", def: "false", usage: "verify the signature of every SNS notification (certificate from sns.<region>.amazonaws.com); off by default: the SQS queue policy is the trust boundary", boolean: true},
	{flag: "aws-sns-topic-arns", env: "MARKETGATE_AWS_SNS_TOPIC_ARNS", usage: "comma-separated SNS topic ARNs to accept notifications from (with --aws-sns-verify; empty: any topic)"},
	{flag: "azure-tenant-id", env: "MARKETGATE_AZURE_TENANT_ID", usage: "Microsoft: the publisher's Entra tenant id (as in Partner Center, Technical configuration)"},
	{flag: "azure-client-id", env: "MARKETGATE_AZURE_CLIENT_ID", usage: "Microsoft: the publisher's Entra app (client) id; webhook tokens must be issued for it"},
	{flag: "azure-client-secret", env: "MARKETGATE_AZURE_CLIENT_SECRET", usage: "Microsoft: the app's client secret (for tokens and the buyers' sign-in)", secret: true},
	{flag: "azure-api-url", env: "MARKETGATE_AZURE_API_URL", usage: "Microsoft SaaS Fulfillment/Operations base URL (default https://marketplaceapi.microsoft.com/api; set it for an emulator)"},
	{flag: "azure-metering-url", env: "MARKETGATE_AZURE_METERING_URL", usage: "Microsoft metering base URL (default: the API URL)"},
	{flag: "azure-login-url", env: "MARKETGATE_AZURE_LOGIN_URL", usage: "Entra authority host for sign-in and signing keys (default https://login.microsoftonline.com)"},
	{flag: "azure-webhook-insecure", env: "MARKETGATE_AZURE_WEBHOOK_INSECURE", def: "false", usage: "accept webhook calls without an Entra token: local emulators only; refused when the API URL is https", boolean: true},
	{flag: "azure-simulated-entra", env: "MARKETGATE_AZURE_SIMULATED_ENTRA", def: "false", usage: "run the sandbox's simulated Entra ID (buyer sign-in, the publisher's tokens) without the rest of the sandbox: no demo data, no simulated marketplace; to run against Microsoft's SaaS API emulator offline (anyone can sign in as anyone: never in production)", boolean: true},
	{flag: "azure-reconcile-interval", env: "MARKETGATE_AZURE_RECONCILE_INTERVAL", def: "1h", usage: "how often Microsoft subscriptions are compared with the marketplace and repaired (Go duration, at least 1m)"},
	{flag: "trusted-proxies", env: "MARKETGATE_TRUSTED_PROXIES", usage: "comma-separated addresses or CIDRs of the reverse proxies whose X-Forwarded-For/X-Real-IP name the client (empty: trust none, the client is the connection's address)"},
	{flag: "metrics-token", env: "MARKETGATE_METRICS_TOKEN", usage: "bearer token /metrics requires (Authorization: Bearer TOKEN); empty: /metrics is open", secret: true},
	{flag: "metrics-addr", env: "MARKETGATE_METRICS_ADDR", usage: "serve /metrics only on this separate address (e.g. 127.0.0.1:9090), not on --addr"},
	{flag: "support-email", env: "MARKETGATE_SUPPORT_EMAIL", usage: "support address shown to buyers on the first-use pages"},
	{flag: "metering-grace", env: "MARKETGATE_METERING_GRACE", def: "5m", usage: "how long after an hour ends its usage is still counted in it before the hour is sealed and sent (Go duration, 1m to 1h)"},
	{flag: "metering-claim", env: "MARKETGATE_METERING_CLAIM", def: "2000", usage: "records one replica leases per dispatch round (smaller rounds share the work between replicas sooner)"},
	{flag: "smtp-addr", env: "MARKETGATE_SMTP_ADDR", usage: "SMTP server (host:port) for e-mail alerts; STARTTLS is used when the server offers it"},
	{flag: "smtp-username", env: "MARKETGATE_SMTP_USERNAME", usage: "SMTP user name (empty: no authentication)"},
	{flag: "smtp-password", env: "MARKETGATE_SMTP_PASSWORD", usage: "SMTP password", secret: true},
	{flag: "smtp-from", env: "MARKETGATE_SMTP_FROM", usage: "sender of e-mail alerts, e.g. \"Marketgate <alerts@example.com>\""},
	{flag: "oidc-issuer", env: "MARKETGATE_OIDC_ISSUER", usage: "single sign-on for seller staff: the OpenID Connect issuer URL (e.g. https://login.microsoftonline.com/TENANT/v2.0, https://COMPANY.okta.com, https://accounts.google.com)"},
	{flag: "oidc-client-id", env: "MARKETGATE_OIDC_CLIENT_ID", usage: "single sign-on: the client id registered with the provider (redirect URI BASE_URL/auth/sso/callback)"},
	{flag: "oidc-client-secret", env: "MARKETGATE_OIDC_CLIENT_SECRET", usage: "single sign-on: the client secret", secret: true},
	{flag: "oidc-role-claim", env: "MARKETGATE_OIDC_ROLE_CLAIM", def: "groups", usage: "single sign-on: the ID token claim listing the user's groups or roles (groups, roles, ...)"},
	{flag: "oidc-role-map", env: "MARKETGATE_OIDC_ROLE_MAP", usage: "single sign-on: group=role pairs, comma-separated (roles admin, operator, viewer; * maps everyone); the highest wins, no match is refused"},
	{flag: "oidc-name", env: "MARKETGATE_OIDC_NAME", def: "your company account", usage: "single sign-on: the provider's name on the sign-in button"},
	{flag: "oidc-scopes", env: "MARKETGATE_OIDC_SCOPES", def: "email,profile", usage: "single sign-on: scopes asked for besides openid, comma-separated"},
	{flag: "outbound-allow-private", env: "MARKETGATE_OUTBOUND_ALLOW_PRIVATE", def: "false", usage: "let webhook endpoints and Slack/Teams alert channels reach loopback and private-network addresses (refused by default; link-local and cloud metadata addresses stay refused)", boolean: true},
	{flag: "log-format", env: "MARKETGATE_LOG_FORMAT", def: "text", usage: "log format: text or json"},
	{flag: "log-level", env: "MARKETGATE_LOG_LEVEL", def: "info", usage: "log level: debug, info, warn or error"},
}

// dbSettings are the flags of commands that only need the database.
var dbSettings = []setting{serveSettings[1], serveSettings[2]}

type values map[string]*string

func (v values) str(name string) string { return *v[name] }

func (v values) boolean(name string) (bool, error) {
	s := strings.TrimSpace(*v[name])
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("--%s: %q is not true or false", name, s)
	}
	return b, nil
}

// register adds the settings to fs with defaults taken from env.
func register(fs *flag.FlagSet, env Env, ss []setting) (values, error) {
	out := values{}
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
