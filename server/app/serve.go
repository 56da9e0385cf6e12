package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/jobs"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/server/sandbox/console"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/server/setup"
	"github.com/marketgate/marketgate/server/telemetry"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// serve is the serve command: the configuration, then the server until
// ctx ends.
func serve(ctx context.Context, args []string, o IO) error {
	cfg, err := LoadConfig(args, o.Env, o.Stderr)
	if err != nil {
		return err
	}
	r, err := Start(ctx, cfg, o)
	if err != nil {
		return err
	}
	return r.Wait()
}

// Running is a started server (Start).
type Running struct {
	// Addr is the address the server listens on (host:port; with --addr
	// 127.0.0.1:0, the port the system chose); URL is http://Addr.
	Addr, URL string
	// MetricsAddr is the separate metrics listener's address (empty: none).
	MetricsAddr string
	Store       *store.Store
	Jobs        *jobs.Runner

	log    *slog.Logger
	srv    *http.Server
	cancel context.CancelFunc
	errc   chan error
	closer *closers
	once   sync.Once
	err    error
}

// Start opens the database (migrating it), wires every part from cfg,
// starts the background jobs and serves HTTP on cfg.Addr until ctx ends
// or Stop. Log lines go to o.Stderr; the first admin's one-time password
// to o.Stdout.
func Start(ctx context.Context, cfg *Config, o IO) (*Running, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := &closers{}
	r, err := start(ctx, cfg, o, c)
	if err != nil {
		cancel()
		c.close()
		return nil, err
	}
	r.cancel, r.closer = cancel, c
	return r, nil
}

func start(ctx context.Context, cfg *Config, o IO, c *closers) (*Running, error) {
	log, err := newLogger(o.Stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	st, err := openDatabase(ctx, cfg, o, log)
	if err != nil {
		return nil, err
	}
	c.add(func() { _ = st.Close() })
	ln, err := listen(cfg, log)
	if err != nil {
		return nil, err
	}
	c.add(func() { _ = ln.Close() })
	w := &wiring{cfg: cfg, o: o, log: log, st: st, local: "http://" + ln.Addr().String(), reg: prometheus.NewRegistry()}
	for _, step := range []func(context.Context) error{w.observability, w.sessions, w.sandbox, w.marketplaces, w.metering, w.alerts, w.setupChecks, w.jobs, w.handler} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	r := &Running{Addr: ln.Addr().String(), URL: w.local, Store: st, Jobs: w.runner, log: log, errc: make(chan error, 2),
		srv: &http.Server{Handler: w.api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}}
	if cfg.MetricsAddr != "" {
		if r.MetricsAddr, err = serveMetrics(cfg, w.reg, r.errc, c, log); err != nil {
			return nil, err
		}
	}
	// The seats' last-checked times still queued are written once the
	// server has stopped answering (Stop shuts it down, then closes these
	// in reverse order: before the database).
	c.add(w.seats.FlushTouches)
	w.runner.Start(ctx)
	c.add(w.runner.Wait) // after the context ended (Stop cancels first)
	go func() { r.errc <- r.srv.Serve(ln) }()
	log.Info("marketgate listening", "url", w.local, "base_url", cfg.BaseURL,
		"database", st.Dialect, "sandbox", cfg.Sandbox, "version", Version)
	go func() {
		<-ctx.Done()
		r.errc <- nil
	}()
	return r, nil
}

// Wait serves until the context given to Start ends (then shuts down
// gracefully and returns nil) or the server fails (its error).
func (r *Running) Wait() error {
	err := <-r.errc
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		err = nil // the context ended, or Stop
		r.log.Info("shutting down")
	}
	if serr := r.Stop(); err == nil {
		err = serr
	}
	return err
}

// Stop stops the jobs, shuts the server down gracefully (at most 15 s for
// the requests under way) and closes the database. Calling it again
// returns the first call's result.
func (r *Running) Stop() error {
	r.once.Do(func() {
		r.cancel() // the jobs first: their long polls are requests to this server
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		r.err = r.srv.Shutdown(sctx)
		r.closer.close()
	})
	return r.err
}

// closers are what Start opened, closed in reverse order.
type closers struct{ fns []func() }

