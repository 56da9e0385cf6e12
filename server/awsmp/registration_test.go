package awsmp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// registrationEnv is a Registration with the real SDK client against the
// wire-level Metering fake (ResolveCustomer) on a clock the test moves.
type registrationEnv struct {
	st    *store.Store
	fake  *awsfake.Metering
	reg   *awsmp.Registration
	clock time.Time
	offer map[string]store.Offer
}

func newRegistrationEnv(t *testing.T, st *store.Store) *registrationEnv {
	t.Helper()
	e := &registrationEnv{st: st, clock: time.Now().UTC().Truncate(time.Second), offer: map[string]store.Offer{}}
	e.fake = awsfake.NewMetering(func() time.Time { return e.clock })
	srv := httptest.NewServer(e.fake)
	t.Cleanup(srv.Close)
	client, err := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: srv.URL, StaticKeys: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.reg = &awsmp.Registration{Store: st, Log: log, Resolver: client,
		Entitlements: &awsmp.Processor{Store: st, Log: log, AWS: client}, Now: func() time.Time { return e.clock }}
	for _, o := range []store.Offer{
		{Marketplace: "aws", Name: "Acme Contracts", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: e.clock, UpdatedAt: e.clock},
		{Marketplace: "aws", Name: "Acme Legacy", MarketplaceID: "prod-legacy", IdentityModel: "legacy", CreatedAt: e.clock, UpdatedAt: e.clock},
	} {
		if err := st.TestingDB(t).Create(&o).Error; err != nil {
			t.Fatal(err)
		}
		e.offer[o.MarketplaceID] = o
	}
	return e
}

func (e *registrationEnv) subscriptions(t *testing.T) []store.Subscription {
	t.Helper()
	var subs []store.Subscription
	if err := e.st.TestingReadDB(t).Order("id").Find(&subs).Error; err != nil {
		t.Fatal(err)
	}
	return subs
}

func (e *registrationEnv) inbox(t *testing.T) []store.InboxMessage {
	t.Helper()
	var msgs []store.InboxMessage
	if err := e.st.TestingReadDB(t).Where("source = ?", awsmp.SourceRegistration).Order("id").Find(&msgs).Error; err != nil {
		t.Fatal(err)
	}
	return msgs
}

var (
	legacyBuyer = awsfake.Identity{CustomerIdentifier: "X01LEGACY", CustomerAWSAccountID: "444455556666",
		LicenseArn: "arn:aws:license-manager::444455556666:license:l-legacy", ProductCode: "prod-legacy"}
	caBuyer = awsfake.Identity{CustomerAWSAccountID: "111122223333",
		LicenseArn: "arn:aws:license-manager::111122223333:license:l-ca", ProductCode: "prod-ca"}
)

// TestRegistrationRecordsWhatResolveCustomerAnswered: "ResolveCustomer …
// returns the CustomerIdentifier, CustomerAWSAccountId, LicenseArn and
// ProductCode" (reference §3; a concurrent-agreement product's buyer has no
// CustomerIdentifier). One registration stores the request in the inbox
// without the token, makes one subscription carrying every identity, the
// offer and the free-trial flag, gives the account its customer, and
// hands out an onboarding ticket for that subscription. A second post of
// the same token (a reload) makes nothing new.
func TestRegistrationRecordsWhatResolveCustomerAnswered(t *testing.T) {
	for _, c := range []struct {
		name      string
		buyer     awsfake.Identity
		freeTrial bool
	}{
		{"legacy", legacyBuyer, false},
		{"legacy free trial", legacyBuyer, true},
		{"concurrent agreements", caBuyer, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				e := newRegistrationEnv(t, st)
				token := e.fake.IssueToken(c.buyer)
				form := awsmp.RegistrationForm{Token: token, ContentType: "application/x-www-form-urlencoded", Headers: "{}"}
				if c.freeTrial {
					form.OfferType = "free-trial"
				}
				ticket, err := e.reg.Register(ctx, form)
				if err != nil || ticket == "" {
					t.Fatalf("register: %q, %v", ticket, err)
				}
				subs := e.subscriptions(t)
				if len(subs) != 1 {
					t.Fatalf("%d subscriptions, want 1", len(subs))
				}
				s := subs[0]
				if s.Marketplace != "aws" || s.AWSCustomerIdentifier != c.buyer.CustomerIdentifier || s.AWSCustomerAccountID != c.buyer.CustomerAWSAccountID ||
					s.AWSLicenseArn != c.buyer.LicenseArn || s.AWSProductCode != c.buyer.ProductCode {
					t.Fatalf("identities not as resolved: %+v", s)
				}
				if s.OfferID == nil || *s.OfferID != e.offer[c.buyer.ProductCode].ID || s.FreeTrial != c.freeTrial {
					t.Fatalf("offer %v, free trial %v", s.OfferID, s.FreeTrial)
				}
				if s.CustomerID == nil {
					t.Fatal("the account's customer was not made")
				}
				var cust store.Customer
				if err := st.TestingReadDB(t).First(&cust, *s.CustomerID).Error; err != nil || cust.AWSAccountID != c.buyer.CustomerAWSAccountID {
					t.Fatalf("customer %+v, %v", cust, err)
				}
				if s.SearchText != store.SearchTextFor(&s, &cust) {
					t.Fatalf("search digest %q is stale", s.SearchText)
				}
				tk, err := st.Ticket(ctx, ticket)
				if err != nil || tk.SubscriptionID != s.ID {
					t.Fatalf("ticket %+v, %v", tk, err)
				}
				msgs := e.inbox(t)
				if len(msgs) != 1 || msgs[0].Status != store.InboxProcessed || msgs[0].SubscriptionID == nil || *msgs[0].SubscriptionID != s.ID {
					t.Fatalf("inbox %+v", msgs)
				}
				if strings.Contains(msgs[0].Body, token) || strings.Contains(msgs[0].Body, "free-trial") != c.freeTrial {
					t.Fatalf("stored body %q: the token must not be kept, the offer type must", msgs[0].Body)
				}

				// The buyer reloads the page: the same purchase, one customer.
				again, err := e.reg.Register(ctx, form)
				if err != nil || again == ticket {
					t.Fatalf("second register: %q, %v", again, err)
				}
				if subs := e.subscriptions(t); len(subs) != 1 || subs[0].ID != s.ID {
					t.Fatalf("a reload made another subscription: %+v", subs)
				}
				var customers int64
				st.TestingReadDB(t).Model(&store.Customer{}).Where("aws_account_id = ?", c.buyer.CustomerAWSAccountID).Count(&customers)
				if customers != 1 {
					t.Fatalf("%d customers for one account", customers)
				}
			})
		})
	}
}

