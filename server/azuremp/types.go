package azuremp

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Subscription statuses (trimmed: documentation examples pad them).
const (
	StatusPending      = "PendingFulfillmentStart"
	StatusSubscribed   = "Subscribed"
	StatusSuspended    = "Suspended"
	StatusUnsubscribed = "Unsubscribed"
	StatusNotStarted   = "NotStarted"
)

// Party is a purchaser or a beneficiary.
type Party struct {
	EmailID  string `json:"emailId"`
	ObjectID string `json:"objectId"`
	TenantID string `json:"tenantId"`
}

// Term is a subscription's billing term.
type Term struct {
	TermUnit  string `json:"termUnit"`
	StartDate Time   `json:"startDate"`
	EndDate   Time   `json:"endDate"`
}

// Subscription is the marketplace's record, decoded leniently.
type Subscription struct {
	ID          string
	Name        string
	PublisherID string
	OfferID     string
	PlanID      string
	Quantity    int
	Status      string
	Beneficiary Party
	Purchaser   Party
	Term        Term
	AutoRenew   bool
	IsTest      bool
	IsFreeTrial bool
	Allowed     []string // allowedCustomerOperations
}

// UnmarshalJSON tolerates padded statuses and quantities given as numbers,
// numeric strings, "" or null.
func (s *Subscription) UnmarshalJSON(b []byte) error {
	var v struct {
		ID          string          `json:"id"`
		Name        string          `json:"name"`
		PublisherID string          `json:"publisherId"`
		OfferID     string          `json:"offerId"`
		PlanID      string          `json:"planId"`
		Quantity    json.RawMessage `json:"quantity"`
		Status      string          `json:"saasSubscriptionStatus"`
		Beneficiary Party           `json:"beneficiary"`
		Purchaser   Party           `json:"purchaser"`
		Term        Term            `json:"term"`
		AutoRenew   bool            `json:"autoRenew"`
		IsTest      bool            `json:"isTest"`
		IsFreeTrial bool            `json:"isFreeTrial"`
		Allowed     []string        `json:"allowedCustomerOperations"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Subscription{ID: strings.TrimSpace(v.ID), Name: v.Name, PublisherID: v.PublisherID, OfferID: strings.TrimSpace(v.OfferID),
		PlanID: strings.TrimSpace(v.PlanID), Quantity: int(lenientNumber(v.Quantity)), Status: strings.TrimSpace(v.Status),
		Beneficiary: v.Beneficiary, Purchaser: v.Purchaser, Term: v.Term, AutoRenew: v.AutoRenew, IsTest: v.IsTest,
		IsFreeTrial: v.IsFreeTrial, Allowed: v.Allowed}
	return nil
}

// Resolved is the answer to Resolve.
type Resolved struct {
	ID               string       `json:"id"`
	SubscriptionName string       `json:"subscriptionName"`
	OfferID          string       `json:"offerId"`
	PlanID           string       `json:"planId"`
	Quantity         Number       `json:"quantity"`
	Subscription     Subscription `json:"subscription"`
	// Raw is the answer as Microsoft sent it (stored and shown as such).
	Raw json.RawMessage `json:"-"`
}

// AvailablePlan is one plan from listAvailablePlans.
type AvailablePlan struct {
	PlanID         string `json:"planId"`
	DisplayName    string `json:"displayName"`
	IsPrivate      bool   `json:"isPrivate"`
	Description    string `json:"description"`
	MinQuantity    Number `json:"minQuantity"`
	MaxQuantity    Number `json:"maxQuantity"`
	IsPricePerSeat bool   `json:"isPricePerSeat"`
	IsStopSell     bool   `json:"isStopSell"`
	PlanComponents struct {
		RecurrentBillingTerms []struct {
			TermUnit string `json:"termUnit"`
		} `json:"recurrentBillingTerms"`
		MeteringDimensions []MeteringDimension `json:"meteringDimensions"`
	} `json:"planComponents"`
}

// MeteringDimension is one custom meter of a plan (listAvailablePlans).
type MeteringDimension struct {
	ID            string `json:"id"`
	DisplayName   string `json:"displayName"`
	UnitOfMeasure string `json:"unitOfMeasure"`
}

// Operation is one asynchronous change.
type Operation struct {
	ID             string
	SubscriptionID string
	OfferID        string
	PlanID         string
	Quantity       int
	Action         string
	Status         string
	Source         string // operationRequestSource: Azure or Partner
	TimeStamp      time.Time
	ErrorStatus    string
	ErrorMessage   string
}

// UnmarshalJSON reads either spelling of the request source, a string
// quantity, and a key padded with spaces.
func (o *Operation) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	get := func(keys ...string) string {
		for k, v := range raw {
			for _, want := range keys {
				if strings.EqualFold(strings.TrimSpace(k), want) {
					var s string
					if json.Unmarshal(v, &s) == nil {
						return strings.TrimSpace(s)
					}
					return strings.Trim(strings.TrimSpace(string(v)), `"`)
				}
			}
		}
		return ""
	}
	q := raw["quantity"]
	*o = Operation{ID: get("id"), SubscriptionID: get("subscriptionId"), OfferID: get("offerId"), PlanID: get("planId"),
		Quantity: int(lenientNumber(q)), Action: get("action"), Status: get("status"),
		Source: get("operationRequestSource", "operationRequestedSource"), TimeStamp: ParseTime(get("timeStamp")),
		ErrorStatus: get("errorStatusCode"), ErrorMessage: get("errorMessage")}
	return nil
}

// Number is a JSON number that may arrive as a string, "", or null.
type Number float64

// UnmarshalJSON reads it leniently.
func (n *Number) UnmarshalJSON(b []byte) error {
	*n = Number(lenientNumber(b))
	return nil
}

func lenientNumber(b []byte) float64 {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return f
}

// Time is a timestamp in any of the forms Microsoft and its emulator send.
type Time struct{ time.Time }

// UnmarshalJSON accepts 0–7 fractional digits, with or without a zone, a
// bare date, and the 0001-01-01 sentinel (zero).
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		t.Time = time.Time{}
		return nil
	}
	t.Time = ParseTime(s)
	return nil
}

// ParseTime reads a Microsoft timestamp; zero when absent or the sentinel.
func ParseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	return time.Time{}
}
