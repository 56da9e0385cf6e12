package azuremp

import (
	"encoding/json"
	"testing"
	"time"
)

func TestLenientSubscription(t *testing.T) {
	cases := []struct {
		name, body string
		quantity   int
		status     string
	}{
		{"number", `{"id":"s1","quantity":20,"saasSubscriptionStatus":"Subscribed"}`, 20, "Subscribed"},
		{"string", `{"id":"s1","quantity":"20","saasSubscriptionStatus":" Subscribed "}`, 20, "Subscribed"},
		{"empty string", `{"id":"s1","quantity":"","saasSubscriptionStatus":"Suspended"}`, 0, "Suspended"},
		{"null", `{"id":"s1","quantity":null,"saasSubscriptionStatus":"PendingFulfillmentStart"}`, 0, "PendingFulfillmentStart"},
		{"absent", `{"id":"s1"}`, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Subscription
			if err := json.Unmarshal([]byte(c.body), &s); err != nil {
				t.Fatal(err)
			}
			if s.Quantity != c.quantity || s.Status != c.status || s.ID != "s1" {
				t.Fatalf("%+v", s)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 6, 2, 9, 12, 3, 385123400, time.UTC)
	for in, exp := range map[string]time.Time{
		"2026-06-02T09:12:03.3851234Z":      want,
		"2026-06-02T09:12:03.3851234":       want,
		"2026-06-02T11:12:03.3851234+02:00": want,
		"2026-06-02T09:12:03Z":              want.Truncate(time.Second),
		"2026-06-02":                        time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC),
		"0001-01-01T00:00:00":               {},
		"":                                  {},
		"not a time":                        {},
	} {
		if got := ParseTime(in); !got.Equal(exp) {
			t.Errorf("ParseTime(%q) = %v, want %v", in, got, exp)
		}
	}
}

func TestLenientOperation(t *testing.T) {
	var op Operation
	body := `{"id  ":"op1","subscriptionId":"s1","action":"ChangeQuantity","quantity":"25","status":"InProgress",
		"operationRequestedSource":"Azure","timeStamp":"2026-06-02T09:12:03.3851234Z"}`
	if err := json.Unmarshal([]byte(body), &op); err != nil {
		t.Fatal(err)
	}
	if op.ID != "op1" || op.Quantity != 25 || op.Source != "Azure" || op.TimeStamp.IsZero() {
		t.Fatalf("%+v", op)
	}
}

func TestLinks(t *testing.T) {
	if got := continuationToken("https://marketplaceapi.microsoft.com/api/saas/subscriptions/?continuationToken=%5b%7b%22token%22%3a1%7d%5d&api-version=2018-08-31"); got != `[{"token":1}]` {
		t.Fatalf("continuation token %q", got)
	}
	if got := continuationToken(""); got != "" {
		t.Fatal(got)
	}
	if got := operationID("http://127.0.0.1:3978/api/saas/subscriptions/s1/operations/op-9"); got != "op-9" {
		t.Fatalf("operation id %q", got)
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add(`{"id":"op","subscriptionId":"s","action":"Suspend"}`)
	f.Add(`{"id":"op","subscriptionId":"s","action":"ChangeQuantity","quantity":"7","subscription":{"quantity":"x"}}`)
	f.Add(`[]`)
	f.Add(`{"id":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		op, err := ParseNotification([]byte(body))
		if err == nil && (op.ID == "" || op.SubscriptionID == "" || op.Action == "") {
			t.Fatalf("accepted without id, subscriptionId or action: %q", body)
		}
	})
}
