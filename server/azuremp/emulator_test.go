package azuremp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
)

// The client against answers shaped like Microsoft's SaaS API emulator's
// (reference §8), which differ from the real API's.
func TestClientToleratesEmulator(t *testing.T) {
	esrv := httptest.NewUnstartedServer(nil)
	esrv.StartTLS()
	defer esrv.Close()
	entra := azurefake.NewEntra(esrv.URL, nil)
	entra.RegisterApp("t1", "c1", "s1")
	esrv.Config.Handler = entra

	patches := 0
	var resolveToken string
	emu := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("api-version") != azuremp.APIVersion || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "bad request", 400)
			return
		}
		switch {
		case r.URL.Path == "/saas/subscriptions/resolve":
			resolveToken = r.Header.Get("x-ms-marketplace-token")
			io.WriteString(w, `{"id":"s1","subscriptionName":"x","offerId":"o","planId":"p","quantity":"","subscription":{"id":"s1","saasSubscriptionStatus":" PendingFulfillmentStart ","term":{"startDate":"2026-06-02T09:12:03.385Z","endDate":"2026-06-02T09:12:03.385Z"}}}`)
		case strings.HasSuffix(r.URL.Path, "/activate"):
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "OK")
		case r.Method == http.MethodPatch && r.URL.Path == "/saas/subscriptions/s1":
			patches++
			if patches == 1 {
				w.WriteHeader(400)
				io.WriteString(w, `{"code":"Failed","message":"Subscription s1 is locked due to pending operations"}`)
				return
			}
			w.Header().Set("Operation-Location", "http://127.0.0.1:3978/api/saas/subscriptions/s1/operations/op-7")
			w.Header().Set("Operation-Id", "op-7")
			w.WriteHeader(202)
			io.WriteString(w, "Accepted")
		case strings.HasSuffix(r.URL.Path, "/listAvailablePlans"):
			io.WriteString(w, `[]`)
		case r.URL.Path == "/saas/subscriptions/s1/operations":
			io.WriteString(w, `[{"id":"op-1","subscriptionId":"s1","action":"ChangeQuantity","quantity":"3","status":"InProgress","operationRequestedSource":"Azure","errorStatusCode":"","errorMessage":""}]`)
		case r.URL.Path == "/saas/subscriptions":
			io.WriteString(w, `{}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer emu.Close()
	c, err := azuremp.New(azuremp.Config{TenantID: "t1", ClientID: "c1", ClientSecret: "s1", APIURL: emu.URL, LoginURL: esrv.URL, TokenHTTP: esrv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The emulator's UI puts the token in the URL unencoded: '+' arrives as a space.
	r, err := c.Resolve(ctx, "ab cd/ef==")
	if err != nil || resolveToken != "ab+cd/ef==" || r.Subscription.Status != azuremp.StatusPending || r.Subscription.Quantity != 0 {
		t.Fatalf("resolve: %+v %v (token sent %q)", r, err, resolveToken)
	}
	if err := c.Activate(ctx, "s1", "p", 0, false); err != nil {
		t.Fatalf("activate with a text body: %v", err)
	}
	if _, err := c.ChangeQuantity(ctx, "s1", 4); !errors.Is(err, azuremp.ErrOperationInProgress) {
		t.Fatalf("400 locked: %v", err)
	}
	op, err := c.ChangeQuantity(ctx, "s1", 4)
	if err != nil || op != "op-7" {
		t.Fatalf("202 with a text body and a foreign host: %q %v", op, err)
	}
	if plans, err := c.ListAvailablePlans(ctx, "s1"); err != nil || len(plans) != 0 {
		t.Fatalf("plans as []: %v %v", plans, err)
	}
	ops, err := c.ListOperations(ctx, "s1")
	if err != nil || len(ops) != 1 || ops[0].Source != "Azure" || ops[0].Quantity != 3 {
		t.Fatalf("operations as a bare array: %+v %v", ops, err)
	}
	pages := 0
	if err := c.List(ctx, func(s []azuremp.Subscription) error { pages++; return nil }); err != nil || pages != 1 {
		t.Fatalf("list of {}: %d pages, %v", pages, err)
	}
}
