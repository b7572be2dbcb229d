package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/version"
)

const versionLong = `Prints the CLI's version, commit and build date: the module version that
'go install github.com/trailwarden/trailwarden/cmd/trailwarden@VERSION'
records, or what 'make' stamps. The functions log the same line at cold
start, so a deployment's version shows in its logs. 'trailwarden --version'
prints the same line.`

func newVersionCmd(env *cmdEnv) *cobra.Command {
	var output outputFlag
	c := &cobra.Command{Use: "version", Short: "print the version, commit and build date", Long: versionLong,
		Example: "  trailwarden version -o json", Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return writeVersion(env.stdout, version.Get(), string(output)) }}
	addOutput(c, &output)
	return c
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
