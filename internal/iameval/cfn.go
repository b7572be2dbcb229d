package iameval

import (
	"fmt"
	"strings"
)

// Template is a synthesized CloudFormation template as deployed into one
// account and Region. Intrinsics resolve to concrete values: AWS::Partition
// is "aws", and a resource without a physical name is named by its logical
// id (CloudFormation would generate one; the tests only need it stable).
type Template struct {
	Account, Region string
	Body            map[string]any
}

func (t *Template) resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	rs, _ := t.Body["Resources"].(map[string]any)
	for id, r := range rs {
		if m, ok := r.(map[string]any); ok {
			out[id] = m
		}
	}
	return out
}

// noValue stands for AWS::NoValue: the element is dropped.
type noValue struct{}

// Resolve replaces Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and
// Fn::Split in v.
func (t *Template) Resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return t.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (t *Template) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return t.ref(name)
	case "Fn::GetAtt":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("iameval: Fn::GetAtt %v", arg)
		}
		id, _ := parts[0].(string)
		attr, _ := parts[1].(string)
		return t.getAtt(id, attr)
	case "Fn::Join":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("iameval: Fn::Join %v", arg)
		}
		sep, _ := parts[0].(string)
		list, err := t.Resolve(parts[1])
		if err != nil {
			return nil, err
		}
		var ss []string
		for _, e := range list.([]any) {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("iameval: Fn::Join of a non-string %v", e)
			}
			ss = append(ss, s)
		}
		return strings.Join(ss, sep), nil
	case "Fn::Sub":
		return t.sub(arg)
	case "Fn::Select":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("iameval: Fn::Select %v", arg)
		}
		idx, _ := t.Resolve(parts[0])
		list, err := t.Resolve(parts[1])
		if err != nil {
			return nil, err
		}
		l, _ := list.([]any)
		i, ok := toIndex(idx)
		if !ok || i >= len(l) {
			return nil, fmt.Errorf("iameval: Fn::Select %v of %v", idx, list)
		}
		return l[i], nil
	case "Fn::Split":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("iameval: Fn::Split %v", arg)
		}
		sep, _ := parts[0].(string)
		s, err := t.Resolve(parts[1])
		if err != nil {
			return nil, err
		}
		str, _ := s.(string)
		var out []any
		for _, p := range strings.Split(str, sep) {
			out = append(out, p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("iameval: unsupported intrinsic %s", fn)
}

func toIndex(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case string:
		i := 0
		_, err := fmt.Sscanf(n, "%d", &i)
		return i, err == nil
	}
	return 0, false
}

func (t *Template) sub(arg any) (any, error) {
	var s string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		s = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("iameval: Fn::Sub %v", arg)
		}
		s, _ = a[0].(string)
		m, _ := a[1].(map[string]any)
		for k, v := range m {
			r, err := t.Resolve(v)
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return nil, fmt.Errorf("iameval: Fn::Sub %q", s)
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		var val any
		var err error
		switch {
		case vars[name] != nil:
			val = vars[name]
		case strings.Contains(name, "."):
			p := strings.SplitN(name, ".", 2)
			val, err = t.getAtt(p[0], p[1])
		default:
			val, err = t.ref(name)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprint(&b, val)
		s = s[i+j+1:]
	}
}

func (t *Template) ref(name string) (any, error) {
	switch name {
	case "AWS::Partition":
		return "aws", nil
	case "AWS::AccountId":
		return t.Account, nil
	case "AWS::Region":
		return t.Region, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	r, ok := t.resources()[name]
	if !ok {
		return nil, fmt.Errorf("iameval: Ref to unknown %q", name)
	}
	typ, _ := r["Type"].(string)
	switch typ {
	case "AWS::SNS::Topic":
		return t.getAtt(name, "TopicArn")
	case "AWS::SQS::Queue":
		return t.getAtt(name, "QueueUrl")
	case "AWS::KMS::Key":
		return name, nil
	}
	return t.physicalName(name, r)
}

// nameProps are the properties that carry a resource's physical name.
var nameProps = map[string]string{
	"AWS::S3::Bucket": "BucketName", "AWS::SNS::Topic": "TopicName", "AWS::SQS::Queue": "QueueName",
	"AWS::DynamoDB::Table": "TableName", "AWS::Events::EventBus": "Name", "AWS::IAM::Role": "RoleName",
	"AWS::Logs::LogGroup": "LogGroupName", "AWS::Lambda::Function": "FunctionName", "AWS::Events::Rule": "Name",
	"AWS::CloudWatch::Alarm": "AlarmName",
}

func (t *Template) physicalName(id string, r map[string]any) (string, error) {
	props, _ := r["Properties"].(map[string]any)
	if p, ok := nameProps[r["Type"].(string)]; ok && props[p] != nil {
		v, err := t.Resolve(props[p])
		if err != nil {
			return "", err
		}
		s, _ := v.(string)
		return s, nil
	}
	return id, nil
}

func (t *Template) getAtt(id, attr string) (any, error) {
	r, ok := t.resources()[id]
	if !ok {
		return nil, fmt.Errorf("iameval: Fn::GetAtt of unknown %q", id)
	}
	typ, _ := r["Type"].(string)
	name, err := t.physicalName(id, r)
	if err != nil {
		return nil, err
	}
	a := func(service, region, account, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
	}
	switch typ + "." + attr {
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + name, nil
	case "AWS::SNS::Topic.TopicArn":
		return a("sns", t.Region, t.Account, name), nil
	case "AWS::SNS::Topic.TopicName", "AWS::SQS::Queue.QueueName", "AWS::Events::EventBus.Name":
		return name, nil
	case "AWS::SQS::Queue.Arn":
		return a("sqs", t.Region, t.Account, name), nil
	case "AWS::SQS::Queue.QueueUrl":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", t.Region, t.Account, name), nil
	case "AWS::KMS::Key.Arn":
		return a("kms", t.Region, t.Account, "key/"+id), nil
	case "AWS::IAM::Role.Arn":
		props, _ := r["Properties"].(map[string]any)
		path, _ := props["Path"].(string)
		if path == "" {
			path = "/"
		}
		return a("iam", "", t.Account, "role"+path+name), nil
	case "AWS::DynamoDB::Table.Arn":
		return a("dynamodb", t.Region, t.Account, "table/"+name), nil
	case "AWS::Events::EventBus.Arn":
		return a("events", t.Region, t.Account, "event-bus/"+name), nil
	case "AWS::Events::Rule.Arn":
		return a("events", t.Region, t.Account, "rule/"+name), nil
	case "AWS::Logs::LogGroup.Arn":
		return a("logs", t.Region, t.Account, "log-group:"+name+":*"), nil
	case "AWS::Lambda::Function.Arn":
		return a("lambda", t.Region, t.Account, "function:"+name), nil
	case "AWS::CloudWatch::Alarm.Arn":
		return a("cloudwatch", t.Region, t.Account, "alarm:"+name), nil
	}
	return nil, fmt.Errorf("iameval: Fn::GetAtt %s.%s (%s) is not modelled", id, attr, typ)
}

// Find returns the logical id of the one resource of type typ that CDK named
// from the construct path prefix (prefix + an 8-character hash).
func (t *Template) Find(typ, prefix string) (string, error) {
	var found []string
	for id, r := range t.resources() {
		if r["Type"] == typ && strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("iameval: %d resources %s %s*", len(found), typ, prefix)
	}
	return found[0], nil
}

// Attr is Fn::GetAtt [id, attr], resolved.
func (t *Template) Attr(id, attr string) (string, error) {
	v, err := t.getAtt(id, attr)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}
