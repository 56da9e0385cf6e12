package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

var sellerRoles = []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer}

// createUser adds a seller staff member with a one-time password (shown
// once; it must be changed at first sign-in).
// staffInput is a new seller staff member: e-mail (folded), name, role.
type staffInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// bindStaff reads and checks a staffInput (400 invalid_input otherwise).
func (s *Server) bindStaff(c *gin.Context) (staffInput, bool) {
	var in staffInput
	if !s.bindJSON(c, &in) {
		return in, false
	}
	who, err := seats.ParseUser(in.Email)
	if err != nil || who.Email == "" {
		s.failCode(c, apperr.Invalid, "email is not an e-mail address")
		return in, false
	}
	if !oneOf(in.Role, sellerRoles) {
		s.failCode(c, apperr.Invalid, "role must be one of %s (customer admins are invited by their organisation)", strings.Join(sellerRoles, ", "))
		return in, false
	}
	in.Email, in.Name = who.Email, strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(in.Name) > 200 {
		s.failCode(c, apperr.Invalid, "name is longer than 200 characters")
		return in, false
	}
	if auth.HasControl(in.Name) {
		s.failCode(c, apperr.Invalid, "name must not contain control characters")
		return in, false
	}
	return in, true
}

func (s *Server) createUser(c *gin.Context) {
	in, ok := s.bindStaff(c)
	if !ok {
		return
	}
	password := auth.RandomToken(12)
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.Now().UTC()
	u := &store.User{Email: in.Email, Name: in.Name, Role: in.Role, PasswordHash: hash, MustChangePassword: true,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(c.Request.Context(), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.failCode(c, apperr.Conflict, "%s already has an account", in.Email)
			return
		}
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "user.create", "user", u.ID, nil, viewUser(u))
	c.JSON(http.StatusCreated, gin.H{"user": viewUser(u), "password": password})
}

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}

// updateUser changes a user's name, role or whether they may sign in. An
// admin cannot demote or disable themselves, and the last admin stays.
func (s *Server) updateUser(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var in struct {
		Name     *string `json:"name"`
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	me := currentUser(c)
	var u store.User
	var before userView
	err := s.Store.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&u, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.New(apperr.NotFound, "user %d does not exist", id)
			}
			return err
		}
		before = viewUser(&u)
		set := map[string]any{"updated_at": s.Now().UTC()}
		if in.Name != nil {
			if len(*in.Name) > 200 {
				return apperr.New(apperr.Invalid, "name is longer than 200 characters")
			}
			if auth.HasControl(*in.Name) {
				return apperr.New(apperr.Invalid, "name must not contain control characters")
			}
			set["name"], u.Name = strings.TrimSpace(*in.Name), strings.TrimSpace(*in.Name)
		}
		if in.Role != nil && *in.Role != u.Role {
			if u.Role == store.RoleCustomerAdmin || !oneOf(*in.Role, sellerRoles) {
				return apperr.New(apperr.Invalid, "role must be one of %s, for seller staff", strings.Join(sellerRoles, ", "))
			}
			if u.ID == me.ID {
				return apperr.New(apperr.Conflict, "you cannot change your own role")
			}
			set["role"], u.Role = *in.Role, *in.Role
		}
		if in.Disabled != nil && *in.Disabled != u.Disabled {
			if u.ID == me.ID {
				return apperr.New(apperr.Conflict, "you cannot disable your own account")
			}
			set["disabled"], u.Disabled = *in.Disabled, *in.Disabled
		}
		if before.Role == store.RoleAdmin && !before.Disabled && (u.Role != store.RoleAdmin || u.Disabled) {
			var admins int64
			if err := tx.Model(&store.User{}).Where("role = ? AND NOT disabled AND id <> ?", store.RoleAdmin, u.ID).Count(&admins).Error; err != nil {
				return err
			}
			if admins == 0 {
				return apperr.New(apperr.Conflict, "this is the last admin: make someone else admin first")
			}
		}
		return tx.Model(&store.User{}).Where("id = ?", u.ID).Updates(set).Error
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if u.Disabled {
		_ = s.Store.DeleteUserSessions(ctx, u.ID, "") // signed out everywhere at once
	}
	after := viewUser(&u)
	s.audit(c, me, "user.update", "user", u.ID, before, after)
	c.JSON(http.StatusOK, gin.H{"user": after})
}

