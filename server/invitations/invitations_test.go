package invitations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/invitations"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, st *store.Store) (*invitations.Service, *clock, store.Customer, store.Customer) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	db := st.TestingDB(t)
	a := store.Customer{Name: "Contoso", CreatedAt: clk.t, UpdatedAt: clk.t}
	b := store.Customer{Name: "Fabrikam", CreatedAt: clk.t, UpdatedAt: clk.t}
	if err := db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	return &invitations.Service{Store: st, Now: clk.now}, clk, a, b
}

func staff(email, role string) invitations.Request {
	return invitations.Request{Kind: store.InviteStaff, Email: email, Name: "Someone", Role: role, CreatedBy: "admin@seller.example"}
}

func customerAdmin(email string, customerID uint) invitations.Request {
	return invitations.Request{Kind: store.InviteCustomerAdmin, Email: email, CustomerID: customerID, CreatedBy: "owner@contoso.example"}
}

func noFill(*store.User) {}

// TestInvitationLinkLifecycle: a link works once, for 7 days, until an
// admin revokes it — the same rules for both kinds.
func TestInvitationLinkLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, clk, contoso, _ := setup(t, st)
		for i, tc := range []struct {
			name    string
			req     invitations.Request
			then    func(inv *store.Invitation)
			findErr error
		}{
			{"staff: new", staff("new@seller.example", "viewer"), nil, nil},
			{"customer admin: new", customerAdmin("new@contoso.example", contoso.ID), nil, nil},
			{"staff: revoked", staff("revoked@seller.example", "viewer"), func(inv *store.Invitation) {
				if _, revoked, err := svc.Revoke(ctx, invitations.Staff(), inv.ID); err != nil || !revoked {
					t.Fatalf("revoke: %v %v", revoked, err)
				}
			}, invitations.ErrUnusable},
			{"customer admin: revoked", customerAdmin("revoked@contoso.example", contoso.ID), func(inv *store.Invitation) {
				if _, revoked, err := svc.Revoke(ctx, invitations.CustomerAdmins(contoso.ID), inv.ID); err != nil || !revoked {
					t.Fatalf("revoke: %v %v", revoked, err)
				}
			}, invitations.ErrUnusable},
			{"staff: accepted", staff("used@seller.example", "operator"), func(inv *store.Invitation) {
				if _, err := svc.Accept(ctx, inv, noFill); err != nil {
					t.Fatal(err)
				}
			}, invitations.ErrUnusable},
			{"customer admin: accepted", customerAdmin("used@contoso.example", contoso.ID), func(inv *store.Invitation) {
				if _, err := svc.Accept(ctx, inv, noFill); err != nil {
					t.Fatal(err)
				}
			}, invitations.ErrUnusable},
		} {
			t.Run(tc.name, func(t *testing.T) {
				inv, token, err := svc.Create(ctx, tc.req)
				if err != nil {
					t.Fatal(err)
				}
				if inv.TokenHash != invitations.HashToken(token) || inv.TokenHash == token || !inv.ExpiresAt.Equal(clk.t.Add(invitations.Lifetime)) {
					t.Fatalf("stored %+v for token %q", inv, token)
				}
				if tc.then != nil {
					tc.then(inv)
				}
				found, err := svc.Find(ctx, token)
				if !errors.Is(err, tc.findErr) || (err == nil && found.ID != inv.ID) {
					t.Fatalf("find %d: %+v %v, want %v", i, found, err, tc.findErr)
				}
			})
		}
		// Expiry: a link works for Lifetime, not a second longer.
		inv, token, err := svc.Create(ctx, customerAdmin("late@contoso.example", contoso.ID))
		if err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(invitations.Lifetime - time.Second)
		if _, err := svc.Find(ctx, token); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		clk.t = clk.t.Add(time.Second)
		if _, err := svc.Find(ctx, token); !errors.Is(err, invitations.ErrUnusable) {
			t.Fatalf("at expiry: %v", err)
		}
		if _, err := svc.Accept(ctx, inv, noFill); !errors.Is(err, invitations.ErrUnusable) {
			t.Fatalf("accepting an expired link: %v", err)
		}
		if _, err := svc.Find(ctx, "no-such-token"); !errors.Is(err, invitations.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := svc.Find(ctx, ""); !errors.Is(err, invitations.ErrNotFound) {
			t.Fatalf("empty token: %v", err)
		}
	})
}

