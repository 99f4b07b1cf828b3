// Command dbtlink connects a data stack to dbt Cloud: it triggers and watches
// jobs, fetches artifacts, reads them offline, and serves a local dbt Cloud
// emulator. All of its code lives in internal/cli and the public packages.
package main

import (
	"os"

	"github.com/dbtlink/dbtlink/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