func (c *closers) add(fn func()) { c.fns = append(c.fns, fn) }
func (c *closers) close() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
	c.fns = nil
}

// wiring holds the parts as Start builds them, one named step at a time.
type wiring struct {
	cfg   *Config
	o     IO
	log   *slog.Logger
	st    *store.Store
	local string // http://ADDR of the listener
	reg   *prometheus.Registry
	owner string // this process, for leases

	metrics      *telemetry.Metrics
	sessionStore *auth.SessionStore
	sessionKey   []byte
	sb           *sandboxParts // nil: not in sandbox mode
	awsCfg       awsmp.Config
	queues       []string
	aws          *awsmp.Client
	awsProc      *awsmp.Processor
	awsMoney     *awsmp.Money // refunds, cancellation and payment requests on AWS agreements
	az           *azureParts
	entra        *sandboxEntra // the simulated Entra ID (sandbox or --azure-simulated-entra)
	meter        *metering.Meter
	calls        *alerts.Calls
	alertSvc     *alerts.Service
	outbound     netguard.Policy
	hooks        *webhooks.Dispatcher
	runner       *jobs.Runner
	azureInbox   *pending
	checker      *setup.Checker // the setup checks (doctor_setup.go)
	api          http.Handler
	seats        *seats.Service // the seat check's (its last-checked times are flushed at Stop)
}

// openDatabase opens and migrates the database, makes sure of the admin
// and, in sandbox mode, seeds the demo data.
func openDatabase(ctx context.Context, cfg *Config, o IO, log *slog.Logger) (*store.Store, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := setUpDatabase(ctx, st, cfg, o, log); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func setUpDatabase(ctx context.Context, st *store.Store, cfg *Config, o IO, log *slog.Logger) error {
	// The rows a migration queued for the text indexes are indexed by the
	// background jobs (search.index, inbox.keys), not before serving.
	if err := st.MigrateSchema(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := ensureAdmin(ctx, st, cfg, o, log); err != nil {
		return err
	}
	if !cfg.Sandbox {
		return nil
	}
	n, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{UsageHistory: true})
	if err != nil {
		return fmt.Errorf("sandbox seed: %w", err)
	}
	if n > 0 {
		log.Info("sandbox: seeded demo data", "subscriptions", n)
	}
	return nil
}

// listen opens --addr; the sandbox refuses a non-loopback address unless
// --sandbox-public (its simulated Entra signs anyone in as anyone).
func listen(cfg *Config, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if !cfg.Sandbox {
		return ln, nil
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		if !cfg.SandboxPublic {
			_ = ln.Close()
			return nil, usageError{fmt.Errorf("--sandbox listens on %s, which is not a loopback address: the simulated Microsoft Entra signs anyone in as anyone. "+
				"Use --addr 127.0.0.1:PORT, or add --sandbox-public to allow it on a network you trust", ln.Addr())}
		}
		log.Warn("SANDBOX ON A NON-LOOPBACK ADDRESS: anyone who reaches " + ln.Addr().String() +
			" can sign in as any customer admin through the simulated Microsoft Entra. Never use real data or expose it to the internet.")
	}
	return ln, nil
}

// sessions: the cookie key and the session store.
func (w *wiring) sessions(ctx context.Context) error {
	key, err := sessionKey(ctx, w.st, w.cfg)
	if err != nil {
		return err
	}
	w.sessionKey = key
	w.sessionStore = auth.NewSessionStore(w.st, key, strings.HasPrefix(w.cfg.BaseURL, "https://"), 12*time.Hour)
	host, _ := os.Hostname()
	w.owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), auth.RandomToken(6))
	return nil
}

