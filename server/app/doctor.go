package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/setup"
)

const doctorAbout = "Check, live, that this configuration is ready to sell: each marketplace's credentials, APIs, queues,\n" +
	"app registration and the URLs to enter in the AWS Marketplace Management Portal and Partner Center.\n" +
	"It takes serve's flags and environment (and reads no database). Every check prints ok, warn, fail or skip,\n" +
	"with the fix; the exit status is 1 when a check failed, so a deployment pipeline can stop on it."

// errChecksFailed: a check failed (exit status 1, already reported).
var errChecksFailed = errors.New("checks failed")

// doctor runs "doctor": the setup checks (server/setup) from the command line.
func doctor(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("doctor", doctorAbout, o.Stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (for pipelines) instead of text")
	timeout := fs.Duration("timeout", 10*time.Second, "how long each check may take")
	cfg, err := loadConfig(fs, args, o.Env)
	if err != nil {
		return err
	}
	sc := setupConfig(cfg)
	sc.Timeout = *timeout
	rep := setup.New(sc).Run(ctx)
	if *asJSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(o.Stdout, rep)
	}
	if !rep.OK {
		return errChecksFailed
	}
	return nil
}

// printReport writes the checks as text: a line each, the fix and the
// values to paste indented under it.
func printReport(w io.Writer, rep setup.SetupReport) {
	names := map[string]string{setup.AWS: "AWS Marketplace", setup.Azure: "Microsoft commercial marketplace"}
	counts := map[setup.Status]int{}
	last := ""
	for _, c := range rep.Checks {
		if c.Marketplace != last {
			fmt.Fprintf(w, "%s\n", names[c.Marketplace])
			last = c.Marketplace
		}
		counts[c.Status]++
		title := c.Title
		if c.Subject != "" {
			title += " (" + c.Subject + ")"
		}
		fmt.Fprintf(w, "  %-4s  %s: %s\n", strings.ToUpper(string(c.Status)), title, c.Message)
		if c.Fix != "" && c.Status != setup.OK {
			fmt.Fprintf(w, "        fix: %s\n", indent(c.Fix))
		}
		for _, v := range c.Values {
			fmt.Fprintf(w, "        %s: %s\n", v.Label, indent(v.Value))
		}
	}
	fmt.Fprintf(w, "\n%d checks: %d ok, %d warn, %d failed, %d skipped\n", len(rep.Checks), counts[setup.OK], counts[setup.Warn], counts[setup.Fail], counts[setup.Skip])
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n          ") }
