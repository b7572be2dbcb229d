// Command infra is trailwarden's CDK app. It reads one configuration file
// (the policy file with its `deployment:` section) from the CDK context
// `config` (cdk synth -c config=path), else TRAILWARDEN_CONFIG, else
// examples/policy.yaml; the functions' binaries come from the context
// `buildDir`, else TRAILWARDEN_BUILD_DIR, else build/ (make build).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/infra/stacks"
)

// Environment variables and context keys the app reads.
const (
	EnvConfig   = "TRAILWARDEN_CONFIG"
	EnvBuildDir = "TRAILWARDEN_BUILD_DIR"
	CtxConfig   = "config"
	CtxBuildDir = "buildDir"

	defaultConfig   = "examples/policy.yaml"
	defaultBuildDir = "build"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "trailwarden infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(&awscdk.AppProps{Context: ptr(stacks.AppContext())})
	configPath := setting(app, CtxConfig, EnvConfig, defaultConfig)
	buildDir := setting(app, CtxBuildDir, EnvBuildDir, defaultBuildDir)
	cfg, warnings, err := stacks.Load(configPath, buildDir)
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, w) // each says "warning:" (stacks.Load)
	}
	if err != nil {
		return err
	}
	if _, err := stacks.Build(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

func ptr[T any](v T) *T { return &v }

// setting is the context value key, else the environment variable env, else
// def.
func setting(app awscdk.App, key, env, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}
