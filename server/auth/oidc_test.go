package auth_test

import (
	"testing"

	"github.com/marketgate/marketgate/server/auth"
)

// Groups map to Marketgate's roles: the highest wins, no match is no role.
func TestMapRole(t *testing.T) {
	m, err := auth.ParseRoleMap(" mg-admins=admin, mg-ops=operator ,Marketgate Staff=viewer")
	if err != nil {
		t.Fatal(err)
	}
	sso := &auth.SSO{RoleMap: m}
	for _, c := range []struct {
		groups []string
		want   string
	}{
		{nil, ""},
		{[]string{"sales"}, ""},
		{[]string{"Marketgate Staff"}, "viewer"},
		{[]string{"Marketgate Staff", "mg-ops"}, "operator"},
		{[]string{"mg-ops", "mg-admins", "sales"}, "admin"},
		{[]string{"MG-ADMINS"}, ""}, // exact match: group names are identifiers
	} {
		if got := sso.MapRole(c.groups); got != c.want {
			t.Errorf("%v: %q, want %q", c.groups, got, c.want)
		}
	}
	everyone := &auth.SSO{RoleMap: map[string]string{"*": "viewer", "leads": "operator"}}
	if everyone.MapRole(nil) != "viewer" || everyone.MapRole([]string{"leads"}) != "operator" {
		t.Error("* maps everyone the provider signs in")
	}
	for _, bad := range []string{"", "admins", "x=root", "=admin", "x=customer_admin"} {
		if _, err := auth.ParseRoleMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