// marketplaces: the AWS client and notification processor, and
// Microsoft's parts (nil when not configured).
func (w *wiring) marketplaces(ctx context.Context) error {
	if w.sb == nil {
		a := w.cfg.AWS
		w.awsCfg = awsmp.Config{Region: a.Region, MeteringEndpoint: a.MeteringEndpoint, SQSEndpoint: a.SQSEndpoint,
			EntitlementEndpoint: a.EntitlementEndpoint, Partition: a.Partition, AgreementEndpoint: a.AgreementEndpoint,
			AgreementRegion: a.AgreementRegion}
		w.queues = a.SQSQueueURLs
	}
	if w.cfg.Azure.SimulatedEntra && w.sb == nil { // --sandbox runs it anyway
		entra, err := startStandaloneEntra(ctx, w.cfg, w.local, w.log)
		if err != nil {
			return err
		}
		w.entra = entra
	}
	w.awsCfg.Metrics = w.metrics
	client, err := awsmp.New(ctx, w.awsCfg)
	if err != nil {
		return err
	}
	w.aws = client
	w.awsProc = &awsmp.Processor{Store: w.st, Log: w.log, AWS: client}
	w.awsMoney = &awsmp.Money{Store: w.st, Log: w.log, AWS: client}
	if w.cfg.Sandbox {
		w.awsMoney.PollEvery = 5 * time.Second // the simulated AWS answers at once
	}
	if w.cfg.AWS.SNSVerify {
		w.awsProc.SNS = &awsmp.SNSVerifier{TopicARNs: w.cfg.AWS.SNSTopicARNs}
		w.log.Info("SNS signature verification on", "topics", len(w.awsProc.SNS.TopicARNs))
	}
	var endpoints *azureEndpoints
	if w.entra != nil {
		endpoints = w.entra.endpoints
	}
	w.az, err = setupAzure(w.cfg, w.st, w.log, endpoints, w.metrics)
	return err
}

// observability: the Go runtime and process collectors every Prometheus
// user expects (go_*, process_*), and Marketgate's own metrics of its work,
// the store's inbound messages included.
func (w *wiring) observability(context.Context) error {
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := w.reg.Register(c); err != nil {
			return err
		}
	}
	m, err := telemetry.New(w.reg)
	if err != nil {
		return err
	}
	w.metrics = m
	w.st.OnInbox = m.Inbound
	return nil
}

// metering: the meter (its group-commit writer of usage events runs until
// ctx ends; sealing and sending are jobs) and the final records at a
// cancellation.
func (w *wiring) metering(ctx context.Context) error {
	w.meter = &metering.Meter{Store: w.st, Log: w.log, Grace: w.cfg.MeteringGrace, Claim: w.cfg.MeteringClaim, AWS: w.aws, Owner: w.owner,
		Metrics: w.metrics}
	if w.az != nil {
		w.meter.Azure = w.az.proc.Client
	}
	w.meter.Start(ctx)
	meter, log := w.meter, w.log
	w.awsProc.Final = func(ctx context.Context, id uint) {
		go func() {
			if err := meter.SealFinal(context.WithoutCancel(ctx), id); err != nil {
				log.Error("metering: final records", "subscription", id, "err", err)
			}
		}()
	}
	return nil
}

// alerts: the alert service, the marketplace-call observer (the Settings
// page's connection state) and the outbound webhook dispatcher.
func (w *wiring) alerts(context.Context) error {
	w.outbound = netguard.Policy{AllowPrivate: w.cfg.OutboundAllowPrivate}
	w.alertSvc = &alerts.Service{Store: w.st, Log: w.log, BaseURL: w.cfg.BaseURL, Policy: w.outbound}
	// Marketplace calls: the Settings page's connection state, and an alert
	// when one keeps failing (hourly reconciliation: after two).
	w.calls = &alerts.Calls{Alerts: w.alertSvc, For: map[string]int{azureReconcileCall: 2}}
	w.meter.OnCall = w.calls.Observe
	if s := w.cfg.SMTP; s.Addr != "" {
		w.alertSvc.SMTP = &alerts.SMTP{Addr: s.Addr, Username: s.Username, Password: s.Password, From: s.From}
	}
	w.hooks = &webhooks.Dispatcher{Store: w.st, Log: w.log, Owner: w.owner, OnDisabled: w.alertSvc.EndpointDisabled, Policy: w.outbound,
		Metrics: w.metrics}
	if w.sb != nil { // the demo's webhook endpoints and alert channel: receivers in this process
		w.hooks.HTTP = sandbox.ReceiverClient(w.outbound.Client(10 * time.Second))
		w.alertSvc.HTTP = sandbox.ReceiverClient(w.outbound.Client(10 * time.Second))
	}
	return nil
}