// TestRegistrationFailures: each way a registration fails is its own error
// (the buyer's page depends on it), the request is kept in the inbox as
// failed, and nothing else is made. "ExpiredTokenException: the
// registration token has expired" and "InvalidTokenException" are the
// buyer's; a throttled ResolveCustomer is AWS not answering.
func TestRegistrationFailures(t *testing.T) {
	for _, c := range []struct {
		name    string
		prepare func(e *registrationEnv) string // returns the token to post
		want    error
		kept    string // the stored failure
	}{
		{"not configured", func(e *registrationEnv) string {
			e.reg.Resolver = nil
			return e.fake.IssueToken(caBuyer)
		}, awsmp.ErrRegistrationNotConfigured, "AWS Marketplace is not configured"},
		{"unknown token", func(e *registrationEnv) string { return "not-a-token-aws-issued" }, awsmp.ErrInvalidToken, "InvalidTokenException"},
		{"expired token", func(e *registrationEnv) string {
			tok := e.fake.IssueToken(caBuyer)
			e.clock = e.clock.Add(awsfake.TokenLifetime + time.Minute)
			return tok
		}, awsmp.ErrExpiredToken, "ExpiredTokenException"},
		{"AWS throttles", func(e *registrationEnv) string {
			e.fake.FailNext("ResolveCustomer", "ThrottlingException", 1)
			return e.fake.IssueToken(caBuyer)
		}, awsmp.ErrResolveUnavailable, "ThrottlingException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				e := newRegistrationEnv(t, st)
				ticket, err := e.reg.Register(context.Background(), awsmp.RegistrationForm{Token: c.prepare(e)})
				if !errors.Is(err, c.want) || ticket != "" {
					t.Fatalf("got %q, %v; want %v", ticket, err, c.want)
				}
				if subs := e.subscriptions(t); len(subs) != 0 {
					t.Fatalf("a failed registration made %d subscriptions", len(subs))
				}
				msgs := e.inbox(t)
				if len(msgs) != 1 || msgs[0].Status != store.InboxFailed || !strings.Contains(msgs[0].Error, c.kept) {
					t.Fatalf("inbox %+v, want one failed message saying %q", msgs, c.kept)
				}
			})
		})
	}
}

