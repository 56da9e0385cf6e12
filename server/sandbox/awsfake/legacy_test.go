package awsfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLegacyGrantsFoundWhicheverWayNamed: a legacy product's buyer carries
// all four identities ResolveCustomer answers (reference §3: "Legacy
// products also return CustomerIdentifier"), and GetEntitlements for them
// filters by CUSTOMER_IDENTIFIER with the product code (§5). The fake keeps a
// legacy buyer's grants under the legacy key, so they are found whether the
// buyer is named with or without the account and license, and a filter by
// either customer reference lists them.
func TestLegacyGrantsFoundWhicheverWayNamed(t *testing.T) {
	full := Identity{CustomerIdentifier: "XLEGACY", ProductCode: "prodlegacy", CustomerAWSAccountID: "111122223333",
		LicenseArn: "arn:aws:license-manager::111122223333:license:l-legacy"}
	partial := Identity{CustomerIdentifier: full.CustomerIdentifier, ProductCode: full.ProductCode}
	ca := Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-ca", ProductCode: "prodlegacy"}
	if !full.Legacy() || !partial.Legacy() || ca.Legacy() {
		t.Fatal("Legacy: a CustomerIdentifier makes a legacy buyer, a license does not make a concurrent-agreements one")
	}
	until := time.Now().Add(time.Hour)
	e := NewEntitlements()
	e.Set(full, Entitlement{Dimension: "users", Value: 10, Expiration: until})
	e.Set(ca, Entitlement{Dimension: "users", Value: 3, Expiration: until})
	if got := e.Of(partial); len(got) != 1 || got[0].Value != 10 {
		t.Fatalf("by the customer identifier alone: %+v", got)
	}
	// Raised by a caller that knows only the customer identifier: the
	// account and license AWS gave stay on the grant.
	e.Set(partial, Entitlement{Dimension: "users", Value: 20, Expiration: until})
	if got := e.Of(full); len(got) != 1 || got[0].Value != 20 || got[0].Identity != full {
		t.Fatalf("by the full identity: %+v", got)
	}
	if got := e.Of(ca); len(got) != 1 || got[0].Value != 3 {
		t.Fatalf("the concurrent-agreements buyer of the same account: %+v", got)
	}

	srv := httptest.NewServer(e)
	defer srv.Close()
	list := func(filter string) []map[string]any {
		t.Helper()
		var all []map[string]any
		token := ""
		for {
			body := `{"ProductCode":"prodlegacy","Filter":` + filter + `,"NextToken":"` + token + `"}`
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "AWSMPEntitlementService.GetEntitlements")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Entitlements []map[string]any
				NextToken    string
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GetEntitlements %s: %d %v", filter, resp.StatusCode, err)
			}
			all = append(all, out.Entitlements...)
			if out.NextToken == "" {
				return all
			}
			token = out.NextToken
		}
	}
	if got := list(`{"CUSTOMER_IDENTIFIER":["XLEGACY"]}`); len(got) != 1 || got[0]["Value"].(map[string]any)["IntegerValue"] != 20.0 {
		t.Fatalf("filtered by CUSTOMER_IDENTIFIER: %+v", got)
	}
	if got := list(`{"CUSTOMER_AWS_ACCOUNT_ID":["111122223333"]}`); len(got) != 2 {
		t.Fatalf("filtered by CUSTOMER_AWS_ACCOUNT_ID (the legacy grant and the concurrent agreement's): %+v", got)
	}

	// Expiring by the customer identifier alone ends the legacy grant only.
	e.Expire(partial, time.Now())
	if g := e.Of(full); !g[0].Expiration.Before(until) {
		t.Fatalf("legacy grant not expired: %+v", g)
	}
	if g := e.Of(ca); !g[0].Expiration.Equal(until) {
		t.Fatalf("the other agreement's grant expired too: %+v", g)
	}
}

// TestLegacyBuyerMeteredUnderEitherModelIsBilledTwice: AWS accepts a legacy
// buyer's records under either model and "records with ProductCode and
// records with LicenseArn for one customer and hour are billed twice"
// (reference §1); the fake bills both so a test sees the double charge, and
// keys each record by the model the record uses.
func TestLegacyBuyerMeteredUnderEitherModelIsBilledTwice(t *testing.T) {
	now := time.Now().UTC()
	m := NewMetering(func() time.Time { return now })
	id := NewIdentity("prodlegacy", false)
	if !id.Legacy() || id.CustomerAWSAccountID == "" || id.LicenseArn == "" || id.ProductCode != "prodlegacy" {
		t.Fatalf("a legacy buyer: %+v", id)
	}
	if ca := NewIdentity("prodca", true); ca.Legacy() || ca.LicenseArn == "" || ca.CustomerAWSAccountID == "" {
		t.Fatalf("a concurrent-agreements buyer: %+v", ca)
	}
	m.Subscribe(id)
	srv := httptest.NewServer(m)
	defer srv.Close()
	ts := float64(now.Add(-time.Minute).Unix())
	for _, body := range []string{
		`{"ProductCode":"prodlegacy","UsageRecords":[{"CustomerIdentifier":"` + id.CustomerIdentifier + `","Dimension":"api_calls","Quantity":5,"Timestamp":` + jsonNum(ts) + `}]}`,
		`{"UsageRecords":[{"CustomerAWSAccountId":"` + id.CustomerAWSAccountID + `","LicenseArn":"` + id.LicenseArn + `","Dimension":"api_calls","Quantity":5,"Timestamp":` + jsonNum(ts) + `}]}`,
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSMPMeteringService.BatchMeterUsage")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("BatchMeterUsage: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	keys := map[string]bool{}
	for _, r := range m.Metered() {
		keys[r.Key] = true
	}
	if len(keys) != 2 || !keys["legacy:prodlegacy:"+id.CustomerIdentifier] || !keys["ca:"+id.CustomerAWSAccountID+":"+id.LicenseArn] {
		t.Fatalf("billed under %v, want both models", keys)
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }
