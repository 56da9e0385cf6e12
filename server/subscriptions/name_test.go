package subscriptions

import "testing"

func TestDisplayName(t *testing.T) {
	for _, c := range []struct{ marketplace, customer, offer, want string }{
		{"Northwind UX Test subscription", "Northwind Labs", "Acme Teams App", "Northwind UX Test subscription"},
		{"", "Northwind Labs", "Acme Analytics", "Northwind Labs – Acme Analytics"},
		{"  ", " Northwind Labs ", "Acme Analytics", "Northwind Labs – Acme Analytics"},
		{"", "", "Acme Analytics", "Acme Analytics"},
		{"", "Northwind Labs", "", "Northwind Labs"},
		{"", "", "", ""},
	} {
		if got := DisplayName(c.marketplace, c.customer, c.offer); got != c.want {
			t.Errorf("DisplayName(%q, %q, %q) = %q, want %q", c.marketplace, c.customer, c.offer, got, c.want)
		}
	}
}
