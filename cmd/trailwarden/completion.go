package main

import (
	"github.com/spf13/cobra"
)

const completionLong = `Prints the shell completion script for bash, zsh or fish. Load it once:
  bash:  source <(trailwarden completion bash)
  zsh:   source <(trailwarden completion zsh)
  fish:  trailwarden completion fish | source

or install it for every new shell:
  bash:  trailwarden completion bash > /etc/bash_completion.d/trailwarden
  zsh:   trailwarden completion zsh > "${fpath[1]}/_trailwarden"
  fish:  trailwarden completion fish > ~/.config/fish/completions/trailwarden.fish`

// newCompletionCmd is 'completion bash|zsh|fish' (cobra's generators).
func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish",
		Short:     "print the shell completion script for bash, zsh or fish",
		Long:      completionLong,
		Example:   "  source <(trailwarden completion bash)",
		ValidArgs: []cobra.Completion{"bash", "zsh", "fish"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh" && args[0] != "fish") {
				return usageErrorf("completion: name one shell: bash, zsh or fish")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, w := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			}
			return root.GenFishCompletion(w, true)
		},
	}
}
