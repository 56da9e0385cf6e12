package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// clockEnv is an env whose server clock the test moves.
func clockEnv(t *testing.T, st *store.Store, set func(*api.Deps)) (*env, *time.Time) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	e := newEnvWith(t, st, func(d *api.Deps) {
		d.Now = func() time.Time { return now }
		if set != nil {
			set(d)
		}
	})
	return e, &now
}

// auditRows returns the audit entries of an action.
func auditRows(t *testing.T, st *store.Store, action string) []store.AuditEntry {
	t.Helper()
	var rows []store.AuditEntry
	if err := st.TestingDB(t).Where("action = ?", action).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.IP == "" || r.RequestID == "" {
			t.Fatalf("%s: audit row without client address or request id: %+v", action, r)
		}
	}
	return rows
}

// passwordStep signs in with the password and expects the second step.
func passwordStep(t *testing.T, e *env, email string) *browser {
	t.Helper()
	b := &browser{e: e}
	r := b.do(http.MethodPost, "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, testPassword), nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"two_factor_required":true`) || strings.Contains(string(r.body), `"user"`) {
		t.Fatalf("password step: %d %s", r.code, r.body)
	}
	if r := b.get("/api/auth/me"); r.code != 401 {
		t.Fatalf("after the password alone /api/auth/me answered %d, want 401", r.code)
	}
	return b
}

// enrol sets up TOTP for a signed-in browser and returns the secret and
// the recovery codes.
func enrol(t *testing.T, b *browser, now time.Time) (string, []string) {
	t.Helper()
	b.do(http.MethodPost, "/api/auth/2fa/setup", `{"current_password":"wrong-password-1"}`, nil).errCode(t, 401, "invalid_credentials")
	var setup struct {
		Secret    string `json:"secret"`
		URI       string `json:"otpauth_uri"`
		QRCodeURL string `json:"qr_code_url"`
	}
	b.do(http.MethodPost, "/api/auth/2fa/setup", fmt.Sprintf(`{"current_password":%q}`, testPassword), nil).json(t, &setup)
	if len(setup.Secret) < 32 || !strings.HasPrefix(setup.URI, "otpauth://totp/Marketgate:") || !strings.Contains(setup.URI, "secret="+setup.Secret) {
		t.Fatalf("setup: %+v", setup)
	}
	qr := b.get(setup.QRCodeURL)
	if qr.code != 200 || qr.hdr.Get("Content-Type") != "image/png" || !bytes.HasPrefix(qr.body, []byte("\x89PNG")) {
		t.Fatalf("QR code: %d %q", qr.code, qr.hdr.Get("Content-Type"))
	}
	b.do(http.MethodPost, "/api/auth/2fa/enable", `{"code":"000000"}`, nil).errCode(t, 400, "invalid_input")
	var on struct {
		Codes []string `json:"recovery_codes"`
	}
	b.do(http.MethodPost, "/api/auth/2fa/enable", fmt.Sprintf(`{"code":%q}`, auth.TOTPCode(setup.Secret, now)), nil).json(t, &on)
	if len(on.Codes) != auth.RecoveryCodeCount {
		t.Fatalf("recovery codes: %v", on.Codes)
	}
	return setup.Secret, on.Codes
}

