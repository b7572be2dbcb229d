package iameval

import (
	"strings"
	"testing"
)

// The examples below are AWS's own, from the IAM User Guide pages named in
// each case (account ids and names as AWS writes them).

// "Policy evaluation for requests within a single account", Example
// identity-based and resource-based policy evaluation: Carlos may save to
// his own bucket, but an explicit deny of every *log* resource in his
// identity policy overrides the logs bucket's resource policy.
func TestSingleAccountExample(t *testing.T) {
	identity := MustParse(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetObject","s3:ListAllMyBuckets"],"Resource":"*"},
	 {"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*","arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]},
	 {"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}]}`)
	logsBucket := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"AllowCarlos","Effect":"Allow",
	 "Principal":{"AWS":"arn:aws:iam::111122223333:user/carlossalazar"},"Action":"s3:*",
	 "Resource":"arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*"}]}`)
	carlos := Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/carlossalazar"}
	cases := []struct {
		resource string
		res      *Policy
		want     bool
	}{
		{"arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/info.txt", nil, true},
		{"arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/log.txt", logsBucket, false},
		{"arn:aws:s3:::amzn-s3-demo-bucket-other/info.txt", nil, false},
	}
	for _, c := range cases {
		d := mustEval(t, Request{Caller: carlos, Action: "s3:PutObject", Resource: c.resource, ResourceAccount: "111122223333"}, []*Policy{identity}, c.res, Ordinary)
		if d.Allowed != c.want {
			t.Errorf("%s: allowed %v (%s), want %v", c.resource, d.Allowed, d.Reason, c.want)
		}
	}
	// Same account: the resource policy alone allows (no identity statement).
	d := mustEval(t, Request{Caller: carlos, Action: "s3:GetObject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x", ResourceAccount: "111122223333"}, nil,
		MustParse(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/carlossalazar"},"Action":"s3:GetObject","Resource":"*"}]}`), Ordinary)
	if !d.Allowed {
		t.Errorf("same-account resource policy alone: %s", d.Reason)
	}
}

