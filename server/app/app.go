// Package app is Marketgate's command line: serve, migrate, user add and
// version. main calls Run; end-to-end tests start the built binary.
package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Version is set at build time (scripts/build.sh).
var Version = "dev"

// IO is the process's standard streams and environment.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Env            Env
	Portal         iofs.FS // the embedded portal build (may lack index.html)
}

const usage = `Marketgate sells your SaaS through AWS Marketplace and Microsoft's commercial marketplace.

Usage:
  marketgate <command> [flags]

Commands:
  serve      run the server (portal, API, marketplace callbacks)
  migrate    apply database migrations and exit
  user add   create a user (seller staff or customer admin)
  apikey     create or list API keys for the seller's application
  version    print the version

Run "marketgate <command> --help" for a command's flags.
`

// Run runs the command line and returns the exit code.
func Run(ctx context.Context, args []string, o IO) int {
	if len(args) == 0 {
		fmt.Fprint(o.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], o)
	case "migrate":
		err = migrate(ctx, args[1:], o)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			fmt.Fprint(o.Stderr, "usage: marketgate user add --email EMAIL --role ROLE [flags]\nRun \"marketgate user add --help\" for the flags.\n")
			return 2
		}
		err = userAdd(ctx, args[2:], o)
	case "apikey":
		if len(args) < 2 || (args[1] != "create" && args[1] != "list") {
			fmt.Fprint(o.Stderr, "usage: marketgate apikey create --name NAME | marketgate apikey list\n")
			return 2
		}
		if args[1] == "create" {
			err = apikeyCreate(ctx, args[2:], o)
		} else {
			err = apikeyList(ctx, args[2:], o)
		}
	case "version", "--version", "-version":
		fmt.Fprintf(o.Stdout, "marketgate %s\n", Version)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(o.Stdout, usage)
	default:
		fmt.Fprintf(o.Stderr, "marketgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(o.Stderr, "marketgate: %s\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "marketgate: %s\n", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func newFlagSet(name, about string, o IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: marketgate %s [flags]\n\n%s\n\nFlags:\n", name, about)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func openStore(ctx context.Context, v values) (*store.Store, error) {
	return store.Open(ctx, store.Config{DataDir: v.str("data-dir"), DatabaseURL: v.str("database-url")})
}

func migrate(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("migrate", "Apply every pending database migration, then exit. serve does this too at start-up.", o)
	v, err := register(fs, o.Env, dbSettings)
	if err != nil {
		return err
	}
	status := fs.Bool("status", false, "only list the pending migrations")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, v)
	if err != nil {
		return err
	}
	defer st.Close()
	pending, err := st.PendingMigrations()
	if err != nil {
		return err
	}
	if *status {
		if len(pending) == 0 {
			fmt.Fprintln(o.Stdout, "database is up to date")
		}
		for _, id := range pending {
			fmt.Fprintln(o.Stdout, "pending:", id)
		}
		return nil
	}
	if err := st.Migrate(); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "applied %d migration(s); database is up to date\n", len(pending))
	return nil
}

