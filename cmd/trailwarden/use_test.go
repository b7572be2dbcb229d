package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

func TestUseContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	vars := map[string]string{envConfig: path}
	if r := runCLI(t, vars, "use"); r.code != exitOK || !strings.Contains(r.stderr, "no contexts") {
		t.Fatalf("empty: %+v", r)
	}
	if r := runCLI(t, vars, "use", "prod"); r.code != exitUsage || !strings.Contains(r.stderr, "create it with") {
		t.Fatalf("unknown context: %+v", r)
	}
	r := runCLI(t, vars, "use", "local", "--region", "us-east-1", "--endpoint", "http://localhost:4566", "--policy", "p.yaml")
	if r.code != exitOK {
		t.Fatalf("create: %+v", r)
	}
	if r := runCLI(t, vars, "use", "prod", "--stack", "TwProd", "--region", "eu-west-1"); r.code != exitOK {
		t.Fatalf("create prod: %+v", r)
	}
	// Switching back keeps what was set; a later flag updates one field.
	if r := runCLI(t, vars, "use", "local", "--region", "us-west-2"); r.code != exitOK {
		t.Fatalf("update: %+v", r)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("p.yaml")
	want := deployContext{Stack: defaultStack, Region: "us-west-2", Endpoint: "http://localhost:4566", Policy: abs}
	if cfg.Current != "local" || cfg.Contexts["local"] != want || cfg.Contexts["prod"].Stack != "TwProd" {
		t.Fatalf("config: %+v", cfg)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode: %v %v", fi, err)
	}
	r = runCLI(t, vars, "use")
	if r.code != exitOK || !strings.Contains(r.stdout, "*        local") || !strings.Contains(r.stdout, "TwProd") {
		t.Fatalf("list: %q", r.stdout)
	}
	for _, args := range [][]string{{"use", "a b"}, {"use", "a", "b"}, {"use", "--region", "x"}} {
		if r := runCLI(t, vars, args...); r.code != exitUsage {
			t.Errorf("%q: %+v", args, r)
		}
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if r := runCLI(t, vars, "use"); r.code != exitUsage || !strings.Contains(r.stderr, "not a trailwarden context file") {
		t.Fatalf("corrupt file: %+v", r)
	}
}

// fakeDescribeStacks is an interface fake of CloudFormation's DescribeStacks.
type fakeDescribeStacks struct {
	outputs map[string]string
	asked   []string
}

func (f *fakeDescribeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.StackName))
	if f.outputs == nil {
		return nil, errors.New("Stack with id " + aws.ToString(in.StackName) + " does not exist")
	}
	st := cftypes.Stack{StackName: in.StackName}
	for k, v := range f.outputs {
		st.Outputs = append(st.Outputs, cftypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{st}}, nil
}

// resolveWith parses args as a deployment command would and resolves.
func resolveWith(t *testing.T, vars map[string]string, api stackDescriber, args ...string) (*deployFlags, bool, string) {
	t.Helper()
	var errb strings.Builder
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	d := &deployFlags{}
	d.register(fs, env)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	d.describe = api
	err := d.need(env, "accounts-table", "ledger-table", "journal-table", "incidents-table")
	if err != nil {
		errb.WriteString(explainError(err))
	}
	return d, err == nil, errb.String()
}

// TestResolvePrecedence: flag > environment > context > stack outputs.
func TestResolvePrecedence(t *testing.T) {
	t.Setenv(envEndpoint, os.Getenv(envEndpoint)) // restored after the context sets it
	path := filepath.Join(t.TempDir(), "config.json")
	vars := map[string]string{envConfig: path}
	api := &fakeDescribeStacks{outputs: map[string]string{
		stackout.AccountsTable: "out-accounts", stackout.LedgerTable: "out-ledger", stackout.JournalTable: "out-journal",
		stackout.IncidentsTable: "out-incidents", stackout.HomeRegion: "eu-west-1", stackout.OrgReaderRoleARN: "arn:aws:iam::111111111111:role/r",
	}}
	// No context: the default stack's outputs.
	d, ok, errs := resolveWith(t, vars, api)
	if !ok || d.accountsTable != "out-accounts" || d.region != "eu-west-1" || d.orgReaderRoleARN == "" || api.asked[0] != defaultStack {
		t.Fatalf("outputs: %+v %v %s %v", d, ok, errs, api.asked)
	}
	// A context names the stack, Region, policy and endpoint.
	if r := runCLI(t, vars, "use", "c1", "--stack", "TwOther", "--region", "us-west-2", "--endpoint", "http://127.0.0.1:9", "--policy", "/p.yaml"); r.code != exitOK {
		t.Fatal(r)
	}
	vars[settings.EnvLedgerTable] = "env-ledger"
	d, ok, _ = resolveWith(t, vars, api, "--accounts-table", "flag-accounts")
	if !ok || d.accountsTable != "flag-accounts" || d.ledgerTable != "env-ledger" || d.journalTable != "out-journal" ||
		d.region != "us-west-2" || d.policyFile != "/p.yaml" || api.asked[1] != "TwOther" || os.Getenv(envEndpoint) != "http://127.0.0.1:9" {
		t.Fatalf("precedence: %+v %v", d, api.asked)
	}
	// --stack and --context beat the context's.
	if r := runCLI(t, vars, "use", "c2", "--stack", "TwTwo"); r.code != exitOK {
		t.Fatal(r)
	}
	if _, ok, _ = resolveWith(t, vars, api, "--context", "c1", "--stack", "TwFlag"); !ok || api.asked[2] != "TwFlag" {
		t.Fatalf("--stack: %v", api.asked)
	}
	if _, ok, errs = resolveWith(t, vars, api, "--context", "nope"); ok || !strings.Contains(errs, `no context "nope"`) {
		t.Fatalf("unknown --context: %s", errs)
	}
	// A missing stack says what to do.
	if _, ok, errs = resolveWith(t, vars, &fakeDescribeStacks{}); ok || !strings.Contains(errs, "trailwarden use") || !strings.Contains(errs, "TwTwo") {
		t.Fatalf("missing stack: %s", errs)
	}
	// A stack without trailwarden's outputs is refused.
	if _, ok, errs = resolveWith(t, vars, &fakeDescribeStacks{outputs: map[string]string{"X": "y"}}); ok || !strings.Contains(errs, "no AccountsTable output") {
		t.Fatalf("foreign stack: %s", errs)
	}
}

// TestResolveFromEmulatorStack: the outputs of a stack created with
// CreateStack on the emulator (its change-set path sets no outputs).
func TestResolveFromEmulatorStack(t *testing.T) {
	_, _, _ = emulatorEnv(t)
	cfg, err := awsenv.Load(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]any{}
	for k, v := range map[string]string{stackout.AccountsTable: "acc", stackout.LedgerTable: "led", stackout.JournalTable: "jou", stackout.IncidentsTable: "inc"} {
		outs[k] = map[string]any{"Value": v}
	}
	tmpl, _ := json.Marshal(map[string]any{
		"Resources": map[string]any{"Q": map[string]any{"Type": "AWS::SQS::Queue"}},
		"Outputs":   outs,
	})
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: aws.String("TwEmu"), TemplateBody: aws.String(string(tmpl))}); err != nil {
		t.Fatal(err)
	}
	d, ok, errs := resolveWith(t, map[string]string{envConfig: filepath.Join(t.TempDir(), "none.json")}, nil, "--stack", "TwEmu")
	if !ok || d.accountsTable != "acc" || d.incidentsTable != "inc" {
		t.Fatalf("%+v %s", d, errs)
	}
}
