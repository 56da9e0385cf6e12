package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

type capture struct {
	mu     sync.Mutex
	hdrs   []http.Header
	bodies [][]byte
	status int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hdrs, c.bodies = append(c.hdrs, r.Header.Clone()), append(c.bodies, b)
	if c.status != 0 {
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, "nope, not today")
	}
}

func (c *capture) last() (http.Header, []byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) == 0 {
		return nil, nil, 0
	}
	return c.hdrs[len(c.hdrs)-1], c.bodies[len(c.bodies)-1], len(c.bodies)
}

func verifies(secret string, h http.Header, body []byte) bool {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	return h.Get("webhook-signature") == "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestWebhookEndpointsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		// The endpoints run on this machine: the operator allowed private networks.
		local := netguard.Policy{AllowPrivate: true}
		e := newEnvWith(t, st, func(d *api.Deps) { d.Outbound = local })
		w := newSeatWorld(t, st)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("op@seller.com", store.RoleOperator, nil)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		admin := e.login("admin@seller.com")
		rec := &capture{}
		srv := httptest.NewServer(rec)
		defer srv.Close()
		d := &webhooks.Dispatcher{Store: st, Policy: local}
		drain := func() {
			for i := 0; i < 3; i++ {
				if _, err := d.Once(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}

		admin.do(http.MethodPost, "/api/webhooks", `{"url":"ftp://x","event_types":["*"]}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["subscription.exploded"]}`, srv.URL), nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":[]}`, srv.URL), nil).errCode(t, 400, "invalid_input")
		e.login("op@seller.com").do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["*"]}`, srv.URL), nil).errCode(t, 403, "forbidden")
		var created struct {
			Endpoint struct {
				ID         uint     `json:"id"`
				EventTypes []string `json:"event_types"`
			} `json:"endpoint"`
			Secret string `json:"secret"`
		}
		r := admin.do(http.MethodPost, "/api/webhooks", fmt.Sprintf(`{"url":%q,"description":"provisioning","event_types":["seat.assigned","seat.released"]}`, srv.URL), nil)
		r.json(t, &created)
		if r.code != 201 || !strings.HasPrefix(created.Secret, "whsec_") || len(created.Endpoint.EventTypes) != 2 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
		// The portal's event-type picker lists the AWS agreement events a seller acts on, each described.
		var types struct {
			EventTypes []struct{ Type, Description string } `json:"event_types"`
		}
		admin.get("/api/webhooks").json(t, &types)
		for _, want := range []string{"agreement.ending", "agreement.renewal_upcoming", "agreement.advisory_issued", "agreement.disbursement_paused"} {
			if !slices.ContainsFunc(types.EventTypes, func(x struct{ Type, Description string }) bool { return x.Type == want && x.Description != "" }) {
				t.Errorf("event type %s missing from the list: %+v", want, types.EventTypes)
			}
		}
		if list := admin.get("/api/webhooks"); strings.Contains(string(list.body), created.Secret) || !strings.Contains(string(list.body), `"event_types"`) {
			t.Fatalf("the list shows the secret or lacks the types: %s", list.body)
		}
		ep := fmt.Sprintf("/api/webhooks/%d", created.Endpoint.ID)

		// The test button: one signed webhook.test to this endpoint.
		if r := admin.do(http.MethodPost, ep+"/test", "", nil); r.code != 202 || !strings.Contains(string(r.body), `"event_type":"webhook.test"`) {
			t.Fatalf("test: %d %s", r.code, r.body)
		}
		drain()
		h, body, n := rec.last()
		if n != 1 || !verifies(created.Secret, h, body) || !strings.Contains(string(body), `"type":"webhook.test"`) {
			t.Fatalf("test delivery: %d %v %s", n, h, body)
		}

		// A customer admin assigns a seat: the seller's system hears of it.
		it := e.login("it@contoso.com")
		if r := it.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subA), `{"user":"ann@contoso.com"}`, nil); r.code != 201 {
			t.Fatalf("assign: %d %s", r.code, r.body)
		}
		drain()
		h, body, n = rec.last()
		var got struct {
			Type string
			Data struct {
				Seat         struct{ Email string }
				Subscription struct {
					ID       uint
					State    string
					Quantity int
				}
			}
		}
		_ = json.Unmarshal(body, &got)
		if n != 2 || !verifies(created.Secret, h, body) || got.Type != "seat.assigned" || got.Data.Seat.Email != "ann@contoso.com" ||
			got.Data.Subscription.ID != w.subA || got.Data.Subscription.State != "active" || got.Data.Subscription.Quantity != 3 {
			t.Fatalf("seat event: %d %s", n, body)
		}

		// The delivery log shows both, with what was sent and answered.
		var log struct {
			Items []struct {
				ID             uint
				EventType      string `json:"event_type"`
				Status         string
				ResponseStatus int        `json:"response_status"`
				DeliveredAt    *time.Time `json:"delivered_at"`
				Request        struct {
					Headers map[string]string
					Body    json.RawMessage
				}
			}
			Total int
		}
		admin.get(ep+"/deliveries").json(t, &log)
		if log.Total != 2 || log.Items[0].EventType != "seat.assigned" || log.Items[0].Status != "succeeded" || log.Items[0].ResponseStatus != 200 ||
			log.Items[0].Request.Headers["webhook-id"] == "" {
			t.Fatalf("delivery log: %+v", log)
		}
		// The log shows the headers as sent, not as they would be now.
		if got := log.Items[0].Request.Headers; got["webhook-timestamp"] != h.Get("webhook-timestamp") ||
			got["webhook-signature"] != h.Get("webhook-signature") || got["user-agent"] != h.Get("User-Agent") {
			t.Fatalf("logged headers %v, sent %v", got, h)
		}
		if r := admin.get(ep); r.code != 200 || !strings.Contains(string(r.body), `"pending":0`) {
			t.Fatalf("one endpoint: %d %s", r.code, r.body)
		}
		admin.get(ep+"/deliveries?status=lost").errCode(t, 400, "invalid_input")

		// The receiver breaks; a redelivery records its answer.
		rec.mu.Lock()
		rec.status = 500
		rec.mu.Unlock()
		if r := admin.do(http.MethodPost, fmt.Sprintf("%s/deliveries/%d/redeliver", ep, log.Items[0].ID), "", nil); r.code != 200 {
			t.Fatalf("redeliver: %d %s", r.code, r.body)
		}
		drain()
		admin.get(ep+"/deliveries").json(t, &log)
		if log.Items[0].Status != "pending" || log.Items[0].ResponseStatus != 500 || log.Items[0].DeliveredAt != nil {
			t.Fatalf("failed redelivery: %+v", log.Items[0])
		}
		var excerpt struct {
			Items []struct {
				Excerpt string `json:"response_excerpt"`
				Error   string
			}
		}
		admin.get(ep+"/deliveries").json(t, &excerpt)
		if excerpt.Items[0].Excerpt != "nope, not today" || excerpt.Items[0].Error != "HTTP 500" {
			t.Fatalf("excerpt: %+v", excerpt.Items[0])
		}
		admin.do(http.MethodPost, ep+"/deliveries/999999/redeliver", "", nil).errCode(t, 404, "not_found")

		// Rotating the secret: new deliveries verify with the new one only.
		var rot struct{ Secret string }
		admin.do(http.MethodPost, ep+"/rotate-secret", "", nil).json(t, &rot)
		rec.mu.Lock()
		rec.status = 0
		rec.mu.Unlock()
		admin.do(http.MethodPost, ep+"/test", "", nil)
		drain()
		h, body, _ = rec.last()
		if rot.Secret == created.Secret || !verifies(rot.Secret, h, body) || verifies(created.Secret, h, body) {
			t.Fatal("rotation did not take effect")
		}

		// Disabled: no test sends; deleting removes it.
		admin.do(http.MethodPatch, ep, `{"enabled":false}`, nil)
		admin.do(http.MethodPost, ep+"/test", "", nil).errCode(t, 409, "conflict")
		admin.do(http.MethodPatch, ep, `{"event_types":["nope"]}`, nil).errCode(t, 400, "invalid_input")
		if r := admin.do(http.MethodPatch, ep, `{"enabled":true}`, nil); r.code != 200 || !strings.Contains(string(r.body), `"disabled_reason":""`) {
			t.Fatalf("enable: %d %s", r.code, r.body)
		}
		if r := admin.do(http.MethodDelete, ep, "", nil); r.code != 204 {
			t.Fatalf("delete: %d", r.code)
		}
		admin.get(ep+"/deliveries").errCode(t, 404, "not_found")
	})
}

func TestAlertChannelsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		local := netguard.Policy{AllowPrivate: true} // the channels run on this machine
		e := newEnvWith(t, st, func(d *api.Deps) { d.Outbound = local })
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("viewer@seller.com", store.RoleViewer, nil)
		admin := e.login("admin@seller.com")
		rec := &capture{}
		srv := httptest.NewServer(rec)
		defer srv.Close()

		admin.do(http.MethodPost, "/api/alerts/channels", `{"kind":"email","target":"ops@seller.example","alert_types":["*"]}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/alerts/channels", `{"kind":"slack","target":"not a url","alert_types":["*"]}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"slack","target":%q,"alert_types":["weather"]}`, srv.URL), nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"pager","target":%q,"alert_types":["*"]}`, srv.URL), nil).errCode(t, 400, "invalid_input")
		var ch struct {
			Channel struct{ ID uint } `json:"channel"`
		}
		r := admin.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"slack","name":"#ops","target":%q,"alert_types":["inbox_failed","webhook_disabled"]}`, srv.URL), nil)
		r.json(t, &ch)
		if r.code != 201 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
		path := fmt.Sprintf("/api/alerts/channels/%d", ch.Channel.ID)
		// Without the alert service (this test's server has none) the button says so.
		admin.do(http.MethodPost, path+"/test", "", nil).errCode(t, 503, "unavailable")
		var list struct {
			Items []struct {
				AlertTypes []string `json:"alert_types"`
			}
			AlertTypes      []struct{ Type string } `json:"alert_types"`
			EmailConfigured bool                    `json:"email_configured"`
		}
		admin.get("/api/alerts/channels").json(t, &list)
		if len(list.Items) != 1 || len(list.Items[0].AlertTypes) != 2 || len(list.AlertTypes) != len(alerts.Types) || list.EmailConfigured {
			t.Fatalf("list: %+v", list)
		}
		if r := admin.do(http.MethodPatch, path, `{"enabled":false,"alert_types":["*"]}`, nil); r.code != 200 || !strings.Contains(string(r.body), `"enabled":false`) {
			t.Fatalf("patch: %d %s", r.code, r.body)
		}
		e.login("viewer@seller.com").get("/api/alerts/channels").errCode(t, 403, "forbidden")
		if r := e.login("viewer@seller.com").get("/api/alerts"); r.code != 200 {
			t.Fatalf("recent alerts for staff: %d", r.code)
		}
		if r := admin.do(http.MethodDelete, path, "", nil); r.code != 204 {
			t.Fatalf("delete: %d", r.code)
		}

		// With the alert service: the test button reaches the channel, or says why not.
		e2 := newEnvWith(t, st, func(d *api.Deps) { d.Alerts, d.Outbound = &alerts.Service{Store: st, Policy: local}, local })
		admin2 := e2.login("admin@seller.com")
		admin2.do(http.MethodPost, "/api/alerts/channels", fmt.Sprintf(`{"kind":"teams","target":%q,"alert_types":["*"]}`, srv.URL), nil).json(t, &ch)
		path = fmt.Sprintf("/api/alerts/channels/%d", ch.Channel.ID)
		if r := admin2.do(http.MethodPost, path+"/test", "", nil); r.code != 200 {
			t.Fatalf("test alert: %d %s", r.code, r.body)
		}
		if _, body, n := rec.last(); n != 1 || !strings.Contains(string(body), "MessageCard") {
			t.Fatalf("teams got: %s", body)
		}
		rec.mu.Lock()
		rec.status = 404
		rec.mu.Unlock()
		r = admin2.do(http.MethodPost, path+"/test", "", nil)
		r.errCode(t, 502, "delivery_failed")
		if !strings.Contains(string(r.body), "HTTP 404") {
			t.Fatalf("the channel's error is not shown: %s", r.body)
		}
	})
}

// TestSeatImportEvents: an applied import tells the seller's systems of
// every seat it assigned and released, a preview of none.
func TestSeatImportEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		now := time.Now().UTC()
		must(t, st.TestingDB(t).Create(&store.WebhookEndpoint{URL: "http://127.0.0.1:1/hook", Secret: "whsec_AAAA", EventTypes: "seat.assigned,seat.released",
			Enabled: true, CreatedAt: now, UpdatedAt: now}).Error)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		it := e.login("it@contoso.com")
		path := fmt.Sprintf("/api/subscriptions/%d/seats", w.subA)
		it.do(http.MethodPost, path, `{"user":"old@contoso.com"}`, nil)
		count := func(typ string) int64 {
			var n int64
			st.TestingReadDB(t).Model(&store.Event{}).Where("type = ?", typ).Count(&n)
			return n
		}
		it.csv(path+"/import?mode=replace", "ann@contoso.com\nbob@contoso.com\n")
		if count("seat.assigned") != 1 || count("seat.released") != 0 {
			t.Fatal("a preview wrote events")
		}
		if r := it.csv(path+"/import?mode=replace&apply=true", "ann@contoso.com\nbob@contoso.com\n"); r.code != 200 {
			t.Fatalf("import: %d %s", r.code, r.body)
		}
		var released store.Event
		st.TestingReadDB(t).Where("type = ?", "seat.released").First(&released)
		if count("seat.assigned") != 3 || count("seat.released") != 1 || !strings.Contains(released.Data, "old@contoso.com") {
			t.Fatalf("events: %d assigned, %d released %s", count("seat.assigned"), count("seat.released"), released.Data)
		}
	})
}