// TestAcceptCreatesTheInvitedAccountOnce: accepting creates a staff member
// with the invitation's role, or a customer admin of the invitation's
// organisation, audited, once; an address that has an account meanwhile
// is refused and the link stays usable.
func TestAcceptCreatesTheInvitedAccountOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, _, contoso, _ := setup(t, st)

		sInv, _, err := svc.Create(ctx, staff("ops@seller.example", "operator"))
		if err != nil {
			t.Fatal(err)
		}
		u, err := svc.Accept(ctx, sInv, func(u *store.User) { u.Name, u.PasswordHash = "Ops Person", "hash" })
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != "operator" || u.CustomerID != nil || u.Name != "Ops Person" || u.Email != "ops@seller.example" {
			t.Fatalf("staff member: %+v", u)
		}
		if _, err := svc.Accept(ctx, sInv, noFill); !errors.Is(err, invitations.ErrUnusable) {
			t.Fatalf("second acceptance: %v", err)
		}

		cInv, _, err := svc.Create(ctx, customerAdmin("it@contoso.example", contoso.ID))
		if err != nil {
			t.Fatal(err)
		}
		ca, err := svc.Accept(ctx, cInv, func(u *store.User) { u.EntraObjectID = "oid-1" })
		if err != nil {
			t.Fatal(err)
		}
		if ca.Role != store.RoleCustomerAdmin || ca.CustomerID == nil || *ca.CustomerID != contoso.ID || ca.EntraObjectID != "oid-1" {
			t.Fatalf("customer admin: %+v", ca)
		}
		stored, err := svc.ByID(ctx, invitations.CustomerAdmins(contoso.ID), cInv.ID)
		if err != nil || stored.UsedAt == nil || stored.UsedBy == nil || *stored.UsedBy != ca.ID {
			t.Fatalf("accepted invitation: %+v %v", stored, err)
		}
		var joins []store.AuditEntry
		if err := st.TestingDB(t).Where("action IN ?", []string{"user.join", "customer_admin.join"}).Order("id").Find(&joins).Error; err != nil {
			t.Fatal(err)
		}
		if len(joins) != 2 || joins[0].Action != "user.join" || joins[0].ActorEmail != "ops@seller.example" ||
			joins[1].Action != "customer_admin.join" || joins[1].TargetType != "customer" {
			t.Fatalf("audit: %+v", joins)
		}

		// The address got an account another way meanwhile.
		taken, _, err := svc.Create(ctx, staff("it@contoso.example", "viewer"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Accept(ctx, taken, noFill); !errors.Is(err, invitations.ErrEmailTaken) {
			t.Fatalf("address with an account: %v", err)
		}
		if again, err := svc.ByID(ctx, invitations.Staff(), taken.ID); err != nil || again.UsedAt != nil {
			t.Fatalf("a refused acceptance used the link: %+v %v", again, err)
		}
	})
}

