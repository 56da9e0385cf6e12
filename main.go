// Command marketgate sells a SaaS product through AWS Marketplace and
// Microsoft's commercial marketplace. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/marketgate/marketgate/server/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], app.IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Env: os.Getenv, Portal: portal(),
	})
	stop()
	os.Exit(code)
}
