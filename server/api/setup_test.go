package api_test

import (
	"net/http"
	"testing"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/setup"
	"github.com/marketgate/marketgate/server/setup/setuptest"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// GET /api/setup runs the setup checks against the simulated services
// through the real handlers (answers checked against the contract): an
// admin sees each check with its fix; a failure injected shows; operators,
// viewers and customer admins are refused.
func TestSetupAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sim := setuptest.New(t)
		sim.SetApplication(func(a *azurefake.Application) { a.SignInAudience = "AzureADMyOrg" })
		e := newEnvWith(t, st, func(d *api.Deps) { d.Setup = setup.New(sim.Config()).Run })
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("ops@seller.com", store.RoleOperator, nil)
		cust := uint(0)
		var c store.Customer
		c.Name = "Contoso"
		must(t, st.TestingDB(t).Create(&c).Error)
		cust = c.ID
		e.user("it@contoso.com", store.RoleCustomerAdmin, &cust)

		var rep setup.SetupReport
		r := e.login("admin@seller.com").do(http.MethodGet, "/api/setup", "", nil)
		if r.code != 200 {
			t.Fatalf("admin: %d %s", r.code, r.body)
		}
		r.json(t, &rep)
		if rep.OK || len(rep.Checks) != 13 {
			t.Fatalf("report: ok %v, %d checks", rep.OK, len(rep.Checks))
		}
		for _, ch := range rep.Checks {
			want := setup.OK
			if ch.ID == setup.AzureMultiTenant {
				want = setup.Fail
				if ch.Fix == "" {
					t.Errorf("no fix: %+v", ch)
				}
			}
			if ch.Status != want {
				t.Errorf("%s: %s %s", ch.ID, ch.Status, ch.Message)
			}
		}
		for _, who := range []string{"ops@seller.com", "it@contoso.com"} {
			if r := e.login(who).do(http.MethodGet, "/api/setup", "", nil); r.code != 403 {
				t.Errorf("%s: %d", who, r.code)
			}
		}
	})
}
