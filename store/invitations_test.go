package store_test

import (
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestInvitationsMigrationKeepsBothOldTables: migration
// 202612030021_invitations copies every row of admin_invites and
// staff_invites into the one invitations table (state, token hash and
// who accepted kept), points a Microsoft sign-in under way for a
// customer-admin invitation at its copy, and leaves the old tables' rows
// in place.
func TestInvitationsMigrationKeepsBothOldTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		db := st.TestingDB(t)
		now := time.Now().UTC().Truncate(time.Second)
		cu := store.Customer{Name: "Contoso", CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&cu).Error; err != nil {
			t.Fatal(err)
		}
		joined := store.User{Email: "joined@contoso.example", Role: store.RoleCustomerAdmin, CustomerID: &cu.ID, CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&joined).Error; err != nil {
			t.Fatal(err)
		}
		// Undo the migration, then plant rows as the previous release wrote them.
		for _, q := range []string{"DROP TABLE invitations", "DELETE FROM schema_migrations WHERE id = '202612030021_invitations'"} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exp := now.Add(7 * 24 * time.Hour)
		exec(`INSERT INTO admin_invites (id, customer_id, email, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at)
			VALUES (40, ?, 'pending@contoso.example', 'hash-a1', 'owner@contoso.example', ?, NULL, NULL, NULL, ?)`, cu.ID, exp, now)
		exec(`INSERT INTO admin_invites (id, customer_id, email, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at)
			VALUES (41, ?, 'joined@contoso.example', 'hash-a2', 'Microsoft purchase', ?, ?, ?, NULL, ?)`, cu.ID, exp, now, joined.ID, now)
		exec(`INSERT INTO staff_invites (id, email, name, role, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at)
			VALUES (40, 'ops@seller.example', 'Ops', 'operator', 'hash-s1', 'admin@seller.example', ?, NULL, NULL, ?, ?)`, exp, now, now)
		exec(`INSERT INTO azure_sign_ins (state_hash, nonce, purchase_token, expires_at, created_at, purpose, next_path, invite_id)
			VALUES ('state-1', 'nonce', '', ?, ?, 'invite', '/', 40)`, exp, now)

		if err := st.Migrate(); err != nil {
			t.Fatal(err)
		}

		var got []store.Invitation
		if err := db.Order("id").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d invitations after the migration, want 3: %+v", len(got), got)
		}
		byHash := map[string]store.Invitation{}
		for _, inv := range got {
			byHash[inv.TokenHash] = inv
		}
		a1, a2, s1 := byHash["hash-a1"], byHash["hash-a2"], byHash["hash-s1"]
		if a1.Kind != store.InviteCustomerAdmin || a1.CustomerID == nil || *a1.CustomerID != cu.ID || a1.Role != store.RoleCustomerAdmin ||
			a1.Email != "pending@contoso.example" || a1.CreatedBy != "owner@contoso.example" || !a1.ExpiresAt.Equal(exp) || !a1.Pending(now) {
			t.Errorf("pending customer-admin invitation: %+v", a1)
		}
		if a2.Kind != store.InviteCustomerAdmin || a2.UsedAt == nil || a2.UsedBy == nil || *a2.UsedBy != joined.ID {
			t.Errorf("accepted customer-admin invitation: %+v", a2)
		}
		if s1.Kind != store.InviteStaff || s1.CustomerID != nil || s1.Role != "operator" || s1.Name != "Ops" || s1.RevokedAt == nil {
			t.Errorf("revoked staff invitation: %+v", s1)
		}
		var si store.AzureSignIn
		if err := db.Where("state_hash = ?", "state-1").Take(&si).Error; err != nil {
			t.Fatal(err)
		}
		if si.InviteID == nil || *si.InviteID != a1.ID {
			t.Errorf("the sign-in under way points at invitation %v, want %d", si.InviteID, a1.ID)
		}
		var oldAdmin, oldStaff int64
		db.Table("admin_invites").Count(&oldAdmin)
		db.Table("staff_invites").Count(&oldStaff)
		if oldAdmin != 2 || oldStaff != 1 {
			t.Errorf("old tables after the migration: %d admin invites, %d staff invites; want them kept", oldAdmin, oldStaff)
		}
		// The table's rule: a kind goes with its role and organisation.
		bad := store.Invitation{Kind: store.InviteStaff, CustomerID: &cu.ID, Email: "x@y.example", Role: "operator", TokenHash: "hash-bad", ExpiresAt: exp, CreatedAt: now}
		if err := st.CreateInvitation(t.Context(), &bad, false); err == nil {
			t.Error("a staff invitation with an organisation was stored")
		}
	})
}
