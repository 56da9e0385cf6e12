package store

import (
	"context"
	"strings"
	"time"
)

// Queries of the portal's people: seller staff, customer admins and their
// sign-in bindings (single sign-on subject, Entra object id).

// CustomerNames maps customer ids to their names (ids that do not exist
// are left out).
func (s *Store) CustomerNames(ctx context.Context, ids []uint) (map[uint]string, error) {
	names := map[uint]string{}
	if len(ids) == 0 {
		return names, nil
	}
	var cs []Customer
	if err := s.r.WithContext(ctx).Select("id", "name").Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, err
	}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	return names, nil
}

// User reads a user inside the unit of work; ErrNotFound when there is none.
func (t *Tx) User(id uint) (*User, error) {
	var u User
	if err := t.db.Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// CountActiveAdminsExcept counts the enabled admins other than the user id.
func (t *Tx) CountActiveAdminsExcept(id uint) (int64, error) {
	var n int64
	err := t.db.Model(&User{}).Where("role = ? AND NOT disabled AND id <> ?", RoleAdmin, id).Count(&n).Error
	return n, err
}

// UpdateUser writes changes (column → value) to a user.
func (t *Tx) UpdateUser(id uint, changes map[string]any) error {
	return t.db.Model(&User{}).Where("id = ?", id).Updates(changes).Error
}

// SetUserRole changes a user's role (single sign-on keeps it in step with
// the provider's groups).
func (s *Store) SetUserRole(ctx context.Context, id uint, role string, at time.Time) error {
	return s.w.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"role": role, "updated_at": at}).Error
}

// LinkOIDCSubject binds a staff account not bound yet to a single sign-on
// subject and gives it role; false when it was bound meanwhile.
func (s *Store) LinkOIDCSubject(ctx context.Context, id uint, subject, role string, at time.Time) (bool, error) {
	r := s.w.WithContext(ctx).Model(&User{}).Where("id = ? AND oidc_subject = ''", id).
		Updates(map[string]any{"oidc_subject": subject, "role": role, "updated_at": at})
	return r.RowsAffected == 1, r.Error
}

// ListCustomerAdmins lists an organisation's customer admins by e-mail.
func (s *Store) ListCustomerAdmins(ctx context.Context, customerID uint) ([]User, error) {
	users := []User{}
	err := s.r.WithContext(ctx).Where("customer_id = ? AND role = ?", customerID, RoleCustomerAdmin).Order("email").Find(&users).Error
	return users, err
}

// CountUsersWithEntraObjectID counts the accounts bound to an Entra object id.
func (s *Store) CountUsersWithEntraObjectID(ctx context.Context, objectID string) (int64, error) {
	var n int64
	err := s.w.WithContext(ctx).Model(&User{}).Where("entra_object_id = ?", objectID).Count(&n).Error
	return n, err
}

// CustomerAdminByEntra finds the enabled customer admin bound to an Entra
// object id within an organisation whose Entra tenant is tenantID;
// ErrNotFound when there is none.
func (s *Store) CustomerAdminByEntra(ctx context.Context, objectID, tenantID string) (*User, error) {
	var u User
	err := s.w.WithContext(ctx).Where("role = ? AND NOT disabled", RoleCustomerAdmin).
		Where("entra_object_id = ? AND entra_object_id <> ''", objectID).
		Where("customer_id IN (?)", s.w.Model(&Customer{}).Select("id").
			Where("LOWER(azure_tenant_id) = ? AND azure_tenant_id <> ''", strings.ToLower(tenantID))).
		Limit(1).Find(&u).Error
	if err != nil {
		return nil, err
	}
	if u.ID == 0 {
		return nil, ErrNotFound
	}
	return &u, nil
}

// CustomerByAzureTenant finds the organisation of an Entra tenant (stored
// lower-case); ErrNotFound when there is none.
func (s *Store) CustomerByAzureTenant(ctx context.Context, tenantID string) (*Customer, error) {
	var cu Customer
	if err := s.w.WithContext(ctx).Where("azure_tenant_id = ? AND azure_tenant_id <> ''", strings.ToLower(tenantID)).Limit(1).Find(&cu).Error; err != nil {
		return nil, err
	}
	if cu.ID == 0 {
		return nil, ErrNotFound
	}
	return &cu, nil
}

// UnboundCustomerAdminByEmail finds an enabled customer admin of the
// organisation with the (normalised) e-mail and no Entra object id yet;
// ErrNotFound when there is none.
func (s *Store) UnboundCustomerAdminByEmail(ctx context.Context, email string, customerID uint) (*User, error) {
	var u User
	if err := s.w.WithContext(ctx).Where("role = ? AND NOT disabled", RoleCustomerAdmin).
		Where("email = ? AND customer_id = ? AND entra_object_id = ''", email, customerID).Limit(1).Find(&u).Error; err != nil {
		return nil, err
	}
	if u.ID == 0 {
		return nil, ErrNotFound
	}
	return &u, nil
}

// BindEntraObjectID binds a user to an Entra object id.
func (s *Store) BindEntraObjectID(ctx context.Context, userID uint, objectID string) error {
	return s.w.WithContext(ctx).Model(&User{}).Where("id = ?", userID).Update("entra_object_id", objectID).Error
}

// CreatePortalSignIn stores a portal sign-in with Microsoft under way
// (purpose login or invite).
func (s *Store) CreatePortalSignIn(ctx context.Context, si *AzureSignIn) error {
	return s.w.WithContext(ctx).Create(si).Error
}
