// Command gencontract writes the portal API's OpenAPI document (made from
// the server's routes and Go types, see server/api/contract.go) to the
// file named by its argument, or to standard output. scripts/build.sh and
// scripts/test.sh run it before generating the portal's TypeScript types.
package main

import (
	"fmt"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"
)

func main() {
	// Quiet: gin's debug mode prints every route it registers to stdout,
	// where the document goes.
	gin.SetMode(gin.ReleaseMode)
	b, err := api.PortalOpenAPI()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencontract:", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 {
		err = os.WriteFile(os.Args[1], b, 0o644)
	} else {
		_, err = os.Stdout.Write(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencontract:", err)
		os.Exit(1)
	}
}
