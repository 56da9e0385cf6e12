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
	"slices"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/auth"
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
  backup     write a consistent copy of the live SQLite database
  doctor     check, live, that each marketplace is set up to go live (exit 1 on a failed check)
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
	case "backup":
		err = backup(ctx, args[1:], o)
	case "doctor":
		if err = doctor(ctx, args[1:], o); errors.Is(err, errChecksFailed) {
			return 1 // the report said which check failed
		}
	case "user":
		return userCommand(ctx, args[1:], o)
	case "apikey":
		return apikeyCommand(ctx, args[1:], o)
	case "version", "--version", "-version":
		fmt.Fprintf(o.Stdout, "marketgate %s\n", Version)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(o.Stdout, usage)
	default:
		fmt.Fprintf(o.Stderr, "marketgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return exitCode(o, err)
}

// userCommand runs "user add".
func userCommand(ctx context.Context, args []string, o IO) int {
	if len(args) < 1 || args[0] != "add" {
		fmt.Fprint(o.Stderr, "usage: marketgate user add --email EMAIL --role ROLE [flags]\nRun \"marketgate user add --help\" for the flags.\n")
		return 2
	}
	return exitCode(o, userAdd(ctx, args[1:], o))
}

// apikeyCommand runs "apikey create" and "apikey list".
func apikeyCommand(ctx context.Context, args []string, o IO) int {
	switch {
	case len(args) >= 1 && args[0] == "create":
		return exitCode(o, apikeyCreate(ctx, args[1:], o))
	case len(args) >= 1 && args[0] == "list":
		return exitCode(o, apikeyList(ctx, args[1:], o))
	}
	fmt.Fprint(o.Stderr, "usage: marketgate apikey create --name NAME | marketgate apikey list\n")
	return 2
}

// exitCode reports a command's error and gives its exit code: 0 for
// success and --help, 2 for a usage error, 1 otherwise.
func exitCode(o IO, err error) int {
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

func newFlagSet(name, about string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
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

func openStore(ctx context.Context, c *Config) (*store.Store, error) {
	return store.Open(ctx, store.Config{DataDir: c.DataDir, DatabaseURL: c.DatabaseURL})
}

// openMigrated opens the database the flags name (db is dbFlags' answer)
// and applies pending migrations, for the commands that read or write it.
func openMigrated(ctx context.Context, db func() (*Config, error)) (*store.Store, error) {
	cfg, err := db()
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// dbFlags registers the database flags (--data-dir, --database-url) on
// fs; after parsing, the returned function gives the configuration they say.
func dbFlags(fs *flag.FlagSet, env Env) (func() (*Config, error), error) {
	raw, err := register(fs, env, dbSettings)
	if err != nil {
		return nil, err
	}
	return func() (*Config, error) {
		c := &Config{}
		return c, decode(c, dbSettings, raw)
	}, nil
}

func migrate(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("migrate", "Apply every pending database migration, then exit. serve does this too at start-up.", o.Stderr)
	db, err := dbFlags(fs, o.Env)
	if err != nil {
		return err
	}
	status := fs.Bool("status", false, "only list the pending migrations")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := db()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
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

// userAddArgs are the flags of "user add".
type userAddArgs struct {
	email, name, role string
	customer          uint
	password          string
	fromStdin         bool
}

// validate checks the e-mail address, the role and that a customer is
// named exactly for a customer admin.
func (a *userAddArgs) validate() error {
	if !strings.Contains(a.email, "@") {
		return usageError{errors.New("--email is required and must be an e-mail address")}
	}
	if !slices.Contains(store.Roles, a.role) {
		return usageError{fmt.Errorf("--role must be one of %s", strings.Join(store.Roles, ", "))}
	}
	if (a.role == store.RoleCustomerAdmin) != (a.customer != 0) {
		return usageError{errors.New("--customer is required for customer_admin and only for it")}
	}
	return nil
}

// readPassword is --password, or the first line of stdin with --password-stdin.
func (a *userAddArgs) readPassword(stdin io.Reader) (string, error) {
	pw := a.password
	if a.fromStdin {
		if pw != "" {
			return "", usageError{errors.New("use --password or --password-stdin, not both")}
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return "", usageError{errors.New("a password is required: --password-stdin or --password")}
	}
	return pw, nil
}

func userAdd(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("user add", "Create a user. The password comes from --password-stdin (recommended) or --password.", o.Stderr)
	db, err := dbFlags(fs, o.Env)
	if err != nil {
		return err
	}
	var a userAddArgs
	fs.StringVar(&a.email, "email", "", "e-mail address (required)")
	fs.StringVar(&a.name, "name", "", "display name")
	fs.StringVar(&a.role, "role", "", "role: "+strings.Join(store.Roles, ", ")+" (required)")
	fs.UintVar(&a.customer, "customer", 0, "customer id (required for customer_admin)")
	fs.StringVar(&a.password, "password", "", "password (visible in the process list: prefer --password-stdin)")
	fs.BoolVar(&a.fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := a.validate(); err != nil {
		return err
	}
	pw, err := a.readPassword(o.Stdin)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return usageError{err}
	}
	st, err := openMigrated(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	u := &store.User{Email: a.email, Name: a.name, Role: a.role, PasswordHash: hash}
	if a.customer != 0 {
		c := a.customer
		u.CustomerID = &c
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return a.createError(err)
	}
	fmt.Fprintf(o.Stdout, "created user %d: %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}

// createError says what a failed CreateUser means for the command line.
func (a *userAddArgs) createError(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with e-mail %s already exists", store.NormalizeEmail(a.email))
	}
	if strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		return fmt.Errorf("customer %d does not exist", a.customer)
	}
	return err
}

func apikeyCreate(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("apikey create", "Create an API key for the seller's application. The key is printed once; only its hash is kept.", o.Stderr)
	db, err := dbFlags(fs, o.Env)
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
	st, err := openMigrated(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
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
	fs := newFlagSet("apikey list", "List API keys (never the keys themselves).", o.Stderr)
	db, err := dbFlags(fs, o.Env)
	if err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openMigrated(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
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
