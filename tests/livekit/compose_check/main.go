// Command compose-check loads a Compose file the way `docker compose config` does, with the
// Compose Specification's loader (compose-go): schema validation, interpolation from this
// process's environment, normalisation and the consistency checks (services, volumes and
// networks referred to must exist). It prints the resulting project as JSON, or the loader's
// error and exits 1. tests/livekit/test_deployment_files.py builds and runs it: Docker cannot
// run on the project's machines, and this is the code Docker Compose itself loads files with.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check path/to/docker-compose.yml")
		os.Exit(2)
	}
	path, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions(
		[]string{path},
		cli.WithOsEnv,
		cli.WithWorkingDirectory(filepath.Dir(path)),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
