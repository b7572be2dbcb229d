package workitem

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/fault"
)

func TestRoundTrip(t *testing.T) {
	it := New("333333333333", ReasonRepair, "logging stopped", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	body, err := it.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !IsWorkItem([]byte(body)) {
		t.Fatal("IsWorkItem false for a work item")
	}
	got, err := Parse([]byte(body))
	if err != nil || got != it {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, body := range map[string]string{
		"garbage":     `{"trailwarden":`,
		"kind":        `{"trailwarden":"delete","account":"333333333333","reason":"cli"}`,
		"account":     `{"trailwarden":"converge","account":"33333333333x","reason":"cli"}`,
		"reason":      `{"trailwarden":"converge","account":"333333333333","reason":"because"}`,
		"not ours":    `{"source":"aws.organizations"}`,
		"wrong types": `{"trailwarden":1}`,
	} {
		if _, err := Parse([]byte(body)); fault.KindOf(err) != fault.Poison {
			t.Errorf("%s: want poison, got %v", name, err)
		}
	}
	for _, body := range []string{``, `[]`, `{"source":"aws.organizations","detail":{}}`, `{"trailwarden"`} {
		if IsWorkItem([]byte(body)) {
			t.Errorf("IsWorkItem(%q) = true", body)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"trailwarden":"converge","version":1,"account":"333333333333","reason":"repair"}`)
	f.Add(`{"source":"aws.organizations"}`)
	f.Fuzz(func(t *testing.T, body string) {
		it, err := Parse([]byte(body))
		if err == nil && (len(it.Account) != 12 || it.Kind != "converge") {
			t.Fatalf("accepted a bad item: %+v", it)
		}
		_ = IsWorkItem([]byte(body))
	})
}
