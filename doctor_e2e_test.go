package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// doctor runs "marketgate doctor" with only the environment given (no
// credentials of the machine running the tests).
func doctor(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"doctor"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// marketgate doctor against the sandbox's simulated AWS (a running
// "serve --sandbox"): every AWS check passes and the exit status is 0;
// a missing queue or no credentials fail with the fix and exit status 1.
func TestDoctorAgainstTheSandbox(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	queue := s.url + "/sandbox/aws/sqs/000000000000/marketgate-sandbox-notifications"
	keys := []string{"AWS_ACCESS_KEY_ID=sandbox", "AWS_SECRET_ACCESS_KEY=sandbox", "AWS_ENDPOINT_URL_STS=" + s.url + "/sandbox/aws/sts"}
	flags := func(queue string) []string {
		return []string{"--base-url", "https://marketgate.example.com", "--aws-metering-endpoint", s.url + "/sandbox/aws/metering",
			"--aws-sqs-endpoint", s.url + "/sandbox/aws/sqs", "--aws-sqs-queue-urls", queue}
	}

	out, code := doctor(t, keys, append(flags(queue), "--json")...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var rep struct {
		OK     bool
		Checks []struct{ ID, Marketplace, Status, Message string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	aws := 0
	for _, c := range rep.Checks {
		if c.Marketplace == "aws" {
			aws++
			if c.Status != "ok" {
				t.Errorf("%s: %s %s", c.ID, c.Status, c.Message)
			}
		} else if c.Status != "skip" {
			t.Errorf("microsoft is not configured: %+v", c)
		}
	}
	if !rep.OK || aws != 6 {
		t.Fatalf("ok %v, %d AWS checks:\n%s", rep.OK, aws, out)
	}

	out, code = doctor(t, keys, flags(s.url+"/sandbox/aws/sqs/000000000000/no-such-queue")...)
	if code != 1 || !strings.Contains(out, "FAIL  Queue readable") || !strings.Contains(out, "does not exist") || !strings.Contains(out, "fix: Create it") {
		t.Fatalf("missing queue: exit %d\n%s", code, out)
	}

	out, code = doctor(t, nil, flags(queue)...)
	if code != 1 || !strings.Contains(out, "FAIL  AWS credentials") || !strings.Contains(out, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("no credentials: exit %d\n%s", code, out)
	}

	out, code = doctor(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "-json") || !strings.Contains(out, "-azure-client-secret-expires") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
}
