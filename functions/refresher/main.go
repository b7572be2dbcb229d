// Command refresher is the daily Security Hub refresh, deployed only with
// deployment.securityHub.enabled: it re-imports trailwarden's open findings
// before Security Hub CSPM's retention deletes them (docs/securityhub.md).
// The logic lives in shared/asff.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailwarden/trailwarden/shared/asff"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/version"
)

func main() {
	ctx := context.Background()
	cfg, err := asff.LoadRefresherConfig(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	f, err := asff.NewRefreshFunction(cfg, home, os.Stdout)
	exitIf(err)
	f.Logger = telemetry.NewLambdaLogger("refresher")
	f.Logger.Info("cold start", "version", version.Get().String())
	lambda.Start(f.Handle)
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "refresher:", err)
		os.Exit(1)
	}
}