type auditView struct {
	ID         uint      `json:"id"`
	At         time.Time `json:"at"`
	ActorEmail string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Before     string    `json:"before"`
	After      string    `json:"after"`
	RequestID  string    `json:"request_id"`
	IP         string    `json:"ip"`
}

// listAudit is the audit log: who did what and when, with before and
// after values; filters, paging, CSV export.
func (s *Server) listAudit(c *gin.Context) {
	p := params{c: c}
	actor := p.text("actor", 320)
	action := p.text("action", 100)
	target := p.text("target_type", 50)
	targetID := p.text("target_id", 50)
	from, to := p.time("from"), p.time("to")
	limit := p.intRange("limit", 100, 1, 1000)
	offset := p.intRange("offset", 0, 0, maxOffset)
	csvOut := c.Query("format") == "csv"
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	q := s.Store.R.WithContext(c.Request.Context()).Model(&store.AuditEntry{})
	if actor != "" {
		q = q.Where("actor_email LIKE ? ESCAPE '\\'", "%"+escapeLikeQ(strings.ToLower(actor))+"%")
	}
	if action != "" {
		q = q.Where("action LIKE ? ESCAPE '\\'", escapeLikeQ(action)+"%")
	}
	if target != "" {
		q = q.Where("target_type = ?", target)
	}
	if targetID != "" {
		q = q.Where("target_id = ?", targetID)
	}
	if !from.IsZero() {
		q = q.Where("at >= ?", from)
	}
	if !to.IsZero() {
		q = q.Where("at < ?", to)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		s.fail(c, err)
		return
	}
	if csvOut {
		limit, offset = 100000, 0
	}
	var rows []store.AuditEntry
	if err := q.Order("at DESC, id DESC").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		s.fail(c, err)
		return
	}
	items := make([]auditView, len(rows))
	for i, r := range rows {
		items[i] = auditView{r.ID, r.At, r.ActorEmail, r.Action, r.TargetType, r.TargetID, r.Before, r.After, r.RequestID, r.IP}
	}
	if csvOut {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="audit-log.csv"`)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"at", "actor", "action", "target_type", "target_id", "before", "after", "request_id", "ip"})
		for _, it := range items {
			_ = w.Write([]string{it.At.UTC().Format(time.RFC3339), csvSafe(it.ActorEmail), it.Action, it.TargetType, csvSafe(it.TargetID),
				csvSafe(it.Before), csvSafe(it.After), it.RequestID, it.IP})
		}
		w.Flush()
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total, "limit": limit, "offset": offset})
}

func escapeLikeQ(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// resetPassword gives a user a new one-time password (shown once; it must
// be changed at first sign-in) and signs them out everywhere.
func (s *Server) resetPassword(c *gin.Context) {
	u, ok := byPathID[store.User](s, c, "user")
	if !ok {
		return
	}
	if u.ID == currentUser(c).ID {
		s.failCode(c, apperr.Conflict, "change your own password with your current one (account menu)")
		return
	}
	password := auth.RandomToken(12)
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u.Disabled {
		s.failCode(c, apperr.Conflict, "the account is deactivated: reactivate it first")
		return
	}
	ctx := c.Request.Context()
	if err := s.Store.SetPassword(ctx, u.ID, hash, true); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		s.fail(c, err) // the password changed, but old sessions may live: say so
		return
	}
	after, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "user.reset_password", "user", u.ID,
		map[string]any{"must_change_password": u.MustChangePassword}, map[string]any{"must_change_password": true, "sessions": "ended"})
	c.JSON(http.StatusOK, gin.H{"user": viewUser(after), "password": password})
}
