package iameval

import (
	"encoding/json"
	"testing"
)

const template = `{"Resources":{
 "Topic1":{"Type":"AWS::SNS::Topic","Properties":{"TopicName":"alerts"}},
 "QueueAB12CD34":{"Type":"AWS::SQS::Queue","Properties":{}},
 "Key1":{"Type":"AWS::KMS::Key","Properties":{"KeyPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}},"Action":"kms:*","Resource":"*"}]}}},
 "Role1":{"Type":"AWS::IAM::Role","Properties":{"Path":"/p/","AssumeRolePolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}}},
 "Pol1":{"Type":"AWS::IAM::Policy","Properties":{"Roles":[{"Ref":"Role1"}],"PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":{"Fn::GetAtt":["QueueAB12CD34","Arn"]}},
   {"Effect":"Allow","Action":"sns:Publish","Resource":{"Fn::Sub":"arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Topic1.TopicName}"}},
   {"Effect":"Allow","Action":"s3:GetObject","Resource":{"Fn::Select":[1,{"Fn::Split":[",","a,arn:aws:s3:::b/*"]}]}}]}}},
 "QP":{"Type":"AWS::SQS::QueuePolicy","Properties":{"Queues":[{"Ref":"QueueAB12CD34"}],"PolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":{"Ref":"Topic1"}}}}]}}}
}}`

func TestTemplateWorld(t *testing.T) {
	var body map[string]any
	if err := json.Unmarshal([]byte(template), &body); err != nil {
		t.Fatal(err)
	}
	tp := &Template{Account: "111122223333", Region: "eu-west-1", Body: body}
	w, err := NewWorld(tp)
	if err != nil {
		t.Fatal(err)
	}
	role := RoleCaller("arn:aws:iam::111122223333:role/p/Role1")
	queue := "arn:aws:sqs:eu-west-1:111122223333:QueueAB12CD34"
	topic := "arn:aws:sns:eu-west-1:111122223333:alerts"
	cases := []struct {
		name string
		req  Request
		want bool
	}{
		{"role → queue (GetAtt)", Request{Caller: role, Action: "sqs:SendMessage", Resource: queue}, true},
		{"role → topic (Sub)", Request{Caller: role, Action: "sns:Publish", Resource: topic}, true},
		{"role → object (Select/Split)", Request{Caller: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, true},
		{"lambda assumes the role (trust)", Request{Caller: ServiceCaller("lambda.amazonaws.com"), Action: "sts:AssumeRole", Resource: role.ARN}, true},
		{"sns → queue from the topic (Ref of a topic is its ARN)", Request{Caller: ServiceCaller("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queue, Context: map[string][]string{"aws:SourceArn": {topic}}}, true},
		{"sns → queue from another topic", Request{Caller: ServiceCaller("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queue, Context: map[string][]string{"aws:SourceArn": {topic + "x"}}}, false},
		{"role → key (root statement delegates, no identity allow)", Request{Caller: role, Action: "kms:Decrypt", Resource: "arn:aws:kms:eu-west-1:111122223333:key/Key1"}, false},
	}
	for _, c := range cases {
		d, err := w.Decide(c.req)
		if err != nil || d.Allowed != c.want {
			t.Errorf("%s: %v (%s, %v), want %v", c.name, d.Allowed, d.Reason, err, c.want)
		}
	}
	if id, err := tp.Find("AWS::SQS::Queue", "Queue"); err != nil || id != "QueueAB12CD34" {
		t.Errorf("Find: %q %v", id, err)
	}
	if _, err := tp.Resolve(map[string]any{"Fn::GetAZs": ""}); err == nil {
		t.Error("an unsupported intrinsic resolved")
	}
}