// TestOnboardCreatesTheOrganisationOnce: the onboarding form names the
// customer the registration made for the account, creates its first
// administrator and uses the ticket, in one transaction: a used ticket
// makes nothing more, and an e-mail address that has an account already
// leaves the other buyer's ticket usable.
func TestOnboardCreatesTheOrganisationOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newRegistrationEnv(t, st)
		ticket, err := e.reg.Register(ctx, awsmp.RegistrationForm{Token: e.fake.IssueToken(caBuyer)})
		if err != nil {
			t.Fatal(err)
		}
		tk, err := st.Ticket(ctx, ticket)
		if err != nil {
			t.Fatal(err)
		}
		sub, hasAdmin, err := awsmp.OnboardingState(ctx, st, tk.SubscriptionID)
		if err != nil || hasAdmin || sub.Offer == nil || sub.Offer.Name != "Acme Contracts" {
			t.Fatalf("before: %+v, admin %v, %v", sub, hasAdmin, err)
		}
		form := awsmp.Onboarding{Company: "Acme Corp", Name: "Ada", Email: "ada@acme.test", PasswordHash: "hash"}
		u, err := awsmp.Onboard(ctx, st, e.clock, tk, form)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Role != store.RoleCustomerAdmin || u.CustomerID == nil || *u.CustomerID != *sub.CustomerID || u.Email != form.Email {
			t.Fatalf("admin %+v, want the customer admin of customer %d", u, *sub.CustomerID)
		}
		after, hasAdmin, err := awsmp.OnboardingState(ctx, st, tk.SubscriptionID)
		if err != nil || !hasAdmin || after.Customer == nil || after.Customer.Name != "Acme Corp" || after.Customer.Email != "ada@acme.test" {
			t.Fatalf("after: %+v, admin %v, %v", after, hasAdmin, err)
		}
		// AWS names no subscription: it is named by the one rule, "<Customer> – <Offer>".
		if sub.Name != "" || after.Name != "Acme Corp – Acme Contracts" {
			t.Fatalf("named %q before, %q after onboarding", sub.Name, after.Name)
		}
		if after.Version != sub.Version+1 || !strings.Contains(after.SearchText, "acme corp") {
			t.Fatalf("version %d → %d, digest %q: the subscription change must go through the one update", sub.Version, after.Version, after.SearchText)
		}

		if _, err := awsmp.Onboard(ctx, st, e.clock, tk, form); !errors.Is(err, store.ErrTicketUsed) {
			t.Fatalf("a used ticket: %v, want ErrTicketUsed", err)
		}

		other, err := e.reg.Register(ctx, awsmp.RegistrationForm{Token: e.fake.IssueToken(legacyBuyer)})
		if err != nil {
			t.Fatal(err)
		}
		tk2, err := st.Ticket(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := awsmp.Onboard(ctx, st, e.clock, tk2, form); !errors.Is(err, awsmp.ErrAccountExists) {
			t.Fatalf("a taken e-mail address: %v, want ErrAccountExists", err)
		}
		if _, err := st.Ticket(ctx, other); err != nil {
			t.Fatalf("the refused form used the ticket: %v", err)
		}
		var users int64
		st.TestingReadDB(t).Model(&store.User{}).Count(&users)
		if users != 1 {
			t.Fatalf("%d users, want 1", users)
		}
	})
}

// TestOnboardingVerificationLink: with mail configured the form waits for
// its address to be confirmed (issue 15, finding 9): the link keeps the
// form for 24 hours, works once, and forgets the form (it holds a
// password's hash) once used; a link past its lifetime is expired.
func TestOnboardingVerificationLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newRegistrationEnv(t, st)
		ticket, err := e.reg.Register(ctx, awsmp.RegistrationForm{Token: e.fake.IssueToken(caBuyer)})
		if err != nil {
			t.Fatal(err)
		}
		tk, err := st.Ticket(ctx, ticket)
		if err != nil {
			t.Fatal(err)
		}
		form := awsmp.Onboarding{Company: "Acme Corp", Name: "Ada", Email: "ada@acme.test", PasswordHash: "hash"}
		token, err := awsmp.RequestVerification(ctx, st, e.clock, tk, form)
		if err != nil || token == "" {
			t.Fatalf("request: %q, %v", token, err)
		}
		if _, err := awsmp.PendingVerification(ctx, st, e.clock, "another-token"); !errors.Is(err, awsmp.ErrVerificationExpired) {
			t.Fatalf("an unknown link: %v, want ErrVerificationExpired", err)
		}
		if _, err := awsmp.PendingVerification(ctx, st, e.clock.Add(awsmp.VerificationLifetime), token); !errors.Is(err, awsmp.ErrVerificationExpired) {
			t.Fatalf("a link 24 hours old: %v, want ErrVerificationExpired", err)
		}
		p, err := awsmp.PendingVerification(ctx, st, e.clock.Add(time.Hour), token)
		if err != nil || p.Onboarding != form || p.TicketID == nil || *p.TicketID != tk.ID {
			t.Fatalf("pending %+v, %v; want the form for ticket %d", p, err, tk.ID)
		}
		if got, err := awsmp.VerificationTicket(ctx, st, p); err != nil || got.ID != tk.ID {
			t.Fatalf("ticket %+v, %v", got, err)
		}
		if err := awsmp.UseVerification(ctx, st, e.clock, p); err != nil {
			t.Fatal(err)
		}
		if err := awsmp.UseVerification(ctx, st, e.clock, p); !errors.Is(err, store.ErrTicketUsed) {
			t.Fatalf("a second use: %v, want ErrTicketUsed", err)
		}
		if _, err := awsmp.PendingVerification(ctx, st, e.clock, token); !errors.Is(err, awsmp.ErrVerificationUsed) {
			t.Fatalf("a used link: %v, want ErrVerificationUsed", err)
		}
		var kept []store.EmailVerification
		st.TestingReadDB(t).Find(&kept)
		if len(kept) != 1 || kept[0].Data != "" {
			t.Fatalf("kept %+v: a used link forgets the form", kept)
		}
		// The next request removes the used link.
		if _, err := awsmp.RequestVerification(ctx, st, e.clock, tk, form); err != nil {
			t.Fatal(err)
		}
		kept = nil
		st.TestingReadDB(t).Find(&kept)
		if len(kept) != 1 || kept[0].UsedAt != nil {
			t.Fatalf("kept %+v: the used link must be gone", kept)
		}
	})
}
