package settings

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadEnablerReportsEveryProblem(t *testing.T) {
	_, err := LoadEnabler(env(map[string]string{EnvEnableDeadline: "soon", EnvAlertsTopicARN: "alerts"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{EnvAccountsTable, EnvIncidentsTable, EnvRequestQueueURL, EnvEnableDeadline, EnvAlertsTopicARN} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestLoadEnablerDefaults(t *testing.T) {
	c, err := LoadEnabler(env(map[string]string{
		EnvAccountsTable: "accounts", EnvIncidentsTable: "incidents", EnvRequestQueueURL: "http://q", EnvAlertsTopicARN: "arn:aws:sns:us-east-1:1:a",
		"LAMBDA_TASK_ROOT": "/var/task",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EnableDeadline != time.Hour || c.PolicyFile != "/var/task/policy.yaml" || c.MetricsNamespace != DefaultMetricsNamespace {
		t.Fatalf("%+v", c)
	}
}
