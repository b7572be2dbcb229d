package stacks

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/settings"
)

// PolicyFileName is the policy file's name inside each function's asset; the
// functions find it through settings.EnvPolicyFile relative to
// LAMBDA_TASK_ROOT.
const PolicyFileName = "policy.yaml"

// RolePath returns the IAM path of a function's role. Roles get generated
// names (no physical names), so trust policies in other accounts match the
// role by this path: arn:<partition>:iam::<automation>:role/trailwarden/<fn>/*.
func RolePath(fn string) string { return "/trailwarden/" + fn + "/" }

// FunctionProps configures one Go Lambda function.
type FunctionProps struct {
	Name     string
	AssetDir string
	Timeout  awscdk.Duration
	MemoryMB float64
	Env      map[string]*string
	// LogRetention is the log group's retention.
	LogRetention awslogs.RetentionDays
	// AsyncRetryAttempts, when set, is Lambda's retry count for
	// asynchronous (scheduled) invocations that fail.
	AsyncRetryAttempts *float64
	Description        string
}

// Function is a Go function on provided.al2023/arm64 with its own role (path
// /trailwarden/<name>/, only the statements added to it) and an explicit log
// group with a retention.
type Function struct {
	constructs.Construct
	Fn       awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
	Timeout  awscdk.Duration
}

// NewFunction builds the function.
func NewFunction(scope constructs.Construct, id string, p FunctionProps) *Function {
	c := constructs.NewConstruct(scope, jsii.String(id))
	lg := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Path:        jsii.String(RolePath(p.Name)),
		Description: jsii.String("trailwarden " + p.Name + " function"),
	})
	// Only this function's own log group: no AWSLambdaBasicExecutionRole.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("OwnLogGroup"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{lg.LogGroupArn()},
	}))
	// The Go runtime does not know the function's memory: GOMEMLIMIT at 90%
	// makes the garbage collector work harder before Lambda would kill the
	// instance (the watchdog at 100,000 accounts needs it: BENCHMARKS.md).
	env := make(map[string]*string, len(p.Env)+1)
	for k, v := range p.Env {
		env[k] = v
	}
	env["GOMEMLIMIT"] = jsii.String(GoMemLimit(p.MemoryMB))
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(p.AssetDir), nil),
		Timeout:       p.Timeout,
		MemorySize:    jsii.Number(p.MemoryMB),
		Environment:   &env,
		Role:          role,
		LogGroup:      lg,
		RetryAttempts: p.AsyncRetryAttempts,
		Description:   jsii.String(p.Description),
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// Lambda drops records below this level and passes it to the function
		// as AWS_LAMBDA_LOG_LEVEL, which the functions' logger follows.
		ApplicationLogLevelV2: applicationLogLevel(p.Env[settings.EnvLogLevel]),
	})
	return &Function{Construct: c, Fn: fn, Role: role, LogGroup: lg, Timeout: p.Timeout}
}

// applicationLogLevel is Lambda's application log level for
// deployment.logLevel (debug | info | warn | error; default info).
func applicationLogLevel(level *string) awslambda.ApplicationLogLevel {
	if level == nil {
		return awslambda.ApplicationLogLevel_INFO
	}
	switch *level {
	case "debug":
		return awslambda.ApplicationLogLevel_DEBUG
	case "warn":
		return awslambda.ApplicationLogLevel_WARN
	case "error":
		return awslambda.ApplicationLogLevel_ERROR
	default:
		return awslambda.ApplicationLogLevel_INFO
	}
}

// GoMemLimit is the GOMEMLIMIT for a function of memoryMB: 90% of it.
func GoMemLimit(memoryMB float64) string {
	return strconv.Itoa(int(memoryMB*0.9)) + "MiB"
}

// Allow adds a statement to the function's role.
func (f *Function) Allow(sid string, actions []string, resources []*string, conditions map[string]any) {
	f.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Actions:    jsii.Strings(actions...),
		Resources:  &resources,
		Conditions: condMap(conditions),
	}))
}

func condMap(m map[string]any) *map[string]any {
	if m == nil {
		return nil
	}
	return &m
}

// StageAsset copies build/<fn>/bootstrap and the policy file into
// <buildDir>/cdk-assets/<fn>/ and returns that directory. The asset hash is
// computed from file paths and contents only, so unchanged inputs give an
// unchanged hash (and no redeploy).
func StageAsset(buildDir, fn, policyFile string) (string, error) {
	dir := filepath.Join(buildDir, "cdk-assets", fn)
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("stage %s: %w", fn, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("stage %s: %w", fn, err)
	}
	if err := copyFile(filepath.Join(buildDir, fn, "bootstrap"), filepath.Join(dir, "bootstrap"), 0o755); err != nil {
		return "", fmt.Errorf("stage %s: %w", fn, err)
	}
	if err := copyFile(policyFile, filepath.Join(dir, PolicyFileName), 0o644); err != nil {
		return "", fmt.Errorf("stage %s: %w", fn, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("stage %s: %w", fn, err)
	}
	return abs, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// baseEnv is the environment every function gets.
func baseEnv(cfg *Config) map[string]*string {
	d := cfg.Deployment
	return map[string]*string{
		settings.EnvPolicyFile:       jsii.String(PolicyFileName),
		settings.EnvMetricsNamespace: jsii.String(settings.DefaultMetricsNamespace),
		settings.EnvLogLevel:         jsii.String(d.LogLevel),
		settings.EnvSingleAccount:    jsii.String(fmt.Sprint(d.SingleAccount)),
	}
}

// retentionByDays maps deployment.RetentionDays to the CDK enum.
var retentionByDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
