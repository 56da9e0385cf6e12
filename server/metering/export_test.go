package metering

import "testing"

// SetSealPage makes sealing read n subscriptions at a time for one test.
func SetSealPage(t testing.TB, n int) {
	old := sealPage
	sealPage = n
	t.Cleanup(func() { sealPage = old })
}
