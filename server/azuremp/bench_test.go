package azuremp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store/storetest"
)

// BenchmarkWebhookAnswer measures what happens before Microsoft gets its
// answer to a webhook call: verifying the Entra token (keys cached) and
// storing the call in the inbox. Everything else runs after the answer.
func BenchmarkWebhookAnswer(b *testing.B) {
	esrv := httptest.NewUnstartedServer(nil)
	esrv.StartTLS()
	defer esrv.Close()
	entra := azurefake.NewEntra(esrv.URL, nil)
	esrv.Config.Handler = entra
	st := storetest.Open(b, "sqlite")
	v := azuremp.NewNotificationVerifier("t1", "c1", esrv.URL, esrv.Client())
	p := &azuremp.Processor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	token := "Bearer " + entra.WebhookToken("t1", "c1")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
		body := fmt.Sprintf(`{"id":"op-%d","subscriptionId":"s-%d","action":"Suspend","status":"Succeeded"}`, i, i%50)
		if ans, err := p.ReceiveNotification(ctx, []byte(body), ""); err != nil || ans.Status != 200 {
			b.Fatal(ans, err)
		}
	}
}
