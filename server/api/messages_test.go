package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestMessagesSpeakPlainly: a refusal a person reads names the field by the
// label they see on the form ("Product code", "Dimension 2"), never by the
// JSON path (marketplace_id:, dimensions[1].key:), and a wrong password says
// so rather than leaving the page to guess.
func TestMessagesSpeakPlainly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		msg := func(r resp) string { return gjson(r.body, "message") }
		internal := []string{"marketplace_id", "dimensions[", ".key", "plan_id", "activation_policy", "min_quantity", "identity_model", "event_types"}

		wrong := (&browser{e: e}).do(http.MethodPost, "/api/auth/login", `{"email":"admin@seller.com","password":"nope-nope-nope"}`, nil)
		wrong.errCode(t, 401, "invalid_credentials")
		if got := msg(wrong); got != "Wrong e-mail or password." {
			t.Errorf("wrong password: %q", got)
		}

		cases := []struct {
			path, body, prefix string
		}{
			{"/api/offers", `{"marketplace":"aws","name":"X","marketplace_id":"Has Spaces","identity_model":"legacy"}`, "Product code: "},
			{"/api/offers", `{"marketplace":"azure","name":"X","marketplace_id":"Has Spaces"}`, "Offer id: "},
			{"/api/offers", `{"marketplace":"aws","name":"X","marketplace_id":"prodcode"}`, "How AWS identifies a buyer: "},
			{"/api/offers", `{"marketplace":"gcp","name":"X","marketplace_id":"x"}`, "Marketplace: "},
			{"/api/offers", `{"marketplace":"azure","name":"","marketplace_id":"teams"}`, "Name: "},
		}
		for _, c := range cases {
			r := admin.do(http.MethodPost, c.path, c.body, nil)
			r.errCode(t, 400, "invalid_input")
			if got := msg(r); !strings.HasPrefix(got, c.prefix) {
				t.Errorf("%s: %q does not start with %q", c.body, got, c.prefix)
			}
		}

		var o struct {
			Offer struct{ ID uint } `json:"offer"`
		}
		admin.do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"Teams app","marketplace_id":"teams-app"}`, nil).json(t, &o)
		plans := fmt.Sprintf("/api/offers/%d/plans", o.Offer.ID)
		planCases := []struct{ body, want string }{
			{`{"plan_id":"gold","name":"Gold","dimensions":[{"key":"calls"},{"key":"calls"}]}`, `Dimension 2: the key "calls" is listed twice`},
			{`{"plan_id":"gold","name":"Gold","dimensions":[{"key":"bad key"}]}`, "Dimension 1: the key is 1 to 64 letters"},
			{`{"plan_id":"Gold plan!","name":"Gold"}`, "Plan id: "},
			{`{"plan_id":"gold","name":"Gold","seat_based":true,"min_quantity":9,"max_quantity":2}`, "Fewest and most seats: "},
		}
		for _, c := range planCases {
			r := admin.do(http.MethodPost, plans, c.body, nil)
			r.errCode(t, 400, "invalid_input")
			if got := msg(r); !strings.HasPrefix(got, c.want) {
				t.Errorf("%s: %q does not start with %q", c.body, got, c.want)
			}
		}

		r := admin.do(http.MethodPost, "/api/webhooks", `{"url":"https://hooks.example.com/x","event_types":["no.such.type"]}`, nil)
		r.errCode(t, 400, "invalid_input")
		for _, got := range []string{msg(r)} {
			for _, bad := range internal {
				if strings.Contains(got, bad) {
					t.Errorf("%q names the internal field %s", got, bad)
				}
			}
		}
	})
}
