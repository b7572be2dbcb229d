package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// envConfig overrides where the CLI keeps its contexts.
const envConfig = "TRAILWARDEN_CONFIG"

// deployContext is one named deployment, as kubectl keeps a cluster in a
// context: which stack, in which Region, through which endpoint, with which
// policy file. The stack's outputs are read when a command runs, so an
// updated stack needs no new `use`.
type deployContext struct {
	Stack    string `json:"stack,omitempty"`
	Region   string `json:"region,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Policy   string `json:"policy,omitempty"`
}

// cliConfig is the context file.
type cliConfig struct {
	Current  string                   `json:"current,omitempty"`
	Contexts map[string]deployContext `json:"contexts"`
}

// configPath is TRAILWARDEN_CONFIG, or trailwarden/config.json under the
// user's configuration directory (os.UserConfigDir).
func configPath(env *cmdEnv) (string, error) {
	if p := env.getenv(envConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory (set %s): %w", envConfig, err)
	}
	return filepath.Join(dir, "trailwarden", "config.json"), nil
}

// loadConfig reads the context file; a missing file is an empty one.
func loadConfig(path string) (*cliConfig, error) {
	c := &cliConfig{Contexts: map[string]deployContext{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s is not a trailwarden context file: %w", path, err)
	}
	if c.Contexts == nil {
		c.Contexts = map[string]deployContext{}
	}
	return c, nil
}

// save writes the file whole (a temporary file renamed over it), readable
// by its owner only.
func (c *cliConfig) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save contexts: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save contexts: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("save contexts: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save contexts: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save contexts: %w", err)
	}
	return nil
}

var contextNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

const useLong = `Points the CLI at a deployment, as kubectl contexts do:
  trailwarden use            list the contexts (* marks the current one)
  trailwarden use NAME       make NAME the current context
  trailwarden use NAME --stack S --region R [--endpoint URL] [--policy FILE]
                             create or update NAME and make it current

A context names the automation stack (default TrailwardenAutomation), its
Region, an optional endpoint (the emulator) and the policy file; commands
read the stack's outputs (cloudformation:DescribeStacks) for the names of
the tables, queues and topics. Flags and environment variables still
override a context: flag > environment > context > stack outputs. The
contexts live in $TRAILWARDEN_CONFIG, or trailwarden/config.json in the user
configuration directory. --context NAME on any command picks another
context for one run.`

const useExample = `  trailwarden use prod --stack TrailwardenAutomation --region eu-west-1 --policy policy.yaml
  trailwarden use local --stack TrailwardenAutomation --region us-east-1 --endpoint http://localhost:4566 --policy infra/local.yaml`

func newUseCmd(env *cmdEnv) *cobra.Command {
	var set deployContext
	c := &cobra.Command{Use: "use [NAME]", Short: "point the CLI at a deployment (named contexts, as kubectl has)",
		Long: useLong, Example: useExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("use: one context name, got %d", len(args))
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return contextNames(env), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error { return runUse(env, set, args) }}
	fs := c.Flags()
	fs.StringVar(&set.Stack, "stack", "", "automation stack name (new contexts: "+defaultStack+")")
	fs.StringVar(&set.Region, "region", "", "the stack's Region (trailwarden's home Region)")
	fs.StringVar(&set.Endpoint, "endpoint", "", "AWS endpoint URL, e.g. the emulator's")
	fs.StringVar(&set.Policy, "policy", "", "policy file (stored as an absolute path)")
	return c
}

// contextNames completes 'use NAME'.
func contextNames(env *cmdEnv) []string {
	path, err := configPath(env)
	if err != nil {
		return nil
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(cfg.Contexts))
	for n := range cfg.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runUse(env *cmdEnv, set deployContext, pos []string) error {
	path, err := configPath(env)
	if err != nil {
		return fmt.Errorf("use: %w", err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return fmt.Errorf("use: %w", err)
	}
	if len(pos) == 0 {
		if set != (deployContext{}) {
			return usageErrorf("use: name the context the flags are for")
		}
		listContexts(env, cfg, path)
		return nil
	}
	name := pos[0]
	if !contextNameRe.MatchString(name) {
		return usageErrorf("use: %q is not a context name (letters, digits, '.', '_', '-'; at most 63)", name)
	}
	cur, exists := cfg.Contexts[name]
	if !exists && set == (deployContext{}) {
		return usageErrorf("use: no context %q; create it with: trailwarden use %s --stack %s --region REGION", name, name, defaultStack)
	}
	if set.Policy != "" {
		if set.Policy, err = filepath.Abs(set.Policy); err != nil {
			return usageErrorf("use: --policy: %v", err)
		}
	}
	merge(&cur, set)
	if cur.Stack == "" {
		cur.Stack = defaultStack
	}
	cfg.Contexts[name], cfg.Current = cur, name
	if err := cfg.save(path); err != nil {
		return fmt.Errorf("use: %w", err)
	}
	fmt.Fprintf(env.stdout, "using context %q: stack %s%s%s\n", name, cur.Stack, suffix(" in ", cur.Region), suffix(" at ", cur.Endpoint))
	return nil
}

// merge sets the non-empty fields of set on c.
func merge(c *deployContext, set deployContext) {
	for _, f := range []struct{ dst, src *string }{{&c.Stack, &set.Stack}, {&c.Region, &set.Region}, {&c.Endpoint, &set.Endpoint}, {&c.Policy, &set.Policy}} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
}

func suffix(sep, v string) string {
	if v == "" {
		return ""
	}
	return sep + v
}

func listContexts(env *cmdEnv, cfg *cliConfig, path string) {
	if len(cfg.Contexts) == 0 {
		fmt.Fprintf(env.stderr, "trailwarden: no contexts in %s; create one with: trailwarden use NAME --stack %s --region REGION\n", path, defaultStack)
		return
	}
	names := make([]string, 0, len(cfg.Contexts))
	for n := range cfg.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(env.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "CURRENT\tNAME\tSTACK\tREGION\tENDPOINT\tPOLICY")
	for _, n := range names {
		c, mark := cfg.Contexts[n], ""
		if n == cfg.Current {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, n, c.Stack, dash(c.Region), dash(c.Endpoint), dash(c.Policy))
	}
	tw.Flush()
}
