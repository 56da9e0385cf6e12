package app

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/sandbox/console"
)

// SandboxAWSMeteredFile, in the data directory, is what the simulated AWS
// billed (one JSON record a line).
const SandboxAWSMeteredFile = "sandbox-aws-metered.jsonl"

// sandboxParts are the simulated marketplaces of sandbox mode.
type sandboxParts struct {
	console *console.Console
}

// sandboxEntra is the simulated Entra ID and where it is.
type sandboxEntra struct {
	entra     *azurefake.Entra
	endpoints *azureEndpoints
}

// sandbox, in sandbox mode, runs the simulated AWS Marketplace and
// Microsoft marketplace inside this process; the real SDK clients reach
// them over HTTP like the real services.
func (w *wiring) sandbox(ctx context.Context) error {
	if !w.cfg.Sandbox {
		return nil
	}
	local := w.local
	sb := &console.Console{Store: w.st, AWSMetering: awsfake.NewMetering(nil), AWSSQS: awsfake.NewSQS(nil), AWSEntitlements: awsfake.NewEntitlements(),
		AWSAgreements: awsfake.NewAgreementService(), Latency: w.cfg.SandboxLatency,
		AWSQueueURL: local + "/sandbox/aws/sqs/000000000000/marketgate-sandbox-notifications"}
	sb.AWSSQS.CreateQueue(sb.AWSQueueURL)
	if err := sandbox.LoadAWS(ctx, w.st, sb.AWSMetering, sb.AWSEntitlements); err != nil {
		return err
	}
	if err := sandbox.LoadAWSAgreements(ctx, w.st, sb.AWSAgreements); err != nil {
		return err
	}
	sb.AWSAgreements.AdjustmentDelay = 3 * time.Second // refunds settle soon (AWS: later)
	if err := console.LoadAgreementMoney(ctx, w.st, sb.AWSAgreements); err != nil {
		return err
	}
	// What the simulated AWS billed survives restarts, like AWS.
	if err := os.MkdirAll(w.cfg.DataDir, 0o750); err != nil {
		return err
	}
	if err := sb.AWSMetering.PersistTo(filepath.Join(w.cfg.DataDir, SandboxAWSMeteredFile)); err != nil {
		return err
	}
	w.awsCfg = awsmpSandboxConfig(local)
	w.queues = []string{sb.AWSQueueURL}
	entra, err := startAzureSandbox(ctx, w.st, sb, local)
	if err != nil {
		return err
	}
	w.sb, w.entra = &sandboxParts{console: sb}, entra
	return nil
}

// awsmpSandboxConfig points the AWS clients at the simulated AWS
// Marketplace under /sandbox/aws of this server.
func awsmpSandboxConfig(local string) awsmp.Config {
	return awsmp.Config{Region: "us-east-1", MeteringEndpoint: local + "/sandbox/aws/metering",
		SQSEndpoint: local + "/sandbox/aws/sqs", EntitlementEndpoint: local + "/sandbox/aws/entitlement",
		AgreementEndpoint: local + "/sandbox/aws/agreement", StaticKeys: true}
}