// "Cross-account policy evaluation logic": the trusting account's resource
// policy and the trusted account's identity policy must both allow.
func TestCrossAccount(t *testing.T) {
	bucket := MustParse(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`)
	identity := MustParse(`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`)
	req := Request{Caller: RoleCaller("arn:aws:iam::111111111111:role/reader"), Action: "s3:GetObject", Resource: "arn:aws:s3:::shared/a", ResourceAccount: "222222222222"}
	for _, c := range []struct {
		id   []*Policy
		res  *Policy
		want bool
	}{{[]*Policy{identity}, bucket, true}, {nil, bucket, false}, {[]*Policy{identity}, nil, false}} {
		if d := mustEval(t, req, c.id, c.res, Ordinary); d.Allowed != c.want {
			t.Errorf("identity %v resource %v: %v (%s), want %v", c.id != nil, c.res != nil, d.Allowed, d.Reason, c.want)
		}
	}
	// A foreign account's role is not named by the account principal.
	req.Caller = RoleCaller("arn:aws:iam::999999999999:role/reader")
	if d := mustEval(t, req, []*Policy{identity}, bucket, Ordinary); d.Allowed {
		t.Errorf("foreign account allowed: %s", d.Reason)
	}
}

// AWS KMS Developer Guide, "Key policies": an identity policy counts only
// when the key policy names the account.
func TestKeyPolicyNeedsKeyStatement(t *testing.T) {
	identity := MustParse(`{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	req := Request{Caller: RoleCaller("arn:aws:iam::111122223333:role/app"), Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k", ResourceAccount: "111122223333"}
	noRoot := MustParse(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:*","Resource":"*"}]}`)
	root := MustParse(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
	if d := mustEval(t, req, []*Policy{identity}, noRoot, KeyPolicy); d.Allowed {
		t.Errorf("identity policy alone opened a key: %s", d.Reason)
	}
	if d := mustEval(t, req, []*Policy{identity}, root, KeyPolicy); !d.Allowed {
		t.Errorf("key policy naming the account plus identity: %s", d.Reason)
	}
	if d := mustEval(t, req, nil, root, KeyPolicy); d.Allowed {
		t.Errorf("account principal without identity allow: %s", d.Reason)
	}
}

// Service principals: AWS CloudTrail User Guide, "Amazon S3 bucket policy
// for CloudTrail", with the confused-deputy condition on aws:SourceArn.
func TestServicePrincipalWithSourceArn(t *testing.T) {
	bucket := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow",
	 "Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject",
	 "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/AWSLogs/111111111111/*",
	 "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"arn:aws:cloudtrail:region:111111111111:trail/trailName"}}}]}`)
	base := Request{Caller: ServiceCaller("cloudtrail.amazonaws.com"), Action: "s3:PutObject",
		Resource: "arn:aws:s3:::amzn-s3-demo-bucket/AWSLogs/111111111111/CloudTrail/x.json.gz", ResourceAccount: "111111111111",
		Context: map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}, "aws:SourceArn": {"arn:aws:cloudtrail:region:111111111111:trail/trailName"}}}
	if d := mustEval(t, base, nil, bucket, Ordinary); !d.Allowed {
		t.Errorf("documented delivery: %s", d.Reason)
	}
	other := base
	other.Context = map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}, "aws:SourceArn": {"arn:aws:cloudtrail:region:111111111111:trail/other"}}
	if d := mustEval(t, other, nil, bucket, Ordinary); d.Allowed {
		t.Error("another trail was allowed")
	}
	noACL := base
	noACL.Context = map[string][]string{"aws:SourceArn": {"arn:aws:cloudtrail:region:111111111111:trail/trailName"}}
	if d := mustEval(t, noACL, nil, bucket, Ordinary); d.Allowed {
		t.Error("a PutObject without the ACL header was allowed")
	}
	// An identity's Principal-less policy never speaks for a service.
	id := MustParse(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if d := mustEval(t, other, []*Policy{id}, nil, Ordinary); d.Allowed {
		t.Error("a service principal was allowed without a resource policy")
	}
}

// "IAM JSON policy elements: Condition operators" and "Conditions with
// multiple context keys or values".
func TestConditionOperators(t *testing.T) {
	cases := []struct {
		name   string
		op     string
		vals   Values
		req    []string
		absent bool
		want   bool
	}{
		{"StringEquals OR over values", "StringEquals", Values{"audit", "security"}, []string{"security"}, false, true},
		{"StringEquals no match", "StringEquals", Values{"audit"}, []string{"Audit"}, false, false},
		{"StringEquals absent key is false", "StringEquals", Values{"audit"}, nil, true, false},
		{"StringNotEquals is NOR over values", "StringNotEquals", Values{"audit", "security"}, []string{"security"}, false, false},
		{"StringNotEquals none match", "StringNotEquals", Values{"audit", "security"}, []string{"dev"}, false, true},
		{"StringNotLike absent key is true", "StringNotLike", Values{"a*"}, nil, true, true},
		{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", Values{"AUDIT"}, []string{"audit"}, false, true},
		{"StringLike *", "StringLike", Values{"arn:aws:cloudtrail:*:*:trail/org-audit"}, []string{"arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit"}, false, true},
		{"StringLike ?", "StringLike", Values{"home-?"}, []string{"home-12"}, false, false},
		{"ArnLike per component", "ArnLike", Values{"arn:aws:cloudtrail:*:111122223333:trail/*"}, []string{"arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}, false, true},
		{"ArnLike * stays in its component", "ArnLike", Values{"arn:aws:iam::*"}, []string{"arn:aws:iam::111122223333:role/x"}, false, false},
		{"ArnEquals other account", "ArnEquals", Values{"arn:aws:sns:us-east-1:111122223333:t"}, []string{"arn:aws:sns:us-east-1:444455556666:t"}, false, false},
		{"ArnNotLike absent is true", "ArnNotLike", Values{"arn:aws:iam::*:role/x"}, nil, true, true},
		{"Bool false", "Bool", Values{"false"}, []string{"false"}, false, true},
		{"Bool absent is false", "Bool", Values{"false"}, nil, true, false},
		{"StringEqualsIfExists absent", "StringEqualsIfExists", Values{"x"}, nil, true, true},
		{"StringEqualsIfExists present and different", "StringEqualsIfExists", Values{"x"}, []string{"y"}, false, false},
		{"Null true: key absent", "Null", Values{"true"}, nil, true, true},
		{"Null false: key present", "Null", Values{"false"}, []string{"v"}, false, true},
		{"Null false: key absent", "Null", Values{"false"}, nil, true, false},
		{"ForAnyValue one of many", "ForAnyValue:StringEquals", Values{"a"}, []string{"b", "a"}, false, true},
		{"ForAllValues all in set", "ForAllValues:StringEquals", Values{"a", "b"}, []string{"b", "a"}, false, true},
		{"ForAllValues one outside", "ForAllValues:StringEquals", Values{"a"}, []string{"a", "c"}, false, false},
		{"ForAllValues absent is true", "ForAllValues:StringEquals", Values{"a"}, nil, true, true},
		{"ForAnyValue absent is false", "ForAnyValue:StringEquals", Values{"a"}, nil, true, false},
		{"NumericLessThan", "NumericLessThan", Values{"10"}, []string{"9"}, false, true},
		{"NumericLessThan equal", "NumericLessThan", Values{"10"}, []string{"10"}, false, false},
	}
	for _, c := range cases {
		got, err := evalOne(c.op, c.vals, c.req, !c.absent)
		if err != nil || got != c.want {
			t.Errorf("%s: %v (%v), want %v", c.name, got, err, c.want)
		}
	}
	if _, err := evalOne("DateLessThan", Values{"2020-01-01T00:00:00Z"}, []string{"x"}, true); err == nil {
		t.Error("an unsupported operator did not fail")
	}
}

// Multiple operators and keys are ANDed; keys are case-insensitive.
func TestConditionBlockAnd(t *testing.T) {
	p := MustParse(`{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Principal":"*",
	 "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"}}}]}`)
	req := Request{Caller: ServiceCaller("cloudwatch.amazonaws.com"), Action: "SNS:Publish", Resource: "arn:aws:sns:us-east-1:111122223333:t", ResourceAccount: "111122223333",
		Context: map[string][]string{"aws:SourceAccount": {"111122223333"}, "aws:SourceArn": {"arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"}}}
	if d := mustEval(t, req, nil, p, Ordinary); !d.Allowed {
		t.Errorf("both conditions hold: %s", d.Reason)
	}
	req.Context["aws:SourceAccount"] = []string{"444455556666"}
	if d := mustEval(t, req, nil, p, Ordinary); d.Allowed {
		t.Error("one failing key still allowed")
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{{"*", "", true}, {"a*c", "abbc", true}, {"a*c", "abcd", false}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"*x*", "abxcd", true}, {"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", true}} {
		if glob(c.p, c.s) != c.want {
			t.Errorf("glob(%q, %q) != %v", c.p, c.s, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{`{"Statement":[{"Effect":"Maybe","Action":"s3:*"}]}`, `{"Statement":[{"Effect":"Allow"}]}`, `{"Statement":[{"Effect":"Allow","Action":"x","Principal":"me"}]}`, `nope`} {
		if _, err := Parse(doc); err == nil {
			t.Errorf("Parse(%s) accepted", doc)
		}
	}
	p, err := Parse(`{"Statement":{"Effect":"Allow","Action":"x","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}`)
	if err != nil || len(p.Statement) != 1 || !strings.EqualFold(p.Statement[0].Condition["Bool"]["aws:SecureTransport"][0], "false") {
		t.Errorf("single statement and boolean value: %+v %v", p, err)
	}
}

func mustEval(t *testing.T, req Request, id []*Policy, res *Policy, kind Kind) Decision {
	t.Helper()
	d, err := Evaluate(req, id, res, kind)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return d
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":{"AWS":["1"]}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		_, _ = Evaluate(Request{Caller: ServiceCaller("s"), Action: "a:b", Resource: "r"}, []*Policy{p}, p, Ordinary)
	})
}
