package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// envOf is an environment with just these variables.
func envOf(kv ...string) Env {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func load(t *testing.T, env Env, args ...string) *Config {
	t.Helper()
	c, err := LoadConfig(args, env, io.Discard)
	if err != nil {
		t.Fatalf("LoadConfig(%q): %v", args, err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	c := load(t, envOf())
	want := &Config{
		Addr: "127.0.0.1:8080", DataDir: "./data", BaseURL: "http://127.0.0.1:8080",
		AWS:            AWSConfig{Region: "us-east-1", Partition: "aws", AgreementRegion: "us-east-1"},
		Azure:          AzureConfig{ReconcileInterval: time.Hour},
		OIDC:           OIDCConfig{RoleClaim: "groups", Name: "your company account", Scopes: []string{"email", "profile"}},
		MeteringGrace:  5 * time.Minute,
		MeteringClaim:  2000,
		LogFormat:      "text",
		LogLevel:       "info",
		SandboxLatency: 0,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestConfigEnvironmentAndFlags(t *testing.T) {
	env := envOf("MARKETGATE_ADDR", "0.0.0.0:9000", "MARKETGATE_SANDBOX", "true", "MARKETGATE_SANDBOX_PUBLIC", "1",
		"MARKETGATE_METERING_GRACE", "10m", "MARKETGATE_AWS_SQS_QUEUE_URLS", " https://q/1 ,,https://q/2 ",
		"MARKETGATE_BASE_URL", "https://portal.example.com/", "MARKETGATE_LOG_LEVEL", "debug")
	c := load(t, env)
	if c.Addr != "0.0.0.0:9000" || !c.Sandbox || !c.SandboxPublic || c.MeteringGrace != 10*time.Minute || c.LogLevel != "debug" {
		t.Fatalf("the environment was not applied: %+v", c)
	}
	if want := []string{"https://q/1", "https://q/2"}; !slices.Equal(c.AWS.SQSQueueURLs, want) {
		t.Fatalf("queue list = %q, want %q", c.AWS.SQSQueueURLs, want)
	}
	if c.BaseURL != "https://portal.example.com" {
		t.Fatalf("base URL = %q: the trailing slash stays", c.BaseURL)
	}
	// A flag wins over its variable.
	c = load(t, env, "--addr", "127.0.0.1:7000", "--sandbox=false", "--metering-grace", "2m")
	if c.Addr != "127.0.0.1:7000" || c.Sandbox || c.MeteringGrace != 2*time.Minute {
		t.Fatalf("flags did not win over the environment: %+v", c)
	}
	if c.BaseURL != "https://portal.example.com" {
		t.Fatalf("base URL = %q", c.BaseURL)
	}
}

func TestConfigFileVariants(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := strings.Repeat("s", 40)
	env := envOf("MARKETGATE_METRICS_TOKEN_FILE", write("token", "tok-from-file\n"),
		"MARKETGATE_SESSION_SECRET_FILE", write("session", secret+"\r\n"),
		"MARKETGATE_ADMIN_EMAIL", "ops@example.com", "MARKETGATE_ADMIN_PASSWORD_FILE", write("pw", "correct horse battery\n"),
		"MARKETGATE_SMTP_PASSWORD", "from-variable", "MARKETGATE_SMTP_PASSWORD_FILE", write("smtp", "from-file"))
	c := load(t, env)
	if c.MetricsToken != "tok-from-file" || c.SessionSecret != secret || c.AdminPassword != "correct horse battery" {
		t.Fatalf("_FILE values (trailing newline trimmed): %+v", c)
	}
	if c.SMTP.Password != "from-variable" {
		t.Fatalf("NAME must win over NAME_FILE: %q", c.SMTP.Password)
	}
	_, err := LoadConfig(nil, envOf("MARKETGATE_OIDC_CLIENT_SECRET_FILE", filepath.Join(dir, "missing")), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "MARKETGATE_OIDC_CLIENT_SECRET_FILE") {
		t.Fatalf("an unreadable _FILE must be named in the error: %v", err)
	}
}

func TestConfigValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  Env
		args []string
		want string
	}{
		{"boolean typo", envOf("MARKETGATE_SANDBOX", "ture"), nil, `--sandbox: "ture" is not true or false`},
		{"boolean flag typo", envOf(), []string{"--outbound-allow-private=maybe"}, "must be true or false"},
		{"latency over a minute", envOf(), []string{"--sandbox-latency", "2m"}, `--sandbox-latency must be a duration up to 1m, not "2m"`},
		{"negative latency", envOf(), []string{"--sandbox-latency", "-1s"}, "--sandbox-latency must be a duration up to 1m"},
		{"grace too short", envOf(), []string{"--metering-grace", "30s"}, `--metering-grace must be a duration from 1m to 1h, not "30s"`},
		{"grace not a duration", envOf("MARKETGATE_METERING_GRACE", "5"), nil, `--metering-grace must be a duration from 1m to 1h, not "5"`},
		{"claim zero", envOf(), []string{"--metering-claim", "0"}, `--metering-claim must be a number from 1 to 100000, not "0"`},
		{"reconcile too often", envOf(), []string{"--azure-reconcile-interval", "30s"}, "--azure-reconcile-interval must be a duration of at least 1m"},
		{"unknown partition", envOf(), []string{"--aws-partition", "aws-moon"}, `--aws-partition: unknown AWS partition "aws-moon"`},
		{"log format", envOf(), []string{"--log-format", "xml"}, `--log-format: "xml" is not text or json`},
		{"log level", envOf(), []string{"--log-level", "loud"}, `--log-level: "loud" is not debug, info, warn or error`},
		{"sns verify in the sandbox", envOf(), []string{"--sandbox", "--aws-sns-verify"}, "--aws-sns-verify cannot be used with --sandbox"},
		{"smtp without sender", envOf(), []string{"--smtp-addr", "mail:25"}, "--smtp-addr needs --smtp-from"},
		{"partial Microsoft app", envOf(), []string{"--azure-tenant-id", "t", "--azure-client-id", "c"}, "set all of --azure-tenant-id, --azure-client-id and --azure-client-secret, or none"},
		{"simulated Entra and a login URL", envOf(), []string{"--azure-simulated-entra", "--azure-login-url", "https://login.example"}, "--azure-simulated-entra replaces --azure-login-url"},
		{"oidc issuer not a URL", envOf(), []string{"--oidc-issuer", "okta"}, `--oidc-issuer must be the provider's issuer URL, not "okta"`},
		{"oidc without client", envOf(), []string{"--oidc-issuer", "https://id.example"}, "--oidc-issuer needs --oidc-client-id and --oidc-client-secret"},
		{"oidc without role map", envOf(), []string{"--oidc-issuer", "https://id.example", "--oidc-client-id", "c", "--oidc-client-secret", "s"}, "--oidc-role-map: map at least one group"},
		{"oidc bad role", envOf(), []string{"--oidc-issuer", "https://id.example", "--oidc-client-id", "c", "--oidc-client-secret", "s", "--oidc-role-map", "ops=root"}, "--oidc-role-map:"},
		{"admin e-mail alone", envOf("MARKETGATE_ADMIN_EMAIL", "a@example.com"), nil, "set both MARKETGATE_ADMIN_EMAIL and MARKETGATE_ADMIN_PASSWORD, or neither"},
		{"admin not an e-mail", envOf("MARKETGATE_ADMIN_EMAIL", "admin", "MARKETGATE_ADMIN_PASSWORD", "pw"), nil, "MARKETGATE_ADMIN_EMAIL must be an e-mail address"},
		{"short session secret", envOf("MARKETGATE_SESSION_SECRET", "short"), nil, "MARKETGATE_SESSION_SECRET must have at least 32 characters"},
		{"unknown flag", envOf(), []string{"--adr", "x"}, "flag provided but not defined: -adr"},
		{"stray argument", envOf(), []string{"now"}, `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.args, tc.env, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("%v is not a usage error (exit code 2)", err)
			}
		})
	}
}

func TestConfigValidOIDC(t *testing.T) {
	c := load(t, envOf(), "--oidc-issuer", "https://id.example", "--oidc-client-id", "c", "--oidc-client-secret", "s",
		"--oidc-role-map", "ops=admin, *=viewer", "--oidc-scopes", "email,groups")
	if c.OIDC.RoleMap["ops"] != "admin" || c.OIDC.RoleMap["*"] != "viewer" || !slices.Equal(c.OIDC.Scopes, []string{"email", "groups"}) {
		t.Fatalf("OIDC settings: %+v", c.OIDC)
	}
	// A role map is only read with an issuer (as before: no issuer, no check).
	load(t, envOf(), "--oidc-role-map", "nonsense")
}

// Every setting fills a field of Config: giving it a value that is not its
// default changes the decoded Config. A setting read by a mistyped name, or
// bound to nothing, fails here.
func TestEverySettingFillsAField(t *testing.T) {
	base := &Config{}
	raw := map[string]*string{}
	for _, s := range serveSettings {
		v := s.def
		raw[s.flag] = &v
	}
	if err := decode(base, serveSettings, raw); err != nil {
		t.Fatal(err)
	}
	for _, s := range serveSettings {
		other := map[string]string{"boolean": "true", "duration": "7m", "sandbox-latency": "50ms", "metering-claim": "7", "aws-partition": "aws-eusc",
			"log-format": "json", "log-level": "warn", "azure-client-secret-expires": "2027-06-30"}
		v := "other-value"
		switch {
		case s.boolean:
			v = other["boolean"]
		case other[s.flag] != "":
			v = other[s.flag]
		case strings.HasSuffix(s.def, "s") || strings.HasSuffix(s.def, "m") || strings.HasSuffix(s.def, "h"):
			v = other["duration"]
		}
		c := &Config{}
		r := map[string]*string{}
		for k, p := range raw {
			x := *p
			r[k] = &x
		}
		*r[s.flag] = v
		if err := decode(c, serveSettings, r); err != nil {
			t.Fatalf("--%s=%s: %v", s.flag, v, err)
		}
		if reflect.DeepEqual(c, base) {
			t.Errorf("--%s (%s) fills no field of Config", s.flag, s.env)
		}
	}
}

// The names are the user-facing contract: MARKETGATE_ + the flag, every
// one in the README's settings table, which names no other.
func TestSettingsNamesAndREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` \\| `(MARKETGATE_[A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(readme), -1)
	inREADME := map[string]string{}
	for _, r := range rows {
		inREADME[r[1]] = r[2]
	}
	seen := map[string]bool{}
	for _, s := range serveSettings {
		if want := "MARKETGATE_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_")); s.env != want {
			t.Errorf("--%s reads %s, want %s", s.flag, s.env, want)
		}
		if seen[s.flag] {
			t.Errorf("--%s twice", s.flag)
		}
		seen[s.flag] = true
		if inREADME[s.flag] != s.env {
			t.Errorf("README's settings table lacks --%s / %s", s.flag, s.env)
		}
	}
	for f := range inREADME {
		if !seen[f] {
			t.Errorf("README's settings table names --%s, which serve does not have", f)
		}
	}
}

func TestServeHelpNamesEverySettingAndHidesSecrets(t *testing.T) {
	var out bytes.Buffer
	_, err := LoadConfig([]string{"--help"}, envOf("MARKETGATE_METRICS_TOKEN", "s3cret-token"), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, s := range serveSettings {
		if !strings.Contains(help, "-"+s.flag) || !strings.Contains(help, "env "+s.env) {
			t.Errorf("--help lacks --%s (env %s)", s.flag, s.env)
		}
	}
	if strings.Contains(help, "s3cret-token") || !strings.Contains(help, "(from environment)") {
		t.Error("--help printed a secret from the environment")
	}
}

func TestRunExitCodeForBadSettings(t *testing.T) {
	var stderr bytes.Buffer
	code := Run(context.Background(), []string{"serve", "--metering-claim", "many"}, IO{Stdout: io.Discard, Stderr: &stderr, Env: envOf()})
	if code != 2 || !strings.Contains(stderr.String(), `--metering-claim must be a number from 1 to 100000, not "many"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
