package azuremp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MaxUsageBatch is the most events one batchUsageEvent call may carry.
const MaxUsageBatch = 25

// UsageEvent is one hour of one dimension of one SaaS subscription.
type UsageEvent struct {
	ResourceID string // the SaaS subscription id
	PlanID     string
	Dimension  string
	Quantity   float64
	Hour       time.Time // sent as effectiveStartTime
}

// Usage item statuses (reference §7.2), plus Pending for items the answer
// did not mention.
const (
	UsageAccepted  = "Accepted"
	UsageDuplicate = "Duplicate"
	UsageExpired   = "Expired"
	UsageError     = "Error"
	UsagePending   = "Pending"
)

// UsageResult is what Microsoft said of one event.
type UsageResult struct {
	Event            UsageEvent
	Status           string
	UsageEventID     string
	AcceptedQuantity float64 // Duplicate: the quantity Microsoft already holds for that hour
	Message          string
}

type usageItem struct {
	UsageEventID       string `json:"usageEventId"`
	Status             string `json:"status"`
	ResourceID         string `json:"resourceId"`
	Dimension          string `json:"dimension"`
	Quantity           Number `json:"quantity"`
	EffectiveStartTime string `json:"effectiveStartTime"`
	PlanID             string `json:"planId"`
	Error              *struct {
		Message        string `json:"message"`
		Code           string `json:"code"`
		AdditionalInfo struct {
			AcceptedMessage *usageItem `json:"acceptedMessage"`
		} `json:"additionalInfo"`
	} `json:"error"`
}

// BatchUsage sends up to 25 usage events and matches each item of the
// answer to its event by resource, dimension and hour, never by position.
// A 200 does not mean all were accepted: every item has its own status.
func (c *Client) BatchUsage(ctx context.Context, events []UsageEvent) ([]UsageResult, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if len(events) > MaxUsageBatch {
		return nil, fmt.Errorf("batchUsageEvent takes at most %d events, not %d", MaxUsageBatch, len(events))
	}
	req := make([]map[string]any, 0, len(events))
	for _, e := range events {
		if e.Quantity <= 0 {
			return nil, errors.New("batchUsageEvent: Microsoft refuses zero quantities; keep idle hours locally")
		}
		req = append(req, map[string]any{"resourceId": e.ResourceID, "quantity": e.Quantity, "dimension": e.Dimension,
			"effectiveStartTime": e.Hour.UTC().Format("2006-01-02T15:04:05Z"), "planId": e.PlanID})
	}
	r, err := c.do(ctx, http.MethodPost, c.cfg.MeteringURL, "/batchUsageEvent", nil, map[string]any{"request": req}, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Result []usageItem `json:"result"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		return nil, fmt.Errorf("batchUsageEvent: unreadable answer: %w", err)
	}
	key := func(res, dim string, t time.Time) string {
		return strings.ToLower(res) + "|" + dim + "|" + t.UTC().Truncate(time.Hour).Format(time.RFC3339)
	}
	res := make([]UsageResult, len(events))
	index := map[string]int{}
	for i, e := range events {
		res[i] = UsageResult{Event: e, Status: UsagePending}
		index[key(e.ResourceID, e.Dimension, e.Hour)] = i
	}
	for _, it := range out.Result {
		i, ok := index[key(it.ResourceID, it.Dimension, ParseTime(it.EffectiveStartTime))]
		if !ok {
			continue
		}
		res[i].Status, res[i].UsageEventID = strings.TrimSpace(it.Status), it.UsageEventID
		if it.Error != nil {
			res[i].Message = cmp.Or(it.Error.Message, it.Error.Code)
			if am := it.Error.AdditionalInfo.AcceptedMessage; am != nil {
				res[i].UsageEventID, res[i].AcceptedQuantity = am.UsageEventID, float64(am.Quantity)
			}
		}
	}
	return res, nil
}
