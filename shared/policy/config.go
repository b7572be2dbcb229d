package policy

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/deployment"
)

// Load reads, parses and validates a policy file: the one way a program
// gets a policy to use. Problems come back as a *FileError (which unwraps to
// Problems); warnings are dropped (LoadWarn returns them).
func Load(path string) (*Policy, error) {
	p, _, err := LoadWarn(path)
	return p, err
}

// LoadWarn is Load that also returns the validation warnings, for the
// programs that show them (policy validate).
func LoadWarn(path string) (*Policy, Warnings, error) {
	return LoadWith(path, ValidateOptions{})
}

// LoadWith is LoadWarn with options; the CDK app requires the deployment
// section (ValidateOptions.RequireDeployment).
func LoadWith(path string, opts ValidateOptions) (*Policy, Warnings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read policy: %w", err)
	}
	p, warnings, err := Check(data, opts)
	var ps Problems
	if errors.As(err, &ps) {
		return nil, warnings, &FileError{File: path, Problems: ps}
	}
	return p, warnings, err
}

// Check is the one validation of the configuration file, for policy
// validate, the CDK app and the functions: the structure (unknown keys with
// the nearest known one, types, duplicates), then every rule on values of
// every section, the deployment section and the rules that tie it to the
// rest included. It reports every problem at once, in file order, each with
// its field path, line and column; a problem of structure does not hide the
// rules on the rest. The policy comes back only when there is no problem.
func Check(data []byte, opts ValidateOptions) (*Policy, Warnings, error) {
	p, shape, err := read(data)
	if err != nil {
		return nil, nil, err
	}
	warnings, verr := p.Validate(opts)
	probs := slices.Clone(shape.probs)
	var vp Problems
	if verr != nil && !errors.As(verr, &vp) {
		return nil, nil, verr
	}
	for _, pr := range vp {
		if !shape.explains(pr.Path) {
			probs = append(probs, pr)
		}
	}
	warnings = slices.DeleteFunc(warnings, func(w Problem) bool { return shape.explains(w.Path) })
	sortByPosition(probs)
	sortByPosition(warnings)
	if len(probs) > 0 {
		return nil, warnings, probs
	}
	return p, warnings, nil
}

// sortByPosition orders problems as they appear in the file; those without
// a position keep their order, last.
func sortByPosition(ps []Problem) {
	key := func(p Problem) (int, int) {
		if p.Line == 0 {
			return int(^uint(0) >> 1), 0
		}
		return p.Line, p.Column
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		al, ac := key(a)
		bl, bc := key(b)
		if al != bl {
			return al - bl
		}
		return ac - bc
	})
}

// FileError is a configuration file's problems, named by the file.
type FileError struct {
	File     string
	Problems Problems
}

func (e *FileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.At(e.File)
	}
	return fmt.Sprintf("%s: %d problem(s):\n%s", e.File, len(e.Problems), strings.Join(lines, "\n"))
}

// Unwrap returns the Problems.
func (e *FileError) Unwrap() error { return e.Problems }

// At writes the problem as compilers do, for editors to jump to:
// "file:line:column: path: message" (parts that are not known left out).
func (p Problem) At(file string) string {
	return p.location(file) + p.body()
}

// WarningAt is At for a warning: "file:line:column: warning: path: message".
func (p Problem) WarningAt(file string) string {
	return p.location(file) + "warning: " + p.body()
}

func (p Problem) location(file string) string {
	var b strings.Builder
	b.WriteString(file)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(":" + strconv.Itoa(p.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	return b.String()
}

func (p Problem) body() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// validateDeployment checks the deployment section with its own rules
// (shared/deployment) and the rules that tie it to the rest of the file.
func (p *Policy) validateDeployment(v *validator, opts ValidateOptions) {
	d := p.Deployment
	if d == nil {
		if opts.RequireDeployment {
			v.errf("deployment", "is required: the CDK app deploys from this section (docs/deploy.md)")
		}
		return
	}
	var dp deployment.Problems
	d.ValidateInto(&dp)
	p.deploymentRules(d, &dp)
	for _, pr := range dp.List() {
		v.problems = append(v.problems, Problem{Path: pr.Path, Message: pr.Message})
	}
}

// deploymentRules are the rules between the deployment section and the
// organization and trail sections.
func (p *Policy) deploymentRules(d *deployment.Deployment, dp *deployment.Problems) {
	o := p.Organization
	if awsid.IsAccountID(d.AutomationAccount) {
		if d.SingleAccount && awsid.IsAccountID(o.LoggingAccount) && d.AutomationAccount != o.LoggingAccount {
			dp.Addf("deployment.automationAccount", "single-account mode deploys everything into one account: it must equal organization.loggingAccount (%s), got %s", o.LoggingAccount, d.AutomationAccount)
		}
		if !d.SingleAccount && d.AutomationAccount == o.ManagementAccount {
			dp.Addf("deployment.automationAccount", "must not be the management account (%s): keep workloads out of it", o.ManagementAccount)
		}
	}
	if !d.SingleAccount && p.Mode != ModeOrganizationTrail && d.Bucket.WriterScope == deployment.WriterScopeAccounts && len(d.Bucket.WriterAccounts) == 0 {
		dp.Addf("deployment.bucket.writerAccounts", "list the accounts whose trails write to the central bucket (aws:SourceAccount, which CloudTrail documents), "+
			"or set writerScope: organization (aws:SourceOrgID, which CloudTrail does not document for trails: prove it on AWS first); see docs/deploy.md, \"Bucket policy decision\"")
	}
	if len(d.Regions) > 0 && awsid.IsRegion(o.HomeRegion) && !slices.Contains(d.Regions, o.HomeRegion) {
		dp.Addf("deployment.regions", "must include the home Region %s", o.HomeRegion)
	}
	p.centralRules(dp)
}

// centralRules: the deliveries topic and the key are the central stack's,
// in the logging account (checked once the organization's own values are
// valid, so that one mistake is reported once).
func (p *Policy) centralRules(dp *deployment.Problems) {
	o, t := p.Organization, p.Trail
	if t.SNS.TopicArn == "" {
		dp.Addf("trail.sns.topicArn", "is required by trailwarden: every delivery is verified through the deliveries topic, which the central stack creates")
	}
	if !awsid.IsAccountID(o.LoggingAccount) || !awsid.IsRegion(o.HomeRegion) {
		return
	}
	if a, err := ParseARN(t.SNS.TopicArn); err == nil && (a.Account != o.LoggingAccount || a.Region != o.HomeRegion) {
		dp.Addf("trail.sns.topicArn", "%q must be in the logging account %s and the home Region %s: the central stack creates it there", t.SNS.TopicArn, o.LoggingAccount, o.HomeRegion)
	}
	if a, err := ParseARN(t.KMS.KeyArn); err == nil && a.Account != o.LoggingAccount {
		dp.Addf("trail.kms.keyArn", "%q must be the key the central stack creates in the logging account %s", t.KMS.KeyArn, o.LoggingAccount)
	}
}