// Issue 15, "What seller staff expect": two-factor authentication (TOTP,
// with recovery codes) for password accounts.
func TestTwoFactorSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e, now := clockEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		secret, codes := enrol(t, admin, *now)
		if n := len(auditRows(t, st, "user.2fa_enabled")); n != 1 {
			t.Fatalf("user.2fa_enabled audit rows: %d", n)
		}
		var me struct {
			User struct {
				TwoFactor bool `json:"two_factor_enabled"`
				Left      int  `json:"recovery_codes_left"`
			}
		}
		admin.get("/api/auth/me").json(t, &me)
		if !me.User.TwoFactor || me.User.Left != auth.RecoveryCodeCount {
			t.Fatalf("me: %+v", me)
		}

		// The password alone no longer signs in; the code that enabled it
		// was used already (a code works once); the next one signs in.
		b := passwordStep(t, e, "admin@seller.com")
		b.do(http.MethodPost, "/api/auth/login/2fa", fmt.Sprintf(`{"code":%q}`, auth.TOTPCode(secret, *now)), nil).errCode(t, 401, "invalid_credentials")
		b.do(http.MethodPost, "/api/auth/login/2fa", `{"code":"123456"}`, nil).errCode(t, 401, "invalid_credentials")
		*now = now.Add(30 * time.Second)
		if r := b.do(http.MethodPost, "/api/auth/login/2fa", fmt.Sprintf(`{"code":%q}`, auth.TOTPCode(secret, *now)), nil); r.code != 200 || !strings.Contains(string(r.body), `"email":"admin@seller.com"`) {
			t.Fatalf("second step: %d %s", r.code, r.body)
		}
		if r := b.get("/api/subscriptions"); r.code != 200 {
			t.Fatalf("signed in with a code: %d", r.code)
		}

		// A recovery code works once (typed in capitals with spaces too).
		b2 := passwordStep(t, e, "admin@seller.com")
		typed := " " + strings.ToUpper(codes[3]) + " "
		if r := b2.do(http.MethodPost, "/api/auth/login/2fa", fmt.Sprintf(`{"recovery_code":%q}`, typed), nil); r.code != 200 {
			t.Fatalf("recovery code: %d %s", r.code, r.body)
		}
		b3 := passwordStep(t, e, "admin@seller.com")
		b3.do(http.MethodPost, "/api/auth/login/2fa", fmt.Sprintf(`{"recovery_code":%q}`, codes[3]), nil).errCode(t, 401, "invalid_credentials")
		// The second step waits five minutes, not longer.
		*now = now.Add(6 * time.Minute)
		b3.do(http.MethodPost, "/api/auth/login/2fa", fmt.Sprintf(`{"code":%q}`, auth.TOTPCode(secret, *now)), nil).errCode(t, 401, "unauthenticated")
		// No pending password step at all.
		(&browser{e: e}).do(http.MethodPost, "/api/auth/login/2fa", `{"code":"123456"}`, nil).errCode(t, 401, "unauthenticated")

		// Audit: sign-ins by method, second-factor failures, client address.
		methods := map[string]int{}
		for _, r := range auditRows(t, st, "auth.login") {
			methods[r.After]++
		}
		if methods[`{"method":"password+totp"}`] != 1 || methods[`{"method":"password+recovery_code"}`] != 1 || methods[`{"method":"password"}`] != 1 {
			t.Fatalf("auth.login rows: %v", methods)
		}
		if n := len(auditRows(t, st, "auth.2fa_failed")); n != 3 {
			t.Fatalf("auth.2fa_failed rows: %d, want 3", n)
		}
		(&browser{e: e}).do(http.MethodPost, "/api/auth/login", `{"email":"admin@seller.com","password":"not-the-password"}`, nil).errCode(t, 401, "invalid_credentials")
		if rows := auditRows(t, st, "auth.login_failed"); len(rows) != 1 || rows[0].ActorEmail != "admin@seller.com" {
			t.Fatalf("auth.login_failed rows: %+v", rows)
		}

		// An admin can reset another user's second factor (lost phone and
		// codes): their sessions end; never their own this way.
		e.user("second@seller.com", store.RoleAdmin, nil)
		second := e.login("second@seller.com")
		var target struct{ User struct{ ID uint } }
		b.get("/api/auth/me").json(t, &target)
		second.do(http.MethodPost, fmt.Sprintf("/api/users/%d/reset-2fa", target.User.ID), "", nil).json(t, &struct{}{})
		if r := b.get("/api/subscriptions"); r.code != 401 {
			t.Fatalf("after a reset the user's session lives on: %d", r.code)
		}
		if rows := auditRows(t, st, "user.2fa_reset"); len(rows) != 1 {
			t.Fatalf("user.2fa_reset rows: %d", len(rows))
		}
		second.do(http.MethodPost, fmt.Sprintf("/api/users/%d/reset-2fa", target.User.ID), "", nil).errCode(t, 409, "conflict")
		b = e.login("admin@seller.com")
		enrol(t, b, *now)
		*now = now.Add(30 * time.Second)

		// Turning it off needs the password; then the password signs in alone.
		b.do(http.MethodPost, "/api/auth/2fa/disable", `{"current_password":"wrong-password-1"}`, nil).errCode(t, 401, "invalid_credentials")
		if r := b.do(http.MethodPost, "/api/auth/2fa/disable", fmt.Sprintf(`{"current_password":%q}`, testPassword), nil); r.code != 204 {
			t.Fatalf("disable: %d %s", r.code, r.body)
		}
		e.login("admin@seller.com")
		if n := len(auditRows(t, st, "user.2fa_disabled")); n != 1 {
			t.Fatalf("user.2fa_disabled rows: %d", n)
		}
	})
}

