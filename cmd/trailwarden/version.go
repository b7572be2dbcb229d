package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/trailwarden/trailwarden/shared/version"
)

const versionUsage = `Usage:
  trailwarden version [-o table|json]
  trailwarden --version

Prints the CLI's version, commit and build date: the module version that
'go install github.com/trailwarden/trailwarden/cmd/trailwarden@VERSION'
records, or what 'make' stamps. The functions log the same line at cold
start, so a deployment's version shows in its logs.

Example:
  trailwarden version -o json
`

var versionCommand = command{
	summary: "print the version, commit and build date",
	usage:   versionUsage,
	run:     runVersion,
}

func runVersion(_ context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "version", versionUsage)
	var output string
	fs.StringVar(&output, "o", "table", "output format: table | json")
	fs.StringVar(&output, "output", "table", "output format: table | json")
	pos, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) > 0 {
		return usageErr(env, "version takes no arguments, got %q", pos[0])
	}
	if err := writeVersion(env.stdout, version.Get(), output); err != nil {
		return usageErr(env, "version: %v", err)
	}
	return exitOK
}

// writeVersion prints info as one line (table) or a JSON object.
func writeVersion(w io.Writer, info version.Info, output string) error {
	switch output {
	case "table":
		_, err := fmt.Fprintln(w, "trailwarden", info)
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return fmt.Errorf("-o %q: want table or json", output)
}
