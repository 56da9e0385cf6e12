package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Issue 15, finding 8 (admin-aimed SSRF): "Refuse those destinations by
// default at connect time (also after DNS resolution and redirects), with a
// setting to allow private networks for sellers who need it."
func TestOutboundDestinationsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnvWith(t, st, func(d *api.Deps) { d.Alerts = &alerts.Service{Store: st} })
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		for _, u := range []string{"http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/",
			"http://192.168.1.10/", "http://172.16.0.1/", "http://[::1]/", "http://localhost:9000/", "http://[fd00:ec2::254]/"} {
			admin.do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["*"]}`, u), nil).errCode(t, 400, "invalid_input")
			admin.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"slack","target":%q,"alert_types":["*"]}`, u), nil).errCode(t, 400, "invalid_input")
		}
		if r := admin.do(http.MethodPost, "/api/webhooks", `{"url":"https://hooks.example.com/mg","event_types":["*"]}`, nil); r.code != 201 {
			t.Fatalf("public URL: %d %s", r.code, r.body)
		}

		// A name that resolved elsewhere when it was saved and resolves to
		// loopback now: the connection is refused, the server sees nothing.
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = w.Write([]byte("internal secrets"))
		}))
		defer srv.Close()
		byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		ep := store.WebhookEndpoint{URL: byName, Secret: webhooks.NewSecret(), EventTypes: "*", Enabled: true}
		if err := st.TestingDB(t).Create(&ep).Error; err != nil {
			t.Fatal(err)
		}
		if r := admin.do(http.MethodPost, fmt.Sprintf("/api/webhooks/%d/test", ep.ID), "", nil); r.code/100 != 2 {
			t.Fatalf("test event: %d %s", r.code, r.body)
		}
		d := &webhooks.Dispatcher{Store: st} // the default policy
		if _, err := d.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		var dl store.WebhookDelivery
		if err := st.TestingDB(t).Where("endpoint_id = ?", ep.ID).First(&dl).Error; err != nil {
			t.Fatal(err)
		}
		if hits.Load() != 0 || !strings.Contains(dl.Error, "refused") || dl.ResponseExcerpt != "" {
			t.Fatalf("hits %d, delivery error %q excerpt %q", hits.Load(), dl.Error, dl.ResponseExcerpt)
		}

		// A Teams channel saved with a name now resolving to loopback: the
		// test button says it was refused, shows nothing of any answer.
		ch := store.AlertChannel{Kind: "teams", Target: byName, AlertTypes: "*", Enabled: true}
		if err := st.TestingDB(t).Create(&ch).Error; err != nil {
			t.Fatal(err)
		}
		r := admin.do(http.MethodPost, fmt.Sprintf("/api/alerts/channels/%d/test", ch.ID), "", nil)
		r.errCode(t, 502, "delivery_failed")
		if !strings.Contains(string(r.body), "not allowed") || hits.Load() != 0 {
			t.Fatalf("teams test: %s (hits %d)", r.body, hits.Load())
		}
	})
}

// With --outbound-allow-private the seller's internal endpoints work, the
// metadata address stays refused, redirects are still not followed and the
// Slack/Teams answer is not shown; the delivery log keeps 256 bytes.
func TestOutboundAllowPrivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		local := netguard.Policy{AllowPrivate: true}
		e := newEnvWith(t, st, func(d *api.Deps) { d.Outbound, d.Alerts = local, &alerts.Service{Store: st, Policy: local} })
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		admin.do(http.MethodPost, "/api/webhooks", `{"url":"http://169.254.169.254/latest/","event_types":["*"]}`, nil).errCode(t, 400, "invalid_input")

		var inner atomic.Int32
		internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.Add(1)
			_, _ = w.Write([]byte("internal page"))
		}))
		defer internal.Close()
		bounce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/big" {
				w.WriteHeader(500)
				_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
				return
			}
			http.Redirect(w, r, internal.URL+"/admin", http.StatusFound)
		}))
		defer bounce.Close()

		var ch struct{ Channel struct{ ID uint } }
		admin.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"slack","target":%q,"alert_types":["*"]}`, bounce.URL), nil).json(t, &ch)
		r := admin.do(http.MethodPost, fmt.Sprintf("/api/alerts/channels/%d/test", ch.Channel.ID), "", nil)
		r.errCode(t, 502, "delivery_failed")
		if !strings.Contains(string(r.body), "HTTP 302") || strings.Contains(string(r.body), "internal page") || inner.Load() != 0 {
			t.Fatalf("slack test through a redirect: %s (internal hit %d)", r.body, inner.Load())
		}

		var ep struct{ Endpoint struct{ ID uint } }
		admin.do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["*"]}`, bounce.URL+"/big"), nil).json(t, &ep)
		admin.do(http.MethodPost, fmt.Sprintf("/api/webhooks/%d/test", ep.Endpoint.ID), "", nil)
		if _, err := (&webhooks.Dispatcher{Store: st, Policy: local}).Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		var dl store.WebhookDelivery
		if err := st.TestingDB(t).Where("endpoint_id = ?", ep.Endpoint.ID).First(&dl).Error; err != nil {
			t.Fatal(err)
		}
		if dl.ResponseStatus != 500 || len(dl.ResponseExcerpt) != 256 {
			t.Fatalf("delivery: status %d, %d bytes of the answer kept; want 500 and 256", dl.ResponseStatus, len(dl.ResponseExcerpt))
		}
	})
}
