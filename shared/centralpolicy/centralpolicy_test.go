package centralpolicy

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/iameval"
)

// Both writer scopes, decided with AWS's evaluation logic against the
// contexts CloudTrail sends (aws:SourceArn, aws:SourceAccount; and, for the
// organization option, aws:SourceOrgID when present).
func TestWriterScopes(t *testing.T) {
	const member, foreign = "555555555555", "999999999999"
	trail := func(acct, name string) string { return "arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/" + name }
	ctx := func(acct, name, org string) map[string][]string {
		c := map[string][]string{"aws:SourceArn": {trail(acct, name)}, "aws:SourceAccount": {acct},
			"s3:x-amz-acl": {"bucket-owner-full-control"}, "kms:EncryptionContext:aws:cloudtrail:arn": {trail(acct, name)}}
		if org != "" {
			c["aws:SourceOrgID"] = []string{org}
		}
		return c
	}
	scopes := map[string]Writers{
		"accounts":     {Partition: "aws", TrailName: "org-audit", Accounts: []string{member}},
		"organization": {Partition: "aws", TrailName: "org-audit", OrgID: "o-a1b2c3d4e5"},
	}
	cases := []struct {
		scope, name string
		ctx         map[string][]string
		want        bool
	}{
		{"accounts", "member's trail", ctx(member, "org-audit", ""), true},
		{"accounts", "foreign account", ctx(foreign, "org-audit", ""), false},
		{"accounts", "another trail name", ctx(member, "other", ""), false},
		{"organization", "member's trail, key populated", ctx(member, "org-audit", "o-a1b2c3d4e5"), true},
		{"organization", "key not populated: denied, loudly", ctx(member, "org-audit", ""), false},
		{"organization", "another organization", ctx(foreign, "org-audit", "o-zzzzzzzzzz"), false},
		{"organization", "another trail name", ctx(member, "other", "o-a1b2c3d4e5"), false},
	}
	for _, c := range cases {
		w := scopes[c.scope]
		in := Inputs{Writers: w, Bucket: "b", Prefix: "p/", TopicARN: "arn:aws:sns:eu-west-1:222222222222:t"}
		for _, r := range []struct {
			doc              map[string]any
			action, resource string
			kind             iameval.Kind
		}{
			{Document(Bucket(in)), "s3:PutObject", "arn:aws:s3:::b/p/AWSLogs/" + member + "/x", iameval.Ordinary},
			{Document(Key(w)), "kms:GenerateDataKey", "arn:aws:kms:eu-west-1:222222222222:key/k", iameval.KeyPolicy},
			{Document(Key(w)), "kms:Decrypt", "arn:aws:kms:eu-west-1:222222222222:key/k", iameval.KeyPolicy},
			{Document(Topic(in)), "sns:Publish", in.TopicARN, iameval.Ordinary},
		} {
			d, err := iameval.Evaluate(iameval.Request{Caller: iameval.ServiceCaller(Service), Action: r.action, Resource: r.resource,
				ResourceAccount: "222222222222", Context: c.ctx}, nil, iameval.MustParse(r.doc), r.kind)
			if err != nil || d.Allowed != c.want {
				t.Errorf("%s scope, %s, %s: %v (%s %v), want %v", c.scope, c.name, r.action, d.Allowed, d.Reason, err, c.want)
			}
		}
	}
}

func TestInputs(t *testing.T) {
	in := Inputs{Writers: Writers{Partition: "aws-cn", TrailName: "t"}, Bucket: "b"}
	if in.LogObjectsARN() != "arn:aws-cn:s3:::b/AWSLogs/*" {
		t.Errorf("no prefix: %s", in.LogObjectsARN())
	}
	in.Prefix = "x/"
	if in.LogObjectsARN() != "arn:aws-cn:s3:::b/x/AWSLogs/*" {
		t.Errorf("prefix: %s", in.LogObjectsARN())
	}
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "writer accounts") {
		t.Errorf("no writers: %v", err)
	}
}
