// Package invitations is the one flow of invitation links, for both kinds:
// joining the seller's staff with a role, and becoming a customer admin
// of one organisation. A link is a random token shown once (only its hash
// is stored), works once, for Lifetime, and an admin can revoke it while
// it is unused. Accepting it creates the invited account in the same
// transaction that marks the link used. Both kinds share one table
// (store.Invitation); the HTTP surfaces (/api/users/invites,
// /api/customer-admins/invites, /invite) translate to these calls.
package invitations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// Lifetime is how long an invitation link works (once).
const Lifetime = 7 * 24 * time.Hour

// ListLimit bounds a list of invitations (newest first).
const ListLimit = 200

var (
	// ErrNotFound: no invitation has this token or id (of this kind,
	// within this organisation).
	ErrNotFound = store.ErrNotFound
	// ErrUnusable: the link was used, revoked or has expired.
	ErrUnusable = store.ErrTicketUsed
	// ErrAccepted: an accepted invitation cannot be revoked.
	ErrAccepted = errors.New("invitation already accepted")
	// ErrEmailTaken: the invited address has an account meanwhile.
	ErrEmailTaken = store.ErrConflict
)

// Service creates, lists, revokes and accepts invitations.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// HashToken is how a link's token is stored.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Request is a new invitation. Staff: Email, Name and Role (a seller
// role). Customer admin: Email and CustomerID. The caller checks who may
// invite whom.
type Request struct {
	Kind       string
	CustomerID uint
	Email      string
	Name       string
	Role       string
	CreatedBy  string // who invited (an e-mail, or what did)
	Language   string // the invitation's language ("en", "ja"; "": unknown)
}

// Create stores a new invitation and returns it with its link's token
// (shown once). A staff invitation replaces the address's pending ones
// (the newest link wins); customer-admin invitations stand side by side.
func (s *Service) Create(ctx context.Context, r Request) (*store.Invitation, string, error) {
	now := s.now()
	token := auth.RandomToken(24)
	inv := &store.Invitation{Kind: r.Kind, Email: r.Email, Name: r.Name, Role: r.Role, TokenHash: HashToken(token), CreatedBy: r.CreatedBy,
		ExpiresAt: now.Add(Lifetime), CreatedAt: now, Language: r.Language}
	switch r.Kind {
	case store.InviteStaff:
	case store.InviteCustomerAdmin:
		if r.CustomerID == 0 {
			return nil, "", errors.New("invitations: a customer-admin invitation needs its organisation")
		}
		id := r.CustomerID
		inv.CustomerID, inv.Role, inv.Name = &id, store.RoleCustomerAdmin, ""
	default:
		return nil, "", errors.New("invitations: unknown kind " + strconv.Quote(r.Kind))
	}
	if err := s.Store.CreateInvitation(ctx, inv, r.Kind == store.InviteStaff); err != nil {
		return nil, "", err
	}
	return inv, token, nil
}

// Staff selects staff invitations.
func Staff() store.InvitationFilter { return store.InvitationFilter{Kind: store.InviteStaff} }

// CustomerAdmins selects the customer-admin invitations of one
// organisation (0: of every organisation).
func CustomerAdmins(customerID uint) store.InvitationFilter {
	return store.InvitationFilter{Kind: store.InviteCustomerAdmin, CustomerID: customerID}
}

// List lists invitations, newest first (at most ListLimit).
func (s *Service) List(ctx context.Context, f store.InvitationFilter) ([]store.Invitation, error) {
	return s.Store.ListInvitations(ctx, f, ListLimit)
}

// Pending lists the addresses invited with links that still work, oldest
// first, at most limit.
func (s *Service) Pending(ctx context.Context, f store.InvitationFilter, limit int) ([]string, error) {
	return s.Store.PendingInvitationEmails(ctx, f, s.now(), limit)
}

// Revoke makes an unused link stop working. It returns the invitation and
// whether this call revoked it (false: it was revoked already);
// ErrAccepted when it was accepted, ErrNotFound outside the filter.
func (s *Service) Revoke(ctx context.Context, f store.InvitationFilter, id uint) (*store.Invitation, bool, error) {
	inv, err := s.Store.InvitationByID(ctx, f, id)
	if err != nil {
		return nil, false, err
	}
	if inv.UsedAt != nil {
		return inv, false, ErrAccepted
	}
	if inv.RevokedAt != nil {
		return inv, false, nil
	}
	now := s.now()
	done, err := s.Store.RevokeInvitation(ctx, inv.ID, now)
	if err != nil {
		return nil, false, err
	}
	if !done { // accepted or revoked meanwhile
		if inv, err = s.Store.InvitationByID(ctx, f, id); err != nil {
			return nil, false, err
		}
		if inv.UsedAt != nil {
			return inv, false, ErrAccepted
		}
		return inv, false, nil
	}
	inv.RevokedAt = &now
	return inv, true, nil
}

// Find returns the invitation of a link: ErrNotFound when there is none,
// the invitation and ErrUnusable when it was used, revoked or expired.
func (s *Service) Find(ctx context.Context, token string) (*store.Invitation, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	inv, err := s.Store.InvitationByTokenHash(ctx, HashToken(token))
	if err != nil {
		return nil, err
	}
	if !inv.Pending(s.now()) {
		return inv, ErrUnusable
	}
	return inv, nil
}

// ByID reads one invitation within the filter.
func (s *Service) ByID(ctx context.Context, f store.InvitationFilter, id uint) (*store.Invitation, error) {
	return s.Store.InvitationByID(ctx, f, id)
}

// Accept creates the invited account (fill completes it: name, password
// hash or Entra object id) and marks the link used, once: ErrUnusable when
// it was used, revoked or expired meanwhile, ErrEmailTaken when the
// address has an account. The join is audited.
func (s *Service) Accept(ctx context.Context, inv *store.Invitation, fill func(*store.User)) (*store.User, error) {
	now := s.now()
	u := &store.User{Email: inv.Email, Name: inv.Name, Role: inv.Role, CreatedAt: now, UpdatedAt: now}
	if inv.Kind == store.InviteCustomerAdmin && inv.CustomerID != nil {
		cid := *inv.CustomerID
		u.CustomerID, u.Role = &cid, store.RoleCustomerAdmin
	}
	fill(u)
	if err := s.Store.AcceptInvitation(ctx, inv.ID, u, now); err != nil {
		return nil, err
	}
	e := &store.AuditEntry{At: now, ActorUserID: &u.ID, ActorEmail: u.Email, Action: "user.join",
		TargetType: "user", TargetID: strconv.FormatUint(uint64(u.ID), 10), After: `{"role":"` + u.Role + `"}`}
	if inv.Kind == store.InviteCustomerAdmin {
		e.Action, e.TargetType, e.TargetID, e.After = "customer_admin.join", "customer", strconv.FormatUint(uint64(*u.CustomerID), 10), ""
	}
	_ = s.Store.Audit(ctx, e) // a failure to record does not undo the join
	return u, nil
}
