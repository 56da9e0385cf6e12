package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// createStaffInvite invites someone to the seller's staff with a role; the
// link is shown once, works once, for 7 days.
func (s *Server) createStaffInvite(c *gin.Context) {
	in, ok := s.bindStaff(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.Store.UserByEmail(ctx, in.Email); err == nil {
		s.failCode(c, apperr.Conflict, "%s already has an account", in.Email)
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		s.fail(c, err)
		return
	}
	u := currentUser(c)
	token := auth.RandomToken(24)
	now := s.Now().UTC()
	inv := store.StaffInvite{Email: in.Email, Name: in.Name, Role: in.Role, TokenHash: hashState(token), CreatedBy: u.Email,
		ExpiresAt: now.Add(inviteLifetime), CreatedAt: now}
	// The newest link wins: older pending invitations of the address stop working.
	err := s.Store.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&store.StaffInvite{}).Where("email = ? AND used_at IS NULL AND revoked_at IS NULL", inv.Email).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		return tx.Create(&inv).Error
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "user.invite", "staff_invite", inv.ID, nil, map[string]any{"email": inv.Email, "role": inv.Role})
	c.JSON(http.StatusCreated, gin.H{"invite": inv, "url": s.baseURL(c) + "/invite?token=" + url.QueryEscape(token)})
}

func (s *Server) listStaffInvites(c *gin.Context) {
	var invs []store.StaffInvite
	if err := s.Store.R.WithContext(c.Request.Context()).Order("created_at DESC, id DESC").Limit(200).Find(&invs).Error; err != nil {
		s.fail(c, err)
		return
	}
	if invs == nil {
		invs = []store.StaffInvite{}
	}
	c.JSON(http.StatusOK, gin.H{"items": invs})
}

func (s *Server) revokeStaffInvite(c *gin.Context) {
	inv, ok := byPathID[store.StaffInvite](s, c, "invitation")
	if !ok {
		return
	}
	if inv.UsedAt != nil {
		s.failCode(c, apperr.Conflict, "this invitation was already accepted")
		return
	}
	if inv.RevokedAt == nil {
		now := s.Now().UTC()
		if err := s.Store.W.WithContext(c.Request.Context()).Model(inv).Update("revoked_at", now).Error; err != nil {
			s.fail(c, err)
			return
		}
		inv.RevokedAt = &now
		s.audit(c, currentUser(c), "user.invite_revoke", "staff_invite", inv.ID, nil, map[string]any{"email": inv.Email})
	}
	c.JSON(http.StatusOK, gin.H{"invite": inv})
}

// findStaffInvitation finds a usable staff invitation by its link's token.
func (s *Server) findStaffInvitation(ctx context.Context, token string) (*invitation, error) {
	if token == "" {
		return nil, store.ErrNotFound
	}
	var inv store.StaffInvite
	if err := s.Store.W.WithContext(ctx).Where("token_hash = ?", hashState(token)).First(&inv).Error; err != nil {
		return nil, store.ErrNotFound
	}
	if inv.UsedAt != nil || inv.RevokedAt != nil || !inv.ExpiresAt.After(s.Now()) {
		return nil, store.ErrTicketUsed
	}
	data := map[string]any{"Token": token, "Company": "the seller's team", "Email": inv.Email, "Name": inv.Name,
		"Purpose": "to the seller's portal as " + inv.Role, "By": cmp.Or(inv.CreatedBy, "An administrator"), "Microsoft": false}
	return &invitation{data: data, use: func(ctx context.Context, fill func(*store.User)) (*store.User, error) {
		return s.useStaffInvite(ctx, &inv, fill)
	}}, nil
}

// useStaffInvite accepts a staff invitation: the user is created with the
// invitation's role, once.
func (s *Server) useStaffInvite(ctx context.Context, inv *store.StaffInvite, fill func(*store.User)) (*store.User, error) {
	now := s.Now().UTC()
	u := &store.User{Email: inv.Email, Name: inv.Name, Role: inv.Role, CreatedAt: now, UpdatedAt: now}
	fill(u)
	if err := s.acceptOnce(ctx, &store.StaffInvite{}, inv.ID, u, now); err != nil {
		return nil, err
	}
	_ = s.Store.Audit(ctx, &store.AuditEntry{At: now, ActorUserID: &u.ID, ActorEmail: u.Email, Action: "user.join",
		TargetType: "user", TargetID: strconv.FormatUint(uint64(u.ID), 10), After: `{"role":"` + u.Role + `"}`})
	return u, nil
}
