package iameval

import (
	"fmt"
	"strings"
)

// Role is an IAM role: its trust policy and its permission policies.
type Role struct {
	ARN, Account string
	Trust        *Policy
	Policies     []*Policy
}

// World holds every role and resource policy of a set of deployed templates,
// keyed by ARN: the policies AWS would evaluate.
type World struct {
	Roles     map[string]*Role
	Resources map[string]*Policy
	accounts  map[string]string // resource ARN → owning account
}

// NewWorld reads the roles, role policies and resource policies (bucket,
// key, topic, queue, event bus) of the templates.
func NewWorld(templates ...*Template) (*World, error) {
	w := &World{Roles: map[string]*Role{}, Resources: map[string]*Policy{}, accounts: map[string]string{}}
	// Roles first: policies attach to them by name, also from another
	// template of the same account (IAM is global).
	byName := map[string]*Role{}
	for _, t := range templates {
		if err := w.addRoles(t, byName); err != nil {
			return nil, err
		}
	}
	for _, t := range templates {
		for id, r := range t.resources() {
			props, err := t.props(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			if err := w.addResource(t, id, r["Type"].(string), props, byName); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
		}
	}
	return w, nil
}

func (w *World) addRoles(t *Template, byName map[string]*Role) error {
	for id, r := range t.resources() {
		if r["Type"] != "AWS::IAM::Role" {
			continue
		}
		arnV, err := t.getAtt(id, "Arn")
		if err != nil {
			return err
		}
		props, err := t.props(r)
		if err != nil {
			return err
		}
		trust, err := Parse(props["AssumeRolePolicyDocument"])
		if err != nil {
			return fmt.Errorf("role %s trust: %w", id, err)
		}
		role := &Role{ARN: arnV.(string), Account: t.Account, Trust: trust}
		if inline, ok := props["Policies"].([]any); ok {
			for _, p := range inline {
				doc, err := Parse(p.(map[string]any)["PolicyDocument"])
				if err != nil {
					return fmt.Errorf("role %s inline policy: %w", id, err)
				}
				role.Policies = append(role.Policies, doc)
			}
		}
		w.Roles[role.ARN] = role
		name, _ := t.physicalName(id, r)
		byName[t.Account+"/"+name] = role
	}
	return nil
}

func (t *Template) props(r map[string]any) (map[string]any, error) {
	p, err := t.Resolve(r["Properties"])
	if err != nil {
		return nil, err
	}
	m, _ := p.(map[string]any)
	return m, nil
}

func (w *World) addResource(t *Template, id, typ string, props map[string]any, roles map[string]*Role) error {
	strs := func(v any) []string {
		var out []string
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	switch typ {
	case "AWS::IAM::Policy":
		doc, err := Parse(props["PolicyDocument"])
		if err != nil {
			return err
		}
		for _, name := range strs(props["Roles"]) {
			role, ok := roles[t.Account+"/"+name]
			if !ok {
				return fmt.Errorf("policy attached to unknown role %q", name)
			}
			role.Policies = append(role.Policies, doc)
		}
	case "AWS::S3::BucketPolicy":
		return w.put("arn:aws:s3:::"+props["Bucket"].(string), t.Account, props["PolicyDocument"])
	case "AWS::KMS::Key":
		a, _ := t.getAtt(id, "Arn")
		return w.put(a.(string), t.Account, props["KeyPolicy"])
	case "AWS::SNS::TopicPolicy":
		for _, topic := range strs(props["Topics"]) {
			if err := w.put(topic, t.Account, props["PolicyDocument"]); err != nil {
				return err
			}
		}
	case "AWS::SQS::QueuePolicy":
		for _, url := range strs(props["Queues"]) {
			if err := w.put(queueARN(url), t.Account, props["PolicyDocument"]); err != nil {
				return err
			}
		}
	case "AWS::Events::EventBusPolicy":
		bus := fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", t.Region, t.Account, props["EventBusName"])
		st, err := Parse(map[string]any{"Statement": []any{props["Statement"]}})
		if err != nil {
			return err
		}
		if have := w.Resources[bus]; have != nil {
			have.Statement = append(have.Statement, st.Statement...)
			return nil
		}
		w.Resources[bus], w.accounts[bus] = st, t.Account
	}
	return nil
}

func (w *World) put(arn, account string, doc any) error {
	p, err := Parse(doc)
	if err != nil {
		return err
	}
	if have := w.Resources[arn]; have != nil {
		have.Statement = append(have.Statement, p.Statement...)
		return nil
	}
	w.Resources[arn], w.accounts[arn] = p, account
	return nil
}

// queueARN turns https://sqs.<region>.amazonaws.com/<account>/<name> into
// the queue's ARN.
func queueARN(url string) string {
	p := strings.Split(strings.TrimPrefix(url, "https://"), "/")
	if len(p) != 3 {
		return url
	}
	region := strings.TrimSuffix(strings.TrimPrefix(p[0], "sqs."), ".amazonaws.com")
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, p[1], p[2])
}

// Decide evaluates req in the world: the caller role's policies, and the
// policy of the resource (an S3 object's bucket; a role's trust policy for
// sts:AssumeRole). ResourceAccount is filled from the world when empty.
func (w *World) Decide(req Request) (Decision, error) {
	var identity []*Policy
	if req.Caller.Service == "" {
		role, ok := w.Roles[req.Caller.ARN]
		if !ok {
			return Decision{}, fmt.Errorf("iameval: no role %s in the templates", req.Caller.ARN)
		}
		identity = role.Policies
	}
	kind := Ordinary
	var resource *Policy
	owner := ""
	switch {
	case strings.HasPrefix(req.Resource, "arn:aws:s3:::"):
		bucket := strings.SplitN(req.Resource, "/", 2)[0]
		resource, owner = w.Resources[bucket], w.accounts[bucket]
	case strings.HasPrefix(req.Resource, "arn:aws:iam::"):
		// A role's trust policy is its resource policy for sts:AssumeRole
		// only; other IAM actions (iam:PassRole) have none.
		if strings.HasPrefix(strings.ToLower(req.Action), "sts:assumerole") {
			kind = KeyPolicy
			if role, ok := w.Roles[req.Resource]; ok {
				resource, owner = role.Trust, role.Account
			}
		}
	default:
		if strings.HasPrefix(req.Resource, "arn:aws:kms:") {
			kind = KeyPolicy
		}
		resource, owner = w.Resources[req.Resource], w.accounts[req.Resource]
	}
	if req.ResourceAccount == "" {
		req.ResourceAccount = owner
		if p := strings.SplitN(req.Resource, ":", 6); owner == "" && len(p) == 6 && p[4] != "" {
			req.ResourceAccount = p[4]
		} else if owner == "" {
			// "*" (actions without resource-level permissions) and buckets
			// the templates do not hold: the caller's own account.
			req.ResourceAccount = req.Caller.Account
		}
	}
	return Evaluate(req, identity, resource, kind)
}