func userAdd(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("user add", "Create a user. The password comes from --password-stdin (recommended) or --password.", o)
	v, err := register(fs, o.Env, dbSettings)
	if err != nil {
		return err
	}
	email := fs.String("email", "", "e-mail address (required)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "role: "+strings.Join(store.Roles, ", ")+" (required)")
	customer := fs.Uint("customer", 0, "customer id (required for customer_admin)")
	password := fs.String("password", "", "password (visible in the process list: prefer --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !strings.Contains(*email, "@") {
		return usageError{errors.New("--email is required and must be an e-mail address")}
	}
	validRole := false
	for _, r := range store.Roles {
		validRole = validRole || r == *role
	}
	if !validRole {
		return usageError{fmt.Errorf("--role must be one of %s", strings.Join(store.Roles, ", "))}
	}
	if (*role == store.RoleCustomerAdmin) != (*customer != 0) {
		return usageError{errors.New("--customer is required for customer_admin and only for it")}
	}
	pw := *password
	if *fromStdin {
		if pw != "" {
			return usageError{errors.New("use --password or --password-stdin, not both")}
		}
		line, err := bufio.NewReader(o.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return usageError{errors.New("a password is required: --password-stdin or --password")}
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, v)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		return err
	}
	u := &store.User{Email: *email, Name: *name, Role: *role, PasswordHash: hash}
	if *customer != 0 {
		c := uint(*customer)
		u.CustomerID = &c
	}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("a user with e-mail %s already exists", store.NormalizeEmail(*email))
		}
		if strings.Contains(strings.ToLower(err.Error()), "foreign key") {
			return fmt.Errorf("customer %d does not exist", *customer)
		}
		return err
	}
	fmt.Fprintf(o.Stdout, "created user %d: %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}

func apikeyCreate(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("apikey create", "Create an API key for the seller's application. The key is printed once; only its hash is kept.", o)
	v, err := register(fs, o.Env, dbSettings)
	if err != nil {
		return err
	}
	name := fs.String("name", "", "what the key is for (required)")
	scopeList := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(auth.APIKeyScopes, ", ")+" (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" || len(*name) > 200 {
		return usageError{errors.New("--name is required (at most 200 characters)")}
	}
	scopes, ok := auth.ParseScopes(strings.Split(*scopeList, ","))
	if !ok {
		return usageError{fmt.Errorf("--scopes: one or more of %s", strings.Join(auth.APIKeyScopes, ", "))}
	}
	st, err := openStore(ctx, v)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		return err
	}
	key, prefix := auth.NewAPIKey()
	k := &store.APIKey{Name: strings.TrimSpace(*name), Prefix: prefix, Scopes: scopes}
	if err := st.CreateAPIKey(ctx, k, key); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "Created API key %d (%s). It is shown once; store it now:\n", k.ID, k.Name)
	fmt.Fprintln(o.Stdout, key)
	return nil
}

func apikeyList(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("apikey list", "List API keys (never the keys themselves).", o)
	v, err := register(fs, o.Env, dbSettings)
	if err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, v)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		return err
	}
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		used, state := "never used", "active"
		if k.LastUsedAt != nil {
			used = "last used " + k.LastUsedAt.Format(time.RFC3339)
		}
		if k.RevokedAt != nil {
			state = "revoked"
		}
		fmt.Fprintf(o.Stdout, "%d\t%s…\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, state, used)
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format: %q is not text or json", format)}
}