// An admin can require two-factor authentication of all seller staff with
// a password: until they set it up, they can do nothing else.
func TestTwoFactorRequiredByAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e, now := clockEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("op@seller.com", store.RoleOperator, nil)
		w := newSeatWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		admin := e.login("admin@seller.com")
		op := e.login("op@seller.com")
		e.login("op@seller.com").do(http.MethodPut, "/api/security", `{"require_two_factor":true}`, nil).errCode(t, 403, "forbidden")

		var set struct {
			Require bool `json:"require_two_factor"`
		}
		admin.do(http.MethodPut, "/api/security", `{"require_two_factor":true}`, nil).errCode(t, 409, "conflict")
		enrol(t, admin, *now)
		*now = now.Add(30 * time.Second)
		admin.do(http.MethodPut, "/api/security", `{"require_two_factor":true}`, nil).json(t, &set)
		if !set.Require {
			t.Fatal("the setting did not stick")
		}
		rows := auditRows(t, st, "security.settings_changed")
		if len(rows) != 1 || rows[0].Before != `{"require_two_factor":false}` || rows[0].After != `{"require_two_factor":true}` {
			t.Fatalf("settings audit: %+v", rows)
		}

		op.get("/api/subscriptions").errCode(t, 403, "forbidden")
		var me struct {
			User struct {
				Must bool `json:"must_enable_two_factor"`
			}
		}
		op.get("/api/auth/me").json(t, &me)
		if !me.User.Must {
			t.Fatal("me does not say two-factor must be set up")
		}
		// Customer admins are not seller staff: not affected.
		if r := e.login("it@contoso.com").get("/api/subscriptions"); r.code != 200 {
			t.Fatalf("customer admin: %d", r.code)
		}
		enrol(t, op, *now)
		if r := op.get("/api/subscriptions"); r.code != 200 {
			t.Fatalf("after enrolling: %d %s", r.code, r.body)
		}
		// While required, staff cannot turn it off.
		op.do(http.MethodPost, "/api/auth/2fa/disable", fmt.Sprintf(`{"current_password":%q}`, testPassword), nil).errCode(t, 409, "conflict")
		// Turning the requirement off is audited too; unchanged values are not.
		admin.do(http.MethodPut, "/api/security", `{"require_two_factor":false}`, nil).json(t, &set)
		admin.do(http.MethodPut, "/api/security", `{"require_two_factor":false}`, nil).json(t, &set)
		if n := len(auditRows(t, st, "security.settings_changed")); n != 2 {
			t.Fatalf("settings audit rows: %d, want 2", n)
		}
		if r := admin.get("/api/subscriptions"); r.code != 200 {
			t.Fatalf("admin after lifting: %d", r.code)
		}
	})
}
