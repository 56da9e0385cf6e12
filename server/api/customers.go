package api

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/store"
)

// Customers: the organisations that buy on the marketplaces (seller staff only).

// customerRowView is a customer in the customers table.
type customerRowView struct {
	ID            uint      `json:"id"`
	Name          string    `json:"name"`
	Email         string    `json:"email"`
	AWSAccountID  string    `json:"aws_account_id"`
	AzureTenantID string    `json:"azure_tenant_id"`
	Subscriptions int64     `json:"subscriptions"`
	CreatedAt     time.Time `json:"created_at"`
}

// customerQuery names the customers list's query parameters.
type customerQuery struct {
	Q      string `form:"q"` // part of the name, e-mail, AWS account or tenant id
	Limit  int    `form:"limit"`
	Offset int    `form:"offset"`
}

// customerList is a page of customers.
type customerList struct {
	Items  []customerRowView `json:"items"`
	Total  int64             `json:"total"`
	Limit  int               `json:"limit"`
	Offset int               `json:"offset"`
}

func (s *Server) listCustomers(c *gin.Context) (customerList, error) {
	p := params{c: c}
	q := p.text("q", 200)
	limit := p.intRange("limit", 50, 1, 200)
	offset := p.intRange("offset", 0, 0, maxOffset)
	if p.err != nil {
		return customerList{}, p.err
	}
	rows, total, err := s.Store.ListCustomers(c.Request.Context(), q, limit, offset)
	if err != nil {
		return customerList{}, err
	}
	out := customerList{Items: make([]customerRowView, 0, len(rows)), Total: total, Limit: limit, Offset: offset}
	for _, r := range rows {
		out.Items = append(out.Items, customerRowView{r.ID, r.Name, r.Email, r.AWSAccountID, r.AzureTenantID, r.Subscriptions, r.CreatedAt})
	}
	return out, nil
}

// customerView is one organisation with its identities and counts.
type customerView struct {
	ID                  uint      `json:"id"`
	Name                string    `json:"name"`
	Email               string    `json:"email"`
	AWSAccountID        string    `json:"aws_account_id"`
	AzureTenantID       string    `json:"azure_tenant_id"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
	Subscriptions       int64     `json:"subscriptions"`
	ActiveSubscriptions int64     `json:"active_subscriptions"`
	Admins              int64     `json:"admins"`
	// The contacts the customer's admins keep up to date in their portal.
	BillingContact   contactView `json:"billing_contact"`
	TechnicalContact contactView `json:"technical_contact"`
	// NameSource: where the name came from: graph_organization (Microsoft
	// Graph's name of the tenant), email_domain, tenant_id, or "" (typed).
	NameSource string `json:"name_source" enum:"graph_organization,email_domain,tenant_id,"`
}

// customerAnswer is one customer.
type customerAnswer struct {
	Customer customerView `json:"customer"`
	// Consent: the Microsoft tenant's latest admin-consent outcome (null
	// for a customer without a tenant).
	Consent *adminConsentView `json:"consent"`
}

// getCustomer is one organisation with its identities and counts.
func (s *Server) getCustomer(c *gin.Context) (customerAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return customerAnswer{}, err
	}
	ctx := c.Request.Context()
	cu, err := s.Store.CustomerByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return customerAnswer{}, apperr.New(apperr.NotFound, "customer %d does not exist", id)
	}
	if err != nil {
		return customerAnswer{}, err
	}
	n, err := s.Store.CountCustomer(ctx, cu.ID)
	if err != nil {
		return customerAnswer{}, err
	}
	out := customerAnswer{Customer: customerView{ID: cu.ID, Name: cu.Name, Email: cu.Email, AWSAccountID: cu.AWSAccountID,
		AzureTenantID: cu.AzureTenantID, CreatedAt: cu.CreatedAt, UpdatedAt: cu.UpdatedAt, NameSource: cu.NameSource,
		Subscriptions: n.Subscriptions, ActiveSubscriptions: n.ActiveSubscriptions, Admins: n.Admins,
		BillingContact:   contactView{cu.BillingContactName, cu.BillingContactEmail, cu.BillingContactPhone},
		TechnicalContact: contactView{cu.TechnicalContactName, cu.TechnicalContactEmail, cu.TechnicalContactPhone}}}
	if out.Consent, err = tenantConsent(s.Store.Reads(ctx), cu.AzureTenantID); err != nil {
		return customerAnswer{}, err
	}
	return out, nil
}