// TestInvitationsKeepToTheirKindAndOrganisation: one table holds both
// kinds, but each surface sees only its own: staff invitations, or one
// organisation's customer-admin invitations.
func TestInvitationsKeepToTheirKindAndOrganisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, _, contoso, fabrikam := setup(t, st)
		s1, _, _ := svc.Create(ctx, staff("a@seller.example", "viewer"))
		c1, _, _ := svc.Create(ctx, customerAdmin("a@contoso.example", contoso.ID))
		f1, _, err := svc.Create(ctx, customerAdmin("a@fabrikam.example", fabrikam.ID))
		if err != nil {
			t.Fatal(err)
		}
		ids := func(invs []store.Invitation, err error) []uint {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out := []uint{}
			for _, inv := range invs {
				out = append(out, inv.ID)
			}
			return out
		}
		if got := ids(svc.List(ctx, invitations.Staff())); len(got) != 1 || got[0] != s1.ID {
			t.Errorf("staff list: %v", got)
		}
		if got := ids(svc.List(ctx, invitations.CustomerAdmins(contoso.ID))); len(got) != 1 || got[0] != c1.ID {
			t.Errorf("Contoso's list: %v", got)
		}
		if got := ids(svc.List(ctx, invitations.CustomerAdmins(0))); len(got) != 2 {
			t.Errorf("every organisation's list: %v", got)
		}
		for name, tc := range map[string]struct {
			f  store.InvitationFilter
			id uint
		}{
			"a staff invitation as a customer-admin one": {invitations.CustomerAdmins(0), s1.ID},
			"a customer-admin invitation as a staff one": {invitations.Staff(), c1.ID},
			"another organisation's invitation":          {invitations.CustomerAdmins(contoso.ID), f1.ID},
		} {
			if _, _, err := svc.Revoke(ctx, tc.f, tc.id); !errors.Is(err, invitations.ErrNotFound) {
				t.Errorf("revoking %s: %v", name, err)
			}
		}
		if got, err := svc.ByID(ctx, invitations.CustomerAdmins(0), f1.ID); err != nil || got.RevokedAt != nil {
			t.Errorf("Fabrikam's invitation after the refused revocations: %+v %v", got, err)
		}
		if emails, err := svc.Pending(ctx, invitations.CustomerAdmins(contoso.ID), 3); err != nil || len(emails) != 1 || emails[0] != "a@contoso.example" {
			t.Errorf("Contoso's pending: %v %v", emails, err)
		}
	})
}

// TestStaffInvitationNewestLinkWins: inviting a staff address again
// revokes its pending link; customer-admin invitations of an address
// stand side by side (as before the two kinds shared a table).
func TestStaffInvitationNewestLinkWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, _, contoso, _ := setup(t, st)
		_, first, _ := svc.Create(ctx, staff("twice@seller.example", "viewer"))
		_, second, err := svc.Create(ctx, staff("twice@seller.example", "operator"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Find(ctx, first); !errors.Is(err, invitations.ErrUnusable) {
			t.Errorf("the older staff link: %v", err)
		}
		if inv, err := svc.Find(ctx, second); err != nil || inv.Role != "operator" {
			t.Errorf("the newer staff link: %+v %v", inv, err)
		}
		_, a, _ := svc.Create(ctx, customerAdmin("twice@contoso.example", contoso.ID))
		_, b, err := svc.Create(ctx, customerAdmin("twice@contoso.example", contoso.ID))
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{a, b} {
			if _, err := svc.Find(ctx, tok); err != nil {
				t.Errorf("customer-admin link: %v", err)
			}
		}
		// An accepted invitation cannot be revoked; a revoked one is revoked once.
		inv, _ := svc.Find(ctx, second)
		if _, err := svc.Accept(ctx, inv, noFill); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Revoke(ctx, invitations.Staff(), inv.ID); !errors.Is(err, invitations.ErrAccepted) {
			t.Errorf("revoking an accepted invitation: %v", err)
		}
		ca, _ := svc.Find(ctx, a)
		if _, revoked, err := svc.Revoke(ctx, invitations.CustomerAdmins(contoso.ID), ca.ID); err != nil || !revoked {
			t.Fatalf("first revocation: %v %v", revoked, err)
		}
		if got, revoked, err := svc.Revoke(ctx, invitations.CustomerAdmins(contoso.ID), ca.ID); err != nil || revoked || got.RevokedAt == nil {
			t.Errorf("second revocation: %+v %v %v", got, revoked, err)
		}
	})
}

// TestUnknownKindRefused: an invitation is one of the two kinds, and a
// customer-admin invitation names its organisation.
func TestUnknownKindRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, _, _, _ := setup(t, st)
		if _, _, err := svc.Create(context.Background(), invitations.Request{Kind: "guest", Email: "x@y.example"}); err == nil {
			t.Error("an unknown kind was stored")
		}
		if _, _, err := svc.Create(context.Background(), customerAdmin("x@y.example", 0)); err == nil {
			t.Error("a customer-admin invitation without an organisation was stored")
		}
	})
}