func serve(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("serve", "Run Marketgate: the portal, the API and the marketplace callbacks.\n\n"+
		"MARKETGATE_ADMIN_EMAIL and MARKETGATE_ADMIN_PASSWORD (or _FILE) make sure that admin exists at start-up,\n"+
		"with that password. Without them, the first start with no users creates admin@localhost and prints a\n"+
		"one-time password. MARKETGATE_SESSION_SECRET (or _FILE) signs session cookies; when unset a random key\n"+
		"is kept in the database.", o)
	v, err := register(fs, o.Env, serveSettings)
	if err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	sandboxMode, err := v.boolean("sandbox")
	if err != nil {
		return usageError{err}
	}
	verify, err := v.boolean("aws-sns-verify")
	if err != nil {
		return usageError{err}
	}
	if verify && sandboxMode {
		return usageError{errors.New("--aws-sns-verify cannot be used with --sandbox: the simulated AWS does not sign its messages with SNS certificates")}
	}
	log, err := newLogger(o.Stderr, v.str("log-format"), v.str("log-level"))
	if err != nil {
		return err
	}
	addr := v.str("addr")
	baseURL := strings.TrimRight(v.str("base-url"), "/")
	if baseURL == "" {
		baseURL = "http://" + addr
	}

	st, err := openStore(ctx, v)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := ensureAdmin(ctx, st, o, log); err != nil {
		return err
	}
	if sandboxMode {
		n, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{})
		if err != nil {
			return fmt.Errorf("sandbox seed: %w", err)
		}
		if n > 0 {
			log.Info("sandbox: seeded demo data", "subscriptions", n)
		}
	}
	key, err := sessionKey(ctx, st, o.Env)
	if err != nil {
		return err
	}
	sessions := auth.NewSessionStore(st, key, strings.HasPrefix(baseURL, "https://"), 12*time.Hour)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if sandboxMode {
		public, err := v.boolean("sandbox-public")
		if err != nil {
			return usageError{err}
		}
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			if !public {
				return usageError{fmt.Errorf("--sandbox listens on %s, which is not a loopback address: the simulated Microsoft Entra signs anyone in as anyone. "+
					"Use --addr 127.0.0.1:PORT, or add --sandbox-public to allow it on a network you trust", ln.Addr())}
			}
			log.Warn("SANDBOX ON A NON-LOOPBACK ADDRESS: anyone who reaches " + ln.Addr().String() +
				" can sign in as any customer admin through the simulated Microsoft Entra. Never use real data or expose it to the internet.")
		}
	}
	awsCfg := awsmp.Config{Region: v.str("aws-region"), MeteringEndpoint: v.str("aws-metering-endpoint"),
		SQSEndpoint: v.str("aws-sqs-endpoint"), EntitlementEndpoint: v.str("aws-entitlement-endpoint"),
		Partition: v.str("aws-partition"), AgreementEndpoint: v.str("aws-agreement-endpoint"), AgreementRegion: v.str("aws-agreement-region")}
	if err := awsmp.CheckPartition(awsCfg.Partition); err != nil {
		return usageError{fmt.Errorf("--aws-partition: %w", err)}
	}
	queues := splitList(v.str("aws-sqs-queue-urls"))
	var sb *api.Sandbox
	var azSandbox *azureEndpoints
	if sandboxMode {
		// The simulated AWS Marketplace runs inside this process; the real
		// SDK clients reach it over HTTP like the real services.
		local := "http://" + ln.Addr().String()
		sb = &api.Sandbox{AWSMetering: awsfake.NewMetering(nil), AWSSQS: awsfake.NewSQS(nil), AWSEntitlements: awsfake.NewEntitlements(),
			AWSAgreements: awsfake.NewAgreementService(),
			AWSQueueURL:   local + "/sandbox/aws/sqs/000000000000/marketgate-sandbox-notifications"}
		sb.AWSSQS.CreateQueue(sb.AWSQueueURL)
		if sb.Latency, err = time.ParseDuration(v.str("sandbox-latency")); err != nil || sb.Latency < 0 || sb.Latency > time.Minute {
			return usageError{fmt.Errorf("--sandbox-latency must be a duration up to 1m, not %q", v.str("sandbox-latency"))}
		}
		if err := sandbox.LoadAWS(ctx, st, sb.AWSMetering, sb.AWSEntitlements); err != nil {
			return err
		}
		// What the simulated AWS billed survives restarts, like AWS.
		if err := os.MkdirAll(v.str("data-dir"), 0o750); err != nil {
			return err
		}
		if err := sb.AWSMetering.PersistTo(filepath.Join(v.str("data-dir"), SandboxAWSMeteredFile)); err != nil {
			return err
		}
		awsCfg = awsmp.Config{Region: "us-east-1", MeteringEndpoint: local + "/sandbox/aws/metering",
			SQSEndpoint: local + "/sandbox/aws/sqs", EntitlementEndpoint: local + "/sandbox/aws/entitlement",
			AgreementEndpoint: local + "/sandbox/aws/agreement", StaticKeys: true}
		queues = []string{sb.AWSQueueURL}
		if azSandbox, err = startAzureSandbox(ctx, st, sb, local); err != nil {
			return err
		}
	}
	simulatedEntra, err := v.boolean("azure-simulated-entra")
	if err != nil {
		return usageError{err}
	}
	var standaloneEntra *azurefake.Entra
	if simulatedEntra && !sandboxMode { // --sandbox runs it anyway
		if standaloneEntra, azSandbox, err = startStandaloneEntra(ctx, v, "http://"+ln.Addr().String(), log); err != nil {
			return err
		}
	}
	awsClient, err := awsmp.New(ctx, awsCfg)
	if err != nil {
		return err
	}

	var portal iofs.FS = o.Portal
	if portal != nil {
		if _, err := iofs.Stat(portal, "index.html"); err != nil {
			log.Warn("the portal is not built into this binary; run scripts/build.sh")
		}
	}
	proc := &awsmp.Processor{Store: st, Log: log, AWS: awsClient}
	if verify {
		proc.SNS = &awsmp.SNSVerifier{TopicARNs: splitList(v.str("aws-sns-topic-arns"))}
		log.Info("SNS signature verification on", "topics", len(proc.SNS.TopicARNs))
	}
	az, err := setupAzure(v, st, log, baseURL, azSandbox)
	if err != nil {
		return err
	}
	grace, err := time.ParseDuration(v.str("metering-grace"))
	if err != nil || grace < time.Minute || grace > time.Hour {
		return usageError{fmt.Errorf("--metering-grace must be a duration from 1m to 1h, not %q", v.str("metering-grace"))}
	}
	claim, err := strconv.Atoi(v.str("metering-claim"))
	if err != nil || claim < 1 || claim > 100000 {
		return usageError{fmt.Errorf("--metering-claim must be a number from 1 to 100000, not %q", v.str("metering-claim"))}
	}
	host, _ := os.Hostname()
	meter := &metering.Meter{Store: st, Log: log, Grace: grace, Claim: claim, AWS: awsClient, Owner: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), auth.RandomToken(6))}
	if az != nil {
		meter.Azure = az.proc.Client
	}
	proc.Final = func(ctx context.Context, id uint) {
		go func() {
			if err := meter.SealFinal(context.WithoutCancel(ctx), id); err != nil {
				log.Error("metering: final records", "subscription", id, "err", err)
			}
		}()
	}
	allowPrivate, err := v.boolean("outbound-allow-private")
	if err != nil {
		return usageError{err}
	}
	outbound := netguard.Policy{AllowPrivate: allowPrivate}
	alertSvc := &alerts.Service{Store: st, Log: log, BaseURL: baseURL, Policy: outbound}
	// Marketplace calls: the Settings page's connection state, and an alert
	// when one keeps failing (hourly reconciliation: after two).
	calls := &alerts.Calls{Alerts: alertSvc, For: map[string]int{azureReconcileCall: 2}}
	meter.OnCall = calls.Observe
	if addr := v.str("smtp-addr"); addr != "" {
		if v.str("smtp-from") == "" {
			return usageError{errors.New("--smtp-addr needs --smtp-from (the sender of e-mail alerts)")}
		}
		alertSvc.SMTP = &alerts.SMTP{Addr: addr, Username: v.str("smtp-username"), Password: v.str("smtp-password"), From: v.str("smtp-from")}
	}
	hooks := &webhooks.Dispatcher{Store: st, Log: log, Owner: meter.Owner, OnDisabled: alertSvc.EndpointDisabled, Policy: outbound}
	deps := api.Deps{
		Store: st, Sessions: sessions, Log: log, Portal: portal,
		Info: api.Info{Version: Version, Sandbox: sandboxMode, BaseURL: baseURL, SupportEmail: v.str("support-email")},
		AWS:  awsClient, AWSEvents: proc, Sandbox: sb, Meter: meter, Alerts: alertSvc, Connections: calls.Snapshot,
		TrustedProxies: splitList(v.str("trusted-proxies")),
		Registry:       prometheus.NewRegistry(), MetricsToken: v.str("metrics-token"), MetricsElsewhere: v.str("metrics-addr") != "",
		Outbound: outbound,
	}
	if az != nil {
		deps.Azure, deps.AzureSignIn, deps.AzureWebhook, deps.AzureInsecureWebhook = az.proc, az.signIn, az.webhook, az.insecure
		if standaloneEntra != nil {
			az.signIn.SimulatedEntra = standaloneEntra
		}
		switch {
		case alertSvc.SMTP != nil:
			az.signIn.Mail = alertSvc.SendMail // the beneficiary's invitation (purchaser of another tenant)
		case sandboxMode:
			az.signIn.SandboxMail = &api.SandboxMail{} // shown on /sandbox/azure
			az.signIn.Mail = az.signIn.SandboxMail.Send
		}
	}
	if deps.SSO, deps.SSOStateKey, err = setupSSO(v, baseURL, key); err != nil {
		return err
	}
	if alertSvc.SMTP != nil {
		deps.Mail = alertSvc
	}
	handler, err := api.New(deps)
	if err != nil {
		return usageError{err}
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go sweepSessions(ctx, st, log)
	for _, q := range queues {
		go (&awsmp.Poller{SQS: awsClient.SQS, QueueURL: q, Processor: proc, Log: log,
			Observe: func(err error) { calls.Observe("aws", "SQS ReceiveMessage", err) }}).Run(ctx)
	}
	go every(ctx, 30*time.Second, proc.RetryDue)
	// Agreements' terms (free trials) are read soon after the agreement is
	// linked (an indexed look-up when there is nothing to read).
	go every(ctx, 5*time.Second, func(ctx context.Context) { proc.ReadTerms(ctx) })
	meter.Start(ctx)
	go runMetering(ctx, meter, st, log)
	go hooks.Run(ctx, time.Second)
	go runAlerts(ctx, alertSvc, st, meter.Owner, log)
	if az != nil {
		go every(ctx, 5*time.Second, func(ctx context.Context) {
			az.proc.PollOperations(ctx)
			az.proc.RetryDue(ctx)
		})
		go reconcileAzure(ctx, az, log, calls)
	}

	errc := make(chan error, 2)
	if maddr := v.str("metrics-addr"); maddr != "" {
		mln, err := net.Listen("tcp", maddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", api.MetricsHandler(deps.Registry, deps.MetricsToken))
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		defer msrv.Close()
		go func() { errc <- msrv.Serve(mln) }()
		log.Info("metrics listening", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	go func() { errc <- srv.Serve(ln) }()
	log.Info("marketgate listening", "url", "http://"+ln.Addr().String(), "base_url", baseURL,
		"database", st.Dialect, "sandbox", sandboxMode, "version", Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	return srv.Shutdown(sctx)
}

// ensureAdmin applies MARKETGATE_ADMIN_EMAIL/_PASSWORD, or creates a first
// admin with a one-time password when there are no users at all.
func ensureAdmin(ctx context.Context, st *store.Store, o IO, log *slog.Logger) error {
	email, err := o.Env.Get("MARKETGATE_ADMIN_EMAIL")
	if err != nil {
		return err
	}
	password, err := o.Env.Get("MARKETGATE_ADMIN_PASSWORD")
	if err != nil {
		return err
	}
	if (email == "") != (password == "") {
		return usageError{errors.New("set both MARKETGATE_ADMIN_EMAIL and MARKETGATE_ADMIN_PASSWORD, or neither")}
	}
	if email != "" {
		if !strings.Contains(email, "@") {
			return usageError{errors.New("MARKETGATE_ADMIN_EMAIL must be an e-mail address")}
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return usageError{fmt.Errorf("MARKETGATE_ADMIN_PASSWORD: %w", err)}
		}
		created, err := st.UpsertAdmin(ctx, email, hash)
		if err != nil {
			return err
		}
		log.Info("admin from the environment is ready", "email", store.NormalizeEmail(email), "created", created)
		return nil
	}
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := auth.RandomToken(15)
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	u := &store.User{Email: "admin@localhost", Name: "Administrator", Role: store.RoleAdmin, PasswordHash: hash, MustChangePassword: true}
	if err := st.CreateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "\nCreated the first admin. Sign in once with this one-time password, then choose your own:\n"+
		"  e-mail:   %s\n  password: %s\n\n", u.Email, pw)
	return nil
}

func sessionKey(ctx context.Context, st *store.Store, env Env) ([]byte, error) {
	secret, err := env.Get("MARKETGATE_SESSION_SECRET")
	if err != nil {
		return nil, err
	}
	if secret != "" {
		if len(secret) < 32 {
			return nil, usageError{errors.New("MARKETGATE_SESSION_SECRET must have at least 32 characters")}
		}
		return []byte(secret), nil
	}
	k, err := st.SettingOnce(ctx, "session_hash_key", func() string { return auth.RandomToken(64) })
	return []byte(k), err
}

// every runs fn every interval until ctx ends.
// runMetering seals finished hours every 30 s (one replica at a time,
// under a lease; sealing is idempotent anyway) and sends due records
// every 5 s (records are leased one by one, so every replica helps).
func runMetering(ctx context.Context, m *metering.Meter, st *store.Store, log *slog.Logger) {
	seal := time.NewTicker(30 * time.Second)
	send := time.NewTicker(5 * time.Second)
	defer seal.Stop()
	defer send.Stop()
	doSeal := func() {
		// The lease is held only while sealing: a replica that dies
		// mid-seal blocks the others for a minute at most.
		if ok, err := st.TryLease(ctx, "metering.seal", m.Owner, time.Minute); err != nil || !ok {
			return
		}
		defer func() { _ = st.ReleaseLease(context.WithoutCancel(ctx), "metering.seal", m.Owner) }()
		if n, err := m.Seal(ctx); err != nil {
			log.Error("metering: sealing", "err", err)
		} else if n > 0 {
			log.Info("metering: hours sealed", "records", n)
		}
	}
	var warned time.Time
	observe := func() {
		// Six counts: every 30 s is plenty for the metrics and the warning.
		m.Observe(ctx)
		if _, err := m.WarnExpiring(ctx); err != nil && ctx.Err() == nil {
			log.Error("metering: expiry warnings", "err", err)
		}
		if h := m.LastHealth(); h.Expiring > 0 && time.Since(warned) > 10*time.Minute {
			warned = time.Now()
			log.Warn("metering: records close to the end of the 24-hour window", "expiring", h.Expiring, "pending", h.Pending)
		}
	}
	doSend := func() {
		if _, err := m.Dispatch(ctx); err != nil && ctx.Err() == nil {
			log.Error("metering: dispatch", "err", err)
		}
	}
	doSeal()
	doSend()
	observe()
	for {
		select {
		case <-ctx.Done():
			return
		case <-seal.C:
			doSeal()
			observe()
		case <-send.C:
			doSend()
		}
	}
}

const azureReconcileCall = "reconciliation (List subscriptions)"

// runAlerts raises the alerts the stored state calls for and sends them,
// every 30 s, one replica at a time (under a lease).
func runAlerts(ctx context.Context, a *alerts.Service, st *store.Store, owner string, log *slog.Logger) {
	every(ctx, 30*time.Second, func(ctx context.Context) {
		if ok, err := st.TryLease(ctx, "alerts", owner, 2*time.Minute); err != nil || !ok {
			return
		}
		defer func() { _ = st.ReleaseLease(context.WithoutCancel(ctx), "alerts", owner) }()
		if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Error("alerts: sweep", "err", err)
		}
		if _, err := a.Notify(ctx); err != nil && ctx.Err() == nil {
			log.Error("alerts: notify", "err", err)
		}
	})
}

// SandboxAWSMeteredFile, in the data directory, is what the simulated AWS
// billed (one JSON record a line).
const SandboxAWSMeteredFile = "sandbox-aws-metered.jsonl"

// reconcileAzure compares every Microsoft subscription with the
// marketplace shortly after start and then every interval, so a lost
// webhook leaves a subscription wrong for at most one interval.
func reconcileAzure(ctx context.Context, az *azureParts, log *slog.Logger, calls *alerts.Calls) {
	run := func(ctx context.Context) {
		rep, err := az.proc.Reconcile(ctx, "system")
		if ctx.Err() == nil {
			calls.Observe("azure", azureReconcileCall, err)
		}
		if err != nil {
			log.Error("microsoft reconciliation", "err", err)
			return
		}
		log.Info("microsoft reconciliation", "seen", rep.Seen, "repaired", rep.Repaired, "failed", rep.Failed)
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(30 * time.Second):
	}
	run(ctx)
	every(ctx, az.reconcileEvery, run)
}

func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// sweepSessions removes expired sessions and everything else past its
// retention period (store.DefaultRetention), hourly.
func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.Purge(ctx, store.DefaultRetention); err != nil {
				log.Warn("retention sweep failed", "err", err)
			} else {
				log.Debug("retention sweep", "sessions", n.Sessions, "sign_ins", n.SignIns, "purchase_tokens", n.PurchaseTokens,
					"tickets", n.Tickets, "failed_registrations", n.FailedRegistrations, "throttles", n.Throttles,
					"email_verifications", n.EmailVerifications)
			}
		}
	}
}

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