// handler: the HTTP handler of the API, the portal and the callbacks.
func (w *wiring) handler(context.Context) error {
	portal := w.o.Portal
	if portal != nil {
		if _, err := iofs.Stat(portal, "index.html"); err != nil {
			w.log.Warn("the portal is not built into this binary; run scripts/build.sh")
		}
	}
	w.seats = &seats.Service{Store: w.st}
	deps := api.Deps{
		Store: w.st, Seats: w.seats, Sessions: w.sessionStore, Log: w.log, Portal: portal,
		Info: api.Info{Version: Version, Sandbox: w.cfg.Sandbox, BaseURL: w.cfg.BaseURL, SupportEmail: w.cfg.SupportEmail},
		AWS:  w.aws, AWSEvents: w.awsProc, AWSAgreements: w.awsProc, AWSMoney: w.awsMoney, Meter: w.meter, Alerts: w.alertSvc, Connections: w.calls.Snapshot,
		TrustedProxies: w.cfg.TrustedProxies,
		Registry:       w.reg, Metrics: w.metrics, MetricsToken: w.cfg.MetricsToken, MetricsElsewhere: w.cfg.MetricsAddr != "",
		Outbound: w.outbound, Setup: w.checker.Run,
	}
	if w.sb != nil {
		deps.Sandbox = w.sb.console.Mount
	}
	if az := w.az; az != nil {
		deps.Azure, deps.AzureSignIn, deps.AzureNotifications, deps.AzureInsecureNotifications = az.proc, az.signIn, az.webhook, az.insecure
		deps.AzureNotificationReceived = w.azureNotificationReceived
		if w.entra != nil && w.sb == nil {
			az.signIn.SimulatedEntra = w.entra.entra
		}
		switch {
		case w.alertSvc.SMTP != nil:
			az.signIn.Mail = w.alertSvc.SendMail // the beneficiary's invitation (purchaser of another tenant)
		case w.sb != nil:
			w.sb.console.Mail = &console.Mail{} // shown on /sandbox/azure
			az.signIn.Mail = w.sb.console.Mail.Send
		}
	}
	var err error
	if deps.SSO, deps.SSOStateKey, err = setupSSO(w.cfg, w.sessionKey); err != nil {
		return err
	}
	if w.alertSvc.SMTP != nil {
		deps.Mail = w.alertSvc
	}
	if w.api, err = api.New(deps); err != nil {
		return usageError{err}
	}
	return nil
}

// serveMetrics serves /metrics on --metrics-addr and returns its address.
func serveMetrics(cfg *Config, reg *prometheus.Registry, errc chan<- error, c *closers, log *slog.Logger) (string, error) {
	mln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.MetricsHandler(reg, cfg.MetricsToken))
	msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	c.add(func() { _ = msrv.Close() })
	go func() {
		if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("metrics listening", "url", "http://"+mln.Addr().String()+"/metrics")
	return mln.Addr().String(), nil
}

// ensureAdmin applies MARKETGATE_ADMIN_EMAIL/_PASSWORD, or creates a first
// admin with a one-time password when there are no users at all.
func ensureAdmin(ctx context.Context, st *store.Store, cfg *Config, o IO, log *slog.Logger) error {
	if email := cfg.AdminEmail; email != "" {
		hash, err := auth.HashPassword(cfg.AdminPassword)
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

// sessionKey is MARKETGATE_SESSION_SECRET, or a random key kept in the
// database (shared by every replica).
func sessionKey(ctx context.Context, st *store.Store, cfg *Config) ([]byte, error) {
	if cfg.SessionSecret != "" {
		return []byte(cfg.SessionSecret), nil
	}
	k, err := st.SettingOnce(ctx, "session_hash_key", func() string { return auth.RandomToken(64) })
	return []byte(k), err
}

func parseLevel(level string) (slog.Level, error) {
	var lv slog.Level
	err := lv.UnmarshalText([]byte(level))
	return lv, err
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	lv, err := parseLevel(level)
	if err != nil {
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
