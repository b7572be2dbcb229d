package stacks

import (
	"github.com/trailwarden/trailwarden/shared/settings"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

// memberRoles maps each named role of a member stack to its logical id and
// trust policy.
func memberRoles(t *testing.T, b *built) map[string][2]string {
	out := map[string][2]string{}
	for id, r := range resources(t, b.stacks.Member.Stack, "AWS::IAM::Role") {
		if n, ok := r["RoleName"].(string); ok {
			out[n] = [2]string{id, js(r["AssumeRolePolicyDocument"])}
		}
	}
	return out
}

// TestOperatorRoles: the operators' roles trust exactly the configured
// principals with the CLI's session names; the read role only reads, the
// converge role has the member role's policy and nothing else.
func TestOperatorRoles(t *testing.T) {
	b := org(t)
	roles := memberRoles(t, b)
	read, conv := roles[deployment.OperatorReadRole], roles[deployment.OperatorConvergeRole]
	if read[0] == "" || conv[0] == "" {
		t.Fatalf("operator roles missing: %v", roles)
	}
	for _, c := range []struct {
		trust string
		want  []string
		not   string
	}{
		{read[1], []string{"role/PlatformReadOnly", "role/OnCall"}, "PlatformAdmin"},
		{conv[1], []string{"role/PlatformAdmin"}, "PlatformReadOnly"},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.trust, w) {
				t.Errorf("trust lacks %s: %s", w, c.trust)
			}
		}
		if strings.Contains(c.trust, c.not) || strings.Count(c.trust, `"sts:RoleSessionName":"`+settings.CLISessionPrefix+`*"`) != len(c.want) {
			t.Errorf("trust: %s", c.trust)
		}
	}
	var readPolicy, memberPolicy string
	for _, p := range resources(t, b.stacks.Member.Stack, "AWS::IAM::Policy") {
		s := js(p)
		switch {
		case strings.Contains(s, read[0]):
			readPolicy = s
		case strings.Contains(s, `"Sid":"OwnTrail"`):
			memberPolicy = s
		}
	}
	allowed := append(slices.Clone(OperatorReadActions), OperatorListActions...)
	acts := regexp.MustCompile(`"[a-z0-9]+:[A-Za-z*]+"`).FindAllString(readPolicy, -1)
	if len(acts) == 0 {
		t.Fatalf("no read policy: %s", readPolicy)
	}
	for _, a := range acts {
		if !slices.Contains(allowed, strings.Trim(a, `"`)) {
			t.Errorf("read role allows %s", a)
		}
	}
	// The member role's policy is the converge role's too.
	if !strings.Contains(memberPolicy, `{"Ref":"`+conv[0]+`"}`) {
		t.Errorf("converge role lacks the member policy: %s", memberPolicy)
	}
	// Without principals, no operator role.
	for n := range memberRoles(t, single(t)) {
		if n == deployment.OperatorReadRole || n == deployment.OperatorConvergeRole {
			t.Errorf("single.yaml has no operators but the member stack has %s", n)
		}
	}
}

// TestStackOutputs: the automation stack exports every name the CLI reads.
func TestStackOutputs(t *testing.T) {
	for name, b := range map[string]*built{"org": org(t), "single": single(t)} {
		outs, _ := tpl(t, b.stacks.Automation.Stack)["Outputs"].(map[string]any)
		want := []string{stackout.HomeRegion, stackout.EventBusName, stackout.DeliveryQueueURL}
		for k := range stackout.Env {
			if k != stackout.OrgReaderRoleARN || name == "org" {
				want = append(want, k)
			}
		}
		for _, fn := range Functions {
			want = append(want, stackout.FunctionName(fn))
		}
		for _, k := range want {
			if _, ok := outs[k]; !ok {
				t.Errorf("%s: automation stack lacks output %s", name, k)
			}
		}
		if _, ok := outs[stackout.OrgReaderRoleARN]; ok && name == "single" {
			t.Errorf("single: an organization reader output without a management stack")
		}
	}
	outs, _ := tpl(t, org(t).stacks.Central.Stack)["Outputs"].(map[string]any)
	for _, k := range []string{stackout.LogBucketName, stackout.LogKeyARN, stackout.DeliveriesTopicARN} {
		if _, ok := outs[k]; !ok {
			t.Errorf("central stack lacks output %s", k)
		}
	}
}
