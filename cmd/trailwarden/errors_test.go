package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// answering is an AWS endpoint on localhost that answers every call with
// one HTTP error, so the SDK builds its real error types.
func answering(t *testing.T, status int, contentType, body string) aws.Config {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amzn-RequestId", "req-1")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
}

func dynamoError(code, message string) string {
	return fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)
}

// scan is a Scan through the CLI's DynamoDB client, wrapped as status
// wraps it.
func scan(t *testing.T, cfg aws.Config) error {
	_, err := newDynamoDB(cfg).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("trailwarden-accounts")})
	if err == nil {
		t.Fatal("the call succeeded")
	}
	return fmt.Errorf("status: accounts table: %w", err)
}

// TestExplainError: each classified failure, made by the SDK from AWS's
// own error responses, says what to do next, once, without jargon.
func TestExplainError(t *testing.T) {
	const user = "arn:aws:sts::111122223333:assumed-role/trailwarden-operator-read/alice"
	cases := []struct {
		name string
		err  func(t *testing.T) error
		want []string
	}{
		{"table not found", func(t *testing.T) error {
			return scan(t, answering(t, 400, "application/x-amz-json-1.0", dynamoError("ResourceNotFoundException", "Requested resource not found")))
		}, []string{"status: accounts table: table \"trailwarden-accounts\" not found in eu-west-1", "is the stack deployed in this Region?", "--stack", "--home-region"}},
		{"access denied, DynamoDB", func(t *testing.T) error {
			return scan(t, answering(t, 400, "application/x-amz-json-1.0", dynamoError("AccessDeniedException", "User: "+user+
				" is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/trailwarden-accounts because no identity-based policy allows the dynamodb:Scan action")))
		}, []string{"access denied: " + user + " may not call dynamodb:Scan on arn:aws:dynamodb:eu-west-1:111122223333:table/trailwarden-accounts", "Operator access"}},
		{"access denied, no message", func(t *testing.T) error {
			return scan(t, answering(t, 400, "application/x-amz-json-1.0", dynamoError("AccessDeniedException", "")))
		}, []string{"may not call dynamodb:Scan", "aws sts get-caller-identity"}},
		{"access denied, assume role", func(t *testing.T) error {
			_, err := sts.NewFromConfig(answering(t, 403, "text/xml", `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
				`<Message>User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/trailwarden-operator-read</Message>`+
				`</Error><RequestId>req-1</RequestId></ErrorResponse>`)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::333333333333:role/trailwarden-operator-read"), RoleSessionName: aws.String("s")})
			return fmt.Errorf("assume trailwarden-operator-read in 333333333333: %w", err)
		}, []string{"arn:aws:iam::111122223333:user/alice may not call sts:AssumeRole on arn:aws:iam::333333333333:role/trailwarden-operator-read"}},
		{"expired credentials", func(t *testing.T) error {
			return scan(t, answering(t, 400, "application/x-amz-json-1.0", dynamoError("ExpiredTokenException", "The security token included in the request is expired")))
		}, []string{"credentials were refused (ExpiredTokenException)", "aws sso login"}},
		{"stack not found", func(t *testing.T) error {
			d := &deployFlags{stack: "TrailwardenAutomation", region: "eu-west-1", describe: cloudformation.NewFromConfig(answering(t, 400, "text/xml",
				`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id TrailwardenAutomation does not exist</Message></Error>`+
					`<RequestId>req-1</RequestId></ErrorResponse>`))}
			_, err := d.outputs(context.Background())
			return fmt.Errorf("find the deployment: %w; point the CLI at it", err)
		}, []string{`stack "TrailwardenAutomation" not found in eu-west-1`, "--stack STACK", "trailwarden use NAME"}},
		{"profile not found", func(t *testing.T) error {
			dir := t.TempDir()
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
			t.Setenv("AWS_PROFILE", "prod-operator")
			_, err := awsenv.Load(context.Background(), "eu-west-1")
			if err == nil {
				t.Fatal("a missing profile loaded")
			}
			return err
		}, []string{"The config profile (prod-operator) could not be found", `aws configure --profile prod-operator`}},
		{"fault kind", func(*testing.T) error {
			return fmt.Errorf("enable 333333333333: %w", fault.Poisonf("MalformedEvent", "the event is not JSON"))
		}, []string{"enable 333333333333: MalformedEvent: the event is not JSON"}},
	}
	var all strings.Builder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err(t)
			got := explainError(err)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, jargon := range []string{"(poison)", "(needs-human)", "RequestID", "operation error"} {
				if strings.Contains(got, jargon) {
					t.Errorf("says %q:\n%s", jargon, got)
				}
			}
			if exitCode(err) != exitUsage {
				t.Errorf("exit %d, want %d", exitCode(err), exitUsage)
			}
			fmt.Fprintf(&all, "%s:\n  %s\n", c.name, got)
		})
	}
	golden(t, filepath.Join("testdata", "errors.golden.txt"), all.String())
}

// TestReportErrorOnce: runEnv prints an error once, and a silent exit
// (the output already said it) not at all.
func TestReportErrorOnce(t *testing.T) {
	var b strings.Builder
	env := &cmdEnv{stderr: &b}
	if code := reportError(env, nil, fmt.Errorf("x: %w", errors.New("boom"))); code != exitUsage || b.String() != "trailwarden: x: boom\n" {
		t.Fatalf("%d %q", code, b.String())
	}
	b.Reset()
	if code := reportError(env, nil, errProblemSilent); code != exitProblem || b.Len() != 0 {
		t.Fatalf("%d %q", code, b.String())
	}
}
